//! The image configuration's runtime defaults (`config` of the OCI image
//! config): used for what a pod file leaves out.

use crate::net::ports::{PortMapping, Protocol};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What an image says about how to run it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageConfig {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entrypoint: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cmd: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_signal: Option<String>,
    /// `80/tcp`, `53/udp`, ...
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exposed_ports: Vec<String>,
    /// The layers' uncompressed digests, lowest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub diff_ids: Vec<String>,
}

#[derive(Deserialize)]
struct Raw {
    #[serde(default)]
    config: Option<RawConfig>,
    #[serde(default)]
    rootfs: Option<RawRootfs>,
}

#[derive(Deserialize)]
struct RawRootfs {
    #[serde(default)]
    diff_ids: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawConfig {
    #[serde(default)]
    entrypoint: Option<Vec<String>>,
    #[serde(default)]
    cmd: Option<Vec<String>>,
    #[serde(default)]
    env: Option<Vec<String>>,
    #[serde(default)]
    working_dir: Option<String>,
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    stop_signal: Option<String>,
    #[serde(default)]
    exposed_ports: Option<BTreeMap<String, serde_json::Value>>,
}

impl ImageConfig {
    /// Parses an image config blob (OCI or Docker; unknown keys ignored).
    pub fn parse(bytes: &[u8]) -> Result<ImageConfig, serde_json::Error> {
        let raw: Raw = serde_json::from_slice(bytes)?;
        let diff_ids = raw.rootfs.map(|r| r.diff_ids).unwrap_or_default();
        let Some(c) = raw.config else {
            return Ok(ImageConfig {
                diff_ids,
                ..Default::default()
            });
        };
        let nonempty = |s: Option<String>| s.filter(|s| !s.is_empty());
        Ok(ImageConfig {
            entrypoint: c.entrypoint.unwrap_or_default(),
            cmd: c.cmd.unwrap_or_default(),
            env: c.env.unwrap_or_default(),
            working_dir: nonempty(c.working_dir),
            user: nonempty(c.user),
            stop_signal: nonempty(c.stop_signal),
            exposed_ports: c
                .exposed_ports
                .map(|m| m.into_keys().collect())
                .unwrap_or_default(),
            diff_ids,
        })
    }

    /// The command the image runs by default: entrypoint then cmd.
    pub fn command(&self) -> Vec<String> {
        self.entrypoint.iter().chain(&self.cmd).cloned().collect()
    }

    /// `ExposedPorts`, typed, sorted; entries that are not `PORT[/PROTO]`
    /// are left out.
    pub fn exposed(&self) -> Vec<ExposedPort> {
        let mut out: Vec<ExposedPort> = self
            .exposed_ports
            .iter()
            .filter_map(|s| ExposedPort::parse(s))
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

/// A port the image's `ExposedPorts` names: what the image says it listens
/// on, in the pod's network namespace. It publishes nothing by itself: only
/// the pod's `ports` do (Podman publishes them only with `-P`, Kubernetes
/// never); `apply --dry-run` shows each and whether `ports` publishes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ExposedPort {
    pub port: u16,
    pub protocol: Protocol,
}

impl ExposedPort {
    /// `80/tcp`, `53/udp`, `9/sctp`, or `80` (tcp, as Docker reads it).
    pub fn parse(s: &str) -> Option<ExposedPort> {
        let (port, proto) = s.trim().split_once('/').unwrap_or((s.trim(), "tcp"));
        let protocol = Protocol::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(proto))?;
        let port: u16 = port.parse().ok().filter(|p| *p > 0)?;
        Some(ExposedPort { port, protocol })
    }

    /// Whether `m` forwards a host port to this one.
    pub fn published_by(&self, m: &PortMapping) -> bool {
        m.protocol == self.protocol
            && (m.container_port..=m.container_port.saturating_add(m.range - 1))
                .contains(&self.port)
    }
}

impl std::fmt::Display for ExposedPort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.port, self.protocol)
    }
}

/// How `apply --dry-run` shows an image's exposed ports against the pod's
/// `ports`: `80/tcp (published as 8080:80/tcp), 443/tcp (not published)`,
/// with a hint when one is not published; None when the image exposes none.
pub fn exposure(exposed: &[ExposedPort], published: &[PortMapping]) -> Option<String> {
    if exposed.is_empty() {
        return None;
    }
    let mut unpublished = false;
    let items: Vec<String> = exposed
        .iter()
        .map(|e| {
            let by: Vec<String> = published
                .iter()
                .filter(|m| e.published_by(m))
                .map(|m| m.to_string())
                .collect();
            if by.is_empty() {
                unpublished = true;
                format!("{e} (not published)")
            } else {
                format!("{e} (published as {})", by.join(", "))
            }
        })
        .collect();
    let mut out = format!("exposes: {}", items.join(", "));
    if unpublished {
        out.push_str(
            "; the image's ExposedPorts publish nothing by themselves: the pod's `ports` do",
        );
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn port(port: u16, protocol: Protocol) -> ExposedPort {
        ExposedPort { port, protocol }
    }

    #[test]
    fn exposed_ports_are_parsed_typed_and_sorted() {
        let cfg = ImageConfig::parse(
            br#"{"config":{"ExposedPorts":{"443/tcp":{},"80/tcp":{},"53/udp":{},"8080":{},"x/tcp":{},"0/tcp":{},"9/quic":{}}}}"#,
        )
        .unwrap();
        assert_eq!(
            cfg.exposed(),
            [
                port(53, Protocol::Udp),
                port(80, Protocol::Tcp),
                port(443, Protocol::Tcp),
                port(8080, Protocol::Tcp),
            ]
        );
        assert_eq!(port(53, Protocol::Udp).to_string(), "53/udp");
        assert_eq!(ImageConfig::default().exposed(), []);
    }

    #[test]
    fn exposure_says_which_ports_the_pod_publishes() {
        let ports = |specs: &[&str]| -> Vec<PortMapping> {
            specs
                .iter()
                .map(|s| crate::net::ports::parse(s).unwrap())
                .collect()
        };
        let exposed = [port(80, Protocol::Tcp), port(443, Protocol::Tcp)];
        assert_eq!(exposure(&[], &ports(&["8080:80"])), None);
        assert_eq!(
            exposure(&exposed, &ports(&["8080:80", "53:53/udp"])).unwrap(),
            "exposes: 80/tcp (published as 8080:80/tcp), 443/tcp (not published); \
             the image's ExposedPorts publish nothing by themselves: the pod's `ports` do"
        );
        // A range covers it; the same number over udp does not.
        assert_eq!(
            exposure(&exposed, &ports(&["8000-8100:400-500", "80:80/udp"])).unwrap(),
            "exposes: 80/tcp (not published), 443/tcp (published as 8000-8100:400-500/tcp); \
             the image's ExposedPorts publish nothing by themselves: the pod's `ports` do"
        );
        assert_eq!(
            exposure(&exposed[..1], &ports(&["127.0.0.1:80:80"])).unwrap(),
            "exposes: 80/tcp (published as 127.0.0.1:80:80/tcp)"
        );
    }
}
