//! OCI runtime configs: each container's `config.json`, generated from the
//! plan by a pure function ([`config::build`]) with the `oci-spec` crate's
//! types, and the secure defaults it applies ([`crate::model::defaults`], `seccomp.toml`).
//! Running a bundle with crun or runc is the runtime's business, not this
//! module's: nothing here touches the host.

pub mod bundle;
pub mod cgroup;
pub mod config;
pub mod console;
pub mod failure;
pub mod image_root;
pub mod launch;
pub mod pod;
pub mod runtime;
pub mod seccomp;
pub mod volumes;

pub use config::{Context, HostUser, build};

use crate::model::{Check, Runtime, ScratchVolume, Volume};
use crate::plan::{ContainerPlan, NsKind, Plan, ProcessPlan, SecurityPlan};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// What a container's runtime config is made from: its part of the plan and
/// the pod-wide parts it uses. Sent to the container helper as is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Container {
    pub pod: String,
    pub name: String,
    /// The sandbox's namespaces, joined by path.
    pub joins: Vec<NsKind>,
    /// The container's own namespaces.
    pub creates: Vec<NsKind>,
    pub process: ProcessPlan,
    pub security: SecurityPlan,
    pub volumes: Vec<Volume>,
    /// It reports readiness with sd_notify: its own socket is bound in.
    pub notify: bool,
    pub runtime: Runtime,
    pub shm_size: u64,
    pub scratch: Vec<ScratchVolume>,
    /// The pod network's `/etc/hosts` and `/etc/resolv.conf` (host path,
    /// container path), bound read-only over the host root's.
    #[serde(default)]
    pub etc_files: Vec<(String, String)>,
    /// The image whose layers are its root (an overlay mounted on the
    /// bundle's `rootfs`); `None`: the host's root, read-only.
    #[serde(default)]
    pub image: Option<crate::plan::ImagePlan>,
}

impl Container {
    pub fn from_plan(plan: &Plan, c: &ContainerPlan) -> Self {
        Container {
            pod: plan.pod.clone(),
            name: c.name.clone(),
            joins: c.joins.clone(),
            creates: c.creates.clone(),
            process: c.process.clone(),
            security: c.security.clone(),
            volumes: c.volumes.clone(),
            notify: matches!(c.ready.as_ref().map(|r| &r.check), Some(Check::Notify)),
            runtime: c.runtime.clone(),
            shm_size: plan.shm_size,
            scratch: plan.scratch.clone(),
            etc_files: c.etc_files.clone(),
            image: c.image.clone(),
        }
    }

    /// The runtime's container ID: `POD.CONTAINER` (both DNS labels, so
    /// unique and within the IDs runtimes accept).
    pub fn id(&self) -> String {
        format!("{}.{}", self.pod, self.name)
    }
}

/// Host directories of podctl's containers; parameters so tests can move them.
#[derive(Debug, Clone)]
pub struct Dirs {
    /// Runtime state, `/run/podctl`: bundles, the pods' /dev/shm, runtime state.
    pub run: PathBuf,
    /// Persistent data, `/var/lib/podctl`: named and scratch volumes.
    pub lib: PathBuf,
}

impl Dirs {
    pub fn new(run: &Path) -> Self {
        Dirs {
            run: run.to_path_buf(),
            lib: std::env::var_os("PODCTL_LIB")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("/var/lib/podctl")),
        }
    }
    /// A container's bundle: `config.json`, `rootfs/`, the init's pid file.
    pub fn bundle(&self, id: &str) -> PathBuf {
        self.run.join("oci").join(id)
    }
    /// The runtimes' own state (`--root`), per runtime program.
    pub fn runtime_state(&self, program: &str) -> PathBuf {
        let name = program.rsplit('/').next().unwrap_or(program);
        self.run.join("oci-state").join(name)
    }
    /// A pod's runtime directory (its /dev/shm).
    pub fn pod(&self, pod: &str) -> PathBuf {
        self.run.join("pods").join(pod)
    }
    pub fn shm(&self, pod: &str) -> PathBuf {
        self.pod(pod).join("shm")
    }
    /// Named volumes: `/var/lib/podctl/volumes/NAME`.
    pub fn volumes(&self) -> PathBuf {
        self.lib.join("volumes")
    }
    /// Image containers' upper and work directories:
    /// `/var/lib/podctl/containers/POD/CONTAINER`.
    pub fn containers(&self) -> PathBuf {
        self.lib.join("containers")
    }
    /// A pod's scratch volumes.
    pub fn scratch(&self, pod: &str) -> PathBuf {
        self.lib.join("scratch").join(pod)
    }
}

/// What apply checks before it changes anything: each container's runtime
/// is installed (found in `path`) and its bind sources exist. One message
/// per problem.
pub fn preflight(plan: &Plan, path: &str) -> Vec<String> {
    let mut problems = Vec::new();
    for c in &plan.containers {
        if let Err(e) = runtime::check_installed(&c.runtime, path) {
            let msg = format!("pod {} container {}: {e}", plan.pod, c.name);
            if !problems.contains(&msg) {
                problems.push(msg);
            }
        }
        if let Err(e) = bundle::check_sources(&Container::from_plan(plan, c)) {
            problems.push(format!("pod {}: {e}", plan.pod));
        }
        // Host-root containers only (an image's root takes new targets).
        if c.image.is_none()
            && let Err(e) = volumes::check_host_targets(&c.name, &c.volumes, Path::new("/"))
        {
            problems.push(format!("pod {}: {e}", plan.pod));
        }
    }
    problems
}
