//! The pod file's network keys: `network`, `networks`, `ports`,
//! `extra_hosts`, the resolver's ([`super::dns`]); and how `network` fits
//! `share` and `host`.

use super::Diagnostics;
use super::diag::Sink;
use super::names;
use super::tree::{self, Value};
use crate::model::ports::{self, PortMapping};
use crate::model::{DEFAULT_NETWORK, Namespace, NetworkMode, PodNetwork};
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::ops::Range;
use std::path::Path;

/// The top-level keys this module reads (the tail of the pod reader's list).
#[cfg(test)]
pub(crate) const KEYS: [&str; 8] = [
    "network",
    "networks",
    "ports",
    "dns",
    "extra_hosts",
    "resolv_conf",
    "dns_search",
    "dns_options",
];

/// The mode of a pod that shares its network namespace and says nothing:
/// an address on the default network, as in Podman and Kubernetes.
pub const DEFAULT_MODE: NetworkMode = NetworkMode::Bridge;

/// The values of [`KEYS`], in that order.
pub(crate) type Keys<'a, 'i> = [Option<&'a Value<'i>>; 8];

/// Reads the network keys. `share` and `host` are the pod's lists as read
/// (sorted), `share_written` whether the file set `share` (or took the
/// default); `network = "host"` moves `net` to `host`.
pub(crate) fn read(
    sink: &mut Sink,
    keys: Keys<'_, '_>,
    share_written: bool,
    share: &mut Vec<Namespace>,
    host: &mut Vec<Namespace>,
) -> PodNetwork {
    let [
        network,
        networks,
        ports_v,
        dns,
        extra_hosts,
        resolv,
        search,
        options,
    ] = keys;
    let explicit = network.and_then(|v| mode(sink, v));
    let net_shared = share.contains(&Namespace::Net);
    let net_host = host.contains(&Namespace::Net);
    let mode = match explicit {
        Some((NetworkMode::Host, span)) => {
            if net_shared && share_written {
                sink.error(
                    span,
                    "network",
                    "network = \"host\" takes the host's network namespace, and share has \"net\"; remove one",
                );
            }
            share.retain(|n| *n != Namespace::Net);
            if !net_host {
                host.push(Namespace::Net);
                host.sort();
            }
            NetworkMode::Host
        }
        Some((m, span)) => {
            if net_host {
                sink.error(
                    span,
                    "network",
                    format!("network = \"{}\" needs the pod's own network namespace, and host has \"net\"", m.as_str()),
                );
            } else if !net_shared {
                sink.error(
                    span,
                    "network",
                    format!(
                        "network = \"{}\" needs \"net\" in share (the pod's network namespace)",
                        m.as_str()
                    ),
                );
            }
            m
        }
        None if net_host => NetworkMode::Host,
        None if !net_shared => NetworkMode::None,
        // Naming networks asks for a bridge whatever the default is.
        None if networks.is_some() => NetworkMode::Bridge,
        None => DEFAULT_MODE,
    };

    let networks = match networks {
        Some(v) => read_networks(sink, v, mode),
        None if mode == NetworkMode::Bridge => vec![DEFAULT_NETWORK.to_string()],
        None => Vec::new(),
    };
    let ports = ports_v
        .map(|v| read_ports(sink, v, mode))
        .unwrap_or_default();
    let (dns, resolver) = super::dns::read(sink, [dns, resolv, search, options], mode);
    let extra_hosts = extra_hosts
        .map(|v| read_extra_hosts(sink, v))
        .unwrap_or_default();
    PodNetwork {
        mode,
        networks,
        ports,
        dns,
        extra_hosts,
        resolver,
    }
}

fn mode(sink: &mut Sink, v: &Value<'_>) -> Option<(NetworkMode, Range<usize>)> {
    let s = tree::string(sink, v, "network")?;
    match NetworkMode::ALL.into_iter().find(|m| m.as_str() == s.text) {
        Some(m) => Some((m, s.span)),
        None => {
            sink.error(
                s.span,
                "network",
                format!("{:?} is not a network mode (allowed: bridge, none, host; named networks go in `networks`)", s.text),
            );
            None
        }
    }
}

fn read_networks(sink: &mut Sink, v: &Value<'_>, mode: NetworkMode) -> Vec<String> {
    if mode != NetworkMode::Bridge {
        sink.error(
            v.span(),
            "networks",
            format!(
                "networks are joined on a bridge; this pod has network = \"{}\"",
                mode.as_str()
            ),
        );
        return Vec::new();
    }
    let Some(list) = tree::strings(sink, v, "networks") else {
        return Vec::new();
    };
    if list.is_empty() {
        sink.error(
            v.span(),
            "networks",
            "name at least one network (the default is \"podctl\")",
        );
    }
    let mut out: Vec<String> = Vec::new();
    for s in list {
        if !names::is_dns_label(s.text) {
            sink.error(
                s.span,
                "networks",
                format!("{:?} is not a network name ({})", s.text, names::LABEL_RULE),
            );
            continue;
        }
        if out.iter().any(|o| o == s.text) {
            sink.error(s.span, "networks", format!("{:?} is listed twice", s.text));
            continue;
        }
        out.push(s.text.to_string());
    }
    out
}

