//! The floor: the two-container pod made by hand with
//! what podctl drives, so that `podctl apply` / `down` can be compared with
//! the least the same work costs. A slice and three `systemd-run --scope`s
//! (the sandbox `unshare -n -i -u sleep inf`, two containers with the pod's
//! limits, `Delegate=yes`); each container is `crun run` of the very bundle
//! podctl wrote for it (captured from an apply of the same pod, with the
//! namespace paths, cgroupsPath and the pod's /dev/shm pointed at the
//! floor's own), started from the scope's `relay` leaf as podctl's relay
//! does (cgroup v2 allows no process next to the `payload` leaf). For a pod
//! from an image, the floor mounts each container's overlay root itself
//! (podctl's lower layers, an upper and work directory of its own) before
//! `crun run`, and unmounts and removes it on down.

use super::{POLL, POLL_SCAN, comm, ms_since, nothing_left, podctl_down, podctl_up};
use super::{cgroup_fs, timed, unified, wait};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Where the captured bundles live (one directory per container).
const BUNDLES: &str = "/var/lib/podctl-bench/floor";
/// crun's state (`--root`) for the floor's containers.
const CRUN_ROOT: &str = "/run/bfloor-crun";
/// The floor pod's /dev/shm (a tmpfs per pod, as podctl's).
const SHM: &str = "/run/bfloor-shm";
/// Placeholder for the sandbox's PID in a captured config.
const SANDBOX: &str = "@SANDBOX@";
/// The containers of the benchmark's pod, with the limits of their scopes.
const CONTAINERS: [(&str, &[&str]); 2] = [
    ("app", &["MemoryMax=256M", "CPUQuota=25%", "TasksMax=64"]),
    ("sidecar", &["MemoryMax=128M"]),
];

/// One floor pod: the pod file's name whose bundles it runs, and the stop
/// timeout of its container scopes (the pod's `stop_timeout`).
#[derive(Clone, Copy)]
pub(super) struct Kind {
    pub pod: &'static str,
    pub stop_timeout: &'static str,
    /// Containers from an image: an overlay root per container.
    pub image: bool,
}

/// The two-container pod of `sleep`s (podctl's default stop_timeout, 10 s).
pub(super) const SLEEP: Kind = Kind {
    pod: "bpod",
    stop_timeout: "10s",
    image: false,
};
/// The same pod whose commands ignore SIGTERM (`stop_timeout = "2s"`).
pub(super) const TERM: Kind = Kind {
    pod: "bterm",
    stop_timeout: "2s",
    image: false,
};
/// The pod of `sleep`s from a stored image (imagepod.rs).
pub(super) const IMAGE: Kind = Kind {
    pod: "bimg",
    stop_timeout: "10s",
    image: true,
};

/// Applies `pod` with podctl, copies its containers' bundles (config.json,
/// rootfs/) and turns each config into the floor's template. Down after.
pub(super) fn capture(g: &crate::rig::Guest, kind: Kind) -> Result<(), String> {
    let pod = kind.pod;
    podctl_up(pod)?;
    for (c, _) in CONTAINERS {
        let src = format!("/run/podctl/oci/{pod}.{c}");
        let dst = format!("{BUNDLES}/{pod}.{c}");
        if kind.image {
            // The overlay podctl mounted on the bundle's rootfs (seen from
            // here or from the supervisor's mount namespace): its lower layers.
            let lower = g.ok(&format!(
                "for p in self $(systemctl show -P MainPID pod@{pod}.service); do \
                   l=$(grep -h ' {src}/rootfs ' /proc/$p/mountinfo | grep -o 'lowerdir=[^, ]*' | head -1); \
                   [ -n \"$l\" ] && echo \"${{l#lowerdir=}}\" && break; \
                 done; true"
            ))?;
            if lower.is_empty() {
                return Err(format!(
                    "{src}/rootfs: no overlay with a lowerdir mounted there"
                ));
            }
            g.ok(&format!(
                "rm -rf {dst} && mkdir -p {dst}/files {dst}/rootfs && echo '{lower}' > {dst}/lowerdir && \
                 cp {src}/config.json {dst}/config.podctl.json"
            ))?;
        } else {
            g.ok(&format!(
                "rm -rf {dst} && mkdir -p {dst}/files && cp -a {src}/rootfs {dst}/rootfs && \
                 cp {src}/config.json {dst}/config.podctl.json"
            ))?;
        }
        let text = std::fs::read_to_string(format!("{dst}/config.podctl.json"))
            .map_err(|e| format!("{dst}/config.podctl.json: {e}"))?;
        let template = rewrite(&text, pod, c, &dst)?;
        std::fs::write(format!("{dst}/config.template.json"), template)
            .map_err(|e| format!("{dst}: {e}"))?;
    }
    podctl_down(pod)?;
    Ok(())
}

