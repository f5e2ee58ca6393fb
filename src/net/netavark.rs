//! The engine: netavark (Podman 4's network engine), run as
//! `netavark --config DIR --aardvark-binary BIN setup|teardown NETNS` with
//! the network-options JSON on stdin; `setup` prints a status JSON. The
//! options document is built here with no I/O ([`options`]); running the
//! program is [`Netavark`]'s, behind [`super::Network`].

use super::config::NetworkDef;
use super::ipam::Address;
use crate::model::ports::PortMapping;
use serde_json::{Value, json};
use std::net::{IpAddr, Ipv4Addr};

/// Debian's paths (package `netavark`, `aardvark-dns`).
pub const NETAVARK: &str = "/usr/lib/podman/netavark";
pub const AARDVARK: &str = "/usr/lib/podman/aardvark-dns";
/// netavark's state (aardvark-dns's configuration); on /run, gone at reboot
/// with everything it describes.
pub const CONFIG_DIR: &str = "/run/podctl/netavark";

/// A stable 64-hex-digit ID from a name (netavark wants Podman-style IDs;
/// it names firewall chains and comments after them).
pub fn id(kind: &str, name: &str) -> String {
    // FNV-1a, four differently seeded rounds: stable across versions and
    // builds, unlike std's hasher.
    (0..4u8)
        .map(|round| {
            let mut h: u64 = 0xcbf29ce484222325;
            for b in [round]
                .iter()
                .chain(kind.as_bytes())
                .chain(b":")
                .chain(name.as_bytes())
            {
                h ^= u64::from(*b);
                h = h.wrapping_mul(0x100000001b3);
            }
            format!("{h:016x}")
        })
        .collect()
}

/// The network-options document for a pod: its addresses (podctl's IPAM),
/// the networks' definitions, its published ports and DNS servers.
pub fn options(
    pod: &str,
    hostname: &str,
    addresses: &[Address],
    defs: &[NetworkDef],
    ports: &[PortMapping],
    dns: &[IpAddr],
) -> Value {
    let mut networks = serde_json::Map::new();
    let mut info = serde_json::Map::new();
    for a in addresses {
        let Some(def) = defs.iter().find(|d| d.name == a.network) else {
            continue;
        };
        // aardvark-dns answers the container name (the pod's) already.
        let aliases: Vec<&str> = if hostname != pod {
            vec![hostname]
        } else {
            vec![]
        };
        networks.insert(
            a.network.clone(),
            json!({
                "interface_name": a.interface,
                "static_ips": [a.ip.to_string()],
                "aliases": aliases,
            }),
        );
        info.insert(
            a.network.clone(),
            json!({
                "name": def.name,
                "id": id("network", &def.name),
                "driver": "bridge",
                "network_interface": def.bridge,
                "subnets": [{"subnet": def.subnet.to_string(), "gateway": def.gateway.to_string()}],
                "ipv6_enabled": false,
                "internal": def.internal,
                "dns_enabled": def.dns,
            }),
        );
    }
    let port_mappings: Vec<Value> = ports
        .iter()
        .map(|p| {
            json!({
                "host_ip": p.host_ip.map(|ip| ip.to_string()).unwrap_or_default(),
                "host_port": p.host_port,
                "container_port": p.container_port,
                "protocol": p.protocol.as_str(),
                "range": p.range,
            })
        })
        .collect();
    let mut doc = json!({
        "container_id": id("pod", pod),
        "container_name": pod,
        "networks": networks,
        "network_info": info,
        "port_mappings": port_mappings,
    });
    if !dns.is_empty() {
        doc["dns_servers"] = json!(dns.iter().map(|d| d.to_string()).collect::<Vec<_>>());
    }
    doc
}

/// What setup reports that podctl uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Status {
    /// The pod's addresses as configured, by network.
    pub addresses: Vec<(String, Ipv4Addr)>,
    /// DNS servers the pod should use (aardvark-dns on the gateways).
    pub dns_servers: Vec<Ipv4Addr>,
}

