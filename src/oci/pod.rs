//! Pod-wide mounts of the containers: one `/dev/shm` per pod (a tmpfs of
//! `shm_size` under `/run/podctl/pods/POD/shm`, bound into each of its
//! containers and nobody else's) and the scratch volumes (directories under
//! `/var/lib/podctl/scratch/POD`, a tmpfs when sized). Made when the first
//! container needs them, removed on down. Mounting is behind [`Mounter`].

use super::{Container, Dirs};
use crate::mount::Mounter;
use std::path::{Path, PathBuf};

/// The host's mounts, by the name this module's callers know them.

#[derive(Debug, thiserror::Error)]
#[error("pod {pod}: {what} {}", path.display())]
pub struct PodMountError {
    pod: String,
    what: &'static str,
    path: PathBuf,
    #[source]
    source: std::io::Error,
}

/// Makes what container `c` needs of its pod, if not there yet: the pod's
/// /dev/shm and the scratch volumes it mounts. Serialized per pod with a lock.
pub fn ensure(c: &Container, dirs: &Dirs, m: &dyn Mounter) -> Result<(), PodMountError> {
    let err = |what, path: &Path| {
        let pod = c.pod.clone();
        let path = path.to_path_buf();
        move |source| PodMountError {
            pod,
            what,
            path,
            source,
        }
    };
    let pod_dir = dirs.pod(&c.pod);
    crate::private::create_private_dir(&pod_dir).map_err(err("cannot create", &pod_dir))?;
    let lock_path = pod_dir.join(".lock");
    let lock = std::fs::File::create(&lock_path).map_err(err("cannot create", &lock_path))?;
    lock.lock().map_err(err("cannot lock", &lock_path))?;
    let shm = dirs.shm(&c.pod);
    mkdir(&shm).map_err(err("cannot create", &shm))?;
    if !m.is_mounted(&shm) {
        m.tmpfs(&shm, c.shm_size, true)
            .map_err(err("cannot mount the pod's /dev/shm on", &shm))?;
    }
    let used = |name: &str| {
        c.volumes
            .iter()
            .any(|v| v.source == crate::model::VolumeSource::Scratch(name.to_string()))
    };
    for s in c.scratch.iter().filter(|s| used(&s.name)) {
        let p = dirs.scratch(&c.pod).join(&s.name);
        mkdir(&p).map_err(err("cannot create", &p))?;
        let fresh = s.size.is_some() && !m.is_mounted(&p);
        if let (Some(size), true) = (s.size, fresh) {
            m.tmpfs(&p, size, false)
                .map_err(err("cannot mount scratch volume on", &p))?;
        }
        // In a user namespace, a scratch volume on disk is the namespace
        // root's, as the writable layer of an image root is, rather than
        // idmapped: it starts empty with each start of the pod, so its
        // files never outlive the pod's range, and it needs no filesystem
        // that can idmap. (A tmpfs one is 1777.)
        let owner = c.userns.map_or(0, |map| map.uid);
        let host_gid = |g: u32| c.userns.map_or(Some(g), |map| map.host_gid(g));
        let group = c.volume_group.and_then(|g| host_gid(g.gid));
        match (s.size, group) {
            // fs_group: the namespace root's (or root's) and the group's,
            // setgid: group-writable on disk, still 1777 as a tmpfs.
            (None, Some(gid)) => {
                m.chown(&p, owner, gid)
                    .map_err(err("cannot chown scratch volume", &p))?;
                set_mode(&p, 0o2775).map_err(err("cannot chmod scratch volume", &p))?;
            }
            (Some(_), Some(gid)) if fresh => {
                m.chown(&p, owner, gid)
                    .map_err(err("cannot chown scratch volume", &p))?;
                set_mode(&p, 0o3777).map_err(err("cannot chmod scratch volume", &p))?;
            }
            (None, None) => {
                if let Some(map) = c.userns {
                    m.chown(&p, map.uid, map.gid)
                        .map_err(err("cannot chown scratch volume", &p))?;
                }
            }
            (Some(_), _) => {}
        }
    }
    Ok(())
}

fn set_mode(p: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode))
}

fn mkdir(p: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(p)
}

/// Removes the pod's /dev/shm, scratch volumes and bundles (on down, and
/// before a pod starts, so that scratch volumes start empty). Named volumes
/// stay. Best effort: returns what could not be removed.
pub fn teardown(pod: &str, dirs: &Dirs, m: &dyn Mounter) -> Vec<String> {
    let mut left = Vec::new();
    let scratch = dirs.scratch(pod);
    if let Ok(read) = std::fs::read_dir(&scratch) {
        for e in read.flatten() {
            if m.is_mounted(&e.path()) {
                let _ = m.detach(&e.path());
            }
        }
    }
    let shm = dirs.shm(pod);
    if m.is_mounted(&shm) {
        let _ = m.detach(&shm);
    }
    let mut remove = vec![scratch, dirs.pod(pod)];
    if let Ok(read) = std::fs::read_dir(dirs.run.join("oci")) {
        let prefix = format!("{pod}.");
        for e in read.flatten() {
            if e.file_name().to_string_lossy().starts_with(&prefix) {
                // An image container's root and idmapped volumes first:
                // removing the bundle must not reach into them.
                let rootfs = e.path().join("rootfs");
                while m.is_mounted(&rootfs) && m.detach(&rootfs).is_ok() {}
                super::bundle::detach_volumes(&e.path(), m);
                remove.push(e.path());
            }
        }
    }
    // Image containers' upper layers (`/var/lib/podctl/containers/POD`),
    // and idmapped layers an interrupted start left there first.
    let containers = dirs.containers().join(pod);
    for e in std::fs::read_dir(&containers)
        .into_iter()
        .flatten()
        .flatten()
    {
        crate::image::overlay::detach_layers(&e.path(), m);
    }
    remove.push(containers);
    // The runtimes' logs of the pod's containers (`oci-state/POD.CONTAINER.log`)
    // and their state of its stopped containers (`oci-state/RUNTIME/POD.CONTAINER/`,
    // what `RUNTIME delete` removes): nothing of a pod stays after down.
    let prefix = format!("{pod}.");
    let of_pod = |e: &std::fs::DirEntry| e.file_name().to_string_lossy().starts_with(&prefix);
    // The directory holds every pod's logs: names are compared first and
    // only the runtimes' directories are told by their type (from the
    // directory entry, no stat of each of 1,000 pods' files).
    if let Ok(read) = std::fs::read_dir(dirs.run.join("oci-state")) {
        for e in read.flatten() {
            if of_pod(&e) && e.file_name().to_string_lossy().ends_with(".log") {
                remove.push(e.path());
            } else if e.file_type().is_ok_and(|t| t.is_dir())
                && let Ok(states) = std::fs::read_dir(e.path())
            {
                remove.extend(states.flatten().filter(of_pod).map(|s| s.path()));
            }
        }
    }
    for p in remove {
        let removed = if p.is_dir() {
            std::fs::remove_dir_all(&p)
        } else {
            std::fs::remove_file(&p)
        };
        match removed {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                left.push(format!("{}: {e}", p.display()))
            }
            _ => {}
        }
    }
    left
}

#[cfg(test)]
mod tests;
