//! How a pod reaches other pods and the host: its network mode, networks,
//! published ports and resolver.

use super::{dns, ports};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How a pod is networked (`network = ...`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NetworkMode {
    /// The pod's own network namespace with only a loopback.
    #[default]
    None,
    /// The host's network namespace (`host = ["net"]`).
    Host,
    /// The pod's own namespace, on one or more bridge networks.
    Bridge,
}

impl NetworkMode {
    pub const ALL: [NetworkMode; 3] = [NetworkMode::Bridge, NetworkMode::None, NetworkMode::Host];

    pub fn as_str(self) -> &'static str {
        match self {
            NetworkMode::None => "none",
            NetworkMode::Host => "host",
            NetworkMode::Bridge => "bridge",
        }
    }
}

/// The network a `network = "bridge"` pod joins when it names none (no
/// file defines it: [`crate::net::config`]).
pub const DEFAULT_NETWORK: &str = "podctl";

/// A pod's network settings. Invariants (checked by [`crate::spec`]): `networks`
/// is non-empty and unique exactly when `mode` is bridge; `ports` are only
/// set with bridge and do not clash with each other. That the networks are
/// defined on the host is checked where the file is read for it
/// ([`crate::apply::Definition::read`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodNetwork {
    pub mode: NetworkMode,
    /// Networks joined, in file order; the first gives the primary address.
    pub networks: Vec<String>,
    pub ports: Vec<ports::PortMapping>,
    /// DNS servers for the pod's resolv.conf (or forwarded to by aardvark-dns).
    pub dns: Vec<std::net::IpAddr>,
    /// Extra `/etc/hosts` entries, by name.
    pub extra_hosts: BTreeMap<String, std::net::IpAddr>,
    /// The rest of the pod's resolv.conf: where it starts from, search
    /// domains, options.
    #[serde(default)]
    pub resolver: dns::Resolver,
}

impl PodNetwork {
    /// Whether podctl writes the pod's resolv.conf: always on a bridge; on
    /// the host's network only when the pod says more than the host's file
    /// (which its image containers bind as it is otherwise); never without
    /// a network (an image's own file).
    pub fn writes_resolv_conf(&self) -> bool {
        match self.mode {
            NetworkMode::Bridge => true,
            NetworkMode::Host => {
                !self.dns.is_empty()
                    || !self.resolver.search.is_empty()
                    || !self.resolver.options.is_empty()
                    || self.resolver.from == dns::ResolvFrom::Pod
            }
            NetworkMode::None => false,
        }
    }
}