/// Reads setup's status JSON (`{NETWORK: {"dns_server_ips", "interfaces":
/// {IF: {"subnets": [{"ipnet": "10.87.0.2/16"}]}}}}`).
pub fn parse_status(text: &str) -> Result<Status, String> {
    let v: Value =
        serde_json::from_str(text).map_err(|e| format!("status is not JSON: {e}: {text:?}"))?;
    let map = v
        .as_object()
        .ok_or_else(|| format!("status is not an object: {text:?}"))?;
    let mut st = Status::default();
    for (network, block) in map {
        for ip in block["dns_server_ips"].as_array().into_iter().flatten() {
            if let Some(Ok(ip)) = ip.as_str().map(str::parse::<Ipv4Addr>)
                && !st.dns_servers.contains(&ip)
            {
                st.dns_servers.push(ip);
            }
        }
        for iface in block["interfaces"]
            .as_object()
            .into_iter()
            .flat_map(|m| m.values())
        {
            for sub in iface["subnets"].as_array().into_iter().flatten() {
                let ip = sub["ipnet"]
                    .as_str()
                    .and_then(|s| s.split('/').next())
                    .and_then(|s| s.parse::<Ipv4Addr>().ok());
                if let Some(ip) = ip {
                    st.addresses.push((network.clone(), ip));
                }
            }
        }
    }
    st.addresses.sort();
    Ok(st)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ports::parse;

    #[test]
    fn ids_are_stable_and_distinct() {
        assert_eq!(id("pod", "web").len(), 64);
        assert_eq!(id("pod", "web"), id("pod", "web"));
        assert_ne!(id("pod", "web"), id("pod", "api"));
        assert_ne!(id("pod", "web"), id("network", "web"));
        assert!(id("pod", "web").bytes().all(|b| b.is_ascii_hexdigit()));
    }

    #[test]
    fn options_document() {
        let defs = [NetworkDef::default_network()];
        let addrs = [Address {
            network: "podctl".into(),
            ip: Ipv4Addr::new(10, 87, 0, 2),
            interface: "eth0".into(),
        }];
        let doc = options(
            "web",
            "www",
            &addrs,
            &defs,
            &[parse("127.0.0.1:5353:53/udp").unwrap()],
            &[],
        );
        assert_eq!(doc["container_name"], "web");
        assert_eq!(
            doc["networks"]["podctl"]["static_ips"],
            json!(["10.87.0.2"])
        );
        assert_eq!(doc["networks"]["podctl"]["aliases"], json!(["www"]));
        let info = &doc["network_info"]["podctl"];
        assert_eq!(info["network_interface"], "podctl0");
        assert_eq!(info["subnets"][0]["subnet"], "10.87.0.0/16");
        assert_eq!(info["dns_enabled"], true);
        let pm = &doc["port_mappings"][0];
        assert_eq!(
            (
                pm["host_ip"].as_str(),
                pm["host_port"].as_u64(),
                pm["container_port"].as_u64(),
                pm["protocol"].as_str(),
                pm["range"].as_u64()
            ),
            (
                Some("127.0.0.1"),
                Some(5353),
                Some(53),
                Some("udp"),
                Some(1)
            )
        );
        assert!(doc.get("dns_servers").is_none());
    }

    #[test]
    fn status_document() {
        let text = r#"{"podctl":{"dns_search_domains":["dns.podman"],"dns_server_ips":["10.87.0.1"],
            "interfaces":{"eth0":{"mac_address":"aa:bb","subnets":[{"ipnet":"10.87.0.2/16","gateway":"10.87.0.1"}]}}}}"#;
        let st = parse_status(text).unwrap();
        assert_eq!(
            st.addresses,
            vec![("podctl".to_string(), Ipv4Addr::new(10, 87, 0, 2))]
        );
        assert_eq!(st.dns_servers, vec![Ipv4Addr::new(10, 87, 0, 1)]);
        assert!(parse_status("nope").is_err());
    }
}
