//! The image configuration's runtime defaults (`config` of the OCI image
//! config): used for what a pod file leaves out.

pub use crate::plan::image::{ExposedPort, ImageDefaults};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What an image says about how to run it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageConfig {
    /// The process defaults (what a container's plan takes from them).
    #[serde(flatten)]
    pub process: ImageDefaults,
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
            process: ImageDefaults {
                entrypoint: c.entrypoint.unwrap_or_default(),
                cmd: c.cmd.unwrap_or_default(),
                env: c.env.unwrap_or_default(),
                working_dir: nonempty(c.working_dir),
                user: nonempty(c.user),
                stop_signal: nonempty(c.stop_signal),
            },
            exposed_ports: c
                .exposed_ports
                .map(|m| m.into_keys().collect())
                .unwrap_or_default(),
            diff_ids,
        })
    }

    /// The command the image runs by default: entrypoint then cmd.
    pub fn command(&self) -> Vec<String> {
        let p = &self.process;
        p.entrypoint.iter().chain(&p.cmd).cloned().collect()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::ports::Protocol;

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
        assert_eq!(ImageConfig::default().exposed(), []);
    }
}
