//! Supervisor side of starting a container: run `podctl __spawn`, held
//! until the container's scope exists, then release it.
//!
//! The helper reads its [`LaunchSpec`] (JSON) on stdin as it starts and
//! prepares what needs neither its scope nor the sandbox; the release
//! message's body ([`super::held`]) is a [`Go`]: the sandbox's namespace
//! PID, as JSON. The helper's stdout is a status pipe that every process of
//! the container closes on exec: what was written before EOF is a
//! [`Report`] (the init's PID, or the error).

use super::held::ReportError;
use super::process::{Held, Helper, Output, Process, Spawner};
use super::report::{Report, SetupFault};
use crate::plan::{ContainerPlan, Plan};
use serde::{Deserialize, Serialize};
use std::os::fd::BorrowedFd;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Everything the helper needs, sent as one JSON document.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LaunchSpec {
    /// The container as its OCI runtime config is made from it: its
    /// namespaces, process, confinement, volumes and root.
    pub container: crate::oci::Container,
    /// The `podctl-pause` binary: the container's init, and the relay the
    /// helper becomes.
    pub pause: PathBuf,
    /// The values of the container's secrets (this spec travels in a
    /// memory file, never on disk).
    #[serde(default)]
    pub secrets: crate::oci::secrets::SecretValues,
}

impl LaunchSpec {
    pub fn new(plan: &Plan, c: &ContainerPlan, pause: &Path) -> Self {
        LaunchSpec {
            container: crate::oci::Container::from_plan(plan, c),
            pause: pause.to_path_buf(),
            secrets: Default::default(),
        }
    }

    /// The container's scope, named in the journal stream's header: journald
    /// attributes a line to it even when the relay that sent it has exited
    /// before journald looked at its cgroup (a short-lived init container).
    pub fn unit(&self) -> String {
        crate::plan::units::container(&self.container.pod, &self.container.name)
    }
}

/// The body of a container helper's release message (its [`LaunchSpec`]
/// came at the start, on its stdin, so that it prepares what it can while
/// it is held).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Go {
    /// The PID whose namespaces the container joins (the holder's).
    pub ns_pid: u32,
}

/// How long a released helper may take to set up and execute the command
/// (a user lookup, the bundle, the OCI runtime's create and start): tens of
/// milliseconds on a real machine, but ~9 s was measured for crun in the
/// VM tier (QEMU TCG) while it boots; a runtime that hangs still ends here.
pub const SETUP_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error("{container}: cannot start helper {exe}")]
    Spawn {
        container: String,
        exe: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{container}: helper pipe")]
    Pipe {
        container: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{container}: {message}")]
    Setup {
        container: String,
        fault: SetupFault,
        message: String,
    },
    #[error("{container}: the helper did not execute the command within {timeout:?}")]
    SetupTimeout {
        container: String,
        timeout: Duration,
    },
    #[error("{container}: start interrupted by a stop request")]
    Interrupted { container: String },
}

/// A helper started and waiting for `go`. Dropped without release, it is
/// killed and reaped (no zombie).
pub struct PendingContainer {
    pub name: String,
    child: Box<dyn Held>,
}

/// A released container: the helper (its relay, our child) and the
/// command's process (what `pid` means to users).
pub struct Released {
    pub child: Box<dyn Process>,
    pub command_pid: u32,
}

/// Starts `podctl __spawn` for one container; it waits for [`PendingContainer::go`].
pub fn spawn(
    procs: &dyn Spawner,
    podctl: &Path,
    name: &str,
    spec: &LaunchSpec,
) -> Result<PendingContainer, LaunchError> {
    let mut helper = Helper::new(podctl, vec!["__spawn".into()]);
    helper.stdout = Output::Report;
    helper.input = Some(serde_json::to_vec(spec).expect("a launch spec serializes"));
    let child = procs.held(helper).map_err(|source| LaunchError::Spawn {
        container: name.to_string(),
        exe: podctl.display().to_string(),
        source,
    })?;
    Ok(PendingContainer {
        name: name.to_string(),
        child,
    })
}

impl PendingContainer {
    pub fn pid(&self) -> u32 {
        self.child.pid()
    }

    /// Lets the helper proceed (it is in its scope now) and waits until the
    /// command has been executed, or returns the helper's error. Gives up
    /// after [`SETUP_TIMEOUT`], or as soon as `interrupt` is readable (a stop
    /// request); the helper is then killed and reaped. `proc`: procfs.
    pub fn release(
        mut self,
        ns_pid: u32,
        interrupt: BorrowedFd<'_>,
        proc: &Path,
    ) -> Result<Released, LaunchError> {
        self.go(ns_pid)?;
        self.wait_started(interrupt, proc)
    }

    /// The first half of [`release`](Self::release): lets the helper
    /// proceed without waiting for it, so that several containers' runtimes
    /// create and start them side by side.
    pub fn go(&mut self, ns_pid: u32) -> Result<(), LaunchError> {
        let body = serde_json::to_vec(&Go { ns_pid }).expect("a release serializes");
        self.child.go(&body).map_err(|source| LaunchError::Pipe {
            container: self.name.clone(),
            source,
        })
    }

    /// The second half of [`release`](Self::release), after [`go`](Self::go).
    pub fn wait_started(
        mut self,
        interrupt: BorrowedFd<'_>,
        proc: &Path,
    ) -> Result<Released, LaunchError> {
        let container = self.name.clone();
        let message = self
            .child
            .report(Some(interrupt), Some(SETUP_TIMEOUT))
            .map_err(|e| match e {
                ReportError::Io(source) => LaunchError::Pipe {
                    container: container.clone(),
                    source,
                },
                ReportError::Timeout => LaunchError::SetupTimeout {
                    container: container.clone(),
                    timeout: SETUP_TIMEOUT,
                },
                ReportError::Interrupted => LaunchError::Interrupted {
                    container: container.clone(),
                },
            })?;
        let mut child = self.child.into_process();
        match Report::parse(&message) {
            Report::Started { init } => {
                let command_pid = super::state::first_child(proc, init);
                Ok(Released { child, command_pid })
            }
            Report::Failed { fault, message } => {
                let _ = child.wait();
                Err(LaunchError::Setup {
                    container,
                    fault,
                    message,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A held container dropped without release (reload, failed start) is
    /// killed and reaped: no zombie.
    #[test]
    fn dropped_pending_container_is_reaped() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("podctl-launch-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // Stands in for `podctl __spawn`: reads its release pipe until it closes.
        let helper = dir.join("helper");
        std::fs::write(&helper, "#!/bin/sh\nexec cat <&$PODCTL_GO_FD >/dev/null\n").unwrap();
        std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
        let plan = crate::plan::build(
            &crate::spec::parse_str("[containers.app]\ncommand = [\"true\"]\n", "t.toml", "t")
                .unwrap(),
        );
        let spec = LaunchSpec::new(&plan, &plan.containers[0], Path::new("/bin/true"));
        assert_eq!(
            spec.unit(),
            "pod-t.app.scope",
            "the journal stream names the scope"
        );
        let p = spawn(
            &crate::supervise::process::OsProcesses,
            &helper,
            "app",
            &spec,
        )
        .unwrap();
        let pid = p.pid();
        drop(p);
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "helper {pid} left as a zombie"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
