//! Images: pull of a ~50 MB image from a registry on the guest's
//! loopback by `podctl pull` against `skopeo copy` of it to a directory and
//! `podman pull`, each into a fresh store every round; the image's big
//! layer unpacked by podctl against `tar -xzf` of the same blob.
//!
//! The registry is the container tier's (tests/rig/registry.sh: Debian's
//! docker-registry, plain HTTP on localhost:5001 in the network namespace
//! `podctl-reg`); the image is built in the guest with tests/rig/mkimage.sh
//! from busybox-static plus a layer of random (incompressible) data, and
//! pushed with skopeo. Stores are on the tmpfs registry.sh mounts, except
//! Podman's (its own storage, /var/lib/containers, on the VM's disk).

use super::{rounds, say, timed};
use crate::report::Results;
use crate::rig::Guest;
use std::time::Duration;

const REGISTRY_SH: &str = include_str!("../rig/registry.sh");
const MKIMAGE_SH: &str = include_str!("../rig/mkimage.sh");
/// Where the scripts go in the guest.
const DIR: &str = "/run/podctl-bench";
/// The registries' network namespace (registry.sh).
const NETNS: &str = "podctl-reg";
const IMAGE: &str = "localhost:5001/bench/big:1";
const REGISTRIES_CONF: &str = "/etc/podctl-bench/registries.conf";
/// The tmpfs registry.sh mounts for test stores.
const STORES: &str = "/var/lib/podctl-images";
const LAYOUT: &str = "/root/images/big";
const SRC: &str = "/root/img-src/big";
/// The random layer's size: with busybox (~1 MB) the image is ~50 MB.
const DATA_MIB: usize = 48;
/// Rounds (+1 warm-up): a round with Podman's pull costs ~1 min under TCG.
const PULL_ROUNDS: usize = 3;
/// A pull of 50 MB under TCG takes seconds; a stuck one fails the section.
const LIMIT: Duration = Duration::from_secs(600);

fn install(path: &str, text: &str) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(DIR).map_err(|e| format!("{DIR}: {e}"))?;
    std::fs::write(path, text).map_err(|e| format!("{path}: {e}"))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| format!("{path}: {e}"))
}

/// The image's manifest from the layout: (total bytes of config and
/// layers, the hex digest of the last (big) layer).
fn manifest() -> Result<(f64, String), String> {
    let read = |p: &str| -> Result<serde_json::Value, String> {
        let t = std::fs::read_to_string(p).map_err(|e| format!("{p}: {e}"))?;
        serde_json::from_str(&t).map_err(|e| format!("{p}: {e}"))
    };
    let index = read(&format!("{LAYOUT}/index.json"))?;
    let hex = |d: &serde_json::Value| {
        d["digest"]
            .as_str()
            .and_then(|s| s.strip_prefix("sha256:"))
            .map(String::from)
            .ok_or_else(|| format!("no digest in {d}"))
    };
    let m = read(&format!(
        "{LAYOUT}/blobs/sha256/{}",
        hex(&index["manifests"][0])?
    ))?;
    let layers = m["layers"].as_array().ok_or("manifest without layers")?;
    let size = |d: &serde_json::Value| d["size"].as_f64().unwrap_or(0.0);
    let total = size(&m["config"]) + layers.iter().map(size).sum::<f64>();
    let big = hex(layers.last().ok_or("no layers")?)?;
    Ok((total, big))
}

/// The image scripts installed and the registry started, once per boot:
/// whichever image section runs first (`PODCTL_BENCH_SECTIONS` may name
/// `imagepod` without `images`).
pub(super) fn registry(g: &Guest) -> Result<(), String> {
    install(&format!("{DIR}/registry.sh"), REGISTRY_SH)?;
    install(&format!("{DIR}/mkimage.sh"), MKIMAGE_SH)?;
    g.ok(&format!(
        "ip netns list | grep -qw {NETNS} || bash {DIR}/registry.sh"
    ))
    .map(|_| ())
}

