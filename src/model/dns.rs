//! What a pod's `/etc/resolv.conf` is made of: `resolv_conf`, `dns_search`
//! and `dns_options` of the pod file (with `dns`, in [`super::PodNetwork`]).

use serde::{Deserialize, Serialize};

/// Where a pod's resolver settings start from (`resolv_conf = ...`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResolvFrom {
    /// The pod network's DNS server (aardvark-dns on a DNS network), else
    /// `dns`, else the host's nameservers; the host's search and options.
    #[default]
    Network,
    /// The host's nameservers, search and options, then the pod's own.
    Host,
    /// Only the pod's `dns`, `dns_search` and `dns_options`.
    Pod,
}

impl ResolvFrom {
    pub const ALL: [ResolvFrom; 3] = [ResolvFrom::Network, ResolvFrom::Host, ResolvFrom::Pod];

    pub fn as_str(self) -> &'static str {
        match self {
            ResolvFrom::Network => "network",
            ResolvFrom::Host => "host",
            ResolvFrom::Pod => "pod",
        }
    }
}

/// The pod's resolver settings besides its nameservers (`dns`).
/// Invariants (checked by [`crate::spec`]): search domains are hostnames,
/// options `NAME` or `NAME:VALUE` without blanks; `from = Pod` has at least
/// one nameserver.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resolver {
    pub from: ResolvFrom,
    /// Search domains after the base's, in file order, each once.
    pub search: Vec<String>,
    /// resolv.conf options (`ndots:2`, `edns0`); one replaces the base's
    /// option of the same name.
    pub options: Vec<String>,
}

impl Resolver {
    /// Nothing beyond the default: the host's or the network's file as it is.
    pub fn is_default(&self) -> bool {
        *self == Resolver::default()
    }
}

/// The name of a resolv.conf option: `ndots` of `ndots:2`.
pub fn option_name(option: &str) -> &str {
    option.split_once(':').map_or(option, |(n, _)| n)
}
