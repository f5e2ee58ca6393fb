//! Step 4 of [`super::launch`] for a container in its pod's user namespace:
//! the paths the runtime resolves as the container's root (a host ID of the
//! pod's range, without any capability over host files) must let it
//! through. podctl's directories on the way get search permission for
//! everyone (0711: traversable, never listable; what they hold stays
//! private by its own mode); the bundle itself is the pod's root's
//! ([`super::bundle::open_to_namespace_root`]: 0700, no other host user
//! enters it).

use super::{Container, Dirs};
use std::path::PathBuf;

/// The directories a container's runtime passes through to its bundle,
/// its pod's /dev/shm, scratch volumes and network files.
pub fn passed_through(c: &Container, dirs: &Dirs) -> Vec<PathBuf> {
    vec![
        dirs.run.clone(),
        dirs.run.join("oci"),
        dirs.run.join("pods"),
        dirs.pod(&c.pod),
        // The pod network's /etc files.
        dirs.net.clone(),
        dirs.net_files(&c.pod),
        dirs.lib.clone(),
        dirs.lib.join("scratch"),
        dirs.scratch(&c.pod),
        dirs.containers(),
        dirs.containers().join(&c.pod),
    ]
}

/// Lets the pod's root through podctl's directories (nothing for a
/// container in the host's user namespace). Directories that do not exist
/// are left alone.
pub fn let_through(c: &Container, dirs: &Dirs) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    if c.userns.is_none() {
        return Ok(());
    }
    for d in passed_through(c, dirs) {
        let Ok(meta) = std::fs::symlink_metadata(&d) else {
            continue;
        };
        let mode = meta.permissions().mode() & 0o7777;
        if meta.is_dir() && mode & 0o011 != 0o011 {
            std::fs::set_permissions(&d, std::fs::Permissions::from_mode(mode | 0o011))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};

    /// podctl's 0700 directories get search permission, no more; nothing
    /// changes for a pod in the host's user namespace.
    #[test]
    fn the_pods_root_is_let_through_podctls_directories() {
        let tmp = std::env::temp_dir().join(format!("podctl-let-through-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        let dirs = Dirs {
            run: tmp.join("run"),
            lib: tmp.join("lib"),
            net: tmp.join("run").join("net"),
        };
        let mut c: Container = serde_json::from_value(serde_json::json!({
            "pod": "p", "name": "app", "joins": [], "creates": [],
            "process": {"argv": ["/bin/true"], "env": [], "workdir": "/", "user": null,
                        "log_identifier": "p-app"},
            "security": serde_json::to_value(crate::plan::security::build(
                &crate::spec::parse_str("[containers.app]\ncommand = [\"/bin/true\"]\n", "t", "p")
                    .unwrap()
                    .containers[0],
            ))
            .unwrap(),
            "volumes": [], "notify": false, "runtime": "crun", "shm_size": 1, "scratch": []
        }))
        .unwrap();
        for d in [dirs.bundle("p.app"), dirs.shm("p")] {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&d)
                .unwrap();
        }
        let mode =
            |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
        let_through(&c, &dirs).unwrap();
        assert_eq!(
            mode(&dirs.run),
            0o700,
            "a host-namespace pod changes nothing"
        );
        c.userns = Some(crate::model::IdMap {
            uid: 200_000,
            gid: 200_000,
            size: 65_536,
        });
        let_through(&c, &dirs).unwrap();
        for d in [
            dirs.run.clone(),
            dirs.run.join("oci"),
            dirs.run.join("pods"),
            dirs.pod("p"),
        ] {
            assert_eq!(mode(&d), 0o711, "{}", d.display());
        }
        // What is below is not podctl's to open: the bundle and /dev/shm keep theirs.
        assert_eq!(mode(&dirs.bundle("p.app")), 0o700);
        assert_eq!(mode(&dirs.shm("p")), 0o700);
        std::fs::remove_dir_all(&tmp).unwrap();
    }
}
