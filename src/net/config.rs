//! Network definitions: the default network `podctl` (no file) and
//! `NAME.toml` in [`crate::layout::Layout::networks`]
//! (`/etc/podctl/networks`), read and checked with the pod file's
//! diagnostics (`file:line:col: key: message`).
//!
//! ```toml
//! subnet = "10.90.0.0/24"   # required, IPv4, at most /30
//! gateway = "10.90.0.1"     # default: the subnet's first address
//! bridge = "pc-backend"     # default: pc-NAME (at most 15 characters)
//! internal = false          # true: no route out of the network, no NAT
//! dns = true                # pods resolve each other's names (aardvark-dns)
//! ```

use super::addr::Subnet;
use crate::spec::diag::Sink;
use crate::spec::tree::{self, fields};
use crate::spec::{Diagnostic, Diagnostics, names};
use serde::Serialize;
use std::net::Ipv4Addr;
use std::ops::Range;
use std::path::{Path, PathBuf};

pub use crate::model::DEFAULT_NETWORK;

/// Its subnet: clear of Podman's default (10.88.0.0/16) and of the pools
/// Podman (10.89.0.0/16 and up) and Docker (172.17-31.0.0/16,
/// 192.168.0.0/16) create networks from; Kubernetes' usual service and pod
/// ranges are 10.96.0.0/12 and 10.244.0.0/16.
pub const DEFAULT_SUBNET: &str = "10.87.0.0/16";
pub const DEFAULT_BRIDGE: &str = "podctl0";
/// Longest Linux interface name (IFNAMSIZ - 1).
const IFNAME_MAX: usize = 15;

const KEYS: [&str; 5] = ["subnet", "gateway", "bridge", "internal", "dns"];

/// A network pods can join.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NetworkDef {
    /// A DNS label; the file name without `.toml`.
    pub name: String,
    pub subnet: Subnet,
    /// Inside `subnet`; never handed to a pod.
    pub gateway: Ipv4Addr,
    /// The host's bridge interface.
    pub bridge: String,
    /// No outside access: no default route, no masquerade.
    pub internal: bool,
    /// aardvark-dns answers pod names on the gateway.
    pub dns: bool,
    /// The file it comes from; `None` for the built-in default.
    pub file: Option<PathBuf>,
}

impl NetworkDef {
    /// The built-in `podctl` network.
    pub fn default_network() -> NetworkDef {
        let subnet: Subnet = DEFAULT_SUBNET.parse().expect("a valid constant");
        NetworkDef {
            name: DEFAULT_NETWORK.into(),
            gateway: subnet.first_host(),
            subnet,
            bridge: DEFAULT_BRIDGE.into(),
            internal: false,
            dns: true,
            file: None,
        }
    }

    /// The addresses pods may get: the subnet's hosts but the gateway.
    pub fn pod_addresses(&self) -> impl Iterator<Item = Ipv4Addr> + '_ {
        self.subnet.hosts().filter(|ip| *ip != self.gateway)
    }

    /// The file text that defines this network (what `network create` writes).
    pub fn to_toml(&self) -> String {
        format!(
            "subnet = \"{}\"\ngateway = \"{}\"\nbridge = \"{}\"\ninternal = {}\ndns = {}\n",
            self.subnet, self.gateway, self.bridge, self.internal, self.dns
        )
    }
}

/// Where the spans of one file's values are, for checks across files.
struct Located {
    def: NetworkDef,
    label: String,
    src: String,
    subnet_span: Range<usize>,
    bridge_span: Range<usize>,
}

/// Reads one network file's text. `name` is the file stem.
fn parse_one(
    sink: &mut Sink,
    src: &str,
    name: &str,
) -> Option<(NetworkDef, Range<usize>, Range<usize>)> {
    if !names::is_dns_label(name) {
        sink.error(
            0..0,
            "",
            format!(
                "{name:?} is not a valid network name ({})",
                names::LABEL_RULE
            ),
        );
    }
    let (doc, errors) = toml::de::DeTable::parse_recoverable(src);
    if let Some(e) = errors.first() {
        sink.error(
            e.span().unwrap_or(0..0),
            "",
            format!("invalid TOML: {}", e.message().trim().replace('\n', " ")),
        );
        return None;
    }
    let [subnet, gateway, bridge, internal, dns] = fields(sink, doc.get_ref(), "", KEYS);
    let Some(subnet_v) = subnet else {
        sink.error(
            0..0,
            "subnet",
            "a network needs a subnet, e.g. subnet = \"10.90.0.0/24\"",
        );
        return None;
    };
    let subnet_span = subnet_v.span();
    let subnet =
        tree::string(sink, subnet_v, "subnet").and_then(|s| match s.text.parse::<Subnet>() {
            Ok(n) => Some(n),
            Err(e) => {
                sink.error(s.span, "subnet", e.to_string());
                None
            }
        });
    let gateway = gateway.and_then(|v| {
        let s = tree::string(sink, v, "gateway")?;
        match s.text.parse::<Ipv4Addr>() {
            Ok(ip) => Some((ip, s.span)),
            Err(_) => {
                sink.error(
                    s.span,
                    "gateway",
                    format!("{:?} is not an IPv4 address", s.text),
                );
                None
            }
        }
    });
    let default_bridge = format!("pc-{name}");
    let (bridge, bridge_span) = match bridge.and_then(|v| tree::string(sink, v, "bridge")) {
        Some(s) => {
            if !is_ifname(s.text) {
                sink.error(
                    s.span.clone(),
                    "bridge",
                    format!(
                        "{:?} is not an interface name (1-15 letters, digits, '-', '_' or '.')",
                        s.text
                    ),
                );
            }
            (s.text.to_string(), s.span)
        }
        None => {
            if !is_ifname(&default_bridge) {
                sink.error(
                    0..0,
                    "bridge",
                    format!("the default bridge name {default_bridge:?} is longer than 15 characters; set `bridge`"),
                );
            }
            (default_bridge, 0..0)
        }
    };
    let internal = internal
        .and_then(|v| tree::boolean(sink, v, "internal"))
        .unwrap_or(false);
    let dns = dns
        .and_then(|v| tree::boolean(sink, v, "dns"))
        .unwrap_or(true);
    let subnet = subnet?;
    let gateway = match gateway {
        Some((ip, span)) => {
            if !subnet.contains(ip) || ip == subnet.addr() || ip == subnet.broadcast() {
                sink.error(
                    span,
                    "gateway",
                    format!("{ip} is not a host address of {subnet}"),
                );
            }
            ip
        }
        None => subnet.first_host(),
    };
    let def = NetworkDef {
        name: name.to_string(),
        subnet,
        gateway,
        bridge,
        internal,
        dns,
        file: None,
    };
    Some((def, subnet_span, bridge_span))
}

