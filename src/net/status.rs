//! A pod's addresses and published ports as `podctl status` and `inspect`
//! show them: read from the allocation file (no lock: a snapshot).

use super::ipam::{Allocations, Store};
use serde::Serialize;
use std::net::Ipv4Addr;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Address {
    pub network: String,
    pub ip: Ipv4Addr,
    pub interface: String,
}

/// Empty for a pod without a bridge network (or not running).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NetworkStatus {
    pub addresses: Vec<Address>,
    /// As `HOST:CONTAINER/PROTO`, with the host address when one is set.
    pub ports: Vec<String>,
}

impl NetworkStatus {
    /// One line for people: `10.87.0.2 (podctl, eth0); ports 8080:80/tcp`.
    pub fn human(&self) -> String {
        if self.addresses.is_empty() {
            return "no address (network none or host, or not running)".into();
        }
        let addrs: Vec<String> = self
            .addresses
            .iter()
            .map(|a| format!("{} ({}, {})", a.ip, a.network, a.interface))
            .collect();
        let ports = if self.ports.is_empty() {
            "none".to_string()
        } else {
            self.ports.join(", ")
        };
        format!("{}; ports {ports}", addrs.join(", "))
    }
}

/// The pod's entry in `allocs`.
pub fn from(allocs: &Allocations, pod: &str) -> NetworkStatus {
    let Some(a) = allocs.pods.get(pod) else {
        return NetworkStatus::default();
    };
    NetworkStatus {
        addresses: a
            .addresses
            .iter()
            .map(|x| Address {
                network: x.network.clone(),
                ip: x.ip,
                interface: x.interface.clone(),
            })
            .collect(),
        ports: a.ports.iter().map(|p| p.to_string()).collect(),
    }
}

/// The pod's entry in the allocation file of `paths`.
pub fn of(paths: &crate::layout::Layout, pod: &str) -> NetworkStatus {
    from(
        &Store::new(paths.net_state.clone())
            .peek()
            .unwrap_or_default(),
        pod,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::ipam::{self, Allocation, Owner};

    #[test]
    fn a_pods_entry_as_status_shows_it() {
        let mut allocs = Allocations::default();
        allocs.pods.insert(
            "web".into(),
            Allocation {
                owner: Owner {
                    boot_id: "b".into(),
                    pid: 1,
                    start_time: 1,
                },
                addresses: vec![ipam::Address {
                    network: "podctl".into(),
                    ip: Ipv4Addr::new(10, 87, 0, 2),
                    interface: "eth0".into(),
                }],
                ports: vec![crate::model::ports::parse("8080:80").unwrap()],
                netns: None,
                engine_options: None,
            },
        );
        let st = from(&allocs, "web");
        assert_eq!(
            serde_json::to_value(&st).unwrap(),
            serde_json::json!({"addresses": [{"network": "podctl", "ip": "10.87.0.2", "interface": "eth0"}], "ports": ["8080:80/tcp"]})
        );
        assert_eq!(st.human(), "10.87.0.2 (podctl, eth0); ports 8080:80/tcp");
        assert_eq!(from(&allocs, "db"), NetworkStatus::default());
    }
}
