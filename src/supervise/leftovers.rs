//! What is left of a pod in its cgroups after systemd was asked to stop it:
//! on some hosts (a container manager's guest with hybrid cgroups) systemd
//! cannot kill a scope (`Failed to kill control group ...: Input/output
//! error`), and a container's relay, init and command outlive their unit,
//! keeping the pod's slice from being made anew. The supervisor does not
//! rely on systemd for that: it signals every process in the pod's cgroups
//! itself, by PID, when it stops the pod, when it loses the sandbox and
//! before it starts the pod (what a previous life left).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long the supervisor keeps killing what it finds in the pod's cgroups.
#[cfg(not(test))]
pub const KILL_TIMEOUT: Duration = Duration::from_secs(5);
#[cfg(test)]
pub const KILL_TIMEOUT: Duration = Duration::from_millis(300);
/// How often it looks again meanwhile.
const KILL_POLL: Duration = Duration::from_millis(10);

/// Every hierarchy systemd keeps units in, given the one it tracks them in
/// ([`crate::layout::cgroup_root`]): on a hybrid host, the unified one and the v1
/// `name=systemd` one beside it (a process can be in both).
pub fn hierarchies(root: &Path) -> Vec<PathBuf> {
    let mut all = vec![root.to_path_buf()];
    if root.file_name().is_some_and(|n| n == "unified")
        && let Some(parent) = root.parent()
    {
        let named = parent.join("systemd");
        if named.join("cgroup.procs").exists() {
            all.push(named);
        }
    }
    all
}

/// The pod's slice directory in `root`.
pub fn slice_dir(root: &Path, pod: &str) -> PathBuf {
    root.join("pod.slice").join(crate::plan::units::slice(pod))
}

/// Whether the pod's slice has a cgroup in any of `roots` (systemd removes
/// it once the slice is stopped: one still there is a previous life's).
pub fn any_cgroup(roots: &[PathBuf], pod: &str) -> bool {
    roots.iter().any(|r| slice_dir(r, pod).is_dir())
}

/// PIDs in the pod's slice or any cgroup below it, in any of `roots`,
/// sorted, each once. Directories are read without following symlinks
/// (cgroupfs has none) and to a bounded depth.
pub fn pids(roots: &[PathBuf], pod: &str) -> Vec<u32> {
    let mut out = Vec::new();
    for r in roots {
        collect(&slice_dir(r, pod), 0, &mut out);
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// Nesting read below the slice: scope, runtime cgroup, the container's own.
const MAX_DEPTH: usize = 16;

fn collect(dir: &Path, depth: usize, out: &mut Vec<u32>) {
    if depth > MAX_DEPTH {
        return;
    }
    if let Ok(text) = std::fs::read_to_string(dir.join("cgroup.procs")) {
        out.extend(
            text.split_whitespace()
                .filter_map(|p| p.parse::<u32>().ok()),
        );
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            collect(&e.path(), depth + 1, out);
        }
    }
}

/// Sends `kill(pid)` to every process in the pod's cgroups, again and again
/// (a fork in flight lands a new one), until none is left or `timeout` has
/// passed; returns those still there then. PID 0 and 1 and `spare` (the
/// caller) are never signalled.
pub fn kill_all(
    roots: &[PathBuf],
    pod: &str,
    timeout: Duration,
    spare: u32,
    kill: &mut dyn FnMut(u32),
) -> Vec<u32> {
    let end = Instant::now() + timeout;
    loop {
        let left: Vec<u32> = pids(roots, pod)
            .into_iter()
            .filter(|&p| p > 1 && p != spare)
            .collect();
        if left.is_empty() || Instant::now() >= end {
            return left;
        }
        for &p in &left {
            kill(p);
        }
        std::thread::sleep(KILL_POLL);
    }
}

/// SIGKILL, by PID.
pub fn sigkill(pid: u32) {
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGKILL,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(tag: &str) -> PathBuf {
        let root = std::env::temp_dir().join(format!("podctl-left-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        root
    }

    fn procs(dir: &Path, text: &str) {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("cgroup.procs"), text).unwrap();
    }

    #[test]
    fn every_cgroup_below_the_slice_is_read() {
        let base = tree("read");
        let unified = base.join("unified");
        let named = base.join("systemd");
        procs(&unified, "");
        procs(&named, "");
        assert_eq!(hierarchies(&unified), vec![unified.clone(), named.clone()]);
        assert_eq!(hierarchies(&base), vec![base.clone()]);
        let roots = hierarchies(&unified);
        assert!(!any_cgroup(&roots, "my-web"));
        assert!(pids(&roots, "my-web").is_empty());
        let slice = slice_dir(&unified, "my-web");
        assert!(slice.ends_with("pod.slice/pod-my\\x2dweb.slice"));
        procs(&slice.join("pod-my-web.db.scope"), "10\n11\n");
        procs(&slice.join("pod-my-web.db.scope/container"), "12\n");
        procs(
            &slice_dir(&named, "my-web").join("pod-my-web.db.scope"),
            "11\n13\n",
        );
        // Another pod's processes are not this one's.
        procs(&slice_dir(&unified, "my").join("pod-my.db.scope"), "99\n");
        assert!(any_cgroup(&roots, "my-web"));
        assert_eq!(pids(&roots, "my-web"), vec![10, 11, 12, 13]);
        std::fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn kill_all_repeats_until_empty_and_spares_the_caller() {
        let base = tree("kill");
        let scope = slice_dir(&base, "web").join("pod-web.db.scope");
        procs(&scope, "1\n20\n21\n77\n");
        let roots = vec![base.clone()];
        let mut killed = Vec::new();
        let mut round = 0;
        let left = kill_all(&roots, "web", Duration::from_secs(5), 77, &mut |p| {
            killed.push(p);
            round += 1;
            // After the first round (2 kills) 21 is still there and a forked
            // 22 came; after the second (2 more) only PID 1 and the caller.
            match round {
                2 => std::fs::write(scope.join("cgroup.procs"), "1\n21\n22\n77\n").unwrap(),
                4 => std::fs::write(scope.join("cgroup.procs"), "1\n77\n").unwrap(),
                _ => {}
            }
        });
        assert!(left.is_empty(), "{left:?}");
        assert_eq!(killed, vec![20, 21, 21, 22]);
        // What never goes is returned at the timeout.
        procs(&scope, "30\n");
        let left = kill_all(&roots, "web", Duration::from_millis(50), 0, &mut |_| {});
        assert_eq!(left, vec![30]);
        std::fs::remove_dir_all(&base).unwrap();
    }
}
