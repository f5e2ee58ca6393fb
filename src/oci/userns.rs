//! Step 4 of [`super::launch`] for a container in its pod's user namespace:
//! the paths the runtime resolves as the container's root (a host ID of the
//! pod's range, without any capability over host files) must let it
//! through. podctl's directories on the way get search permission for
//! everyone (0711: traversable, never listable; what they hold stays
//! private by its own mode), and the container's bundle is handed to the
//! pod's root (0700: no other host user enters it).

use super::{Container, Dirs};
use std::path::{Path, PathBuf};

/// The directories a container's runtime passes through to its bundle,
/// its pod's /dev/shm and scratch volumes and its image root's layers.
pub fn passed_through(c: &Container, dirs: &Dirs) -> Vec<PathBuf> {
    vec![
        dirs.run.clone(),
        dirs.run.join("oci"),
        dirs.run.join("pods"),
        dirs.pod(&c.pod),
        dirs.lib.clone(),
        dirs.lib.join("scratch"),
        dirs.scratch(&c.pod),
        dirs.containers(),
        dirs.containers().join(&c.pod),
    ]
}

/// Lets the pod's root through to `bundle` (nothing for a container in the
/// host's user namespace). Directories that do not exist are left alone.
pub fn let_through(c: &Container, dirs: &Dirs, bundle: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let Some(map) = c.userns else {
        return Ok(());
    };
    for d in passed_through(c, dirs) {
        let Ok(meta) = std::fs::symlink_metadata(&d) else {
            continue;
        };
        let mode = meta.permissions().mode() & 0o7777;
        if meta.is_dir() && mode & 0o011 != 0o011 {
            std::fs::set_permissions(&d, std::fs::Permissions::from_mode(mode | 0o011))?;
        }
    }
    let (uid, gid) = (map.uid, map.gid);
    nix::unistd::chown(bundle, Some(uid.into()), Some(gid.into()))?;
    Ok(())
}
