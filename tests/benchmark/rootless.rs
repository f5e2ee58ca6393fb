//! The image pod as an ordinary user (rootless): `podctl apply` / `down`
//! run by a user with lingering on, against the same pod applied by root
//! (its own user namespace, podctl's default) and against Podman run by
//! the same user (its rootless mode), round by round in the same boot. The
//! image is an OCI layout both pull beforehand, so apply only mounts.
//! Every command runs through `setpriv` (root's too), so each side pays the
//! same exec.

use super::{POLL_SCAN, Results, comm, ms_since, pids, pod_file, rounds, say, timed, wait};
use crate::rig::Guest;
use std::time::{Duration, Instant};

const USER: &str = "ann";
const UID: u32 = 1500;
const LAYOUT: &str = "/srv/podctl-bench-img/pod";
const SRC: &str = "/srv/podctl-bench-img/src";
const ROUNDS: usize = 5;

/// `argv` as `uid` (0: root), with the environment a login gives.
fn argv_as(uid: u32, argv: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = vec![
        "setpriv".into(),
        format!("--reuid={uid}"),
        format!("--regid={uid}"),
    ];
    if uid == 0 {
        out.extend(["--clear-groups".into(), "env".into()]);
    } else {
        out.extend([
            "--init-groups".into(),
            "env".into(),
            format!("HOME=/home/{USER}"),
            format!("XDG_RUNTIME_DIR=/run/user/{uid}"),
        ]);
    }
    out.extend(argv.iter().map(|s| s.to_string()));
    out
}

fn run_as(uid: u32, argv: &[&str]) -> Result<f64, String> {
    let full = argv_as(uid, argv);
    let refs: Vec<&str> = full.iter().map(String::as_str).collect();
    Ok(timed(&refs, Duration::from_secs(120))?.0)
}

/// The pod's processes (the two `sleep inf`, holders, relays, conmons) of
/// `uid` are gone; a user's Podman keeps its pause process, which is not
/// the pod's.
fn gone(uid: u32) -> Result<(), String> {
    let pods = ["sleep", "podctl-pause", "conmon", "crun", "pasta"];
    wait(
        Duration::from_secs(60),
        POLL_SCAN,
        "the pod's processes to go",
        || {
            !pids()
                .into_iter()
                .any(|p| owner(p) == Some(uid) && pods.contains(&comm(p).as_str()))
        },
    )
}

/// The real UID of process `pid`.
fn owner(pid: u32) -> Option<u32> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find_map(|l| l.strip_prefix("Uid:"))?;
    line.split_whitespace().next()?.parse().ok()
}

pub(super) fn rootless(g: &Guest, r: &mut Results) -> Result<(), String> {
    // mkimage.sh is the image sections'.
    super::images::registry(g)?;
    g.ok(&format!(
        "set -e; id {USER} >/dev/null 2>&1 || useradd -m -u {UID} {USER}; loginctl enable-linger {USER}
         rm -rf {SRC} {LAYOUT}; mkdir -p {SRC}/bin {SRC}/etc {SRC}/tmp
         cp /bin/busybox {SRC}/bin/busybox
         for a in sh sleep; do ln -s busybox {SRC}/bin/$a; done
         echo 'root:x:0:0::/root:/bin/sh' > {SRC}/etc/passwd; echo 'root:x:0:' > {SRC}/etc/group
         bash /run/podctl-bench/mkimage.sh {LAYOUT} 1 /bin/sh {SRC} >/dev/null
         chmod -R a+rX /srv/podctl-bench-img"
    ))?;
    wait(
        Duration::from_secs(60),
        POLL_SCAN,
        "the user's manager",
        || std::path::Path::new(&format!("/run/user/{UID}/systemd/private")).exists(),
    )?;
    let image = format!("oci:{LAYOUT}:1");
    run_as(UID, &["podctl", "install"])?;
    run_as(UID, &["podctl", "pull", &image])?;
    run_as(0, &["podctl", "pull", &image])?;
    run_as(UID, &["podman", "pull", "-q", &image])?;
    let text = |name: &str| {
        let with_image = |c: &str| format!("\n[containers.{c}]\nimage = \"{image}\"\n");
        format!(
            "network = \"none\"\n{}",
            pod_file(name)
                .replace("\n[containers.app]\n", &with_image("app"))
                .replace("\n[containers.sidecar]\n", &with_image("sidecar"))
        )
    };
    std::fs::write("/srv/podctl-bench-img/brootful.toml", text("brootful"))
        .map_err(|e| e.to_string())?;
    std::fs::write("/srv/podctl-bench-img/brootless.toml", text("brootless"))
        .map_err(|e| e.to_string())?;
    r.notes.push(format!(
        "rootless: the image pod (both containers from {image}, busybox-static, one layer; `network = \"none\"`) \
         applied and downed by user {USER} (lingering on, its own manager; the user's mapping) and by root \
         (`userns = \"auto\"`), alternating rounds, each command through setpriv; Podman: the same user's \
         `pod create --network none` + 2x `run -d --init IMAGE sleep inf` with the same limits, `pod stop` + `pod rm` \
         (Podman's rootless mode: its pause process stays)"
    ));
    let n = rounds(ROUNDS);
    let pod = |uid: u32, name: &str| -> Result<(f64, f64), String> {
        let file = format!("/srv/podctl-bench-img/{name}.toml");
        let up = run_as(uid, &["podctl", "apply", &file])?;
        let start = Instant::now();
        run_as(uid, &["podctl", "down", name])?;
        gone(uid)?;
        Ok((up, ms_since(start)))
    };
    for round in 0..=n {
        let ((uup, udown), (rup, rdown)) = if round % 2 == 0 {
            let user = pod(UID, "brootless")?;
            (user, pod(0, "brootful")?)
        } else {
            let root = pod(0, "brootful")?;
            (pod(UID, "brootless")?, root)
        };
        if round > 0 {
            r.push("rootless.podctl.apply", uup);
            r.push("rootless.podctl.down", udown);
            r.push("rootless.rootful.apply", rup);
            r.push("rootless.rootful.down", rdown);
        }
        say(&format!(
            "rootless {round}/{n}: user apply {uup:.0} ms, down {udown:.0} ms; root apply {rup:.0} ms, down {rdown:.0} ms"
        ));
    }
    for round in 0..=n {
        let start = Instant::now();
        run_as(
            UID,
            &[
                "podman",
                "pod",
                "create",
                "--name",
                "bp",
                "--network",
                "none",
                "--memory",
                "512m",
                "--cpus",
                "0.5",
            ],
        )?;
        for (name, limits) in [
            (
                "bp-app",
                &["--memory", "256m", "--cpus", "0.25", "--pids-limit", "64"][..],
            ),
            ("bp-sidecar", &["--memory", "128m"][..]),
        ] {
            let mut argv = vec![
                "podman", "run", "-d", "--pod", "bp", "--name", name, "--init",
            ];
            argv.extend(limits);
            argv.extend([image.as_str(), "sleep", "inf"]);
            run_as(UID, &argv)?;
        }
        let up = ms_since(start);
        let start = Instant::now();
        run_as(UID, &["podman", "pod", "stop", "bp"])?;
        run_as(UID, &["podman", "pod", "rm", "bp"])?;
        gone(UID)?;
        let down = ms_since(start);
        if round > 0 {
            r.push("rootless.podman.up", up);
            r.push("rootless.podman.down", down);
        }
        say(&format!(
            "rootless.podman {round}/{n}: up {up:.0} ms, down {down:.0} ms"
        ));
    }
    Ok(())
}
