//! The image configuration's runtime defaults (`config` of the OCI image
//! config): used for what a pod file leaves out.

pub use crate::plan::image::{ExposedPort, ImageDefaults};
use oci_spec::image::ImageConfiguration;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// What an image says about how to run it: the part of the OCI image config
/// ([`ImageConfiguration`]) podctl uses.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageConfig {
    /// The process defaults (what a container's plan takes from them).
    #[serde(flatten)]
    pub process: ImageDefaults,
    /// `80/tcp`, `53/udp`, ... sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exposed_ports: Vec<String>,
    /// The layers' uncompressed digests, lowest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub diff_ids: Vec<String>,
}

impl ImageConfig {
    /// Parses an image config blob (OCI or Docker; unknown keys ignored)
    /// as the `oci-spec` crate's [`ImageConfiguration`]. What that type
    /// requires but podctl (like Podman) has always accepted missing or
    /// null is filled in first: `architecture`, `os`, `rootfs` and its
    /// `type` and `diff_ids`, null entries of `ExposedPorts`, `Volumes` and
    /// `Labels`. The caller bounds the blob's size.
    pub fn parse(bytes: &[u8]) -> Result<ImageConfig, serde_json::Error> {
        let mut v: Value = serde_json::from_slice(bytes)?;
        if let Some(top) = v.as_object_mut() {
            fill(top, "architecture", || "".into());
            fill(top, "os", || "".into());
            fill(top, "rootfs", || Value::Object(Map::new()));
            if let Some(rootfs) = top.get_mut("rootfs").and_then(Value::as_object_mut) {
                fill(rootfs, "type", || "layers".into());
                fill(rootfs, "diff_ids", || Value::Array(Vec::new()));
            }
            if let Some(c) = top.get_mut("config").and_then(Value::as_object_mut) {
                // Go reads a null entry of these maps as an empty one.
                for (key, empty) in [
                    ("ExposedPorts", json!({})),
                    ("Volumes", json!({})),
                    ("Labels", json!("")),
                ] {
                    if let Some(Value::Object(m)) = c.get_mut(key) {
                        m.values_mut()
                            .filter(|v| v.is_null())
                            .for_each(|v| *v = empty.clone());
                    }
                }
            }
        }
        let image: ImageConfiguration = serde_json::from_value(v)?;
        Ok(ImageConfig::from(&image))
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

/// Sets `key` of `m` to `value()` when it is missing or null.
fn fill(m: &mut Map<String, Value>, key: &str, value: impl FnOnce() -> Value) {
    match m.get_mut(key) {
        Some(v) if !v.is_null() => {}
        Some(v) => *v = value(),
        None => {
            m.insert(key.to_string(), value());
        }
    }
}

impl From<&ImageConfiguration> for ImageConfig {
    /// Keeps the process defaults (an empty `WorkingDir`, `User` or
    /// `StopSignal` is none), the exposed ports and the diff IDs.
    fn from(image: &ImageConfiguration) -> Self {
        let diff_ids = image.rootfs().diff_ids().clone();
        let Some(c) = image.config() else {
            return ImageConfig {
                diff_ids,
                ..Default::default()
            };
        };
        let list = |l: &Option<Vec<String>>| l.clone().unwrap_or_default();
        let nonempty = |s: &Option<String>| s.clone().filter(|s| !s.is_empty());
        // The crate reads the JSON object into a hash map: no order.
        let mut exposed_ports = list(c.exposed_ports());
        exposed_ports.sort();
        exposed_ports.dedup();
        ImageConfig {
            process: ImageDefaults {
                entrypoint: list(c.entrypoint()),
                cmd: list(c.cmd()),
                env: list(c.env()),
                working_dir: nonempty(c.working_dir()),
                user: nonempty(c.user()),
                stop_signal: nonempty(c.stop_signal()),
            },
            exposed_ports,
            diff_ids,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ports::Protocol;

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

    #[test]
    fn docker_nulls_and_empty_values_are_unset() {
        let cfg = ImageConfig::parse(
            br#"{"architecture":"amd64","os":"linux","config":{"Hostname":"","Env":null,
            "Cmd":null,"Entrypoint":null,"ExposedPorts":null,"Volumes":null,"Labels":null,
            "WorkingDir":"","User":"","StopSignal":"","OnBuild":null,"Healthcheck":{"Test":["NONE"]}},
            "rootfs":{"type":"layers","diff_ids":["sha256:aa","sha256:bb"]},
            "history":[{"created":"2024-01-01T00:00:00Z","created_by":"x","empty_layer":true}]}"#,
        )
        .unwrap();
        assert_eq!(
            cfg,
            ImageConfig {
                diff_ids: vec!["sha256:aa".into(), "sha256:bb".into()],
                ..Default::default()
            }
        );
        let cfg = ImageConfig::parse(br#"{"config":{"Env":[],"Cmd":[],"Entrypoint":[]}}"#).unwrap();
        assert_eq!(cfg, ImageConfig::default());
        assert_eq!(cfg.command(), Vec::<String>::new());
    }

    #[test]
    fn what_the_crate_requires_may_be_missing() {
        // No architecture, os or rootfs type; nulls where objects go.
        for json in [
            r#"{}"#,
            r#"{"architecture":null,"os":null,"rootfs":null,"config":null}"#,
            r#"{"rootfs":{"diff_ids":null}}"#,
        ] {
            assert_eq!(
                ImageConfig::parse(json.as_bytes()).unwrap(),
                ImageConfig::default(),
                "{json}"
            );
        }
        let cfg =
            ImageConfig::parse(br#"{"config":{"Cmd":["/x"]},"rootfs":{"diff_ids":["sha256:aa"]}}"#)
                .unwrap();
        assert_eq!(
            (cfg.process.cmd, cfg.diff_ids),
            (vec!["/x".into()], vec!["sha256:aa".into()])
        );
    }

    #[test]
    fn null_map_entries_are_empty_as_in_go() {
        let cfg = ImageConfig::parse(
            br#"{"config":{"ExposedPorts":{"80/tcp":null,"53/udp":{}},"Volumes":{"/d":null},"Labels":{"a":null}}}"#,
        )
        .unwrap();
        assert_eq!(cfg.exposed_ports, ["53/udp", "80/tcp"]);
    }

    #[test]
    fn exposed_ports_keep_a_stable_order() {
        let json = br#"{"config":{"ExposedPorts":{"9000/tcp":{},"80/tcp":{},"53/udp":{},"443/tcp":{},"8080/tcp":{}}}}"#;
        for _ in 0..8 {
            assert_eq!(
                ImageConfig::parse(json).unwrap().exposed_ports,
                ["443/tcp", "53/udp", "80/tcp", "8080/tcp", "9000/tcp"]
            );
        }
    }

    #[test]
    fn malformed_configs_are_refused() {
        for json in [
            "",
            "[",
            r#"{"config":{"Cmd":"/bin/sh"}}"#,
            r#"{"config":{"Env":[1]}}"#,
            r#"{"rootfs":{"diff_ids":"sha256:aa"}}"#,
        ] {
            assert!(ImageConfig::parse(json.as_bytes()).is_err(), "{json}");
        }
    }
}
