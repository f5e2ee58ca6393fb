//! A user's pod on a network (rootless): pasta (package passt) connects the
//! pod's network namespace to the host's with no privilege, as Podman's
//! rootless default. It copies the host's addresses and routes into the
//! namespace (`--config-net`), forwards the pod's published ports from the
//! host into it (`-t`, `-u`), answers DNS at [`DNS_ADDR`] from the host's
//! resolver (`--dns-forward`), and nothing else: the host's loopback is not
//! reachable from the pod (`--no-map-gw`, `-T none`, `-U none`).
//!
//! Names between a user's pods are not resolved (no aardvark-dns), and
//! `network create` networks are root's.
//!
//! [`args`] is the command line, pure; [`Pasta`] runs it on the holder's
//! namespace and stops it with the pod.

use super::NetError;
use super::session::Session;
use crate::model::PodNetwork;
use crate::model::ports::{PortMapping, Protocol};
use std::path::{Path, PathBuf};

/// The address a pod's resolv.conf names: pasta forwards what is sent
/// there to the host's first nameserver.
pub const DNS_ADDR: &str = "169.254.1.1";

/// What pasta needs to start for one pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PastaSpec<'a> {
    pub holder_pid: u32,
    pub ports: &'a [PortMapping],
    /// Where pasta writes its PID.
    pub pid_file: &'a Path,
}

/// pasta's arguments (after the program name).
pub fn args(spec: &PastaSpec<'_>) -> Vec<String> {
    let mut a: Vec<String> = [
        "--config-net",
        "--quiet",
        "--no-map-gw",
        "--dns-forward",
        DNS_ADDR,
    ]
    .map(String::from)
    .to_vec();
    a.extend(["-T".into(), "none".into(), "-U".into(), "none".into()]);
    for proto in [Protocol::Tcp, Protocol::Udp] {
        let flag = if proto == Protocol::Tcp { "-t" } else { "-u" };
        let specs: Vec<String> = spec
            .ports
            .iter()
            .filter(|p| p.protocol == proto)
            .map(forward)
            .collect();
        if specs.is_empty() {
            a.extend([flag.to_string(), "none".into()]);
        }
        for s in specs {
            a.extend([flag.to_string(), s]);
        }
    }
    a.extend(["--pid".into(), spec.pid_file.display().to_string()]);
    a.push(spec.holder_pid.to_string());
    a
}

/// One forward: `[ADDR/]HOST[-END]:CONTAINER[-END]`.
fn forward(p: &PortMapping) -> String {
    let range = |start: u16| match p.range {
        1 => start.to_string(),
        n => format!("{start}-{}", start + (n - 1)),
    };
    let addr = p.host_ip.map(|ip| format!("{ip}/")).unwrap_or_default();
    format!("{addr}{}:{}", range(p.host_port), range(p.container_port))
}

/// The published ports a user's pod cannot have: SCTP (pasta forwards TCP
/// and UDP), and host ports below `unprivileged_start`
/// (`net.ipv4.ip_unprivileged_port_start`), which only root may bind.
pub fn check_ports(ports: &[PortMapping], unprivileged_start: u16) -> Result<(), String> {
    for p in ports {
        if p.protocol == Protocol::Sctp {
            return Err(format!(
                "port {}: a user's pods publish TCP and UDP ports only (pasta)",
                p.host_port
            ));
        }
        if p.host_port < unprivileged_start {
            return Err(format!(
                "port {}: below {unprivileged_start}, where ports are root's \
                 (net.ipv4.ip_unprivileged_port_start): publish a port of {unprivileged_start} or \
                 above, or let users bind lower ones: sysctl net.ipv4.ip_unprivileged_port_start={}",
                p.host_port, p.host_port
            ));
        }
    }
    Ok(())
}

/// `net.ipv4.ip_unprivileged_port_start` (1024 when unreadable).
pub fn unprivileged_port_start(proc: &Path) -> u16 {
    std::fs::read_to_string(proc.join("sys/net/ipv4/ip_unprivileged_port_start"))
        .ok()
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(1024)
}

/// pasta for one pod: started on the holder's namespace by `attach`,
/// stopped when dropped, through a pidfd (it also quits by itself when the
/// namespace goes).
pub struct Pasta {
    pod: String,
    spec: PodNetwork,
    /// The pod's network files (resolv.conf, hosts) and pasta's PID file.
    dir: PathBuf,
    hostname: String,
    /// pasta once it runs in the background (its PID file, opened as a
    /// pidfd and checked to be pasta).
    process: Option<crate::pidfd::PidFd>,
}

impl Pasta {
    /// Checks the pod's ports for a user; nothing runs yet.
    pub fn begin(
        net_files: PathBuf,
        proc: &Path,
        pod: &str,
        hostname: &str,
        spec: &PodNetwork,
    ) -> Result<Pasta, NetError> {
        check_ports(&spec.ports, unprivileged_port_start(proc)).map_err(|why| {
            NetError::Rootless {
                pod: pod.to_string(),
                why,
            }
        })?;
        Ok(Pasta {
            pod: pod.to_string(),
            spec: spec.clone(),
            dir: net_files,
            hostname: hostname.to_string(),
            process: None,
        })
    }

