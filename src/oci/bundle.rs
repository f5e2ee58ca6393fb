//! A container's bundle on the host: `config.json` and `rootfs/`, an empty
//! directory holding a directory (or the same symlink) for each top-level
//! entry of the host's root, which the config bind-mounts read-only; and the
//! checks and directories its volumes need. In a pod's user namespace, also
//! `idmapped/`: its volumes attached idmapped, which the config binds from.

use super::{Container, Dirs};
use crate::model::{IdMap, VolumeSource};
use crate::mount::{IdmapError, Mounter};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error(
        "container {container}: the host path {path} of volume {target} does not exist (create it, or fix `volumes`)"
    )]
    SourceMissing {
        container: String,
        path: String,
        target: String,
    },
    #[error("{path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Idmap(#[from] IdmapError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BundleError + '_ {
    move |source| BundleError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The top level of the host's root as a container sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostRoot {
    /// Directories, bind-mounted read-only; sorted.
    pub dirs: Vec<String>,
    /// Symlinks (`bin -> usr/bin`), made the same in `rootfs`; sorted.
    pub links: Vec<(String, PathBuf)>,
}

/// Reads the top level of `root` (the host's `/`), leaving out what the
/// runtime mounts itself or each container gets of its own.
///
/// With `traversable_only` (a user's pod, read inside its user namespace),
/// a directory this process cannot enter (root's `/root`, 0700) is left
/// out: the kernel would refuse the user's runtime its bind anyway.
pub fn read_host_root(root: &Path, traversable_only: bool) -> Result<HostRoot, BundleError> {
    let mut host = HostRoot::default();
    for entry in std::fs::read_dir(root).map_err(io(root))? {
        let entry = entry.map_err(io(root))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if super::config::NOT_FROM_HOST.contains(&name.as_str()) {
            continue;
        }
        let path = entry.path();
        let kind = entry.file_type().map_err(io(&path))?;
        if kind.is_symlink() {
            let target = std::fs::read_link(&path).map_err(io(&path))?;
            host.links.push((name, target));
        } else if kind.is_dir() {
            let enter = nix::unistd::AccessFlags::X_OK | nix::unistd::AccessFlags::R_OK;
            if traversable_only && nix::unistd::access(&path, enter).is_err() {
                continue;
            }
            host.dirs.push(name);
        }
    }
    host.dirs.sort();
    host.links.sort();
    Ok(host)
}

/// Makes `bundle` afresh: `rootfs/` (0755) with the host root's entries,
/// and `config.json`.
pub fn write(
    bundle: &Path,
    host: &HostRoot,
    config_json: &str,
    m: &dyn Mounter,
) -> Result<(), BundleError> {
    prepare(bundle, host, m)?;
    write_config(bundle, config_json)
}

/// Writes the bundle's `config.json`, root's only (0600): it holds the
/// container's environment, secrets included.
pub fn write_config(bundle: &Path, config_json: &str) -> Result<(), BundleError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let config = bundle.join("config.json");
    let _ = std::fs::remove_file(&config);
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&config)
        .and_then(|mut f| f.write_all(config_json.as_bytes()))
        .map_err(io(&config))
}

/// Makes `bundle` afresh with its `rootfs/` (0755) holding the host root's
/// entries (none for an image container, whose root is mounted on it).
/// Whatever was mounted on `rootfs` must be gone first; idmapped volumes
/// are detached here.
pub fn prepare(bundle: &Path, host: &HostRoot, m: &dyn Mounter) -> Result<(), BundleError> {
    use std::os::unix::fs::{DirBuilderExt, symlink};
    detach_volumes(bundle, m);
    match std::fs::remove_dir_all(bundle) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(bundle)(e)),
        _ => {}
    }
    crate::private::create_private_dir(bundle).map_err(io(bundle))?;
    let rootfs = bundle.join("rootfs");
    let mut dir = std::fs::DirBuilder::new();
    dir.mode(0o755);
    dir.create(&rootfs).map_err(io(&rootfs))?;
    // The mode of the container's `/` is the mode of this directory, whatever the umask.
    set_mode(&rootfs, 0o755)?;
    for d in &host.dirs {
        let p = rootfs.join(d);
        dir.create(&p).map_err(io(&p))?;
    }
    for (name, target) in &host.links {
        let p = rootfs.join(name);
        symlink(target, &p).map_err(io(&p))?;
    }
    Ok(())
}

