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
/// for a pod on bridge networks. On the host's network, an image container
/// binds the host's (a host-root container has them already), and every
/// container the pod's own resolv.conf when it says more than the host's
/// ([`crate::model::PodNetwork::writes_resolv_conf`]). None otherwise (an
/// image's own files).
pub(super) fn etc_files(pod: &Pod, image: bool) -> Vec<EtcFile> {
    use crate::model::NetworkMode;
    let file = |name: &str, source: EtcSource| EtcFile {
        source,
        target: format!("/etc/{name}"),
    };
    let network = |name: &str| file(name, EtcSource::Network(name.to_string()));
    let host = |name: &str| file(name, EtcSource::Host(format!("/etc/{name}")));
    match pod.network.mode {
        NetworkMode::Bridge => vec![network("hosts"), network("resolv.conf")],
        NetworkMode::Host => {
            let own = pod.network.writes_resolv_conf();
            [
                image.then(|| host("hosts")),
                match (own, image) {
                    (true, _) => Some(network("resolv.conf")),
                    (false, true) => Some(host("resolv.conf")),
                    (false, false) => None,
                },
            ]
            .into_iter()
            .flatten()
            .collect()
        }
        NetworkMode::None => Vec::new(),
    }
}
