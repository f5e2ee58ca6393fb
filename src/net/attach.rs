//! A pod's network life, in the order the supervisor goes through it:
//!
//! 1. [`PodNet::reserve`], before any unit of the pod exists: under the
//!    allocation lock, reclaim what dead owners left, refuse ports another
//!    pod publishes or a host program uses, pick addresses, record them.
//! 2. [`PodNet::attach`], once the holder made the pod's network namespace:
//!    record what the engine is given (the pod's [`Engaged`]; the allocation
//!    file is not rewritten), pin the namespace (so teardown works after the
//!    holder is gone), run the engine's setup, write the pod's `hosts` and
//!    `resolv.conf`.
//! 3. [`PodNet::detach`], when the pod stops or its sandbox is lost: the
//!    engine's teardown on the pinned namespace, unpin, release.
//!
//! A supervisor killed with -9 never reaches 3: its entry's owner is dead,
//! and the next reserve (of any pod), `podctl down` or `podctl network ls`
//! reclaims it with the options it recorded. After a reboot the kernel
//! state is gone with /run; only the entry is dropped.

use super::config::{self, NetworkDef};
use super::ipam::{Address, Allocation, Allocations, Engaged, Locked, Owner, Store};
use super::{NetError, Network, etc, netavark};
use crate::layout::Layout;
use crate::model::{NetworkMode, PodNetwork};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

/// A pod on its networks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attached {
    pub addresses: Vec<Address>,
    pub dns_servers: Vec<Ipv4Addr>,
    /// The pod's generated `/etc/hosts` and `/etc/resolv.conf`.
    pub hosts: PathBuf,
    pub resolv_conf: PathBuf,
}

/// Pod networking over a [`Network`], with its state in `store` and its
/// pins and files under `run_dir`.
pub struct PodNet<'n> {
    pub net: &'n dyn Network,
    pub store: Store,
    pub run_dir: PathBuf,
    pub networks_dir: PathBuf,
    /// The host's resolver configuration, the default for pods' resolv.conf.
    pub host_resolv: PathBuf,
}

impl<'n> PodNet<'n> {
    /// The layout's paths ([`Layout::net_state`], [`Layout::net_run`],
    /// [`Layout::networks`]).
    pub fn new(net: &'n dyn Network, paths: &Layout) -> Self {
        PodNet {
            net,
            store: Store::new(paths.net_state.clone()),
            run_dir: paths.net_run.clone(),
            networks_dir: paths.networks.clone(),
            host_resolv: "/etc/resolv.conf".into(),
        }
    }

    /// The pin of a pod's network namespace.
    pub fn pin_path(&self, pod: &str) -> PathBuf {
        self.run_dir.join(format!("{pod}.netns"))
    }

    fn lock(&self) -> Result<(Locked, Allocations), NetError> {
        let store_err = |source| NetError::Store {
            path: self.store.file(),
            source,
        };
        let l = self.store.lock().map_err(store_err)?;
        let a = l.read().map_err(store_err)?;
        Ok((l, a))
    }

    fn save(&self, l: &Locked, a: &Allocations) -> Result<(), NetError> {
        l.write(a).map_err(|source| NetError::Store {
            path: self.store.file(),
            source,
        })
    }

    /// The pod's directory of run-time files (hosts, resolv.conf, its
    /// [`Engaged`] record).
    fn pod_dir(&self, pod: &str) -> PathBuf {
        self.run_dir.join(pod)
    }

    /// What the engine was given for `pod`: its record, or what an entry
    /// written before the record had a file of its own holds.
    fn engaged(&self, pod: &str, a: &Allocation) -> Option<Engaged> {
        Engaged::read(&self.pod_dir(pod)).or_else(|| match (&a.netns, &a.engine_options) {
            (Some(netns), Some(options)) => Some(Engaged {
                netns: netns.clone(),
                options: options.clone(),
            }),
            _ => None,
        })
    }

    /// Undoes what an entry holds on the host (best effort: each step is
    /// tried; the first error is returned after all of them). After a
    /// reboot the namespace, links and rules are gone: only the pin is.
    fn release(&self, pod: &str, a: &Allocation) -> Result<(), NetError> {
        let mut first = None;
        let engaged = self.engaged(pod, a);
        let same_boot = Owner::current().is_ok_and(|me| me.boot_id == a.owner.boot_id);
        if let Some(e) = &engaged
            && same_boot
            && e.netns.exists()
            && let Err(err) = self.net.teardown(&e.netns, &e.options)
        {
            tracing::warn!("pod {pod}: network teardown: {}", crate::error_chain(&err));
            first.get_or_insert(err);
        }
        let pins = engaged.map(|e| e.netns).into_iter().chain(a.netns.clone());
        for netns in pins.collect::<std::collections::BTreeSet<_>>() {
            if let Err(e) = self.net.unpin(&netns) {
                first.get_or_insert(e);
            }
        }
        let _ = std::fs::remove_dir_all(self.pod_dir(pod));
        first.map_or(Ok(()), Err)
    }

