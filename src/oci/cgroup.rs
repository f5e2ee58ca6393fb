//! Where the runtime puts a container's processes, cgroup-wise. The scope
//! stays podctl's (made over D-Bus, `Delegate=yes`); on a cgroup v2 host
//! the helper moves itself into the leaf `relay` of it and the runtime makes
//! the leaf `payload` (cgroupfs manager, `linux.cgroupsPath`), as Podman's
//! `--cgroups=split`; elsewhere (v1 or hybrid hosts, where controllers
//! cannot be delegated) the container stays in the scope (`disabled`).

use super::runtime::CgroupMode;
use std::path::Path;

/// The leaf of the scope for the relay (cgroup v2 forbids processes in a
/// cgroup whose controllers are enabled for its children).
pub const RELAY_LEAF: &str = "relay";
/// The leaf of the scope for the container's processes.
pub const PAYLOAD_LEAF: &str = "payload";

/// Cgroupfs when `cgroup_root` (`/sys/fs/cgroup`) is a unified (v2) hierarchy.
pub fn detect(cgroup_root: &Path) -> CgroupMode {
    if cgroup_root.join("cgroup.controllers").exists() {
        CgroupMode::Cgroupfs
    } else {
        CgroupMode::Disabled
    }
}

/// The v2 cgroup path in `/proc/PID/cgroup` text (`0::/a/b.scope`).
pub fn own_path(proc_cgroup: &str) -> Option<&str> {
    proc_cgroup
        .lines()
        .find_map(|l| l.strip_prefix("0::"))
        .filter(|p| p.starts_with('/'))
}

/// Moves the calling process into `scope/relay` under `cgroup_root`;
/// returns the payload's cgroupsPath (`/…/X.scope/payload`).
pub fn enter_relay_leaf(cgroup_root: &Path, scope: &str) -> std::io::Result<String> {
    let rel = scope.trim_start_matches('/');
    let leaf = cgroup_root.join(rel).join(RELAY_LEAF);
    match std::fs::create_dir(&leaf) {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => return Err(e),
        _ => {}
    }
    // "0" is the writing process itself.
    std::fs::write(leaf.join("cgroup.procs"), "0")?;
    Ok(format!("/{rel}/{PAYLOAD_LEAF}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_and_paths() {
        let tmp = std::env::temp_dir().join(format!("podctl-cg-{}", std::process::id()));
        std::fs::create_dir_all(tmp.join("pod.slice/x.scope")).unwrap();
        assert_eq!(detect(&tmp), CgroupMode::Disabled);
        std::fs::write(tmp.join("cgroup.controllers"), "memory pids").unwrap();
        assert_eq!(detect(&tmp), CgroupMode::Cgroupfs);
        assert_eq!(
            own_path("12:pids:/x\n0::/pod.slice/x.scope\n"),
            Some("/pod.slice/x.scope")
        );
        assert_eq!(own_path("12:pids:/x\n"), None);
        let payload = enter_relay_leaf(&tmp, "/pod.slice/x.scope").unwrap();
        assert_eq!(payload, "/pod.slice/x.scope/payload");
        assert_eq!(
            std::fs::read_to_string(tmp.join("pod.slice/x.scope/relay/cgroup.procs")).unwrap(),
            "0"
        );
        std::fs::remove_dir_all(&tmp).unwrap();
    }
}
