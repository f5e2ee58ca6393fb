//! `podctl network ls|inspect|create|rm`: the networks pods join
//! (`NAME.toml` in the layout's networks directory, `/etc/podctl/networks`,
//! and the built-in `podctl`), and which
//! pods use them (the allocation file, after reclaiming what dead
//! supervisors left).

use super::args::NetworkCommand;
use super::output::{self, Format};
use crate::layout::Layout;
use crate::net::attach::PodNet;
use crate::net::config::{self, DEFAULT_NETWORK, NetworkDef};
use crate::net::host::Engine;
use crate::net::ipam::{Allocations, Liveness};
use crate::net::netavark;
use anyhow::{Context, bail};
use serde::Serialize;
use std::net::Ipv4Addr;
use std::path::Path;

pub fn run(paths: &Layout, cmd: NetworkCommand) -> anyhow::Result<()> {
    let dir = &paths.networks;
    match cmd {
        NetworkCommand::Ls { output } => ls(paths, output.format()),
        NetworkCommand::Inspect { name, output } => inspect(paths, &name, output.format()),
        NetworkCommand::Create {
            name,
            subnet,
            gateway,
            bridge,
            internal,
            no_dns,
        } => {
            super::check_owner("network create")?;
            create(dir, &name, &subnet, gateway, bridge, internal, !no_dns)
        }
        NetworkCommand::Rm { name } => {
            super::check_owner("network rm")?;
            let allocs = allocations(paths)?;
            rm(dir, &name, &paths.store, &allocs)
        }
    }
}

/// The allocations, stale ones reclaimed first when we may (root).
fn allocations(paths: &Layout) -> anyhow::Result<Allocations> {
    let host = Engine::default();
    let pn = PodNet::new(&host, paths);
    if nix::unistd::geteuid().is_root() {
        let live = Liveness::now();
        pn.reclaim_stale(|o| live.alive(o))?;
        Ok(pn.peek()?)
    } else {
        Ok(pn.peek().unwrap_or_default())
    }
}

#[derive(Serialize)]
struct PodOnNetwork {
    pod: String,
    ip: Ipv4Addr,
    interface: String,
    ports: Vec<String>,
}

#[derive(Serialize)]
struct NetworkView<'a> {
    #[serde(flatten)]
    def: &'a NetworkDef,
    /// netavark's ID for it (names its firewall chains).
    id: String,
    pods: Vec<PodOnNetwork>,
}

fn view<'a>(def: &'a NetworkDef, allocs: &Allocations) -> NetworkView<'a> {
    let pods = allocs
        .pods
        .iter()
        .filter_map(|(pod, a)| {
            let addr = a.addresses.iter().find(|x| x.network == def.name)?;
            Some(PodOnNetwork {
                pod: pod.clone(),
                ip: addr.ip,
                interface: addr.interface.clone(),
                ports: a.ports.iter().map(|p| p.to_string()).collect(),
            })
        })
        .collect();
    NetworkView {
        def,
        id: netavark::id("network", &def.name),
        pods,
    }
}

fn ls(paths: &Layout, format: Format) -> anyhow::Result<()> {
    let defs = config::load_all(&paths.networks)?;
    let allocs = allocations(paths)?;
    let views: Vec<NetworkView<'_>> = defs.iter().map(|d| view(d, &allocs)).collect();
    if output::print(format, &views)? {
        return Ok(());
    }
    println!(
        "{:<16} {:<18} {:<15} {:<15} {:<8} {:<4} PODS",
        "NAME", "SUBNET", "GATEWAY", "BRIDGE", "INTERNAL", "DNS"
    );
    for v in &views {
        let pods: Vec<&str> = v.pods.iter().map(|p| p.pod.as_str()).collect();
        println!(
            "{:<16} {:<18} {:<15} {:<15} {:<8} {:<4} {}",
            v.def.name,
            v.def.subnet.to_string(),
            v.def.gateway.to_string(),
            v.def.bridge,
            if v.def.internal { "yes" } else { "no" },
            if v.def.dns { "yes" } else { "no" },
            if pods.is_empty() {
                "-".to_string()
            } else {
                pods.join(",")
            }
        );
    }
    Ok(())
}

fn find<'a>(defs: &'a [NetworkDef], name: &str, dir: &Path) -> anyhow::Result<&'a NetworkDef> {
    defs.iter().find(|d| d.name == name).with_context(|| {
        let known: Vec<&str> = defs.iter().map(|d| d.name.as_str()).collect();
        format!(
            "no network {name:?} (known: {}; define one in {})",
            known.join(", "),
            dir.display()
        )
    })
}

