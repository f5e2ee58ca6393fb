//! An image container's root on the host: an overlayfs of the image's
//! unpacked layers (shared by every container of the image) with the
//! container's own upper and work directories under
//! `/var/lib/podctl/containers/POD/CONTAINER` (0700), mounted on its
//! bundle's `rootfs` before the runtime starts it. `read_only = true` mounts
//! no upper layer (a skeleton of mount points is its top lower layer). The
//! upper layer lives as long as the pod runs (a restarted
//! container keeps its files, as with Podman); down, a lost sandbox and the
//! next start after a crash remove it. Mounting is behind [`Mounter`].
//!
//! In a pod's user namespace, the layers (the skeleton too) are lower
//! layers idmapped with its mapping, attached under the container's
//! directory only while the overlay is mounted (overlayfs keeps its own
//! clones): container root sees the store's root-owned files as its own,
//! and the store stays as it is on disk. The upper and work directories are
//! not idmapped (overlayfs would mount read-only: host root, the mounter,
//! has no ID in the namespace); the upper directory belongs to the
//! namespace's root instead, so `/` is container root's and what the
//! container writes lands there with its host IDs.
//!
//! A user's pod (rootless, [`LayerIds::UserStore`]) mounts from inside its
//! own user and mount namespaces a plain overlay of the user's store, whose
//! files carry the IDs of that namespace already (see
//! [`super::userns`]): nothing idmapped, and `userxattr` (overlayfs reads
//! `user.overlay.*`, which the store's unpacker wrote; Linux 5.11 and
//! later mount it unprivileged). The upper directory, made by the
//! namespace's root, is the user's on disk: container root's.

mod idmapped;

use super::rootfs::{OverlayError, Writable, overlay_options};
use crate::model::IdMap;
use crate::mount::IdmapError;
use crate::plan::StoredImage;
use idmapped::IdmappedLayers;
pub use idmapped::{LAYER_LIST, LOWER, detach_layers};
use std::path::{Path, PathBuf};

/// How an image root is mounted ([`crate::mount::Flags`]: always
/// `nodev`, `nosuid` unless `no_new_privileges` is off, read-only if asked).
pub use crate::mount::Flags;
/// The mounts an image root needs ([`crate::mount::Mounter`]), and this
/// host's ([`crate::mount::SystemMounts`]) by the name this module's callers know.
pub use crate::mount::Mounter;

impl Flags {
    /// The flags of a container with security settings `s`.
    pub fn of(s: &crate::plan::security::SecurityPlan) -> Flags {
        Flags {
            read_only: s.read_only,
            nosuid: s.no_new_privileges,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RootError {
    #[error(
        "image {image}: layer {} is not in the store (podctl rmi {image}, then apply again to pull it)",
        layer.display()
    )]
    LayerMissing { image: String, layer: PathBuf },
    #[error("image {image}: {source}")]
    Options {
        image: String,
        #[source]
        source: OverlayError,
    },
    #[error("cannot create or open {}", path.display())]
    Dir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot mount the overlay of image {image} on {}", at.display())]
    Mount {
        image: String,
        at: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("image {image}: {source}")]
    Idmap {
        image: String,
        #[source]
        source: IdmapError,
    },
    #[error(
        "cannot mount the overlay of image {image} on {} with idmapped layers ({source}): overlayfs takes them since Linux 5.19; on this host, run the pod in the host's user namespace (`userns = \"host\"` in the pod file)",
        at.display()
    )]
    IdmappedLayers {
        image: String,
        at: PathBuf,
        source: std::io::Error,
    },
}

impl RootError {
    /// Whether the image, the definition or the host's kernel is at fault
    /// (retrying cannot help), rather than a failure that may pass.
    pub fn is_definition(&self) -> bool {
        match self {
            RootError::LayerMissing { .. }
            | RootError::Options { .. }
            | RootError::IdmappedLayers { .. } => true,
            RootError::Idmap { source, .. } => source.is_unsupported(),
            RootError::Dir { .. } | RootError::Mount { .. } => false,
        }
    }
}

