//! Published ports: `8080:80`, `127.0.0.1:5353:53/udp`, `9000-9002:9000-9002/tcp`.
//! Parsing is pure; the pod file reader reports errors at the string.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::Ipv4Addr;

/// A transport protocol a port can be published for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Tcp,
    Udp,
    Sctp,
}

impl Protocol {
    pub const ALL: [Protocol; 3] = [Protocol::Tcp, Protocol::Udp, Protocol::Sctp];

    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Sctp => "sctp",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One published port or range: host `host_port..host_port+range` forwards to
/// the pod's `container_port..container_port+range`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PortMapping {
    /// `None`: every address of the host.
    pub host_ip: Option<Ipv4Addr>,
    pub host_port: u16,
    pub container_port: u16,
    /// Number of ports, at least 1; both ranges end at or below 65535.
    pub range: u16,
    pub protocol: Protocol,
}

impl PortMapping {
    /// The host ports this mapping takes.
    pub fn host_ports(&self) -> std::ops::RangeInclusive<u16> {
        self.host_port..=self.host_port + (self.range - 1)
    }

    /// Whether both take a host port in common, for the same protocol, on
    /// addresses that meet (a wildcard meets every address).
    pub fn clashes_with(&self, other: &PortMapping) -> bool {
        let ips_meet = match (self.host_ip, other.host_ip) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        };
        ips_meet
            && self.protocol == other.protocol
            && self.host_port <= other.host_port + (other.range - 1)
            && other.host_port <= self.host_port + (self.range - 1)
    }
}

impl fmt::Display for PortMapping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(ip) = self.host_ip {
            write!(f, "{ip}:")?;
        }
        let side = |f: &mut fmt::Formatter<'_>, p: u16| {
            if self.range > 1 {
                write!(f, "{}-{}", p, p + (self.range - 1))
            } else {
                write!(f, "{p}")
            }
        };
        side(f, self.host_port)?;
        f.write_str(":")?;
        side(f, self.container_port)?;
        write!(f, "/{}", self.protocol)
    }
}

/// Why a port spec was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortError {
    #[error(
        "{0:?} is not a port mapping (use HOST:CONTAINER, IP:HOST:CONTAINER or ranges A-B:C-D, with an optional /tcp, /udp or /sctp)"
    )]
    Syntax(String),
    #[error("{spec:?}: {port:?} is not a port number (1-65535)")]
    OutOfRange { spec: String, port: String },
    #[error("{spec:?}: {ip:?} is not an IPv4 address")]
    BadIp { spec: String, ip: String },
    #[error("{spec:?}: range {range:?} ends before it starts")]
    Backwards { spec: String, range: String },
    #[error(
        "{spec:?}: the host side has {host} port(s) and the container side {container}; both sides of a range have the same length"
    )]
    RangeLength {
        spec: String,
        host: u32,
        container: u32,
    },
    #[error("{spec:?}: protocol {proto:?} is not tcp, udp or sctp")]
    Protocol { spec: String, proto: String },
}

/// Parses one `ports` entry.
pub fn parse(spec: &str) -> Result<PortMapping, PortError> {
    let syntax = || PortError::Syntax(spec.to_string());
    let (body, protocol) = match spec.rsplit_once('/') {
        Some((b, p)) => {
            let proto = Protocol::ALL
                .into_iter()
                .find(|x| x.as_str() == p)
                .ok_or_else(|| PortError::Protocol {
                    spec: spec.to_string(),
                    proto: p.to_string(),
                })?;
            (b, proto)
        }
        None => (spec, Protocol::Tcp),
    };
    let parts: Vec<&str> = body.split(':').collect();
    let (ip, host, container) = match parts.as_slice() {
        [h, c] => (None, *h, *c),
        [ip, h, c] => (Some(*ip), *h, *c),
        _ => return Err(syntax()),
    };
    let host_ip = match ip {
        None => None,
        Some(text) => Some(text.parse::<Ipv4Addr>().map_err(|_| PortError::BadIp {
            spec: spec.to_string(),
            ip: text.to_string(),
        })?),
    };
    let (hs, he) = side(spec, host)?;
    let (cs, ce) = side(spec, container)?;
    let (hn, cn) = (u32::from(he - hs) + 1, u32::from(ce - cs) + 1);
    if hn != cn {
        return Err(PortError::RangeLength {
            spec: spec.to_string(),
            host: hn,
            container: cn,
        });
    }
    Ok(PortMapping {
        host_ip,
        host_port: hs,
        container_port: cs,
        range: hn as u16,
        protocol,
    })
}

