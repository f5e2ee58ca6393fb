//! The host's mounts that podctl makes for its pods: each pod's `/dev/shm`
//! and sized scratch volumes (tmpfs, [`crate::oci::pod`]), image
//! containers' roots (overlayfs, [`crate::image::overlay`]) and, for pods
//! in a user namespace of their own, idmapped attachments of image layers
//! and volumes ([`idmap`]). One trait, [`Mounter`]: [`SystemMounts`] on a
//! host, [`fake::Mounts`] in tests. Only single-threaded helpers mount; the
//! supervisor only detaches what its pod left.

pub mod fake;
mod idmap;

use crate::model::IdMap;
use std::path::{Path, PathBuf};

/// How an image root is mounted on the host (the bundle's `rootfs`, in
/// its 0700 directory). Always `nodev`; `nosuid` unless the container
/// turns `no_new_privileges` off (as with Podman, setuid binaries and file
/// capabilities then work in it). These hold for the mount on the host
/// only: the runtime binds the root again inside the container, without
/// them (crun 1.8). Inside, an image's device nodes are kept out by the
/// unpacker (it stores none) and the device cgroup, and its setuid bits by
/// `no_new_privileges`, which `podctl exec` processes get too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flags {
    pub read_only: bool,
    pub nosuid: bool,
}

impl Flags {
    /// The mount(2) flags.
    pub fn ms(self) -> nix::mount::MsFlags {
        use nix::mount::MsFlags;
        let mut f = MsFlags::MS_NODEV;
        f.set(MsFlags::MS_NOSUID, self.nosuid);
        f.set(MsFlags::MS_RDONLY, self.read_only);
        f
    }
}

/// The mount system calls podctl makes.
pub trait Mounter {
    /// Mounts a tmpfs of `size` bytes (mode 1777, nosuid, nodev; noexec if asked) at `at`.
    fn tmpfs(&self, at: &Path, size: u64, noexec: bool) -> std::io::Result<()>;
    /// `mount -t overlay overlay -o DATA AT` with `flags`.
    fn overlay(&self, at: &Path, data: &str, flags: Flags) -> std::io::Result<()>;
    /// Detaches whatever is mounted at `at` (lazily: busy mounts go when free).
    fn detach(&self, at: &Path) -> std::io::Result<()>;
    /// Whether `at` is a mount point.
    fn is_mounted(&self, at: &Path) -> bool;
    /// Attaches at `at` (an existing directory, or file for a file) a clone
    /// of the mount tree at `source`, submounts included, idmapped with
    /// `map`: through it, what is host ID N on disk is host ID `map.uid + N`
    /// (`map.gid + N`), that is ID N in the pod's user namespace, and what
    /// that namespace writes lands as N. An error of kind
    /// [`std::io::ErrorKind::Unsupported`]: the kernel or the filesystem
    /// cannot idmap ([`IdmapError::new`] says so).
    fn idmapped_bind(&self, source: &Path, at: &Path, map: IdMap) -> std::io::Result<()>;
    /// Gives `path` (not following a symlink) to host `uid`:`gid`: the root
    /// of a directory that a pod in a user namespace writes to directly
    /// (not idmapped), owned by the namespace's root.
    fn chown(&self, path: &Path, uid: u32, gid: u32) -> std::io::Result<()>;
}

/// Detaches whatever is mounted on the entries of `dir` (idmapped
/// attachments, before `dir` is removed: removal must never reach through
/// one into an image layer or a volume). Each entry is detached until
/// nothing is left on it; a missing `dir` has none.
pub fn detach_entries(dir: &Path, m: &dyn Mounter) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let at = entry.path();
        while m.detach(&at).is_ok() {}
    }
}

/// Whether the tree at `source` can be mounted idmapped with `map` here
/// (nothing is attached): `podctl apply`'s check before it changes anything.
/// An error of kind [`std::io::ErrorKind::Unsupported`]: it cannot.
pub fn probe_idmap(source: &Path, map: IdMap) -> std::io::Result<()> {
    idmap::probe(source, map)
}

/// Where the volumes of a container in a user namespace are attached
/// idmapped: in its bundle beside its `rootfs`, `BUNDLE/idmapped`.
pub fn idmapped_volumes(rootfs: &Path) -> PathBuf {
    rootfs.with_file_name("idmapped")
}

/// Where volume `index` (of the container's `volumes`) of a container in a
/// user namespace is attached idmapped (`BUNDLE/idmapped/INDEX`): what its
/// config binds from.
pub fn idmapped_volume(rootfs: &Path, index: usize) -> PathBuf {
    idmapped_volumes(rootfs).join(index.to_string())
}