    /// Tears down and forgets every entry whose owner is gone; returns their pods.
    pub fn reclaim_stale(&self, alive: impl Fn(&Owner) -> bool) -> Result<Vec<String>, NetError> {
        let (l, mut a) = self.lock()?;
        let stale = self.reclaim_locked(&mut a, &alive);
        if !stale.is_empty() {
            self.save(&l, &a)?;
        }
        Ok(stale)
    }

    fn reclaim_locked(&self, a: &mut Allocations, alive: &dyn Fn(&Owner) -> bool) -> Vec<String> {
        let stale = a.stale(alive);
        for pod in &stale {
            if let Some(entry) = a.pods.remove(pod) {
                tracing::info!("pod {pod}: reclaiming the network its dead supervisor left");
                let _ = self.release(pod, &entry);
            }
        }
        stale
    }

    /// Step 1. For a pod without a bridge network, only reclaims and
    /// releases what an earlier run of it left.
    pub fn reserve(
        &self,
        pod: &str,
        spec: &PodNetwork,
        owner: &Owner,
        alive: impl Fn(&Owner) -> bool,
    ) -> Result<Vec<Address>, NetError> {
        let defs = if spec.mode == NetworkMode::Bridge {
            config::load_all(&self.networks_dir).map_err(NetError::Config)?
        } else {
            Vec::new()
        };
        let (l, mut a) = self.lock()?;
        let mut changed = !self.reclaim_locked(&mut a, &alive).is_empty();
        // An entry of this pod whose owner lives is a run being replaced by
        // the same owner (a recreate): release it too.
        if let Some(old) = a.pods.remove(pod) {
            let _ = self.release(pod, &old);
            changed = true;
        }
        if spec.mode != NetworkMode::Bridge {
            if changed {
                self.save(&l, &a)?;
            }
            return Ok(Vec::new());
        }
        let addresses = match self.conflicts(&a, pod, spec, &defs, &[]) {
            Ok(x) => x,
            Err(e) => {
                if changed {
                    self.save(&l, &a)?;
                }
                return Err(e);
            }
        };
        a.pods.insert(
            pod.to_string(),
            Allocation {
                owner: owner.clone(),
                addresses: addresses.clone(),
                ports: spec.ports.clone(),
                netns: None,
                engine_options: None,
            },
        );
        self.save(&l, &a)?;
        Ok(addresses)
    }

    /// What [`PodNet::reserve`] would refuse for a bridge pod, found with
    /// nothing recorded or changed: `podctl apply` asks before it stores or
    /// enables anything. What dead owners left does not count (their ports
    /// and addresses are free; the next reserve reclaims them), but owners
    /// are asked whether they live only when their entries stand in the
    /// way: an apply at 1,000 pods reads no 1,000 processes' state. Ports
    /// the pod's own live entry publishes already are not checked against
    /// the host: they are its own.
    pub fn check(
        &self,
        pod: &str,
        spec: &PodNetwork,
        alive: impl Fn(&Owner) -> bool,
    ) -> Result<(), NetError> {
        if spec.mode != NetworkMode::Bridge {
            return Ok(());
        }
        let defs = config::load_all(&self.networks_dir).map_err(NetError::Config)?;
        let mut a = self.peek()?;
        let own = a
            .pods
            .get(pod)
            .filter(|e| !e.ports.is_empty() && alive(&e.owner))
            .map(|e| e.ports.clone())
            .unwrap_or_default();
        let first = self.conflicts(&a, pod, spec, &defs, &own);
        if first.is_ok() {
            return Ok(());
        }
        let before = a.pods.len();
        a.pods.retain(|_, e| alive(&e.owner));
        if a.pods.len() == before {
            return first.map(drop);
        }
        self.conflicts(&a, pod, spec, &defs, &own).map(drop)
    }

    /// The addresses `pod` would get, or why it cannot have them: a port
    /// another pod publishes, a network full, a host program on a port
    /// (except the ports in `own`).
    fn conflicts(
        &self,
        a: &Allocations,
        pod: &str,
        spec: &PodNetwork,
        defs: &[NetworkDef],
        own: &[crate::model::ports::PortMapping],
    ) -> Result<Vec<Address>, NetError> {
        let addresses = a
            .port_taken(pod, &spec.ports)
            .and_then(|()| a.pick(pod, &spec.networks, defs))
            .map_err(|source| NetError::Alloc {
                pod: pod.to_string(),
                source,
            })?;
        if let Some(detail) = spec
            .ports
            .iter()
            .filter(|m| !own.contains(m))
            .find_map(|m| self.net.host_port_user(m))
        {
            return Err(NetError::PortInUse {
                pod: pod.to_string(),
                detail,
            });
        }
        Ok(addresses)
    }

