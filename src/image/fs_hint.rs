//! What to do when a layer cannot be unpacked because of the filesystem
//! the store is on: overlayfs (a container manager's volatile root, a
//! container's own root) refuses the whiteouts (0/0 character devices) and
//! device files a layer holds, with a bare "Operation not permitted".

use super::digest::Digest;
use super::store::StoreError;
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
            source,
            root: root.to_path_buf(),
        };
    }
    StoreError::Unpack {
        digest: digest.clone(),
        source,
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
        let e = unpack_failed(root, true, &digest(), entry(nix::libc::EPERM)).to_string();
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

    #[test]
    fn overlayfs_is_told_apart() {
        // /proc is never overlayfs.
        assert!(!on_overlayfs(Path::new("/proc")));
    }
}
