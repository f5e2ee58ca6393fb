//! Address and port bookkeeping: one JSON file,
//! `allocations.json` in [`crate::layout::Layout::net_state`]
//! (`/var/lib/podctl/networks`), changed only under an
//! exclusive `flock` on `lock` beside it and replaced atomically. Each entry
//! names the process that owns it (boot ID, PID and start time), so an entry
//! whose owner is gone (a supervisor killed with -9, a reboot) is known stale.
//! Deciding is pure (the functions over [`Allocations`]); the file is a
//! [`crate::statefile`], [`Store`].

use super::config::NetworkDef;
use crate::model::ports::PortMapping;
use crate::statefile::{self, State, StateFile};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::PathBuf;

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
        boot_id().is_ok_and(|b| b == self.boot_id)
            && start_time(self.pid).is_ok_and(|t| t == self.start_time)
    }
}

fn boot_id() -> std::io::Result<String> {
    Ok(std::fs::read_to_string("/proc/sys/kernel/random/boot_id")?
        .trim()
        .to_string())
}

fn start_time(pid: u32) -> std::io::Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
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
    /// The pinned network namespace, once the engine was called on it.
    pub netns: Option<PathBuf>,
    /// What the engine's setup was given; teardown gets the same document.
    pub engine_options: Option<serde_json::Value>,
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
            let used: Vec<Ipv4Addr> = self
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ports::parse;

    fn owner(pid: u32) -> Owner {
        Owner {
            boot_id: "b".into(),
            pid,
            start_time: 1,
        }
    }

    fn alloc(ip: [u8; 4], ports: &[&str]) -> Allocation {
        Allocation {
            owner: owner(u32::from(ip[3])),
            addresses: vec![Address {
                network: "podctl".into(),
                ip: Ipv4Addr::from(ip),
                interface: "eth0".into(),
            }],
            ports: ports.iter().map(|p| parse(p).unwrap()).collect(),
            netns: None,
            engine_options: None,
        }
    }

    #[test]
    fn lowest_free_address_and_own_kept() {
        let defs = [NetworkDef::default_network()];
        let mut a = Allocations::default();
        let nets = ["podctl".to_string()];
        assert_eq!(
            a.pick("x", &nets, &defs).unwrap()[0].ip,
            Ipv4Addr::new(10, 87, 0, 2)
        );
        a.pods.insert("a".into(), alloc([10, 87, 0, 2], &[]));
        a.pods.insert("c".into(), alloc([10, 87, 0, 4], &[]));
        assert_eq!(
            a.pick("x", &nets, &defs).unwrap()[0].ip,
            Ipv4Addr::new(10, 87, 0, 3)
        );
        assert_eq!(
            a.pick("c", &nets, &defs).unwrap()[0].ip,
            Ipv4Addr::new(10, 87, 0, 4)
        );
        assert!(matches!(
            a.pick("x", &["nope".to_string()], &defs),
            Err(AllocError::UnknownNetwork(_))
        ));
    }

    #[test]
    fn a_small_network_runs_out() {
        let mut def = NetworkDef::default_network();
        def.subnet = "10.87.0.0/30".parse().unwrap();
        let mut a = Allocations::default();
        a.pods.insert("a".into(), alloc([10, 87, 0, 2], &[]));
        let e = a.pick("x", &["podctl".into()], &[def]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "network podctl (10.87.0.0/30) has no free address left"
        );
    }

    #[test]
    fn ports_of_other_pods_are_taken() {
        let mut a = Allocations::default();
        a.pods
            .insert("web".into(), alloc([10, 87, 0, 2], &["8080:80"]));
        let mine = [parse("8080:8080").unwrap()];
        assert_eq!(
            a.port_taken("api", &mine).unwrap_err().to_string(),
            "port 8080:8080/tcp is already published by pod web"
        );
        assert!(a.port_taken("web", &mine).is_ok());
        assert!(
            a.port_taken("api", &[parse("8080:80/udp").unwrap()])
                .is_ok()
        );
    }

    #[test]
    fn stale_entries_are_those_whose_owner_is_gone() {
        let mut a = Allocations::default();
        a.pods.insert("live".into(), alloc([10, 87, 0, 2], &[]));
        a.pods.insert("dead".into(), alloc([10, 87, 0, 3], &[]));
        assert_eq!(a.stale(|o| o.pid == 2), vec!["dead".to_string()]);
        // The real check: this process is alive, a made-up one is not.
        let me = Owner::current().unwrap();
        assert!(me.alive());
        assert!(
            !Owner {
                start_time: me.start_time + 1,
                ..me.clone()
            }
            .alive()
        );
        assert!(
            !Owner {
                boot_id: "other".into(),
                ..me
            }
            .alive()
        );
    }

    #[test]
    fn store_round_trip_under_lock() {
        let dir = std::env::temp_dir().join(format!("podctl-ipam-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = Store::new(&dir);
        assert_eq!(store.peek().unwrap(), Allocations::default());
        let mut a = Allocations::default();
        a.pods
            .insert("web".into(), alloc([10, 87, 0, 2], &["8080:80"]));
        {
            let l = store.lock().unwrap();
            l.write(&a).unwrap();
            assert_eq!(l.read().unwrap(), a);
        }
        assert_eq!(store.peek().unwrap(), a);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