    /// Step 2, for a bridge pod whose holder is `holder_pid`. On failure
    /// nothing stays set up (the entry remains for [`PodNet::detach`]).
    pub fn attach(
        &self,
        pod: &str,
        hostname: &str,
        spec: &PodNetwork,
        holder_pid: u32,
    ) -> Result<Attached, NetError> {
        let defs = config::load_all(&self.networks_dir).map_err(NetError::Config)?;
        let (l, a) = self.lock()?;
        let Some(entry) = a.pods.get(pod) else {
            return Err(NetError::Store {
                path: self.store.file(),
                source: std::io::Error::other(format!("pod {pod} has no reserved addresses")),
            });
        };
        let pin = self.pin_path(pod);
        let options = netavark::options(
            pod,
            hostname,
            &entry.addresses,
            &defs,
            &spec.ports,
            &spec.dns,
        );
        let dir = self.pod_dir(pod);
        // Recorded before the engine runs: a crash from here on is reclaimed
        // with exactly these options. The allocation file stays as reserve
        // wrote it.
        let engaged = Engaged {
            netns: pin.clone(),
            options,
        };
        engaged.write(&dir).map_err(|source| NetError::Store {
            path: dir.join(Engaged::FILE),
            source,
        })?;
        let addresses = entry.addresses.clone();
        self.net.pin(holder_pid, &pin)?;
        let status = self.net.setup(&pin, &engaged.options)?;
        drop(l);
        let ips: Vec<Ipv4Addr> = addresses.iter().map(|a| a.ip).collect();
        let hosts = etc::hosts(&etc::HostsInput {
            hostname,
            addresses: &ips,
            extra_hosts: &spec.extra_hosts,
        });
        let resolv = self.resolv_conf(spec, &status.dns_servers, true);
        Ok(Attached {
            hosts: write(&dir, "hosts", &hosts)?,
            resolv_conf: write(&dir, "resolv.conf", &resolv)?,
            addresses,
            dns_servers: status.dns_servers,
        })
    }

    /// The resolv.conf of a pod with the host's network that says more than
    /// the host's file ([`PodNetwork::writes_resolv_conf`]), written where a
    /// bridge pod's is; None for any other pod.
    pub fn write_host_resolv_conf(
        &self,
        pod: &str,
        spec: &PodNetwork,
    ) -> Result<Option<PathBuf>, NetError> {
        if spec.mode != NetworkMode::Host || !spec.writes_resolv_conf() {
            return Ok(None);
        }
        let text = self.resolv_conf(spec, &[], false);
        write(&self.run_dir.join(pod), "resolv.conf", &text).map(Some)
    }

    /// The pod's resolv.conf text, from the host's file as it is now.
    fn resolv_conf(&self, spec: &PodNetwork, network_dns: &[Ipv4Addr], own_netns: bool) -> String {
        let host = std::fs::read_to_string(&self.host_resolv).unwrap_or_default();
        etc::resolv_conf(&etc::ResolvInput {
            host: &host,
            network_dns,
            own_netns,
            dns: &spec.dns,
            resolver: &spec.resolver,
        })
    }

    /// Step 3: tears down and forgets the pod's entry, if it has one.
    pub fn detach(&self, pod: &str) -> Result<(), NetError> {
        let (l, mut a) = self.lock()?;
        let Some(entry) = a.pods.remove(pod) else {
            return Ok(());
        };
        let result = self.release(pod, &entry);
        self.save(&l, &a)?;
        result
    }

    /// The current entries (no lock: for display).
    pub fn peek(&self) -> Result<Allocations, NetError> {
        self.store.peek().map_err(|source| NetError::Store {
            path: self.store.file(),
            source,
        })
    }

    /// The networks (default and files).
    pub fn networks(&self) -> Result<Vec<NetworkDef>, NetError> {
        config::load_all(&self.networks_dir).map_err(NetError::Config)
    }
}

/// Writes one of a pod's network files into its directory `dir`.
fn write(dir: &Path, name: &str, text: &str) -> Result<PathBuf, NetError> {
    let path = dir.join(name);
    std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::write(&path, text))
        .map_err(|source| NetError::Store {
            path: path.clone(),
            source,
        })?;
    Ok(path)
}

#[cfg(test)]
mod tests;
