//! The OCI (and Docker schema 2) manifest and index documents, parsed from
//! their exact bytes (the bytes are what the digest covers and what is stored).

use super::digest::Digest;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// Every manifest type podctl accepts, for the registry's `Accept` header.
pub const ACCEPTED: &[&str] = &[OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST];
/// The annotation that names a manifest in an OCI layout's index.json.
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";

/// A content descriptor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    #[serde(default)]
    pub media_type: String,
    pub digest: String,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Platform {
    pub architecture: String,
    pub os: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

/// An image manifest or an index, told apart by `mediaType` or by shape.
#[derive(Debug, Clone)]
pub enum Document {
    Manifest(Manifest),
    Index(Index),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    pub config: Descriptor,
    pub layers: Vec<Descriptor>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Index {
    pub schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    pub manifests: Vec<Descriptor>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Probe {
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    manifests: Option<serde_json::Value>,
}

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("manifest {digest}: {source}")]
    Json {
        digest: String,
        source: serde_json::Error,
    },
    #[error("manifest {digest}: unsupported media type {media_type:?}")]
    MediaType { digest: String, media_type: String },
    #[error("manifest {digest}: {what} has invalid digest {value:?}")]
    BadDigest {
        digest: String,
        what: String,
        value: String,
    },
}

impl Document {
    /// Parses `bytes` (whose digest is `digest`, for messages).
    pub fn parse(bytes: &[u8], digest: &str) -> Result<Document, ManifestError> {
        let json = |source| ManifestError::Json {
            digest: digest.to_string(),
            source,
        };
        let probe: Probe = serde_json::from_slice(bytes).map_err(json)?;
        let is_index = match probe.media_type.as_deref() {
            Some(OCI_INDEX | DOCKER_LIST) => true,
            Some(OCI_MANIFEST | DOCKER_MANIFEST) => false,
            None => probe.manifests.is_some(),
            Some(other) => {
                return Err(ManifestError::MediaType {
                    digest: digest.to_string(),
                    media_type: other.to_string(),
                });
            }
        };
        if is_index {
            Ok(Document::Index(
                serde_json::from_slice(bytes).map_err(json)?,
            ))
        } else {
            let m: Manifest = serde_json::from_slice(bytes).map_err(json)?;
            for (what, d) in
                std::iter::once(("config", &m.config)).chain(m.layers.iter().map(|l| ("layer", l)))
            {
                Digest::parse(&d.digest).map_err(|_| ManifestError::BadDigest {
                    digest: digest.to_string(),
                    what: what.to_string(),
                    value: d.digest.clone(),
                })?;
            }
            Ok(Document::Manifest(m))
        }
    }
}

/// The Go names of this host's platform (`linux`, `amd64`).
pub fn host_platform() -> (&'static str, &'static str) {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    };
    ("linux", arch)
}

impl Index {
    /// The manifest for `(os, arch)`, or the only one when none says its platform.
    pub fn select(&self, os: &str, arch: &str) -> Option<&Descriptor> {
        self.manifests
            .iter()
            .find(|d| {
                d.platform
                    .as_ref()
                    .is_some_and(|p| p.os == os && p.architecture == arch)
            })
            .or_else(|| match self.manifests.as_slice() {
                [one] if one.platform.is_none() => Some(one),
                _ => None,
            })
    }
}