fn inspect(paths: &Layout, name: &str, format: Format) -> anyhow::Result<()> {
    let defs = config::load_all(&paths.networks)?;
    let def = find(&defs, name, &paths.networks)?;
    let allocs = allocations(paths)?;
    let v = view(def, &allocs);
    if output::print(format, &v)? {
        return Ok(());
    }
    let file = def
        .file
        .as_ref()
        .map_or("(built in)".to_string(), |f| f.display().to_string());
    println!("network {name}  {file}");
    println!(
        "  subnet {}  gateway {}  bridge {}",
        def.subnet, def.gateway, def.bridge
    );
    println!(
        "  internal: {}  dns: {}",
        if def.internal {
            "yes (no outside access)"
        } else {
            "no"
        },
        if def.dns {
            "yes (aardvark-dns on the gateway)"
        } else {
            "no"
        }
    );
    println!("  engine: netavark, network id {}", v.id);
    if v.pods.is_empty() {
        println!("  pods: none");
    }
    for p in &v.pods {
        let ports = if p.ports.is_empty() {
            "-".to_string()
        } else {
            p.ports.join(", ")
        };
        println!(
            "  pod {:<16} {} ({})  ports: {ports}",
            p.pod, p.ip, p.interface
        );
    }
    println!(
        "  rules: iptables-save | grep -e NETAVARK -e {}",
        &v.id[..12]
    );
    println!("  links: ip -o link show master {}", def.bridge);
    Ok(())
}

fn create(
    dir: &Path,
    name: &str,
    subnet: &str,
    gateway: Option<Ipv4Addr>,
    bridge: Option<String>,
    internal: bool,
    dns: bool,
) -> anyhow::Result<()> {
    let path = config::file_for(dir, name);
    if name == DEFAULT_NETWORK || path.exists() {
        bail!(
            "network {name} exists already ({})",
            if name == DEFAULT_NETWORK {
                "built in".to_string()
            } else {
                path.display().to_string()
            }
        );
    }
    let mut text = format!("subnet = {subnet:?}\n");
    if let Some(g) = gateway {
        text.push_str(&format!("gateway = \"{g}\"\n"));
    }
    if let Some(b) = bridge {
        text.push_str(&format!("bridge = {b:?}\n"));
    }
    text.push_str(&format!("internal = {internal}\ndns = {dns}\n"));
    // Checked alone, then with every other network (overlaps, bridges),
    // before the file is in place.
    config::parse_str(&text, &path.display().to_string(), name)?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let tmp = dir.join(format!(".{name}.toml.new"));
    std::fs::write(&tmp, &text).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, &path).with_context(|| format!("cannot write {}", path.display()))?;
    if let Err(e) = config::load_all(dir) {
        let _ = std::fs::remove_file(&path);
        bail!("{e}");
    }
    println!("network {name}: created ({})", path.display());
    Ok(())
}

fn rm(dir: &Path, name: &str, store: &Path, allocs: &Allocations) -> anyhow::Result<()> {
    if name == DEFAULT_NETWORK {
        bail!("network {name} is built in; it cannot be removed");
    }
    let path = config::file_for(dir, name);
    if !path.exists() {
        bail!("no network {name:?} ({} does not exist)", path.display());
    }
    let users = allocs.users_of(name);
    if !users.is_empty() {
        bail!(
            "network {name} is in use by pod(s) {}; stop them first (podctl down NAME)",
            users.join(", ")
        );
    }
    let naming: Vec<String> = stored_pods_naming(store, name);
    if !naming.is_empty() {
        bail!(
            "network {name} is named by the stored pod(s) {}; change or remove them first",
            naming.join(", ")
        );
    }
    std::fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))?;
    println!("network {name}: removed");
    Ok(())
}

/// Stored pod definitions whose `networks` name `network`.
fn stored_pods_naming(store: &Path, network: &str) -> Vec<String> {
    let Ok(rd) = std::fs::read_dir(store) else {
        return Vec::new();
    };
    let mut out: Vec<String> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .filter_map(|p| {
            let pod = crate::spec::load(&p).ok()?;
            pod.network
                .networks
                .iter()
                .any(|n| n == network)
                .then_some(pod.name)
        })
        .collect();
    out.sort();
    out
}

#[cfg(test)]
mod tests;
