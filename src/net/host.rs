//! [`super::Network`] on the real host: netavark for the links, firewall and
//! DNS; bind mounts to pin a namespace; a bind to find who holds a port.

use super::NetError;
use super::netavark::{self, AARDVARK, NETAVARK, Status};
use crate::model::ports::{PortMapping, Protocol};
use std::io::Write;
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Overrides the netavark binary (tests, other distributions).
pub const NETAVARK_ENV: &str = "PODCTL_NETAVARK";

/// The network engine on this host (netavark and aardvark-dns, and its
/// configuration directory): the real [`super::Network`].
#[derive(Debug, Clone)]
pub struct Engine {
    pub netavark: PathBuf,
    pub aardvark: PathBuf,
    pub config_dir: PathBuf,
}

impl Default for Engine {
    fn default() -> Self {
        Engine {
            netavark: std::env::var_os(NETAVARK_ENV).map_or_else(|| NETAVARK.into(), PathBuf::from),
            aardvark: AARDVARK.into(),
            config_dir: netavark::CONFIG_DIR.into(),
        }
    }
}

impl Engine {
    fn run(
        &self,
        verb: &str,
        netns: &Path,
        options: &serde_json::Value,
    ) -> Result<String, NetError> {
        let engine = |detail: String| NetError::Engine {
            command: format!("{} {verb} {}", self.netavark.display(), netns.display()),
            detail,
        };
        std::fs::create_dir_all(&self.config_dir)
            .map_err(|e| engine(format!("cannot create {}: {e}", self.config_dir.display())))?;
        let mut child = Command::new(&self.netavark)
            .arg("--config")
            .arg(&self.config_dir)
            .arg("--aardvark-binary")
            .arg(&self.aardvark)
            .arg(verb)
            .arg(netns)
            // netavark 1.4 has iptables and firewalld drivers; iptables
            // (Debian's is iptables-nft) needs no daemon.
            .env("NETAVARK_FW", "iptables")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| {
                engine(format!(
                    "cannot run it: {e} (install the netavark and aardvark-dns packages)"
                ))
            })?;
        let doc = serde_json::to_vec(options).map_err(|e| engine(e.to_string()))?;
        let mut stdin = child.stdin.take().expect("piped");
        let written = stdin.write_all(&doc);
        drop(stdin);
        let out = child
            .wait_with_output()
            .map_err(|e| engine(e.to_string()))?;
        let stdout = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if !out.status.success() {
            // netavark prints {"error": "..."} on stdout; its log goes to stderr.
            let message = serde_json::from_str::<serde_json::Value>(&stdout)
                .ok()
                .and_then(|v| v["error"].as_str().map(str::to_string))
                .unwrap_or_else(|| {
                    format!("{stdout} {}", String::from_utf8_lossy(&out.stderr).trim())
                });
            return Err(engine(format!("{}: {}", out.status, message.trim())));
        }
        written.map_err(|e| engine(format!("cannot write its input: {e}")))?;
        Ok(stdout)
    }
}

impl super::Network for Engine {
    fn pin(&self, holder_pid: u32, pin: &Path) -> Result<(), NetError> {
        use nix::mount::{MsFlags, mount};
        let err = |source: std::io::Error| NetError::Pin {
            path: pin.to_path_buf(),
            source,
        };
        if let Some(dir) = pin.parent() {
            std::fs::create_dir_all(dir).map_err(err)?;
        }
        std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(pin)
            .map_err(err)?;
        let src = PathBuf::from(format!("/proc/{holder_pid}/ns/net"));
        mount(
            Some(&src),
            pin,
            None::<&str>,
            MsFlags::MS_BIND,
            None::<&str>,
        )
        .map_err(|e| err(std::io::Error::from(e)))
    }

    fn unpin(&self, pin: &Path) -> Result<(), NetError> {
        use nix::mount::{MntFlags, umount2};
        match umount2(pin, MntFlags::MNT_DETACH) {
            // EINVAL: not a mount point (never pinned); ENOENT: gone.
            Ok(()) | Err(nix::errno::Errno::EINVAL) | Err(nix::errno::Errno::ENOENT) => {}
            Err(e) => {
                return Err(NetError::Pin {
                    path: pin.to_path_buf(),
                    source: e.into(),
                });
            }
        }
        match std::fs::remove_file(pin) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(NetError::Pin {
                path: pin.to_path_buf(),
                source: e,
            }),
            _ => Ok(()),
        }
    }

    fn setup(&self, netns: &Path, options: &serde_json::Value) -> Result<Status, NetError> {
        let out = self.run("setup", netns, options)?;
        netavark::parse_status(&out).map_err(|detail| NetError::Engine {
            command: format!("{} setup", self.netavark.display()),
            detail,
        })
    }

    fn teardown(&self, netns: &Path, options: &serde_json::Value) -> Result<(), NetError> {
        self.run("teardown", netns, options).map(drop)
    }

    fn host_port_user(&self, m: &PortMapping) -> Option<String> {
        let ip = m.host_ip.unwrap_or(Ipv4Addr::UNSPECIFIED);
        for port in m.host_ports() {
            let addr = SocketAddrV4::new(ip, port);
            let busy = match m.protocol {
                Protocol::Tcp => {
                    matches!(TcpListener::bind(addr), Err(e) if e.kind() == std::io::ErrorKind::AddrInUse)
                }
                Protocol::Udp => {
                    matches!(UdpSocket::bind(addr), Err(e) if e.kind() == std::io::ErrorKind::AddrInUse)
                }
                // No SCTP socket in std; netavark's DNAT decides.
                Protocol::Sctp => false,
            };
            if busy {
                let who =
                    socket_owner(m.protocol, port).unwrap_or_else(|| "another program".into());
                return Some(format!(
                    "{port}/{} is in use on the host by {who}",
                    m.protocol
                ));
            }
        }
        None
    }
}

/// `comm (pid N)` of a process holding a socket bound to `port`, from
/// `/proc/net/{tcp,udp}{,6}` and the processes' fds.
fn socket_owner(proto: Protocol, port: u16) -> Option<String> {
    let tables: &[&str] = match proto {
        Protocol::Tcp => &["/proc/net/tcp", "/proc/net/tcp6"],
        Protocol::Udp => &["/proc/net/udp", "/proc/net/udp6"],
        Protocol::Sctp => return None,
    };
    let want = format!(":{port:04X}");
    let mut inodes = Vec::new();
    for t in tables {
        let text = std::fs::read_to_string(t).unwrap_or_default();
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() > 9 && f[1].ends_with(&want) {
                inodes.push(format!("socket:[{}]", f[9]));
            }
        }
    }
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(fds) = std::fs::read_dir(entry.path().join("fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            if let Ok(target) = std::fs::read_link(fd.path())
                && inodes.iter().any(|i| Path::new(i) == target)
            {
                let comm = std::fs::read_to_string(entry.path().join("comm")).unwrap_or_default();
                return Some(format!("{} (pid {pid})", comm.trim()));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ports::parse;
    use crate::net::Network;

    /// A listener of this process on 127.0.0.1 is found, with its owner.
    #[test]
    fn a_bound_port_is_in_use_and_its_owner_named() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let m = parse(&format!("127.0.0.1:{port}:80")).unwrap();
        let who = Engine::default().host_port_user(&m).expect("in use");
        let me = std::fs::read_to_string("/proc/self/comm").unwrap();
        assert!(
            who.contains(&format!("pid {}", std::process::id())),
            "{who}"
        );
        assert!(who.contains(me.trim()), "{who}");
        drop(l);
        assert_eq!(Engine::default().host_port_user(&m), None);
    }
}
