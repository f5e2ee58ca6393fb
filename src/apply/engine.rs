//! What `apply` checks on the host before anything is stored, enabled or
//! started, beside the OCI runtime ([`crate::oci::preflight`]): the network
//! engine a bridge pod needs, found where the supervisor will run it.

use crate::model::{NetworkMode, Pod};
use crate::net::config::NetworkDef;
use crate::net::host::{Engine, NETAVARK_ENV};
use crate::oci::runtime::locate;

/// The Debian packages of the network engine's programs.
const NETAVARK_PACKAGE: &str = "netavark";
const AARDVARK_PACKAGE: &str = "aardvark-dns";

/// For a bridge pod: netavark, and aardvark-dns when one of its networks
/// (in `defs`) answers the pods' names; each one missing is a problem that
/// names the program and its package. `path` is the search path for a
/// program named without a directory (`PODCTL_NETAVARK=netavark`).
pub fn network_engine(pod: &Pod, host: &Engine, defs: &[NetworkDef], path: &str) -> Vec<String> {
    let net = &pod.network;
    if net.mode != NetworkMode::Bridge {
        return Vec::new();
    }
    let mut problems = Vec::new();
    let missing = |p: &std::path::Path| locate(&p.to_string_lossy(), path).is_none();
    if missing(&host.netavark) {
        problems.push(format!(
            "pod {}: the network engine {} is not installed (a bridge network needs it); \
             install it with `apt-get install {NETAVARK_PACKAGE}` (or set {NETAVARK_ENV} to where it is)",
            pod.name,
            host.netavark.display()
        ));
    }
    let dns = net
        .networks
        .iter()
        .find(|n| defs.iter().any(|d| &d.name == *n && d.dns));
    if let Some(network) = dns
        && missing(&host.aardvark)
    {
        problems.push(format!(
            "pod {}: {} is not installed (network {network} answers the pods' names with it); \
             install it with `apt-get install {AARDVARK_PACKAGE}`, or set dns = false in the network's file",
            pod.name,
            host.aardvark.display()
        ));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn pod(text: &str) -> Pod {
        crate::spec::parse_str(text, "web.toml", "web").unwrap()
    }

    const BRIDGE: &str = "network = \"bridge\"\n[containers.app]\ncommand = [\"sleep\", \"1\"]\n";

    /// A missing netavark, or aardvark-dns when a network of the pod has
    /// DNS, is named with its package; host-network pods need neither.
    #[test]
    fn a_bridge_pod_needs_the_network_engine() {
        let dir = std::env::temp_dir().join(format!("podctl-preflight-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let program = |name: &str, mode: u32| {
            let p = dir.join(name);
            std::fs::write(&p, "#!/bin/sh\n").unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
            p
        };
        let installed = Engine {
            netavark: program("netavark", 0o755),
            aardvark: program("aardvark-dns", 0o755),
            config_dir: dir.join("config"),
        };
        let with_dns = [NetworkDef::default_network()];
        let without_dns = [NetworkDef {
            dns: false,
            ..NetworkDef::default_network()
        }];
        let bridge = pod(BRIDGE);
        assert!(network_engine(&bridge, &installed, &with_dns, "").is_empty());
        // Not executable is not installed.
        let none = Engine {
            netavark: program("netavark-noexec", 0o644),
            aardvark: dir.join("absent/aardvark-dns"),
            ..installed.clone()
        };
        let problems = network_engine(&bridge, &none, &with_dns, "");
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems[0].starts_with("pod web: the network engine ")
                && problems[0].contains("netavark-noexec is not installed")
                && problems[0].contains("install it with `apt-get install netavark`"),
            "{problems:?}"
        );
        assert!(
            problems[1].contains("absent/aardvark-dns is not installed (network podctl ")
                && problems[1].contains("`apt-get install aardvark-dns`"),
            "{problems:?}"
        );
        // No DNS on the pod's network: aardvark-dns is not needed.
        assert_eq!(network_engine(&bridge, &none, &without_dns, "").len(), 1);
        // A name without a directory is looked for in the search path.
        let by_name = Engine {
            netavark: "netavark".into(),
            ..installed.clone()
        };
        assert!(network_engine(&bridge, &by_name, &with_dns, dir.to_str().unwrap()).is_empty());
        assert_eq!(
            network_engine(&bridge, &by_name, &with_dns, "/nonexistent").len(),
            1
        );
        // The host's network: nothing to run.
        let host_net = pod("network = \"host\"\n[containers.app]\ncommand = [\"sleep\", \"1\"]\n");
        assert!(network_engine(&host_net, &none, &with_dns, "").is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
