//! The validated pod model: what a pod file means, with every default filled in.
//!
//! Values of these types are only made by [`crate::spec`], which checks them;
//! the rest of podctl can rely on the invariants written on each field.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

pub mod caps;
mod confine;
pub mod defaults;
pub mod digest;
pub mod dns;
mod groups;
mod hooks;
mod network;
pub mod ports;
pub mod reference;
mod secrets;
mod updates;
mod userns;
pub use confine::*;
pub use groups::*;
pub use hooks::*;
pub use network::*;
pub use secrets::*;
pub use updates::*;
pub use userns::*;

/// A namespace type a pod can share through its sandbox or take from the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Namespace {
    Net,
    Ipc,
    Uts,
    Pid,
}

impl Namespace {
    pub const ALL: [Namespace; 4] = [
        Namespace::Net,
        Namespace::Ipc,
        Namespace::Uts,
        Namespace::Pid,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Namespace::Net => "net",
            Namespace::Ipc => "ipc",
            Namespace::Uts => "uts",
            Namespace::Pid => "pid",
        }
    }

    pub fn parse(s: &str) -> Option<Namespace> {
        Namespace::ALL.into_iter().find(|n| n.as_str() == s)
    }
}

impl fmt::Display for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Resource limits, on the pod's slice or on one container's scope.
/// `None` means "no limit set here".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resources {
    /// MemoryMax in bytes.
    pub memory: Option<u64>,
    /// CPU quota in percent of one CPU (50 = half a core, 200 = two cores).
    pub cpu_percent: Option<u64>,
    /// TasksMax.
    pub tasks: Option<u64>,
    /// CPUWeight (1-10000, the kernel's default 100): the share of CPU
    /// time under contention, not a limit (Kubernetes' cpu request).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_weight: Option<u64>,
    /// MemoryLow in bytes: memory reclaimed from this cgroup only when
    /// nothing unprotected is left (Kubernetes' memory request).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_low: Option<u64>,
}

/// The highest CPUWeight (cgroup v2's `cpu.weight`).
pub const MAX_CPU_WEIGHT: u64 = 10_000;

impl Resources {
    pub fn is_empty(&self) -> bool {
        self.memory.is_none()
            && self.cpu_percent.is_none()
            && self.tasks.is_none()
            && self.cpu_weight.is_none()
            && self.memory_low.is_none()
    }
}

/// When a container's process is started again after it ends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Restart {
    #[default]
    Always,
    OnFailure,
    Never,
}

impl Restart {
    pub fn as_str(self) -> &'static str {
        match self {
            Restart::Always => "always",
            Restart::OnFailure => "on-failure",
            Restart::Never => "never",
        }
    }
}

/// Who a container runs as, as written; names are resolved on the host when
/// the container starts (the pod file may be validated elsewhere).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum User {
    /// A user name, looked up in the host's user database.
    Name(String),
    /// A numeric uid, with an optional gid (default: same as uid's primary group or uid).
    Id { uid: u32, gid: Option<u32> },
}

impl fmt::Display for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            User::Name(n) => f.write_str(n),
            User::Id { uid, gid: None } => write!(f, "{uid}"),
            User::Id { uid, gid: Some(g) } => write!(f, "{uid}:{g}"),
        }
    }
}

/// What a container waits for in another before it starts (`after`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Condition {
    /// The other container's command has been executed (and its
    /// `post_start` hook, if any, passed).
    Started,
    /// Its readiness probe passed (or, without a probe, it started).
    Ready,
    /// It exited with status 0 (one-shot jobs).
    Completed,
}

impl Condition {
    pub const ALL: [Condition; 3] = [Condition::Started, Condition::Ready, Condition::Completed];

    pub fn as_str(self) -> &'static str {
        match self {
            Condition::Started => "started",
            Condition::Ready => "ready",
            Condition::Completed => "completed",
        }
    }
}

/// How a probe checks a container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Check {
    /// Run this command in the container's namespaces; exit 0 passes.
    Exec(Vec<String>),
    /// Connect to 127.0.0.1:PORT in the pod's network namespace.
    Tcp(u16),
    /// GET this http:// URL in the pod's network namespace; 2xx/3xx passes.
    Http(String),
    /// The container sends READY=1 with sd_notify to its own NOTIFY_SOCKET
    /// (`ready = "notify"`); readiness only.
    Notify,
}

/// A readiness or liveness probe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Probe {
    pub check: Check,
    pub interval_ms: u64,
    pub timeout_ms: u64,
    /// Consecutive failures before a liveness probe restarts the container.
    pub retries: u32,
    /// From the container's start to the probe's first attempt
    /// (Kubernetes' `initialDelaySeconds`); 0: at once.
    #[serde(default)]
    pub delay_ms: u64,
    /// Request headers of an http check, by name (Kubernetes'
    /// `httpHeaders`); checked by [`crate::spec`]: tokens for names, no
    /// control characters in values.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
}

/// Default stop timeout before SIGKILL.
pub const DEFAULT_STOP_TIMEOUT_MS: u64 = 10_000;

