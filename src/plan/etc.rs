//! The files a container gets from the pod's network, not its image.

use crate::model::Pod;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// A file bound read-only over one of a container's own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EtcFile {
    pub source: EtcSource,
    /// The path in the container: `/etc/hosts`, `/etc/resolv.conf`.
    pub target: String,
}

/// Where an [`EtcFile`] comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum EtcSource {
    /// The host's own file, at this path.
    Host(String),
    /// A file of the pod's network, by name, in the directory its network
    /// is set up with (`crate::oci::Dirs::net_files`): the paths are the
    /// host's, not the plan's.
    Network(String),
}

impl EtcFile {
    /// The file on the host, for a pod whose network files are in `net_files`.
    pub fn host_path(&self, net_files: &Path) -> PathBuf {
        match &self.source {
            EtcSource::Host(p) => PathBuf::from(p),
            EtcSource::Network(name) => net_files.join(name),
        }
    }
}

impl std::fmt::Display for EtcSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EtcSource::Host(p) => write!(f, "{p}"),
            EtcSource::Network(name) => write!(f, "the pod network's {name}"),
        }
    }
}

/// `/etc/hosts` and `/etc/resolv.conf` from the pod's network directory,
/// for a pod on bridge networks; the host's for an image container of a
/// host-network pod (a host-root container has them already); none
/// otherwise (an image's own files).
pub(super) fn etc_files(pod: &Pod, image: bool) -> Vec<EtcFile> {
    use crate::model::NetworkMode;
    let files = ["hosts", "resolv.conf"];
    let source: fn(&str) -> EtcSource = match pod.network.mode {
        NetworkMode::Host if image => |f| EtcSource::Host(format!("/etc/{f}")),
        NetworkMode::Bridge => |f| EtcSource::Network(f.to_string()),
        _ => return Vec::new(),
    };
    files
        .into_iter()
        .map(|f| EtcFile {
            source: source(f),
            target: format!("/etc/{f}"),
        })
        .collect()
}