/// `P` or `A-B`, as (first, last).
fn side(spec: &str, text: &str) -> Result<(u16, u16), PortError> {
    match text.split_once('-') {
        None => {
            let p = port(spec, text)?;
            Ok((p, p))
        }
        Some((a, b)) => {
            let (a, b) = (port(spec, a)?, port(spec, b)?);
            if b < a {
                return Err(PortError::Backwards {
                    spec: spec.to_string(),
                    range: text.to_string(),
                });
            }
            Ok((a, b))
        }
    }
}

fn port(spec: &str, text: &str) -> Result<u16, PortError> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PortError::Syntax(spec.to_string()));
    }
    match text.parse::<u32>() {
        Ok(p) if (1..=65535).contains(&p) => Ok(p as u16),
        _ => Err(PortError::OutOfRange {
            spec: spec.to_string(),
            port: text.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let m = parse("8080:80").unwrap();
        assert_eq!(
            m,
            PortMapping {
                host_ip: None,
                host_port: 8080,
                container_port: 80,
                range: 1,
                protocol: Protocol::Tcp
            }
        );
        let m = parse("127.0.0.1:5353:53/udp").unwrap();
        assert_eq!(m.host_ip, Some(Ipv4Addr::LOCALHOST));
        assert_eq!((m.host_port, m.container_port), (5353, 53));
        assert_eq!(m.protocol, Protocol::Udp);
        let m = parse("9000-9002:9100-9102/sctp").unwrap();
        assert_eq!((m.host_port, m.container_port, m.range), (9000, 9100, 3));
        assert_eq!(m.to_string(), "9000-9002:9100-9102/sctp");
        assert_eq!(parse("1:65535").unwrap().container_port, 65535);
    }

    #[test]
    fn refusals() {
        assert!(matches!(parse("80"), Err(PortError::Syntax(_))));
        assert!(matches!(parse("a:80"), Err(PortError::Syntax(_))));
        assert!(matches!(parse("1:2:3:4"), Err(PortError::Syntax(_))));
        assert!(matches!(
            parse("70000:80"),
            Err(PortError::OutOfRange { .. })
        ));
        assert!(matches!(parse("0:80"), Err(PortError::OutOfRange { .. })));
        assert!(matches!(
            parse("9000-9002:80"),
            Err(PortError::RangeLength { .. })
        ));
        assert!(matches!(
            parse("9002-9000:1-3"),
            Err(PortError::Backwards { .. })
        ));
        assert!(matches!(
            parse("80:80/icmp"),
            Err(PortError::Protocol { .. })
        ));
        assert!(matches!(parse("::1:80:80"), Err(PortError::Syntax(_))));
        assert!(matches!(parse("1.2.3:80:80"), Err(PortError::BadIp { .. })));
    }

    #[test]
    fn clashes() {
        let a = parse("8080-8082:80-82").unwrap();
        assert!(a.clashes_with(&parse("8082:80").unwrap()));
        assert!(!a.clashes_with(&parse("8083:80").unwrap()));
        assert!(!a.clashes_with(&parse("8081:80/udp").unwrap()));
        let lo = parse("127.0.0.1:8080:80").unwrap();
        assert!(lo.clashes_with(&parse("8080:80").unwrap()));
        assert!(!lo.clashes_with(&parse("127.0.0.2:8080:80").unwrap()));
    }
}