pub(super) fn images(g: &Guest, r: &mut Results) -> Result<(), String> {
    registry(g)?;
    g.ok(&format!(
        "set -e; rm -rf {SRC} {LAYOUT}; mkdir -p {SRC}/base/bin {SRC}/base/etc {SRC}/data
         cp /bin/busybox {SRC}/base/bin/busybox; ln -s busybox {SRC}/base/bin/sh
         head -c {DATA_MIB}M /dev/urandom > {SRC}/data/blob
         bash {DIR}/mkimage.sh {LAYOUT} 1 /bin/sh {SRC}/base {SRC}/data >/dev/null
         ip netns exec {NETNS} skopeo copy -q --dest-tls-verify=false oci:{LAYOUT}:1 docker://{IMAGE}"
    ))?;
    let (bytes, big) = manifest()?;
    r.value("images.bytes", bytes);
    say(&format!(
        "images: {IMAGE} pushed, {:.1} MiB",
        bytes / 1048576.0
    ));
    r.notes.push(format!(
        "images: {IMAGE} ({:.1} MiB: busybox-static + {DATA_MIB} MiB of /dev/urandom, gzip layers made by tests/rig/mkimage.sh) \
         in Debian's docker-registry over plain HTTP on the guest's loopback; every round into a fresh store: \
         `podctl pull` (fetch, verify, store, unpack; store on tmpfs), `skopeo copy docker://… dir:DIR` (fetch, verify, no unpack; tmpfs), \
         `podman pull --tls-verify=false` (fetch, verify, unpack into its overlay storage on the VM's disk; `podman rmi` after); \
         unpack: `podctl pull` again after removing the big layer's directory (a manifest fetch + the unpack) against \
         `tar -xzf BLOB -C DIR` of the same blob (tmpfs)",
        bytes / 1048576.0
    ));
    let store = format!("{STORES}/bench-pull");
    let podctl_pull = [
        "ip",
        "netns",
        "exec",
        NETNS,
        "env",
        &format!("PODCTL_STORAGE={store}"),
        &format!("CONTAINERS_REGISTRIES_CONF={REGISTRIES_CONF}"),
        "podctl",
        "pull",
        IMAGE,
    ];
    let skopeo_dir = format!("{STORES}/bench-skopeo");
    let skopeo = [
        "ip",
        "netns",
        "exec",
        NETNS,
        "skopeo",
        "copy",
        "-q",
        "--src-tls-verify=false",
        &format!("docker://{IMAGE}"),
        &format!("dir:{skopeo_dir}"),
    ];
    let podman = [
        "ip",
        "netns",
        "exec",
        NETNS,
        "podman",
        "pull",
        "-q",
        "--tls-verify=false",
        IMAGE,
    ];
    let tar_dir = format!("{STORES}/bench-tar");
    let blob = format!("{store}/blobs/sha256/{big}");
    let tar = ["tar", "-xzf", &blob, "-C", &tar_dir];
    let n = rounds(PULL_ROUNDS);
    let mut podman_ok = super::has_podman();
    for round in 0..=n {
        g.ok(&format!(
            "rm -rf {store} {skopeo_dir} {tar_dir} && mkdir -p {tar_dir}"
        ))?;
        let (pull, _) = timed(&podctl_pull, LIMIT)?;
        g.ok(&format!(
            "test -f {store}/layers/{big}/blob && rm -rf {store}/layers/{big}"
        ))?;
        let (unpack, _) = timed(&podctl_pull, LIMIT)?;
        g.ok(&format!("test -f {store}/layers/{big}/blob"))?;
        let (tar_ms, _) = timed(&tar, LIMIT)?;
        let (sk, _) = timed(&skopeo, LIMIT)?;
        let pm = if podman_ok {
            g.sh(&format!("podman rmi -f {IMAGE}"));
            match timed(&podman, LIMIT) {
                Ok((t, _)) => Some(t),
                Err(e) => {
                    podman_ok = false;
                    r.notes.push(format!(
                        "podman pull failed: {}",
                        super::podman::first_line(&e)
                    ));
                    None
                }
            }
        } else {
            None
        };
        if round > 0 {
            r.push("images.podctl.pull", pull);
            r.push("images.podctl.unpack", unpack);
            r.push("images.tar", tar_ms);
            r.push("images.skopeo", sk);
            if let Some(t) = pm {
                r.push("images.podman.pull", t);
            }
        }
        say(&format!(
            "images {round}/{n}: podctl pull {pull:.0} ms, skopeo {sk:.0} ms, podman {}, unpack {unpack:.0} ms, tar {tar_ms:.0} ms",
            pm.map_or("-".into(), |t| format!("{t:.0} ms"))
        ));
    }
    g.sh(&format!(
        "rm -rf {store} {skopeo_dir} {tar_dir}; podman rmi -f {IMAGE}"
    ));
    Ok(())
}
