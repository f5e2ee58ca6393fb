//! Address and port bookkeeping: one JSON file,
//! `allocations.json` in [`crate::layout::Layout::net_state`]
//! (`/var/lib/podctl/networks`), changed only under an
//! exclusive `flock` on `lock` beside it and replaced atomically. Each entry
//! names the process that owns it (boot ID, PID and start time), so an entry
//! whose owner is gone (a supervisor killed with -9, a reboot) is known stale.
//! Deciding is pure (the functions over [`Allocations`]); the file is a
//! [`crate::statefile`], [`Store`].
//!
//! The file holds what every reservation must see (owners, addresses,
//! ports), compact: every pod start reads and writes it whole, so it stays
//! small per pod. What only the pod's own teardown needs (the pinned
//! namespace, the engine's options: [`Engaged`]) is a file of the pod's own
//! beside its run-time files, written under the same lock.

use super::config::NetworkDef;
use crate::model::ports::PortMapping;
use crate::statefile::{self, State, StateFile};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

/// The process an allocation belongs to (a pod's supervisor).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    /// `/proc/sys/kernel/random/boot_id` when it was made.
    pub boot_id: String,
    pub pid: u32,
    /// Field 22 of `/proc/PID/stat` (clock ticks since boot): a reused PID differs.
    pub start_time: u64,
}

impl Owner {
    /// The calling process.
    pub fn current() -> std::io::Result<Owner> {
        let pid = std::process::id();
        Ok(Owner {
            boot_id: boot_id()?,
            pid,
            start_time: start_time(pid)?,
        })
    }

    /// Whether the owner still runs (same boot, same process).
    pub fn alive(&self) -> bool {
        Liveness::now().alive(self)
    }
}

/// Tells live owners from dead ones, the boot ID read once: a scan of every
/// entry costs one read of `/proc/PID/stat` per entry of this boot.
#[derive(Debug, Clone)]
pub struct Liveness {
    boot_id: Option<String>,
}

impl Liveness {
    pub fn now() -> Liveness {
        Liveness {
            boot_id: boot_id().ok(),
        }
    }

    /// Whether `owner` still runs (this boot, the same process).
    pub fn alive(&self, owner: &Owner) -> bool {
        self.boot_id.as_deref() == Some(owner.boot_id.as_str())
            && start_time(owner.pid).is_ok_and(|t| t == owner.start_time)
    }
}

fn boot_id() -> std::io::Result<String> {
    Ok(std::fs::read_to_string("/proc/sys/kernel/random/boot_id")?
        .trim()
        .to_string())
}

fn start_time(pid: u32) -> std::io::Result<u64> {
    // One read into a buffer of its own (a stat line is a few hundred
    // bytes): this runs once per entry of every scan.
    let mut buf = [0u8; 1024];
    let mut f = std::fs::File::open(format!("/proc/{pid}/stat"))?;
    let mut len = 0;
    while len < buf.len() {
        match f.read(&mut buf[len..])? {
            0 => break,
            n => len += n,
        }
    }
    let stat = String::from_utf8_lossy(&buf[..len]);
    // The command name (field 2) may hold spaces and parentheses: count
    // fields after its closing parenthesis.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    rest.split_whitespace()
        .nth(19)
        .and_then(|f| f.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("/proc/{pid}/stat: no start time")))
}

/// A pod's address on one network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub network: String,
    pub ip: Ipv4Addr,
    /// Its interface in the pod (`eth0`, `eth1`, ...).
    pub interface: String,
}

/// What one pod holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocation {
    pub owner: Owner,
    pub addresses: Vec<Address>,
    pub ports: Vec<PortMapping>,
    /// An entry written before [`Engaged`] had a file of its own held it
    /// here (a pod that has run since an upgrade): kept as it was read, and
    /// used for that pod's teardown. New entries leave both out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub netns: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine_options: Option<serde_json::Value>,
}

/// A pod the engine was called on: its pinned network namespace and what
/// the engine's setup was given (teardown gets the same document). One
/// file per pod, [`Engaged::FILE`] in the pod's run-time directory (on
/// /run: gone at reboot with what it describes), written under the
/// allocation lock before the engine runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Engaged {
    pub netns: PathBuf,
    pub options: serde_json::Value,
}