/// The networks a pod file's `networks` names must be defined: `known` are
/// the defined ones' names (the default network among them), or why the
/// definitions could not be read; `dir` is where they are defined. Checked
/// after the file is read, by the caller that knows the host's networks;
/// every problem located in `src`.
pub fn check_known(
    src: &str,
    file: &str,
    known: Result<&[String], &str>,
    dir: &Path,
) -> Result<(), Diagnostics> {
    let mut sink = Sink::new(file, src);
    let (doc, _) = toml::de::DeTable::parse_recoverable(src);
    let list = doc
        .get_ref()
        .get("networks")
        .and_then(|v| tree::strings(&mut Sink::new(file, src), v, "networks"))
        .unwrap_or_default();
    for s in list.iter().filter(|s| s.text != DEFAULT_NETWORK) {
        match known {
            Ok(names) if names.iter().any(|n| n == s.text) => {}
            Ok(names) => sink.error(
                s.span.clone(),
                "networks",
                format!(
                    "unknown network {:?} (known: {}); define it in {} or with `podctl network create {} --subnet CIDR`",
                    s.text,
                    names.join(", "),
                    dir.join(format!("{}.toml", s.text)).display(),
                    s.text
                ),
            ),
            Err(e) => sink.error(
                s.span.clone(),
                "networks",
                format!("cannot check network {:?}: the network definitions have problems: {e}", s.text),
            ),
        }
    }
    match sink.has_errors() {
        true => Err(Diagnostics(sink.finish())),
        false => Ok(()),
    }
}

fn read_ports(sink: &mut Sink, v: &Value<'_>, mode: NetworkMode) -> Vec<PortMapping> {
    let Some(list) = tree::strings(sink, v, "ports") else {
        return Vec::new();
    };
    if mode != NetworkMode::Bridge && !list.is_empty() {
        let why = match mode {
            NetworkMode::Host => {
                "the pod uses the host's network: its ports are the host's already"
            }
            _ => "the pod has no network to forward them to",
        };
        sink.error(
            v.span(),
            "ports",
            format!("ports are published with network = \"bridge\"; this pod has network = \"{}\" ({why})", mode.as_str()),
        );
        return Vec::new();
    }
    let mut out: Vec<PortMapping> = Vec::new();
    for s in list {
        match ports::parse(s.text) {
            Ok(m) => {
                if let Some(other) = out.iter().find(|o| o.clashes_with(&m)) {
                    sink.error(
                        s.span,
                        "ports",
                        format!(
                            "{:?} takes a host port that {} takes already",
                            s.text, other
                        ),
                    );
                } else {
                    out.push(m);
                }
            }
            Err(e) => sink.error(s.span, "ports", e.to_string()),
        }
    }
    out
}

fn read_extra_hosts(sink: &mut Sink, v: &Value<'_>) -> BTreeMap<String, IpAddr> {
    let mut out = BTreeMap::new();
    let Some(t) = tree::table(sink, v, "extra_hosts") else {
        return out;
    };
    for (key, value) in t.iter() {
        let name = key.get_ref().as_ref();
        let path = super::diag::join("extra_hosts", name);
        if !names::is_hostname(name) {
            sink.error(
                key.span(),
                &path,
                format!("{name:?} is not a valid hostname"),
            );
            continue;
        }
        if let Some(s) = tree::string(sink, value, &path) {
            match s.text.parse::<IpAddr>() {
                Ok(ip) => {
                    out.insert(name.to_string(), ip);
                }
                Err(_) => sink.error(s.span, &path, format!("{:?} is not an IP address", s.text)),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::model::{Namespace, NetworkMode};
    use crate::spec::parse_str;

    const APP: &str = "\n[containers.app]\ncommand = [\"sleep\", \"1\"]\n";

    fn ok(head: &str) -> crate::model::Pod {
        parse_str(&format!("{head}{APP}"), "t.toml", "t").unwrap_or_else(|d| panic!("{d}"))
    }

    #[test]
    fn the_default_and_each_mode() {
        let pod = ok("");
        assert_eq!(pod.network.mode, super::DEFAULT_MODE);
        let pod = ok("network = \"bridge\"\nports = [\"8080:80\", \"127.0.0.1:5353:53/udp\"]\n");
        assert_eq!(pod.network.mode, NetworkMode::Bridge);
        assert_eq!(pod.network.networks, ["podctl"]);
        assert_eq!(pod.network.ports.len(), 2);
        // network = "host" is host = ["net"]: net leaves the default share.
        let pod = ok("network = \"host\"\n");
        assert_eq!(pod.host, [Namespace::Net]);
        assert!(!pod.share.contains(&Namespace::Net));
        assert_eq!(ok("host = [\"net\"]\n").network.mode, NetworkMode::Host);
        // net in neither list: each container's own, so none.
        assert_eq!(ok("share = [\"ipc\"]\n").network.mode, NetworkMode::None);
        assert_eq!(ok("network = \"none\"\n").network.mode, NetworkMode::None);
    }

    #[test]
    fn networks_dns_and_extra_hosts() {
        // `networks` asks for a bridge whatever the default.
        let pod = ok(
            "networks = [\"podctl\"]\ndns = [\"192.0.2.1\"]\nextra_hosts = { \"db.local\" = \"10.90.0.5\" }\n",
        );
        assert_eq!(pod.network.mode, NetworkMode::Bridge);
        assert_eq!(
            pod.network.dns,
            ["192.0.2.1".parse::<std::net::IpAddr>().unwrap()]
        );
        assert_eq!(pod.network.extra_hosts["db.local"].to_string(), "10.90.0.5");
    }

    #[test]
    fn the_pod_reader_takes_these_keys() {
        for key in super::KEYS {
            let d = parse_str(&format!("{key} = 1{APP}"), "t.toml", "t").unwrap_err();
            assert!(!d.to_string().contains("unknown key"), "{key}: {d}");
        }
    }
}
