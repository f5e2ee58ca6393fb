//! Pod networks: bridge networks with addresses, published ports and names,
//! driven through netavark (Podman 4's network engine) and aardvark-dns.
//! podctl writes no netlink, iptables or nftables code of its own.
//!
//! - [`config`]: network definitions (`/etc/podctl/networks/NAME.toml`, the
//!   built-in `podctl`), checked with file:line:col diagnostics;
//! - [`addr`]: subnets (pure; port specs are [`crate::model::ports`]);
//! - [`ipam`]: the allocation file, its lock and staleness (decisions pure);
//! - [`netavark`]: the engine's options and status documents (pure);
//! - [`etc`]: `/etc/hosts` and `/etc/resolv.conf` text (pure);
//! - [`attach`]: a pod's network life (reserve, attach, detach, reclaim),
//!   over the [`Network`] trait: [`host::Engine`] on a real host,
//!   [`fake::Fake`] in tests.

pub mod addr;
pub mod attach;
pub mod config;
pub mod etc;
pub mod fake;
pub mod host;
pub mod ipam;
pub mod netavark;
pub mod pasta;
pub mod session;
pub mod status;

use std::path::{Path, PathBuf};

/// The host side effects of pod networking.
pub trait Network {
    /// Keeps the network namespace of `holder_pid` alive at `pin` (a bind
    /// mount), so it can be torn down after the holder is gone.
    fn pin(&self, holder_pid: u32, pin: &Path) -> Result<(), NetError>;
    /// Releases a pin (and removes the file); nothing pinned is fine.
    fn unpin(&self, pin: &Path) -> Result<(), NetError>;
    /// Connects the namespace at `netns` as the options say.
    fn setup(
        &self,
        netns: &Path,
        options: &serde_json::Value,
    ) -> Result<netavark::Status, NetError>;
    /// Undoes [`Network::setup`] with the same options.
    fn teardown(&self, netns: &Path, options: &serde_json::Value) -> Result<(), NetError>;
    /// Who uses the host port(s) of `m` (a host listener), if anyone.
    fn host_port_user(&self, m: &crate::model::ports::PortMapping) -> Option<String>;
}

#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error("network definitions: {0}")]
    Config(crate::spec::Diagnostics),
    #[error("pod {pod}: {source}")]
    Alloc {
        pod: String,
        #[source]
        source: ipam::AllocError,
    },
    #[error("pod {pod}: port {detail}")]
    PortInUse { pod: String, detail: String },
    /// A user's pod (rootless) on pasta.
    #[error("pod {pod}: {why}")]
    Rootless { pod: String, why: String },
    #[error("{path}: {source}")]
    Store {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot pin the network namespace at {path}")]
    Pin {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{command}: {detail}")]
    Engine { command: String, detail: String },
}

impl NetError {
    /// Whether the pod cannot start as defined until something else changes
    /// (a port taken, a network full or broken): retrying will not help.
    pub fn is_conflict(&self) -> bool {
        matches!(
            self,
            NetError::Alloc { .. } | NetError::PortInUse { .. } | NetError::Config(_)
        )
    }
}