fn is_ifname(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= IFNAME_MAX
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

/// Parses one network file's text (for `network create` and tests); checks
/// against other networks are [`check_all`]'s.
pub fn parse_str(src: &str, file: &str, name: &str) -> Result<NetworkDef, Diagnostics> {
    let mut sink = Sink::new(file, src);
    let def = parse_one(&mut sink, src, name);
    match def {
        Some((d, _, _)) if !sink.has_errors() => Ok(d),
        _ => Err(Diagnostics(sink.finish())),
    }
}

/// Every network: the default (unless a `podctl.toml` replaces it) and each
/// file of `dir`, sorted by name; or every problem in them, subnets that
/// overlap and bridges used twice included.
pub fn load_all(dir: &Path) -> Result<Vec<NetworkDef>, Diagnostics> {
    let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => {
            return Err(Diagnostics(vec![whole_file(
                dir,
                format!("cannot read: {e}"),
            )]));
        }
    };
    files.sort();
    let mut problems = Vec::new();
    let mut located = Vec::new();
    for path in files {
        let label = path.display().to_string();
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("")
            .to_string();
        let src = match std::fs::read_to_string(&path) {
            Ok(s) => s,
            Err(e) => {
                problems.push(whole_file(&path, format!("cannot read: {e}")));
                continue;
            }
        };
        let mut sink = Sink::new(&label, &src);
        let parsed = parse_one(&mut sink, &src, &name);
        if sink.has_errors() {
            problems.extend(sink.finish());
            continue;
        }
        if let Some((mut def, subnet_span, bridge_span)) = parsed {
            def.file = Some(path.clone());
            located.push(Located {
                def,
                label,
                src,
                subnet_span,
                bridge_span,
            });
        }
    }
    if !located.iter().any(|l| l.def.name == DEFAULT_NETWORK) {
        located.insert(
            0,
            Located {
                def: NetworkDef::default_network(),
                label: format!("{DEFAULT_NETWORK} (built in)"),
                src: String::new(),
                subnet_span: 0..0,
                bridge_span: 0..0,
            },
        );
    }
    problems.extend(check_all(&located));
    if !problems.is_empty() {
        return Err(Diagnostics(problems));
    }
    let mut defs: Vec<NetworkDef> = located.into_iter().map(|l| l.def).collect();
    defs.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(defs)
}

/// Subnets that overlap and bridges named twice, reported at the later file.
fn check_all(nets: &[Located]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for (i, n) in nets.iter().enumerate() {
        let mut sink = Sink::new(&n.label, &n.src);
        for earlier in &nets[..i] {
            if n.def.subnet.overlaps(&earlier.def.subnet) {
                sink.error(
                    n.subnet_span.clone(),
                    "subnet",
                    format!(
                        "{} overlaps network {} ({}); networks' subnets must not overlap",
                        n.def.subnet, earlier.def.name, earlier.def.subnet
                    ),
                );
            }
            if n.def.bridge == earlier.def.bridge {
                sink.error(
                    n.bridge_span.clone(),
                    "bridge",
                    format!(
                        "bridge {:?} is network {}'s already",
                        n.def.bridge, earlier.def.name
                    ),
                );
            }
        }
        out.extend(sink.finish());
    }
    out
}

fn whole_file(path: &Path, message: String) -> Diagnostic {
    Diagnostic {
        file: path.display().to_string(),
        line: 0,
        column: 0,
        key: String::new(),
        message,
    }
}

/// Where a network's file goes.
pub fn file_for(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.toml"))
}

#[cfg(test)]
mod tests;
