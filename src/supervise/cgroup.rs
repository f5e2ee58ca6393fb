//! Where systemd keeps a pod's cgroups, read directly from cgroupfs (no
//! D-Bus round trip): memory for `ps`, emptiness while stopping.

use crate::plan::units;
use std::path::{Path, PathBuf};

/// `ROOT/pod.slice/pod-NAME.slice/UNIT` (slices nest on dashes in the escaped name).
pub fn unit_dir(root: &Path, pod: &str, unit: &str) -> PathBuf {
    root.join("pod.slice").join(units::slice(pod)).join(unit)
}

/// memory.current of a pod's unit, if accounted.
pub fn memory(root: &Path, pod: &str, unit: &str) -> Option<u64> {
    std::fs::read_to_string(unit_dir(root, pod, unit).join("memory.current"))
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Whether any process is left in the unit's cgroup (gone counts as empty).
pub fn populated(root: &Path, pod: &str, unit: &str) -> bool {
    let dir = unit_dir(root, pod, unit);
    match std::fs::read_to_string(dir.join("cgroup.events")) {
        Ok(events) => events.lines().any(|l| l == "populated 1"),
        // v1 named hierarchy (hybrid hosts): no cgroup.events.
        Err(_) => {
            std::fs::read_to_string(dir.join("cgroup.procs")).is_ok_and(|p| !p.trim().is_empty())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_follow_slice_nesting() {
        let p = unit_dir(
            Path::new("/sys/fs/cgroup"),
            "my-web",
            "pod-my-web.app.scope",
        );
        assert_eq!(
            p,
            Path::new("/sys/fs/cgroup/pod.slice/pod-my\\x2dweb.slice/pod-my-web.app.scope")
        );
    }

    #[test]
    fn populated_reads_cgroup_events() {
        let root = std::env::temp_dir().join(format!("podctl-cg-{}", std::process::id()));
        let dir = unit_dir(&root, "web", "pod-web.app.scope");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("cgroup.events"), "populated 1\nfrozen 0\n").unwrap();
        assert!(populated(&root, "web", "pod-web.app.scope"));
        std::fs::write(dir.join("cgroup.events"), "populated 0\nfrozen 0\n").unwrap();
        assert!(!populated(&root, "web", "pod-web.app.scope"));
        assert!(!populated(&root, "web", "pod-web.gone.scope"));
        std::fs::remove_dir_all(&root).unwrap();
    }
}