/// For a container in a pod's user namespace (`map`): gives `bundle` to
/// the namespace's root (still 0700) and lets anyone search the directory
/// of bundles (0711: each bundle is 0700, so nothing in one is listed or
/// opened by others). The runtime reaches the container's root from inside
/// the namespace, as its root (crun 1.8 makes `rootfs` private there):
/// every directory above `rootfs` must let it through.
pub fn open_to_namespace_root(
    bundle: &Path,
    map: IdMap,
    m: &dyn Mounter,
) -> Result<(), BundleError> {
    m.chown(bundle, map.uid, map.gid).map_err(io(bundle))?;
    match bundle.parent() {
        Some(bundles) => set_mode(bundles, 0o711),
        None => Ok(()),
    }
}

/// For a container in a pod's user namespace (`map`): attaches each of its
/// bind and named volumes idmapped in its bundle (made afresh before) at
/// [`crate::mount::idmapped_volume`], which its config binds from. Through
/// it container root sees the host root's files as its own, and what a
/// container user writes lands on disk with its container ID (0 for root):
/// the same on every apply, whatever range the pod gets. Scratch volumes
/// on disk are the namespace root's instead ([`super::pod::ensure`]);
/// tmpfs ones are everyone's (1777).
pub fn attach_volumes(
    c: &Container,
    bundle: &Path,
    dirs: &Dirs,
    map: IdMap,
    m: &dyn Mounter,
) -> Result<(), BundleError> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let rootfs = bundle.join("rootfs");
    let dir = crate::mount::idmapped_volumes(&rootfs);
    for (i, v) in c.volumes.iter().enumerate() {
        // The attach point is of the source's kind (a file binds on a file).
        let (source, is_dir) = match &v.source {
            VolumeSource::Bind(p) => (PathBuf::from(p), Path::new(p).is_dir()),
            VolumeSource::Named(n) => (dirs.volumes().join(n), true),
            VolumeSource::Scratch(_) | VolumeSource::Tmpfs(_) => continue,
        };
        crate::private::create_private_dir(&dir).map_err(io(&dir))?;
        let at = crate::mount::idmapped_volume(&rootfs, i);
        if is_dir {
            std::fs::DirBuilder::new()
                .mode(0o700)
                .create(&at)
                .map_err(io(&at))?;
        } else {
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&at)
                .map_err(io(&at))?;
        }
        m.idmapped_bind(&source, &at, map)
            .map_err(|e| IdmapError::new(&source, &at, e))?;
    }
    Ok(())
}

/// Detaches a bundle's idmapped volumes, before it is removed or made
/// afresh: removal must never reach through one into a volume.
pub fn detach_volumes(bundle: &Path, m: &dyn Mounter) {
    crate::mount::detach_entries(&crate::mount::idmapped_volumes(&bundle.join("rootfs")), m);
}

fn set_mode(path: &Path, mode: u32) -> Result<(), BundleError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(io(path))
}

/// Every bind source exists (checked when the container starts, not when
/// the file is validated: the file may be checked on another machine).
pub fn check_sources(c: &Container) -> Result<(), BundleError> {
    for v in &c.volumes {
        if let VolumeSource::Bind(src) = &v.source
            && !Path::new(src).exists()
        {
            return Err(BundleError::SourceMissing {
                container: c.name.clone(),
                path: src.clone(),
                target: v.target.clone(),
            });
        }
    }
    Ok(())
}

/// Makes the named volumes' directories that do not exist yet (kept across
/// down and reboot; `0755` root, as Docker's).
pub fn ensure_named_volumes(c: &Container, dirs: &Dirs) -> Result<(), BundleError> {
    use std::os::unix::fs::DirBuilderExt;
    for v in &c.volumes {
        if let VolumeSource::Named(n) = &v.source {
            let p = dirs.volumes().join(n);
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o755)
                .create(&p)
                .map_err(io(&p))?;
        }
    }
    Ok(())
}

/// Gives the named volumes `c` mounts the pod's `fs_group`, if it has one
/// ([`super::tree::give_group`]). On disk a named volume holds the IDs its
/// containers see (it is mounted idmapped in a user namespace of the
/// pod's own), so the group on disk is `fs_group` itself.
pub fn give_named_volumes_group(c: &Container, dirs: &Dirs) -> Result<(), BundleError> {
    let Some(group) = c.volume_group else {
        return Ok(());
    };
    for v in &c.volumes {
        if let VolumeSource::Named(n) = &v.source {
            let p = dirs.volumes().join(n);
            super::tree::give_group(&p, group.gid, group.change).map_err(io(&p))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