impl Engaged {
    pub const FILE: &'static str = "engine.json";

    /// The record in the pod's directory `dir`, if there is one that reads.
    pub fn read(dir: &Path) -> Option<Engaged> {
        let bytes = std::fs::read(dir.join(Self::FILE)).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// Writes it into `dir` (created), replacing any: a temporary file
    /// renamed over it, so a reader finds the old record or the new one.
    pub fn write(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let tmp = dir.join(format!("{}.tmp", Self::FILE));
        std::fs::write(
            &tmp,
            serde_json::to_vec(self).map_err(std::io::Error::other)?,
        )?;
        std::fs::rename(&tmp, dir.join(Self::FILE))
    }
}

/// Every allocation, by pod name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocations {
    pub pods: BTreeMap<String, Allocation>,
}

/// Why an allocation cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AllocError {
    #[error("network {0} is not defined")]
    UnknownNetwork(String),
    #[error("network {network} ({subnet}) has no free address left")]
    Exhausted { network: String, subnet: String },
    #[error("port {port} is already published by pod {pod}")]
    PortTaken { port: String, pod: String },
}

impl Allocations {
    /// Pods whose owner is gone, by `alive`.
    pub fn stale(&self, alive: impl Fn(&Owner) -> bool) -> Vec<String> {
        self.pods
            .iter()
            .filter(|(_, a)| !alive(&a.owner))
            .map(|(p, _)| p.clone())
            .collect()
    }

    /// The first of `ports` another pod publishes already, and that pod.
    pub fn port_taken(&self, pod: &str, ports: &[PortMapping]) -> Result<(), AllocError> {
        for (other, a) in self.pods.iter().filter(|(p, _)| p.as_str() != pod) {
            for mine in ports {
                if a.ports.iter().any(|theirs| theirs.clashes_with(mine)) {
                    return Err(AllocError::PortTaken {
                        port: mine.to_string(),
                        pod: other.clone(),
                    });
                }
            }
        }
        Ok(())
    }

    /// The lowest free address on each of `networks` (in order: `eth0`,
    /// `eth1`, ...); an address `pod` holds already is kept.
    pub fn pick(
        &self,
        pod: &str,
        networks: &[String],
        defs: &[NetworkDef],
    ) -> Result<Vec<Address>, AllocError> {
        let mut out = Vec::with_capacity(networks.len());
        for (i, name) in networks.iter().enumerate() {
            let def = defs
                .iter()
                .find(|d| &d.name == name)
                .ok_or_else(|| AllocError::UnknownNetwork(name.clone()))?;
            let used: BTreeSet<Ipv4Addr> = self
                .pods
                .iter()
                .filter(|(p, _)| p.as_str() != pod)
                .flat_map(|(_, a)| a.addresses.iter())
                .filter(|a| &a.network == name)
                .map(|a| a.ip)
                .collect();
            let mine = self
                .pods
                .get(pod)
                .and_then(|a| a.addresses.iter().find(|a| &a.network == name))
                .map(|a| a.ip)
                .filter(|ip| def.subnet.contains(*ip) && *ip != def.gateway);
            let ip = match mine {
                Some(ip) => ip,
                None => def
                    .pod_addresses()
                    .find(|ip| !used.contains(ip))
                    .ok_or_else(|| AllocError::Exhausted {
                        network: name.clone(),
                        subnet: def.subnet.to_string(),
                    })?,
            };
            out.push(Address {
                network: name.clone(),
                ip,
                interface: format!("eth{i}"),
            });
        }
        Ok(out)
    }

    /// Pods with an address on `network`.
    pub fn users_of(&self, network: &str) -> Vec<String> {
        self.pods
            .iter()
            .filter(|(_, a)| a.addresses.iter().any(|x| x.network == network))
            .map(|(p, _)| p.clone())
            .collect()
    }
}

/// The allocation file and its lock.
pub type Store = StateFile<Allocations>;

/// Holds the allocation lock; the file is read and written through it.
pub type Locked = statefile::Locked<Allocations>;

impl State for Allocations {
    const FILE: &'static str = "allocations.json";
    // Read and written whole at every pod start and stop.
    const COMPACT: bool = true;
}

#[cfg(test)]
mod tests;