/// Whose IDs the layers carry, and so how they are stacked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayerIds {
    /// root's store, the host's user namespace: the layers as they are.
    Host,
    /// root's store, a pod's user namespace with this mapping: the layers
    /// idmapped, the upper directory the mapping root's.
    Idmapped(IdMap),
    /// A user's store, mounted from inside the user's pod's namespaces:
    /// the layers as they are, with `userxattr`.
    UserStore,
}

impl From<Option<IdMap>> for LayerIds {
    fn from(userns: Option<IdMap>) -> LayerIds {
        userns.map_or(LayerIds::Host, LayerIds::Idmapped)
    }
}

/// `/var/lib/podctl/containers/POD/CONTAINER`.
pub fn container_dir(containers: &Path, pod: &str, container: &str) -> PathBuf {
    containers.join(pod).join(container)
}

/// A mount point the runtime needs in a read-only root (it cannot make
/// them there): a directory or an empty file, relative to `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MountPoint {
    Dir(String),
    File(String),
}

/// Where the runtime mounts in every container (`/proc`, `/dev`, ...).
pub const BASE_MOUNT_POINTS: [&str; 5] = ["proc", "sys", "dev", "tmp", "run"];

/// Mounts the root of `pod`'s `container` from `image` on `rootfs` (an
/// empty directory); whatever was mounted there before goes first. A
/// read-only root gets, as its top lower layer, a skeleton holding
/// `mount_points` (merged with the image's directories of the same names).
/// `ids` says whose the layers are ([`LayerIds`]; an `Option<IdMap>`, the
/// pod's mapping, converts): with a pod's mapping, its layers are idmapped
/// and its upper directory is the mapping root's; a user's store is
/// mounted with `userxattr`.
#[allow(clippy::too_many_arguments)]
pub fn mount_root(
    image: &StoredImage,
    containers: &Path,
    (pod, container): (&str, &str),
    flags: Flags,
    ids: impl Into<LayerIds>,
    mount_points: &[MountPoint],
    rootfs: &Path,
    m: &dyn Mounter,
) -> Result<(), RootError> {
    let ids = ids.into();
    let userns = match ids {
        LayerIds::Idmapped(map) => Some(map),
        LayerIds::Host | LayerIds::UserStore => None,
    };
    let userxattr = ids == LayerIds::UserStore;
    if let Some(l) = image.layers.iter().find(|l| !l.is_dir()) {
        return Err(RootError::LayerMissing {
            image: image.name.clone(),
            layer: l.clone(),
        });
    }
    let base = container_dir(containers, pod, container);
    private_dir(&containers.join(pod))?;
    private_dir(&base)?;
    // Attachments an interrupted start left.
    detach_layers(&base, m);
    let mut layers = image.layers.clone();
    let writable = if flags.read_only {
        let skel = base.join("skeleton");
        skeleton(&skel, mount_points)?;
        layers.push(skel);
        None
    } else {
        let w = Writable::under(containers, pod, container);
        // The upper directory's mode and owner are those of the container's `/`.
        dir(&w.upper, 0o755)?;
        if let Some(map) = userns {
            m.chown(&w.upper, map.uid, map.gid)
                .map_err(|source| RootError::Dir {
                    path: w.upper.clone(),
                    source,
                })?;
        }
        dir(&w.work, 0o700)?;
        Some(w)
    };
    let idmapped = match userns {
        Some(map) => {
            // The mount table names the attach points, not the store's
            // layers: a garbage collection reads which they are here.
            let list = base.join(idmapped::LAYER_LIST);
            let text: String = image
                .layers
                .iter()
                .map(|l| format!("{}\n", l.display()))
                .collect();
            std::fs::write(&list, text).map_err(|source| RootError::Dir { path: list, source })?;
            let a = IdmappedLayers::attach(&image.name, &layers, &base, map, m)?;
            layers = a.points.clone();
            Some(a)
        }
        None => None,
    };
    let options = |source| RootError::Options {
        image: image.name.clone(),
        source,
    };
    // Too many layers for one page of absolute paths: the same layers held
    // open and named by their descriptors (see [`HeldLayers`]).
    let mut held = None;
    let data = match overlay_options(&layers, writable.as_ref(), userxattr) {
        Err(OverlayError::TooLong { .. }) => {
            let h = HeldLayers::open(&layers)?;
            let data = overlay_options(&h.names, writable.as_ref(), userxattr).map_err(options)?;
            held = Some(h);
            data
        }
        other => other.map_err(options)?,
    };
    unmount_root(rootfs, m);
    let mounted = m.overlay(rootfs, &data, flags).map_err(|source| {
        let (image, at) = (image.name.clone(), rootfs.to_path_buf());
        if idmapped.is_some() && source.raw_os_error() == Some(nix::libc::EINVAL) {
            RootError::IdmappedLayers { image, at, source }
        } else {
            RootError::Mount { image, at, source }
        }
    });
    // overlayfs resolved the names when it mounted: the descriptors can go,
    // and the idmapped attachments (it holds clones of its layers).
    drop(held);
    drop(idmapped);
    mounted
}

