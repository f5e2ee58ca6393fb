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
        match s.size {
            Some(size) if !m.is_mounted(&p) => m
                .tmpfs(&p, size, false)
                .map_err(err("cannot mount scratch volume on", &p))?,
            // In a user namespace, a scratch volume on disk is the
            // namespace root's, as the writable layer of an image root is,
            // rather than idmapped: it starts empty with each start of the
            // pod, so its files never outlive the pod's range, and it needs
            // no filesystem that can idmap. (A tmpfs one is 1777.)
            None => {
                if let Some(map) = c.userns {
                    m.chown(&p, map.uid, map.gid)
                        .map_err(err("cannot chown scratch volume", &p))?;
                }
            }
            Some(_) => {}
        }
    }
    Ok(())
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
    if let Ok(read) = std::fs::read_dir(dirs.run.join("oci-state")) {
        for e in read.flatten() {
            if e.path().is_dir() {
                if let Ok(states) = std::fs::read_dir(e.path()) {
                    remove.extend(states.flatten().filter(of_pod).map(|s| s.path()));
                }
            } else if of_pod(&e) && e.file_name().to_string_lossy().ends_with(".log") {
                remove.push(e.path());
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
mod tests {
    use super::*;

    use crate::mount::fake::{Mount, Mounts};

    #[test]
    fn shm_and_scratch_once_per_pod_and_gone_after_teardown() {
        let tmp = std::env::temp_dir().join(format!("podctl-podmnt-{}", std::process::id()));
        let dirs = Dirs {
            run: tmp.join("run"),
            lib: tmp.join("lib"),
            net: tmp.join("run").join("net"),
        };
        let pod = crate::spec::parse_str(
            "shm_size = \"16M\"\n[volumes]\nfast = { size = \"8M\" }\ndisk = {}\n\
             [containers.a]\ncommand = [\"true\"]\nvolumes = [\"fast:/f\", \"disk:/d\", \"keep:/k\"]\n\
             [containers.b]\ncommand = [\"true\"]\nvolumes = [\"fast:/f\"]\n",
            "t.toml",
            "p",
        )
        .unwrap();
        let plan = crate::plan::build(&pod);
        let m = Mounts::new();
        for c in &plan.containers {
            ensure(&Container::from_plan(&plan, c), &dirs, &m).unwrap();
        }
        // One shm of 16M and one tmpfs scratch for both containers.
        let tmpfs = |size, noexec| Mount::Tmpfs { size, noexec };
        assert_eq!(
            m.mounted(),
            [
                (dirs.shm("p"), tmpfs(16 << 20, true)),
                (dirs.scratch("p").join("fast"), tmpfs(8 << 20, false))
            ]
        );
        assert!(dirs.scratch("p").join("disk").is_dir());
        std::fs::create_dir_all(dirs.volumes().join("keep")).unwrap();
        assert!(teardown("p", &dirs, &m).is_empty());
        assert!(m.mounted().is_empty());
        assert!(!dirs.scratch("p").exists() && !dirs.pod("p").exists());
        assert!(dirs.volumes().join("keep").is_dir(), "named volumes stay");
        std::fs::remove_dir_all(&tmp).unwrap();
    }

    #[test]
    fn in_a_user_namespace_scratch_on_disk_is_the_namespace_roots() {
        let tmp = std::env::temp_dir().join(format!("podctl-podns-{}", std::process::id()));
        let dirs = Dirs {
            run: tmp.join("run"),
            lib: tmp.join("lib"),
            net: tmp.join("run").join("net"),
        };
        let pod = |userns: &str| {
            let toml = format!(
                "{userns}[volumes]\nfast = {{ size = \"8M\" }}\ndisk = {{}}\n\
                 [containers.a]\nimage = \"x:1\"\nvolumes = [\"fast:/f\", \"disk:/d\"]\n"
            );
            let plan = crate::plan::build(&crate::spec::parse_str(&toml, "t.toml", "p").unwrap());
            Container::from_plan(&plan, &plan.containers[0])
        };
        let m = Mounts::new();
        ensure(
            &pod("userns = { uid = 200000, gid = 300000, size = 65536 }\n"),
            &dirs,
            &m,
        )
        .unwrap();
        let disk = dirs.scratch("p").join("disk");
        let chowns: Vec<String> = m
            .log()
            .into_iter()
            .filter(|l| l.starts_with("chown"))
            .collect();
        assert_eq!(chowns, [format!("chown {} 200000:300000", disk.display())]);
        // The host's user namespace: nothing given away.
        let m = Mounts::new();
        ensure(&pod(""), &dirs, &m).unwrap();
        assert!(
            !m.log().iter().any(|l| l.starts_with("chown")),
            "{:?}",
            m.log()
        );
        std::fs::remove_dir_all(&tmp).unwrap();
    }

    #[test]
    fn teardown_detaches_idmapped_attachments_before_removing() {
        let tmp = std::env::temp_dir().join(format!("podctl-podidm-{}", std::process::id()));
        let dirs = Dirs {
            run: tmp.join("run"),
            lib: tmp.join("lib"),
            net: tmp.join("run").join("net"),
        };
        let map = crate::model::IdMap {
            uid: 200_000,
            gid: 200_000,
            size: 65_536,
        };
        let volume = crate::mount::idmapped_volume(&dirs.bundle("web.app").join("rootfs"), 0);
        let layer = dirs.containers().join("web/app/lower/0");
        for at in [&volume, &layer] {
            std::fs::create_dir_all(at).unwrap();
        }
        let m = Mounts::new();
        m.idmapped_bind(&dirs.volumes().join("data"), &volume, map)
            .unwrap();
        m.idmapped_bind(Path::new("/s/layers/a"), &layer, map)
            .unwrap();
        assert!(teardown("web", &dirs, &m).is_empty());
        assert!(m.idmapped().is_empty(), "{:?}", m.idmapped());
        assert!(!dirs.bundle("web.app").exists());
        assert!(!dirs.containers().join("web").exists());
        std::fs::remove_dir_all(&tmp).unwrap();
    }

    #[test]
    fn teardown_removes_the_pods_bundles_runtime_logs_and_state_only() {
        let tmp = std::env::temp_dir().join(format!("podctl-teardown-{}", std::process::id()));
        let dirs = Dirs {
            run: tmp.clone(),
            lib: tmp.join("lib"),
            net: tmp.join("net"),
        };
        let state = tmp.join("oci-state");
        std::fs::create_dir_all(state.join("crun/web.app")).unwrap();
        std::fs::write(state.join("crun/web.app/status"), "").unwrap();
        std::fs::create_dir_all(state.join("crun/webx.app")).unwrap();
        std::fs::create_dir_all(dirs.bundle("web.app")).unwrap();
        let upper = dirs.containers().join("web/app/upper");
        std::fs::create_dir_all(&upper).unwrap();
        std::fs::create_dir_all(dirs.containers().join("webx/app/upper")).unwrap();
        for f in ["web.app.log", "web.sidecar.log", "webx.app.log"] {
            std::fs::write(state.join(f), "").unwrap();
        }
        let left = teardown("web", &dirs, &Mounts::new());
        assert!(left.is_empty(), "{left:?}");
        assert!(!dirs.bundle("web.app").exists());
        assert!(!dirs.containers().join("web").exists(), "upper layers");
        assert!(dirs.containers().join("webx/app/upper").is_dir());
        assert!(!state.join("web.app.log").exists());
        assert!(!state.join("web.sidecar.log").exists());
        assert!(state.join("webx.app.log").exists(), "another pod's log");
        assert!(
            !state.join("crun/web.app").exists(),
            "the runtime's state of web.app"
        );
        assert!(
            state.join("crun/webx.app").is_dir(),
            "another pod's runtime state"
        );
        std::fs::remove_dir_all(&tmp).unwrap();
    }
}