/// Why a directory could not be attached idmapped for a container.
#[derive(Debug, thiserror::Error)]
pub enum IdmapError {
    /// The kernel or the filesystem cannot: retrying cannot help.
    #[error(
        "cannot mount {} idmapped ({fs}: {cause}): idmapped mounts need Linux 5.12 and a filesystem that supports them (ext4 and xfs; btrfs since Linux 5.15, tmpfs since 6.3); on this host, run the pod in the host's user namespace (`userns = \"host\"` in the pod file)",
        path.display()
    )]
    Unsupported {
        path: PathBuf,
        /// The filesystem of `path`, by name (or its magic number).
        fs: String,
        cause: std::io::Error,
    },
    #[error("cannot mount {} idmapped on {}", path.display(), at.display())]
    Failed {
        path: PathBuf,
        at: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl IdmapError {
    /// The error of attaching `path` idmapped on `at`, from what
    /// [`Mounter::idmapped_bind`] returned.
    pub fn new(path: &Path, at: &Path, e: std::io::Error) -> IdmapError {
        if e.kind() == std::io::ErrorKind::Unsupported {
            IdmapError::Unsupported {
                path: path.to_path_buf(),
                fs: filesystem(path),
                cause: e,
            }
        } else {
            IdmapError::Failed {
                path: path.to_path_buf(),
                at: at.to_path_buf(),
                source: e,
            }
        }
    }

    /// Whether the host cannot idmap (the pod's definition cannot run here
    /// as it is), rather than a failure that may pass.
    pub fn is_unsupported(&self) -> bool {
        matches!(self, IdmapError::Unsupported { .. })
    }
}

/// The name of the filesystem `path` is on, as statfs(2) tells.
fn filesystem(path: &Path) -> String {
    use nix::sys::statfs::*;
    const NAMES: [(FsType, &str); 12] = [
        (EXT4_SUPER_MAGIC, "ext4"),
        (XFS_SUPER_MAGIC, "xfs"),
        (BTRFS_SUPER_MAGIC, "btrfs"),
        (TMPFS_MAGIC, "tmpfs"),
        (OVERLAYFS_SUPER_MAGIC, "overlayfs"),
        (NFS_SUPER_MAGIC, "nfs"),
        (FUSE_SUPER_MAGIC, "fuse"),
        (F2FS_SUPER_MAGIC, "f2fs"),
        (SMB_SUPER_MAGIC, "smb"),
        (MSDOS_SUPER_MAGIC, "vfat"),
        (PROC_SUPER_MAGIC, "proc"),
        (SYSFS_MAGIC, "sysfs"),
    ];
    match statfs(path) {
        Ok(s) => {
            let t = s.filesystem_type();
            NAMES.iter().find(|(magic, _)| *magic == t).map_or_else(
                || format!("filesystem type {:#x}", t.0),
                |(_, name)| name.to_string(),
            )
        }
        Err(e) => format!("filesystem unknown: {e}"),
    }
}

/// This host's mount table: mount(2) and umount2(2).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemMounts;

impl Mounter for SystemMounts {
    fn tmpfs(&self, at: &Path, size: u64, noexec: bool) -> std::io::Result<()> {
        use nix::mount::{MsFlags, mount};
        let mut flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV;
        if noexec {
            flags |= MsFlags::MS_NOEXEC;
        }
        let data = format!("size={size},mode=1777");
        mount(Some("tmpfs"), at, Some("tmpfs"), flags, Some(data.as_str()))?;
        Ok(())
    }

    fn overlay(&self, at: &Path, data: &str, flags: Flags) -> std::io::Result<()> {
        let ms = flags.ms();
        nix::mount::mount(Some("overlay"), at, Some("overlay"), ms, Some(data))?;
        Ok(())
    }

    fn detach(&self, at: &Path) -> std::io::Result<()> {
        use nix::mount::MntFlags;
        // What podctl detaches is a directory or file it made, never a
        // symlink: one planted in its place is not followed.
        nix::mount::umount2(at, MntFlags::MNT_DETACH | MntFlags::UMOUNT_NOFOLLOW)?;
        Ok(())
    }

    fn is_mounted(&self, at: &Path) -> bool {
        use std::os::unix::fs::MetadataExt;
        let (Ok(me), Some(Ok(parent))) =
            (std::fs::metadata(at), at.parent().map(std::fs::metadata))
        else {
            return false;
        };
        me.dev() != parent.dev()
    }

    fn idmapped_bind(&self, source: &Path, at: &Path, map: IdMap) -> std::io::Result<()> {
        idmap::bind(source, at, map)
    }

    fn chown(&self, path: &Path, uid: u32, gid: u32) -> std::io::Result<()> {
        std::os::unix::fs::lchown(path, Some(uid), Some(gid))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_idmap_the_host_cannot_do_names_the_filesystem_and_the_way_out() {
        let einval = std::io::Error::from_raw_os_error(nix::libc::EINVAL);
        let unsupported = std::io::Error::new(std::io::ErrorKind::Unsupported, einval);
        let e = IdmapError::new(Path::new("/proc"), Path::new("/b/0"), unsupported);
        assert!(e.is_unsupported());
        assert_eq!(
            e.to_string(),
            "cannot mount /proc idmapped (proc: Invalid argument (os error 22)): idmapped mounts \
             need Linux 5.12 and a filesystem that supports them (ext4 and xfs; btrfs since Linux \
             5.15, tmpfs since 6.3); on this host, run the pod in the host's user namespace \
             (`userns = \"host\"` in the pod file)"
        );
        let busy = std::io::Error::from_raw_os_error(nix::libc::EBUSY);
        let e = IdmapError::new(Path::new("/proc"), Path::new("/b/0"), busy);
        assert!(!e.is_unsupported());
        assert_eq!(e.to_string(), "cannot mount /proc idmapped on /b/0");
    }

    #[test]
    fn volumes_are_attached_beside_the_root() {
        let rootfs = Path::new("/run/podctl/oci/p.c/rootfs");
        assert_eq!(
            idmapped_volume(rootfs, 3),
            Path::new("/run/podctl/oci/p.c/idmapped/3")
        );
    }
}