/// Layer directories held open (`O_PATH`) and named `/proc/self/fd/N` in
/// the mount data: ~18 bytes a layer instead of the store's ~96, so an
/// image of up to ~200 layers fits the kernel's one page of mount options
/// (overlayfs resolves each name when it mounts, in this process; the
/// mount table then shows these names). Used only when the paths do not fit.
struct HeldLayers {
    _files: Vec<std::fs::File>,
    names: Vec<PathBuf>,
}

impl HeldLayers {
    fn open(layers: &[PathBuf]) -> Result<HeldLayers, RootError> {
        use std::os::fd::AsRawFd;
        use std::os::unix::fs::OpenOptionsExt;
        let mut files = Vec::with_capacity(layers.len());
        let mut names = Vec::with_capacity(layers.len());
        for l in layers {
            let f = std::fs::OpenOptions::new()
                .read(true)
                .custom_flags(nix::libc::O_PATH | nix::libc::O_DIRECTORY)
                .open(l)
                .map_err(|source| RootError::Dir {
                    path: l.clone(),
                    source,
                })?;
            names.push(PathBuf::from(format!("/proc/self/fd/{}", f.as_raw_fd())));
            files.push(f);
        }
        Ok(HeldLayers {
            _files: files,
            names,
        })
    }
}

/// Makes `skel` afresh with `points` in it.
fn skeleton(skel: &Path, points: &[MountPoint]) -> Result<(), RootError> {
    let err = |p: &Path| {
        let path = p.to_path_buf();
        move |source| RootError::Dir { path, source }
    };
    match std::fs::remove_dir_all(skel) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(err(skel)(e)),
        _ => {}
    }
    dir(skel, 0o755)?;
    for p in points {
        match p {
            MountPoint::Dir(d) => dir(&skel.join(d.trim_start_matches('/')), 0o755)?,
            MountPoint::File(f) => {
                let f = skel.join(f.trim_start_matches('/'));
                if let Some(parent) = f.parent() {
                    dir(parent, 0o755)?;
                }
                std::fs::write(&f, "").map_err(err(&f))?;
            }
        }
    }
    Ok(())
}

/// Detaches an image root if one is mounted on `rootfs` (before its bundle
/// is made again, and on teardown): removing the bundle must never reach
/// into the container's files.
pub fn unmount_root(rootfs: &Path, m: &dyn Mounter) {
    while m.is_mounted(rootfs) {
        if m.detach(rootfs).is_err() {
            break;
        }
    }
}

fn private_dir(p: &Path) -> Result<(), RootError> {
    dir(p, 0o700)
}

fn dir(p: &Path, mode: u32) -> Result<(), RootError> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    let err = |source| RootError::Dir {
        path: p.to_path_buf(),
        source,
    };
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(mode)
        .create(p)
        .map_err(err)?;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).map_err(err)
}

#[cfg(test)]
mod tests;
