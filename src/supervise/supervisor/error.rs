//! Why a supervisor's start, run or reload ended.

use super::{holder, launch};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum SupervisorError {
    #[error(transparent)]
    Systemd(#[from] crate::systemd::Error),
    #[error(transparent)]
    Holder(#[from] holder::HolderError),
    #[error(transparent)]
    Launch(#[from] launch::LaunchError),
    #[error(transparent)]
    Network(#[from] crate::net::NetError),
    #[error("signal handling")]
    Signals(#[source] nix::Error),
    #[error("the sandbox holder exited ({0}): the pod's namespaces are gone")]
    SandboxLost(String),
    #[error("init container {name} failed ({exit}); its output: podctl logs {pod} {name}")]
    InitFailed {
        pod: String,
        name: String,
        exit: String,
    },
    #[error(
        "container {name} ended ({exit}) before {waiter} could start (it waits for it to be {condition})"
    )]
    DependencyFailed {
        name: String,
        exit: String,
        waiter: String,
        condition: &'static str,
    },
    #[error("start timed out after {timeout:?}: {waiting}")]
    StartTimeout { timeout: Duration, waiting: String },
    #[error("pod finished: {0}")]
    Finished(String),
    #[error("pod evicted: {0}")]
    Evicted(String),
    #[error("the new definition changes the pod itself (namespaces, hostname): recreating it")]
    Recreate,
    #[error("{unit}: the previous unit of this name is still there after {timeout:?}")]
    ScopeInUse { unit: String, timeout: Duration },
    #[error(
        "pod {0}: userns = \"auto\" and no range of IDs was allocated to it (podctl apply allocates one)"
    )]
    NoIdRange(String),
    #[error("stop requested")]
    StopRequested,
    #[error("{0} (retried with backoff; podctl status shows it)")]
    ReloadLaunch(String),
}
