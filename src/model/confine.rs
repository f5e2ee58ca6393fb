//! What the OCI runtime is told of a container: which runtime, the
//! security keys as written, and its volumes.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// The OCI runtime that starts a container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Runtime {
    /// `crun`, found in PATH (Debian package `crun`); the default.
    Crun,
    /// `runc`, found in PATH (Debian package `runc`).
    Runc,
    /// Any OCI-CLI-compatible runtime at this absolute path.
    Path(String),
}

impl Runtime {
    /// The program to run: a name looked up in PATH, or an absolute path.
    pub fn program(&self) -> &str {
        match self {
            Runtime::Crun => "crun",
            Runtime::Runc => "runc",
            Runtime::Path(p) => p,
        }
    }

    /// The Debian package that ships it, for "how to install" messages.
    pub fn package(&self) -> Option<&'static str> {
        match self {
            Runtime::Crun => Some("crun"),
            Runtime::Runc => Some("runc"),
            Runtime::Path(_) => None,
        }
    }
}

impl fmt::Display for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.program())
    }
}

/// The seccomp filter of a container.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Seccomp {
    /// podctl's profile (`src/oci/seccomp.toml`).
    #[default]
    Default,
    /// No filter.
    Unconfined,
    /// An OCI `linux.seccomp` JSON document at this absolute path, read at apply.
    Profile(String),
}

/// Security keys of a container, as written (the plan works out the
/// resulting capability sets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Security {
    /// All capabilities, no seccomp filter, no masked paths, host devices.
    pub privileged: bool,
    /// Capabilities added to the default set: canonical `CAP_*` names, or
    /// `ALL`; sorted, unique.
    pub cap_add: Vec<String>,
    /// Capabilities taken from it, likewise.
    pub cap_drop: Vec<String>,
    /// No writable path but volumes (not even a private /tmp).
    pub read_only: bool,
    /// The `no_new_privs` bit: setuid binaries and file capabilities grant nothing.
    pub no_new_privileges: bool,
    pub seccomp: Seccomp,
    /// Namespaced sysctls, each matching a namespace the container does not
    /// take from the host.
    pub sysctls: BTreeMap<String, String>,
}

impl Default for Security {
    fn default() -> Self {
        Security {
            privileged: false,
            cap_add: Vec::new(),
            cap_drop: Vec::new(),
            read_only: false,
            no_new_privileges: true,
            seccomp: Seccomp::Default,
            sysctls: BTreeMap::new(),
        }
    }
}

/// Where a volume's content comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VolumeSource {
    /// A host path, absolute, without `..`; it must exist at apply.
    Bind(String),
    /// A named volume, kept across down and reboot under
    /// `/var/lib/podctl/volumes/NAME`.
    Named(String),
    /// One of the pod's scratch volumes (`[volumes]`), gone after down.
    Scratch(String),
    /// A tmpfs of its own (bytes; `None`: the kernel's default, half of RAM).
    Tmpfs(Option<u64>),
}

/// One mount of a container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Volume {
    pub source: VolumeSource,
    /// Absolute, without `.` or `..` components, not `/`.
    pub target: String,
    pub read_only: bool,
}

/// A scratch volume of the pod (Kubernetes' emptyDir): made empty at apply,
/// shared by the containers that mount it, removed on down.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScratchVolume {
    /// A DNS label, unique in the pod.
    pub name: String,
    /// With a size, a tmpfs of that many bytes; without, a directory on disk.
    pub size: Option<u64>,
    /// On disk only: the most bytes its files may take; past it the pod
    /// is evicted (stopped, and not restarted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
}
