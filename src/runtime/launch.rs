//! Supervisor side of starting a container: run `podctl __spawn`, held on its
//! stdin until the container's scope exists, then release it.
//!
//! Protocol on the helper's stdin: one JSON line ([`LaunchSpec`]) at once,
//! then `go NSPID\n` once the helper is in its scope. The helper's stdout is a
//! status pipe: every process of the container closes it on exec, so EOF with
//! nothing written means the command is running; otherwise it carries the error.

use crate::plan::{ContainerPlan, NsKind, ProcessPlan};
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

/// Everything the helper needs, sent as one JSON line.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LaunchSpec {
    /// The sandbox's namespaces to join, in setns order.
    pub joins: Vec<NsKind>,
    /// Namespaces of its own, created once in its scope.
    pub creates: Vec<NsKind>,
    pub process: ProcessPlan,
    /// The `podctl-pause` binary, used as the relay/init processes.
    pub pause: PathBuf,
    /// Bound over the container's files once it has its own mount namespace.
    #[serde(default)]
    pub etc_files: Vec<(String, String)>,
}

impl LaunchSpec {
    pub fn new(plan: &ContainerPlan, pause: &Path) -> Self {
        LaunchSpec {
            joins: plan.joins.clone(),
            creates: plan.creates.clone(),
            process: plan.process.clone(),
            pause: pause.to_path_buf(),
            etc_files: plan.etc_files.clone(),
        }
    }
}

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
    Setup { container: String, message: String },
}

/// A helper started and waiting for `go`.
pub struct PendingContainer {
    pub name: String,
    pub child: Child,
    control: ChildStdin,
    status: ChildStdout,
}

/// Starts `podctl __spawn` for one container; it waits for [`PendingContainer::release`].
pub fn spawn(
    podctl: &Path,
    name: &str,
    spec: &LaunchSpec,
) -> Result<PendingContainer, LaunchError> {
    let mut child = Command::new(podctl)
        .arg("__spawn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|source| LaunchError::Spawn {
            container: name.to_string(),
            exe: podctl.display().to_string(),
            source,
        })?;
    let mut control = child.stdin.take().expect("stdin is piped");
    let status = child.stdout.take().expect("stdout is piped");
    let pipe = |source| LaunchError::Pipe {
        container: name.to_string(),
        source,
    };
    let mut line = serde_json::to_vec(spec).expect("LaunchSpec serializes");
    line.push(b'\n');
    control.write_all(&line).map_err(pipe)?;
    Ok(PendingContainer {
        name: name.to_string(),
        child,
        control,
        status,
    })
}

impl PendingContainer {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Lets the helper proceed (it is in its scope now) and waits until the
    /// command has been executed, or returns the helper's error.
    pub fn release(mut self, ns_pid: u32) -> Result<Child, LaunchError> {
        let pipe = |source| LaunchError::Pipe {
            container: self.name.clone(),
            source,
        };
        writeln!(self.control, "go {ns_pid}").map_err(pipe)?;
        drop(self.control);
        let mut message = String::new();
        self.status
            .read_to_string(&mut message)
            .map_err(|source| LaunchError::Pipe {
                container: self.name.clone(),
                source,
            })?;
        if message.trim().is_empty() {
            Ok(self.child)
        } else {
            let _ = self.child.wait();
            Err(LaunchError::Setup {
                container: self.name,
                message: message.trim().to_string(),
            })
        }
    }
}
