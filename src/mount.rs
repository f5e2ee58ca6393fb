//! The host's mounts that podctl makes for its pods: each pod's `/dev/shm`
//! and sized scratch volumes (tmpfs, [`crate::oci::pod`]) and image
//! containers' roots (overlayfs, [`crate::image::overlay`]). One trait,
//! [`Mounter`]: [`SystemMounts`] on a host, [`fake::Mounts`] in tests.
//! Only single-threaded helpers mount; the supervisor only detaches what
//! its pod left.

pub mod fake;

use std::path::Path;

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
        nix::mount::umount2(at, nix::mount::MntFlags::MNT_DETACH)?;
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
}