/// podctl's config for `pod`.`c` as the floor's: namespaces joined by path
/// point at the floor's sandbox, the payload goes under the floor's scope,
/// the pod's /dev/shm is the floor's, files podctl made under /run/podctl
/// (hosts, resolv.conf) are copies in the bundle.
fn rewrite(text: &str, pod: &str, c: &str, dst: &str) -> Result<String, String> {
    let mut v: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("{pod}.{c} config.json: {e}"))?;
    v["root"]["path"] = "rootfs".into();
    v["linux"]["cgroupsPath"] = format!("/bfloor.slice/bfloor-{c}.scope/payload").into();
    let namespaces = v["linux"]["namespaces"]
        .as_array_mut()
        .ok_or_else(|| format!("{pod}.{c}: no linux.namespaces"))?;
    for ns in namespaces {
        if let Some(path) = ns.get("path").and_then(|p| p.as_str()) {
            let kind = path.rsplit('/').next().unwrap_or_default().to_string();
            ns["path"] = format!("/proc/{SANDBOX}/ns/{kind}").into();
        }
    }
    let shm = format!("/run/podctl/pods/{pod}/shm");
    for m in v["mounts"].as_array_mut().into_iter().flatten() {
        let Some(src) = m.get("source").and_then(|s| s.as_str()).map(String::from) else {
            continue;
        };
        if src == shm {
            m["source"] = SHM.into();
        } else if src.starts_with("/run/podctl/") {
            let name = src.rsplit('/').next().unwrap_or_default();
            let copy = format!("{dst}/files/{name}");
            std::fs::copy(&src, &copy).map_err(|e| format!("copying {src}: {e}"))?;
            m["source"] = copy.into();
        }
    }
    let out = serde_json::to_string_pretty(&v).map_err(|e| e.to_string())?;
    if out.contains("/run/podctl/") {
        return Err(format!(
            "{pod}.{c}: the floor's config still names /run/podctl/:\n{out}"
        ));
    }
    Ok(out)
}

fn spawn_scope(unit: &str, props: &[String], argv: &[&str]) -> Result<std::process::Child, String> {
    let mut cmd = Command::new("systemd-run");
    cmd.args(["--scope", "--quiet", "--collect", "--slice=bfloor.slice"])
        .arg(format!("--unit={unit}"));
    for p in props {
        cmd.arg(format!("--property={p}"));
    }
    cmd.arg("--")
        .args(argv)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("systemd-run: {e}"))
}

/// A live `sleep` among the processes of `cgroup` (the container's command).
fn sleep_in(cgroup: &str) -> bool {
    std::fs::read_to_string(format!("{}{cgroup}/cgroup.procs", cgroup_fs()))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .any(|p| comm(p) == "sleep")
}

