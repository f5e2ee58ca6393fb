//! IPv4 subnets: parsing `10.87.0.0/16`, membership, overlap, and the
//! addresses a network can hand out. (podctl networks are IPv4 only.)

use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

/// An IPv4 subnet in CIDR form; the address is the network address (no host bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Subnet {
    addr: Ipv4Addr,
    prefix: u8,
}

impl Subnet {
    /// The subnet of `addr`/`prefix`; `None` when `prefix` > 32 or host bits are set.
    pub fn new(addr: Ipv4Addr, prefix: u8) -> Option<Subnet> {
        let s = Subnet { addr, prefix };
        (prefix <= 32 && u32::from(addr) & !s.mask() == 0).then_some(s)
    }

    pub fn addr(&self) -> Ipv4Addr {
        self.addr
    }

    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    fn mask(&self) -> u32 {
        if self.prefix == 0 {
            0
        } else {
            u32::MAX << (32 - u32::from(self.prefix))
        }
    }

    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & self.mask() == u32::from(self.addr)
    }

    /// Whether the two subnets share any address.
    pub fn overlaps(&self, other: &Subnet) -> bool {
        self.contains(other.addr) || other.contains(self.addr)
    }

    /// The last address (broadcast).
    pub fn broadcast(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.addr) | !self.mask())
    }

    /// The first usable host address (the default gateway).
    pub fn first_host(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.addr) + 1)
    }

    /// Host addresses in order, without the network and broadcast addresses.
    pub fn hosts(&self) -> impl Iterator<Item = Ipv4Addr> {
        let first = u32::from(self.addr) + 1;
        let last = u32::from(self.broadcast());
        (first..last).map(Ipv4Addr::from)
    }
}

impl fmt::Display for Subnet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// Why a subnet does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubnetError {
    #[error("{0:?} is not an IPv4 subnet in CIDR form (e.g. 10.87.0.0/16)")]
    Syntax(String),
    #[error("{text:?} has host bits set (the subnet is {subnet})")]
    HostBits { text: String, subnet: Subnet },
    #[error("{0:?} is too small for a network (at most /30: a gateway and one pod)")]
    TooSmall(String),
}

impl FromStr for Subnet {
    type Err = SubnetError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let syntax = || SubnetError::Syntax(s.to_string());
        let (a, p) = s.split_once('/').ok_or_else(syntax)?;
        let addr: Ipv4Addr = a.parse().map_err(|_| syntax())?;
        if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) || p.len() > 2 {
            return Err(syntax());
        }
        let prefix: u8 = p.parse().map_err(|_| syntax())?;
        if prefix > 32 {
            return Err(syntax());
        }
        if prefix > 30 {
            return Err(SubnetError::TooSmall(s.to_string()));
        }
        let mask = if prefix == 0 {
            0
        } else {
            u32::MAX << (32 - u32::from(prefix))
        };
        let net = Subnet {
            addr: Ipv4Addr::from(u32::from(addr) & mask),
            prefix,
        };
        if net.addr != addr {
            return Err(SubnetError::HostBits {
                text: s.to_string(),
                subnet: net,
            });
        }
        Ok(net)
    }
}

impl Serialize for Subnet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Subnet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects() {
        let s: Subnet = "10.87.0.0/16".parse().unwrap();
        assert_eq!(s.to_string(), "10.87.0.0/16");
        assert_eq!(s.first_host(), Ipv4Addr::new(10, 87, 0, 1));
        assert_eq!(s.broadcast(), Ipv4Addr::new(10, 87, 255, 255));
        assert!(matches!(
            "10.87.0.1/16".parse::<Subnet>(),
            Err(SubnetError::HostBits { .. })
        ));
        for bad in [
            "10.87.0.0",
            "10.87.0.0/",
            "10.87.0.0/33",
            "x/8",
            "10.0.0.0/+8",
        ] {
            assert!(
                matches!(bad.parse::<Subnet>(), Err(SubnetError::Syntax(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            "10.0.0.0/31".parse::<Subnet>(),
            Err(SubnetError::TooSmall(_))
        ));
    }

    #[test]
    fn overlap_and_hosts() {
        let a: Subnet = "10.87.0.0/16".parse().unwrap();
        let b: Subnet = "10.87.5.0/24".parse().unwrap();
        let c: Subnet = "10.88.0.0/16".parse().unwrap();
        assert!(a.overlaps(&b) && b.overlaps(&a));
        assert!(!a.overlaps(&c));
        let small: Subnet = "192.168.7.0/30".parse().unwrap();
        let hosts: Vec<Ipv4Addr> = small.hosts().collect();
        assert_eq!(
            hosts,
            [Ipv4Addr::new(192, 168, 7, 1), Ipv4Addr::new(192, 168, 7, 2)]
        );
    }
}
