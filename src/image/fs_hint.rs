//! What to do when a layer cannot be unpacked because of the filesystem
//! the store is on: overlayfs (a container manager's volatile root, a
//! container's own root) refuses the whiteouts (0/0 character devices) and
//! device files a layer holds, with a bare "Operation not permitted".

use super::digest::Digest;
use super::error::StoreError;
use super::unpack::UnpackError;
use std::path::Path;

/// Whether `path` is on overlayfs.
pub fn on_overlayfs(path: &Path) -> bool {
    nix::sys::statfs::statfs(path)
        .is_ok_and(|s| s.filesystem_type() == nix::sys::statfs::OVERLAYFS_SUPER_MAGIC)
}

/// The error of a layer that did not unpack into the store at `root`
/// (`overlay`: whether `root` is on overlayfs): an entry refused with
/// EPERM on overlayfs says where to put the store instead.
pub fn unpack_failed(
    root: &Path,
    overlay: bool,
    digest: &Digest,
    source: UnpackError,
) -> StoreError {
    let refused = matches!(&source, UnpackError::Entry { source, .. }
        if source.raw_os_error() == Some(nix::libc::EPERM));
    if refused && overlay {
        return StoreError::UnpackOnOverlay {
            digest: digest.clone(),
            cause: Box::new(source),
            root: root.to_path_buf(),
        };
    }
    StoreError::Unpack {
        digest: digest.clone(),
        source: Box::new(source),
    }
}

/// What to do when the store cannot be made or opened at `path`.
const NOT_ROOT: &str =
    "the image store is root's (its layers hold setuid files and device nodes): run podctl as root";
const READ_ONLY: &str = "the image store must be on a writable filesystem: set PODCTL_STORAGE=DIR to a directory on one";

/// The error of a store that cannot be made or opened at `path`: root's
/// store refused to a process that is not root, or a store on a read-only
/// filesystem, says what to do; otherwise it is said as it is. A user's
/// store (`user_store`) is the user's own: no hint of root.
pub fn open_failed(path: &Path, source: std::io::Error, user_store: bool) -> StoreError {
    let root = nix::unistd::geteuid().is_root();
    open_failed_as(path, source, root || user_store)
}

/// `owned`: the store is this process's own (root, or a user's store).
fn open_failed_as(path: &Path, source: std::io::Error, owned: bool) -> StoreError {
    let hint = match source.raw_os_error() {
        Some(nix::libc::EACCES | nix::libc::EPERM) if !owned => NOT_ROOT,
        Some(nix::libc::EROFS) => READ_ONLY,
        _ => {
            return StoreError::Io {
                path: path.to_path_buf(),
                source,
            };
        }
    };
    StoreError::Open {
        path: path.to_path_buf(),
        cause: source,
        hint,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest() -> Digest {
        Digest::of(b"layer")
    }

    fn entry(errno: i32) -> UnpackError {
        UnpackError::Entry {
            entry: "srv/.wh.old.txt".into(),
            source: std::io::Error::from_raw_os_error(errno),
        }
    }

    /// EPERM on overlayfs names the cause and the way out; anything else
    /// (another filesystem, another error) is said as it is.
    #[test]
    fn a_refused_whiteout_on_overlayfs_says_where_to_put_the_store() {
        let root = Path::new("/var/lib/podctl/storage");
        let e = crate::error_chain(&unpack_failed(
            root,
            true,
            &digest(),
            entry(nix::libc::EPERM),
        ));
        assert_eq!(e.matches("Operation not permitted").count(), 1, "{e}");
        assert!(
            e.contains("entry \"srv/.wh.old.txt\": Operation not permitted")
                && e.contains("/var/lib/podctl/storage is on overlayfs")
                && e.contains("PODCTL_STORAGE="),
            "{e}"
        );
        for (overlay, errno) in [(false, nix::libc::EPERM), (true, nix::libc::ENOSPC)] {
            let e = unpack_failed(root, overlay, &digest(), entry(errno));
            assert!(matches!(e, StoreError::Unpack { .. }), "{e}");
            assert!(!e.to_string().contains("overlayfs"), "{e}");
        }
    }

    /// A store refused to a user, or on a read-only filesystem, says what
    /// to do; root refused (a security module) is said as it is.
    #[test]
    fn a_store_that_cannot_be_opened_says_what_to_do() {
        let path = Path::new("/var/lib/podctl/storage/blobs/sha256");
        let err = |errno, root| {
            crate::error_chain(&open_failed_as(
                path,
                std::io::Error::from_raw_os_error(errno),
                root,
            ))
        };
        let e = err(nix::libc::EACCES, false);
        assert!(
            e.starts_with("/var/lib/podctl/storage/blobs/sha256: Permission denied")
                && e.ends_with("run podctl as root"),
            "{e}"
        );
        assert!(err(nix::libc::EROFS, true).contains("PODCTL_STORAGE=DIR"));
        let plain = err(nix::libc::EACCES, true);
        assert!(!plain.contains(';'), "{plain}");
    }

    #[test]
    fn overlayfs_is_told_apart() {
        // /proc is never overlayfs.
        assert!(!on_overlayfs(Path::new("/proc")));
    }
}
