//! The OCI (and Docker schema 2) manifest and index documents, parsed from
//! their exact bytes (the bytes are what the digest covers and what is
//! stored) into the `oci-spec` crate's types: the same types the runtime
//! side uses, kept up with the image spec (subject, artifactType, data),
//! instead of a second copy of the spec in this crate.
//!
//! What comes in is hostile until checked: the caller bounds the size
//! ([`super::unpack::limits::MAX_DOCUMENT`]) before anything is parsed; the
//! document's media type must be one of [`ACCEPTED`]; the config and layer
//! digests must be `sha256:` digests ([`Digest::parse`]) before the crate
//! sees them. What the crate requires but podctl (like Podman) has always
//! accepted missing stays accepted: a descriptor's `mediaType` and a
//! manifest's `schemaVersion`.

use super::digest::Digest;
pub use oci_spec::image::{Descriptor, ImageIndex, ImageManifest, MediaType, Platform};
use serde_json::Value;

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// Every manifest type podctl accepts, for the registry's `Accept` header.
pub const ACCEPTED: &[&str] = &[OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST];
/// The annotation that names a manifest in an OCI layout's index.json.
pub const REF_NAME: &str = oci_spec::image::ANNOTATION_REF_NAME;

/// An image manifest or an index, told apart by `mediaType` or by shape.
#[derive(Debug, Clone)]
pub enum Document {
    Manifest(Box<ImageManifest>),
    Index(Box<ImageIndex>),
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
        let mut v: Value = serde_json::from_slice(bytes).map_err(json)?;
        // A mediaType that is not a string fails the typed parse below.
        let is_index = match v.get("mediaType").and_then(Value::as_str) {
            Some(OCI_INDEX | DOCKER_LIST) => true,
            Some(OCI_MANIFEST | DOCKER_MANIFEST) => false,
            None => v.get("manifests").is_some_and(|m| !m.is_null()),
            Some(other) => {
                return Err(ManifestError::MediaType {
                    digest: digest.to_string(),
                    media_type: other.to_string(),
                });
            }
        };
        if is_index {
            return index_from_value(v)
                .map(|i| Document::Index(Box::new(i)))
                .map_err(json);
        }
        let layers = v.get("layers").and_then(Value::as_array);
        let descriptors = std::iter::once(("config", v.get("config")))
            .chain(layers.into_iter().flatten().map(|l| ("layer", Some(l))));
        for (what, d) in descriptors {
            // A missing or non-string digest fails the typed parse below.
            let Some(value) = d.and_then(|d| d.get("digest")).and_then(Value::as_str) else {
                continue;
            };
            Digest::parse(value).map_err(|_| ManifestError::BadDigest {
                digest: digest.to_string(),
                what: what.to_string(),
                value: value.to_string(),
            })?;
        }
        if let Some(m) = v.as_object_mut() {
            m.entry("schemaVersion").or_insert(2.into());
            if let Some(c) = m.get_mut("config") {
                fill_media_type(c);
            }
            if let Some(Value::Array(ls)) = m.get_mut("layers") {
                ls.iter_mut().for_each(fill_media_type);
            }
        }
        let m: ImageManifest = serde_json::from_value(v).map_err(json)?;
        Ok(Document::Manifest(Box::new(m)))
    }
}

/// An index (or an OCI layout's index.json) from its bytes.
pub fn parse_index(bytes: &[u8]) -> Result<ImageIndex, serde_json::Error> {
    index_from_value(serde_json::from_slice(bytes)?)
}

fn index_from_value(mut v: Value) -> Result<ImageIndex, serde_json::Error> {
    if let Some(Value::Array(ms)) = v.get_mut("manifests") {
        ms.iter_mut().for_each(fill_media_type);
    }
    serde_json::from_value(v)
}

/// A descriptor without `mediaType` gets an empty one.
fn fill_media_type(d: &mut Value) {
    if let Some(d) = d.as_object_mut() {
        d.entry("mediaType").or_insert_with(|| "".into());
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

/// The manifest of `index` for `(os, arch)`, or the only one when none
/// says its platform.
pub fn select<'a>(index: &'a ImageIndex, os: &str, arch: &str) -> Option<&'a Descriptor> {
    let ms = index.manifests();
    ms.iter()
        .find(|d| {
            d.platform()
                .as_ref()
                .is_some_and(|p| p.os().to_string() == os && p.architecture().to_string() == arch)
        })
        .or_else(|| match ms.as_slice() {
            [one] if one.platform().is_none() => Some(one),
            _ => None,
        })
}

/// `os/arch` of each entry of `index` that says its platform, for messages.
pub fn platforms(index: &ImageIndex) -> String {
    let v: Vec<String> = index
        .manifests()
        .iter()
        .filter_map(|d| d.platform().as_ref())
        .map(|p| format!("{}/{}", p.os(), p.architecture()))
        .collect();
    if v.is_empty() {
        "no platforms listed".into()
    } else {
        v.join(", ")
    }
}

/// The name `d` has in an index (its `org.opencontainers.image.ref.name`).
pub fn ref_name(d: &Descriptor) -> Option<&str> {
    d.annotations().as_ref()?.get(REF_NAME).map(String::as_str)
}

/// `d`'s digest as podctl's validated type (sha256 only).
pub fn digest_of(d: &Descriptor) -> Result<Digest, super::digest::BadDigest> {
    Digest::parse(d.digest().as_ref())
}