/// One container of a pod.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Container {
    /// A lowercase DNS label, unique in the pod.
    pub name: String,
    /// The image whose root filesystem the container runs on, as written
    /// (a valid [`crate::image::ImageRef`]: `nginx:alpine`,
    /// `registry:5000/app@sha256:...`, `oci:/abs/path:tag`,
    /// `oci-archive:/abs/file.tar`); `None`: the host's root, read-only.
    pub image: Option<String>,
    /// argv[0..]: replaces the image's Entrypoint (Kubernetes' `command`).
    /// Never empty when set; always set without an image. argv[0] is
    /// absolute or looked up in PATH.
    pub command: Option<Vec<String>>,
    /// Arguments: replace the image's Cmd (Kubernetes' `args`); follow
    /// `command` when both are set. May be empty (no Cmd).
    pub args: Option<Vec<String>>,
    /// Extra environment, sorted by name (over the image's Env).
    pub env: BTreeMap<String, String>,
    /// Absolute working directory; `None`: the image's WorkingDir, else "/".
    pub workdir: Option<String>,
    /// `None`: the image's User, else root.
    pub user: Option<User>,
    pub restart: Restart,
    pub resources: Resources,
    /// Runs to completion, in file order, before any regular container starts.
    pub init: bool,
    /// Containers (by name) and what this one waits for in each.
    pub after: Vec<(String, Condition)>,
    pub ready: Option<Probe>,
    pub live: Option<Probe>,
    /// What runs right after its command starts and before its stop signal.
    #[serde(default, skip_serializing_if = "Hooks::is_empty")]
    pub hooks: Hooks,
    /// Signal number sent first on stop; `None`: the image's StopSignal,
    /// else SIGTERM.
    pub stop_signal: Option<i32>,
    pub stop_timeout_ms: u64,
    /// The OCI runtime; `None` takes the pod's.
    pub runtime: Option<Runtime>,
    /// What the container may do (capabilities, seccomp, ...), as written.
    pub security: Security,
    /// Mounts, in file order; targets are unique within the container.
    pub volumes: Vec<Volume>,
    /// Secrets it gets as files and environment variables.
    #[serde(default)]
    pub secrets: Secrets,
    /// When its image is pulled, and whether `podctl auto-update` moves it.
    #[serde(default)]
    pub updates: ImageUpdates,
    /// Its stdin, stdout and stderr are a terminal (Kubernetes' `tty`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tty: bool,
    /// Its stdin stays open (Kubernetes' `stdin`): a pipe nothing writes
    /// to, so a read waits instead of ending at once as on /dev/null.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stdin: bool,
}

impl Container {
    /// The argv as the pod file gives it (`command` then `args`), for a
    /// container without an image; with one, what the image's Entrypoint
    /// and Cmd do not replace is only known from its config
    /// ([`crate::image::rootfs::effective_command`]).
    pub fn written_argv(&self) -> Vec<String> {
        let c = self.command.iter().flatten();
        c.chain(self.args.iter().flatten()).cloned().collect()
    }

    /// The working directory when neither the pod file nor an image sets one.
    pub fn workdir_or_root(&self) -> &str {
        self.workdir.as_deref().unwrap_or("/")
    }

    /// The stop signal when neither the pod file nor an image sets one.
    pub fn stop_signal_or_term(&self) -> i32 {
        self.stop_signal.unwrap_or(DEFAULT_STOP_SIGNAL)
    }
}

/// SIGTERM: what a container is sent first on stop unless told otherwise.
pub const DEFAULT_STOP_SIGNAL: i32 = 15;

/// Default size of a pod's /dev/shm (as Docker's and Podman's).
pub const DEFAULT_SHM_SIZE: u64 = 64 << 20;

/// Default `start_timeout`: init containers, conditions and probes within
/// 80 s (pod@.service's own 90 s cover what comes before).
pub const DEFAULT_START_TIMEOUT_MS: u64 = 80_000;
/// The longest `start_timeout`: an hour (systemd's EXTEND_TIMEOUT_USEC, in
/// which the supervisor asks for it, holds at most ~71 minutes).
pub const MAX_START_TIMEOUT_MS: u64 = 3_600_000;

/// A validated pod.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pod {
    /// A lowercase DNS label.
    pub name: String,
    pub hostname: String,
    /// Namespaces created by the sandbox and joined by every container,
    /// sorted, never overlapping `host`.
    pub share: Vec<Namespace>,
    /// Namespaces taken from the host (neither created nor joined), sorted.
    pub host: Vec<Namespace>,
    pub resources: Resources,
    /// Start the pod at boot (`pod@NAME.service` enabled).
    pub autostart: bool,
    /// In file order, which is start order. Never empty.
    pub containers: Vec<Container>,
    /// How the pod reaches other pods and the host (`network`, `ports`, ...).
    pub network: PodNetwork,
    /// The OCI runtime of containers that name none.
    pub runtime: Runtime,
    /// Bytes of the pod's own /dev/shm.
    pub shm_size: u64,
    /// Scratch volumes, sorted by name.
    pub volumes: Vec<ScratchVolume>,
    /// How long the start may take once the sandbox and its network are up:
    /// init containers, `after` conditions, readiness probes.
    pub start_timeout_ms: u64,
    /// Whose IDs the pod's processes and files have on the host.
    pub userns: UserNs,
    /// Pods this one starts after (once they are ready) and stops with:
    /// valid pod names, in file order, each once, never this pod's own.
    pub needs: Vec<String>,
    /// Pods this one starts after, without stopping with them; never in
    /// `needs`, otherwise as `needs`.
    pub wants: Vec<String>,
    /// How updates are gated and how many revisions are kept.
    #[serde(default)]
    pub updates: PodUpdates,
    /// The groups of its containers' processes and of its volumes.
    #[serde(default, skip_serializing_if = "PodGroups::is_empty")]
    pub groups: PodGroups,
}

impl Pod {
    pub fn shares(&self, ns: Namespace) -> bool {
        self.share.contains(&ns)
    }

    pub fn container(&self, name: &str) -> Option<&Container> {
        self.containers.iter().find(|c| c.name == name)
    }
}
