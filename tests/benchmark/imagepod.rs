//! The two-container pod from a stored image: `podctl apply` /
//! `down` of the benchmark's pod with `image = ` a busybox image (pulled
//! into podctl's store beforehand, so apply only mounts), against the floor
//! (floor.rs: the overlay roots mounted by hand with podctl's lower layers,
//! then `crun run` of podctl's bundles) and Podman running the same image
//! from its own storage (pulled beforehand too). Runs after the images
//! section, whose registry it uses (or starts it).

use super::floor;
use super::podman::Podman;
use super::{POD_DIR, PODMAN_ROUNDS, Results, pod_file, podctl_down, podctl_up, rounds, say};
use crate::rig::Guest;

const IMAGE: &str = "localhost:5001/bench/pod:1";
const NETNS: &str = "podctl-reg";
const REGISTRIES_CONF: &str = "/etc/podctl-bench/registries.conf";
const SRC: &str = "/root/img-src/pod";
const LAYOUT: &str = "/root/images/pod";

pub(super) fn imagepod(g: &Guest, r: &mut Results) -> Result<(), String> {
    // The registry and scripts are the images section's (started here
    // when that section does not run).
    super::images::registry(g)?;
    g.ok(&format!(
        "set -e; rm -rf {SRC} {LAYOUT}; mkdir -p {SRC}/bin {SRC}/etc {SRC}/tmp
         cp /bin/busybox {SRC}/bin/busybox
         for a in sh sleep; do ln -s busybox {SRC}/bin/$a; done
         echo 'root:x:0:0::/root:/bin/sh' > {SRC}/etc/passwd; echo 'root:x:0:' > {SRC}/etc/group
         bash /run/podctl-bench/mkimage.sh {LAYOUT} 1 /bin/sh {SRC} >/dev/null
         ip netns exec {NETNS} skopeo copy -q --dest-tls-verify=false oci:{LAYOUT}:1 docker://{IMAGE}
         ip netns exec {NETNS} env CONTAINERS_REGISTRIES_CONF={REGISTRIES_CONF} podctl pull {IMAGE} >/dev/null"
    ))?;
    // Podman where the guest has it (the VM; not the native guest).
    let podman = super::has_podman();
    if podman {
        g.ok(&format!(
            "ip netns exec {NETNS} podman pull -q --tls-verify=false {IMAGE} >/dev/null"
        ))?;
    }
    let text = |name: &str| {
        pod_file(name)
            .replace(
                "\n[containers.app]\n",
                &format!("\n[containers.app]\nimage = \"{IMAGE}\"\n"),
            )
            .replace(
                "\n[containers.sidecar]\n",
                &format!("\n[containers.sidecar]\nimage = \"{IMAGE}\"\n"),
            )
    };
    // `bimg` runs in the host's user namespace: the floor copies its
    // bundles and overlays (idmapped layers are detached once mounted, and
    // the floor has no holder to make a user namespace). `bimgu` is the
    // same pod in a user namespace of its own, podctl's default.
    for (name, userns) in [("bimg", "userns = \"host\"\n"), ("bimgu", "")] {
        std::fs::write(
            format!("{POD_DIR}/{name}.toml"),
            format!("network = \"none\"\n{userns}{}", text(name)),
        )
        .map_err(|e| e.to_string())?;
    }
    r.notes.push(format!(
        "pod from an image: {IMAGE} (busybox-static, one layer), stored beforehand by `podctl pull` and `podman pull`; \
         the same pod with `image =` on both containers; floor: podctl's bundles, each container's overlay root \
         (podctl's lower layers, an upper and work directory of its own) mounted by the floor before `crun run`, \
         unmounted and removed on down; floor and podctl rounds alternate; podman: `run -d --init --pod bp IMAGE sleep inf`, `pod stop` + `pod rm`; \
         the floor's twin runs with `userns = \"host\"`; `userns = \"auto\"` (the default: a user namespace of its own, layers and volumes idmapped) is the same pod without that line, in the same rounds"
    ));
    floor::capture(g, floor::IMAGE)?;
    let n = rounds(PODMAN_ROUNDS);
    // The floor and podctl take turns, round by round: the VM slows down
    // over a section (seen: +30 % from the first rounds to the last), which
    // all floor rounds first and podctl's after would charge to podctl.
    for round in 0..=n {
        let (fup, fdown) = floor::one(floor::IMAGE)?;
        // The two podctl pods take turns going first.
        let timed = |pod: &str| -> Result<(f64, f64), String> {
            let up = podctl_up(pod)?;
            Ok((up, podctl_down(pod)?.1))
        };
        let ((up, down), (uup, udown)) = if round % 2 == 0 {
            let host = timed("bimg")?;
            (host, timed("bimgu")?)
        } else {
            let auto = timed("bimgu")?;
            (timed("bimg")?, auto)
        };
        if round > 0 {
            r.push("image.floor.up", fup);
            r.push("image.floor.down", fdown);
            r.push("image.podctl.apply", up);
            r.push("image.podctl.down", down);
            r.push("image.userns.apply", uup);
            r.push("image.userns.down", udown);
        }
        say(&format!(
            "image {round}/{n}: floor up {fup:.0} ms, down {fdown:.0} ms; podctl apply {up:.0} ms, down {down:.0} ms; \
             userns auto apply {uup:.0} ms, down {udown:.0} ms"
        ));
    }
    let pm = Podman {
        pod_limits: true,
        image: Some(IMAGE.to_string()),
    };
    for round in (0..=n).filter(|_| podman) {
        let t = pm.create(true, false)?;
        pm.check()?;
        let down = pm.stop_graceful(None)?;
        let up: f64 = t.iter().sum();
        if round > 0 {
            r.push("image.podman.up", up);
            r.push("image.podman.down", down);
        }
        say(&format!(
            "image.podman {round}/{n}: up {up:.0} ms, down {down:.0} ms"
        ));
    }
    Ok(())
}