/// One floor pod up (until both containers' `sleep`s run) and down
/// (`systemctl stop` of the slice until no process and no cgroup is left).
pub(super) fn one(kind: Kind) -> Result<(f64, f64), String> {
    use nix::mount::{MsFlags, mount, umount};
    // Not timed: what a killed crun run left of the previous round (its
    // containers' state only: crun keeps its cache of compiled seccomp
    // filters under the same root, as it does under podctl's).
    for (c, _) in CONTAINERS {
        let _ = std::fs::remove_dir_all(format!("{CRUN_ROOT}/bfloor-{c}"));
    }
    std::fs::create_dir_all(SHM).map_err(|e| format!("{SHM}: {e}"))?;
    let limit = Duration::from_secs(60);
    let start = Instant::now();
    let mut children = vec![spawn_scope(
        "bfloor-sandbox",
        &[],
        &["unshare", "-n", "-i", "-u", "sleep", "inf"],
    )?];
    let spid = children[0].id();
    wait(limit, POLL, "the floor's sandbox", || comm(spid) == "sleep")?;
    mount(
        Some("tmpfs"),
        SHM,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        Some("mode=1777,size=65536k"),
    )
    .map_err(|e| format!("mounting {SHM}: {e}"))?;
    for (c, limits) in CONTAINERS {
        let dir = format!("{BUNDLES}/{}.{c}", kind.pod);
        if kind.image {
            let lower = std::fs::read_to_string(format!("{dir}/lowerdir"))
                .map_err(|e| format!("{dir}/lowerdir: {e}"))?;
            for d in ["upper", "work"] {
                std::fs::create_dir_all(format!("{dir}/{d}")).map_err(|e| format!("{dir}: {e}"))?;
            }
            let data = format!(
                "lowerdir={},upperdir={dir}/upper,workdir={dir}/work",
                lower.trim()
            );
            mount(
                Some("overlay"),
                format!("{dir}/rootfs").as_str(),
                Some("overlay"),
                MsFlags::empty(),
                Some(data.as_str()),
            )
            .map_err(|e| format!("mounting the overlay on {dir}/rootfs ({data}): {e}"))?;
        }
        let template = std::fs::read_to_string(format!("{dir}/config.template.json"))
            .map_err(|e| format!("{dir}: {e}"))?;
        std::fs::write(
            format!("{dir}/config.json"),
            template.replace(SANDBOX, &spid.to_string()),
        )
        .map_err(|e| format!("{dir}/config.json: {e}"))?;
        let scope = format!("{}/bfloor.slice/bfloor-{c}.scope", cgroup_fs());
        // As podctl does: on cgroup v2 the runtime makes the payload leaf;
        // on a hybrid host the container stays in the scope.
        let script = if unified() {
            format!(
                "mkdir -p {scope}/relay && echo $$ > {scope}/relay/cgroup.procs && \
                 exec crun --cgroup-manager=cgroupfs --root {CRUN_ROOT} run --no-new-keyring --bundle {dir} bfloor-{c}"
            )
        } else {
            format!(
                "exec crun --cgroup-manager=disabled --root {CRUN_ROOT} run --no-new-keyring --bundle {dir} bfloor-{c}"
            )
        };
        let mut props: Vec<String> = limits.iter().map(|s| s.to_string()).collect();
        props.push("Delegate=yes".into());
        props.push(format!("TimeoutStopSec={}", kind.stop_timeout));
        children.push(spawn_scope(
            &format!("bfloor-{c}"),
            &props,
            &["sh", "-c", &script],
        )?);
    }
    wait(limit, POLL, "the floor's containers", || {
        CONTAINERS.iter().all(|(c, _)| {
            let scope = format!("/bfloor.slice/bfloor-{c}.scope");
            sleep_in(&if unified() {
                format!("{scope}/payload")
            } else {
                scope
            })
        })
    })
    .map_err(|e| format!("{e} (is crun failing? try its bundles in {BUNDLES})"))?;
    let up = ms_since(start);

    let start = Instant::now();
    let limit = Duration::from_secs(120);
    timed(&["systemctl", "stop", "bfloor.slice"], limit)?;
    wait(limit, POLL_SCAN, "the floor's processes to go", || {
        nothing_left() && !Path::new(&format!("{}/bfloor.slice", cgroup_fs())).exists()
    })?;
    umount(SHM).map_err(|e| format!("unmounting {SHM}: {e}"))?;
    if kind.image {
        for (c, _) in CONTAINERS {
            let dir = format!("{BUNDLES}/{}.{c}", kind.pod);
            umount(format!("{dir}/rootfs").as_str())
                .map_err(|e| format!("unmounting {dir}/rootfs: {e}"))?;
            for d in ["upper", "work"] {
                std::fs::remove_dir_all(format!("{dir}/{d}"))
                    .map_err(|e| format!("removing {dir}/{d}: {e}"))?;
            }
        }
    }
    let down = ms_since(start);
    for c in &mut children {
        let _ = c.wait();
    }
    Ok((up, down))
}