    /// The pod's /etc/resolv.conf and /etc/hosts.
    fn write_files(&self) -> std::io::Result<()> {
        crate::private::create_private_dir(&self.dir)?;
        let mut resolv = format!("nameserver {DNS_ADDR}\n");
        let search = &self.spec.resolver.search;
        if !search.is_empty() {
            resolv.push_str(&format!("search {}\n", search.join(" ")));
        }
        std::fs::write(self.dir.join("resolv.conf"), resolv)?;
        let mut hosts = format!(
            "127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n127.0.1.1 {}\n",
            self.hostname
        );
        for (name, ip) in &self.spec.extra_hosts {
            hosts.push_str(&format!("{ip} {name}\n"));
        }
        std::fs::write(self.dir.join("hosts"), hosts)
    }
}

impl Session for Pasta {
    fn attach(&mut self, holder_pid: u32) -> Result<(), NetError> {
        let fail = |why: String| NetError::Rootless {
            pod: self.pod.clone(),
            why,
        };
        self.write_files()
            .map_err(|e| fail(format!("writing {}: {e}", self.dir.display())))?;
        let pid_file = self.dir.join("pasta.pid");
        let argv = args(&PastaSpec {
            holder_pid,
            ports: &self.spec.ports,
            pid_file: &pid_file,
        });
        // pasta sets the namespace up, then forks into the background and
        // exits 0: its exit status says whether the network is up.
        let out = std::process::Command::new("pasta")
            .args(&argv)
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => fail(
                    "pasta is not installed: a user's pods are networked by it (Debian: apt install passt), or set network = \"none\"".into(),
                ),
                _ => fail(format!("cannot run pasta: {e}")),
            })?;
        if !out.status.success() {
            return Err(fail(format!(
                "pasta {} failed ({}): {}",
                argv.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        self.process = std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|t| t.trim().parse().ok())
            .and_then(|pid| opened_pasta(&pid_file, pid));
        tracing::info!("pod {}: network up through pasta", self.pod);
        Ok(())
    }
}

/// A pidfd of `pid` if it is pasta's (its PID file's) process: opened
/// first, then the process checked, so the pidfd cannot name another one.
fn opened_pasta(pid_file: &Path, pid: i32) -> Option<crate::pidfd::PidFd> {
    let fd = crate::pidfd::PidFd::open(pid).ok()?;
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    if !comm.trim_end().starts_with("pasta") && !comm.trim_end().starts_with("passt") {
        tracing::warn!(
            "{}: PID {pid} is {:?}, not pasta: it is left alone at the pod's end",
            pid_file.display(),
            comm.trim_end()
        );
        return None;
    }
    Some(fd)
}

impl Drop for Pasta {
    fn drop(&mut self) {
        if let Some(p) = self.process.take() {
            let _ = p.signal(Some(nix::sys::signal::Signal::SIGTERM));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn port(
        host_ip: Option<Ipv4Addr>,
        host: u16,
        inside: u16,
        range: u16,
        protocol: Protocol,
    ) -> PortMapping {
        PortMapping {
            host_ip,
            host_port: host,
            container_port: inside,
            range,
            protocol,
        }
    }

    #[test]
    fn the_command_line_forwards_only_the_published_ports() {
        let ports = [
            port(None, 8080, 80, 1, Protocol::Tcp),
            port(Some(Ipv4Addr::LOCALHOST), 9000, 90, 3, Protocol::Tcp),
        ];
        let pid_file = Path::new("/run/user/1000/podctl/net/web/pasta.pid");
        let a = args(&PastaSpec {
            holder_pid: 42,
            ports: &ports,
            pid_file,
        })
        .join(" ");
        assert_eq!(
            a,
            "--config-net --quiet --no-map-gw --dns-forward 169.254.1.1 -T none -U none \
             -t 8080:80 -t 127.0.0.1/9000-9002:90-92 -u none \
             --pid /run/user/1000/podctl/net/web/pasta.pid 42"
        );
        let none = args(&PastaSpec {
            holder_pid: 7,
            ports: &[],
            pid_file,
        })
        .join(" ");
        assert!(none.contains("-t none -u none"), "{none}");
    }

    #[test]
    fn a_user_cannot_publish_root_ports_nor_sctp() {
        let low = check_ports(&[port(None, 80, 80, 1, Protocol::Tcp)], 1024).unwrap_err();
        assert!(low.contains("port 80: below 1024"), "{low}");
        assert!(low.contains("ip_unprivileged_port_start=80"), "{low}");
        assert!(check_ports(&[port(None, 80, 80, 1, Protocol::Tcp)], 80).is_ok());
        let sctp = check_ports(&[port(None, 5000, 5000, 1, Protocol::Sctp)], 1024).unwrap_err();
        assert!(sctp.contains("TCP and UDP"), "{sctp}");
    }
}
