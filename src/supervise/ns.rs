//! Namespace steps: open, join (in [`SETNS_ORDER`]).
//!
//! Joining changes process-wide state, so it runs only in the
//! single-threaded `podctl __probe` helper, never in the supervisor.

use crate::plan::{NsKind, SETNS_ORDER};
use nix::sched::CloneFlags;
use std::fs::File;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum NsError {
    #[error("cannot open {path}")]
    Open {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("setns into {path}")]
    Join {
        path: PathBuf,
        #[source]
        source: nix::Error,
    },
}

pub fn clone_flag(kind: NsKind) -> CloneFlags {
    match kind {
        NsKind::User => CloneFlags::CLONE_NEWUSER,
        NsKind::Cgroup => CloneFlags::CLONE_NEWCGROUP,
        NsKind::Ipc => CloneFlags::CLONE_NEWIPC,
        NsKind::Uts => CloneFlags::CLONE_NEWUTS,
        NsKind::Net => CloneFlags::CLONE_NEWNET,
        NsKind::Pid => CloneFlags::CLONE_NEWPID,
        NsKind::Mnt => CloneFlags::CLONE_NEWNS,
    }
}

/// A user's pod (rootless): joins the sandbox holder `pid`'s user
/// namespace (root there: the user's own UID) and its mount namespace,
/// where the pod's mounts are made. Single-threaded callers only (the
/// kernel refuses a user namespace to a process with threads).
pub fn enter_user_and_mounts(proc_root: &Path, pid: u32) -> Result<(), NsError> {
    open(proc_root, pid, &[NsKind::User, NsKind::Mnt])?.join()
}

/// `/proc/PID/ns/KIND` under a given proc root (a parameter for tests).
pub fn ns_path(proc_root: &Path, pid: u32, kind: NsKind) -> PathBuf {
    proc_root
        .join(pid.to_string())
        .join("ns")
        .join(kind.proc_name())
}

/// Namespace files opened ahead of joining, so that joining one (mnt, pid)
/// cannot change what the next path refers to.
pub struct Opened(Vec<(NsKind, PathBuf, File)>);

/// Opens every namespace of `pid` listed in `kinds`, sorted into join order.
pub fn open(proc_root: &Path, pid: u32, kinds: &[NsKind]) -> Result<Opened, NsError> {
    let mut out = Vec::with_capacity(kinds.len());
    for kind in SETNS_ORDER.iter().filter(|k| kinds.contains(k)) {
        let path = ns_path(proc_root, pid, *kind);
        let file = File::open(&path).map_err(|source| NsError::Open {
            path: path.clone(),
            source,
        })?;
        out.push((*kind, path, file));
    }
    Ok(Opened(out))
}

impl Opened {
    /// Joins them in order. A pid namespace applies to children only.
    pub fn join(self) -> Result<(), NsError> {
        for (kind, path, file) in self.0 {
            nix::sched::setns(file.as_fd(), clone_flag(kind))
                .map_err(|source| NsError::Join { path, source })?;
        }
        Ok(())
    }

    pub fn kinds(&self) -> Vec<NsKind> {
        self.0.iter().map(|(k, _, _)| *k).collect()
    }
}

/// The inode of a namespace file, as `lsns` shows it.
pub fn inode(proc_root: &Path, pid: u32, kind: NsKind) -> std::io::Result<u64> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(ns_path(proc_root, pid, kind)).map(|m| m.ino())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_in_setns_order_whatever_the_request_order() {
        let opened = open(
            Path::new("/proc"),
            std::process::id(),
            &[NsKind::Net, NsKind::Mnt, NsKind::Ipc, NsKind::Uts],
        )
        .expect("own namespaces are readable");
        assert_eq!(
            opened.kinds(),
            vec![NsKind::Ipc, NsKind::Uts, NsKind::Net, NsKind::Mnt]
        );
    }

    #[test]
    fn open_names_the_missing_path() {
        let dir = std::env::temp_dir().join("podctl-ns-test-missing");
        let err = open(&dir, 1, &[NsKind::Net]).err().expect("must fail");
        assert!(
            err.to_string().contains("podctl-ns-test-missing/1/ns/net"),
            "{err}"
        );
    }

    #[test]
    fn inode_of_own_namespace_matches_readlink() {
        let me = std::process::id();
        let ino = inode(Path::new("/proc"), me, NsKind::Net).unwrap();
        let link = std::fs::read_link(format!("/proc/{me}/ns/net")).unwrap();
        assert_eq!(link.to_string_lossy(), format!("net:[{ino}]"));
    }
}
