//! The OCI runtime: each container's `config.json`, and the runtime binary
//! (crun, runc) run on it.
//!
//! Pure, no I/O (their tests need no root and compare with expected files):
//! [`container`] (what a config is made from: the container's part of the
//! plan), [`config`] (`config.json` with the `oci-spec` crate's types:
//! [`config::build`]) and [`seccomp`] (the default profile, from
//! `seccomp.toml`). The security defaults they apply are data in
//! [`crate::model::defaults`]. They import none of the modules below.
//!
//! Effects, on the host: [`runtime`] (the runtime binary, behind a trait
//! with a fake), [`launch`] (a container's start, in the container helper:
//! [`bundle`], [`pod`], [`image_root`] and [`cgroup`] are its steps,
//! [`failure`] says why one failed), [`console`] (`exec -t`), [`volumes`]
//! (named volumes on disk; deciding is pure there), [`tree`] (walks of a
//! volume: its usage, its `fs_group`), and here [`Dirs`] (where
//! all of it lives) and [`preflight`].

pub mod bundle;
pub mod cgroup;
pub mod config;
pub mod console;
pub mod container;
pub mod failure;
pub mod image_root;
pub mod launch;
pub mod pod;
pub mod runtime;
pub mod seccomp;
pub mod secrets;
pub mod tree;
pub mod userns;
pub mod volumes;

pub use config::{Context, HostUser, build};
pub use container::Container;

use crate::plan::Plan;
use std::path::{Path, PathBuf};

/// Host directories of podctl's containers; parameters so tests can move them.
#[derive(Debug, Clone)]
pub struct Dirs {
    /// Runtime state, `/run/podctl`: bundles, the pods' /dev/shm, runtime state.
    pub run: PathBuf,
    /// Persistent data, `/var/lib/podctl`: named and scratch volumes.
    pub lib: PathBuf,
    /// Pods' network files, `/run/podctl/net` ([`crate::layout::Layout::net_run`]).
    pub net: PathBuf,
}

impl Dirs {
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
    /// A pod's network files (`hosts`, `resolv.conf`): `/run/podctl/net/POD`.
    pub fn net_files(&self, pod: &str) -> PathBuf {
        self.net.join(pod)
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
