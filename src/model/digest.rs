//! Content digests, `sha256:HEX`: how an image reference pins an image,
//! and how the image store names what it holds. Pure.

use sha2::{Digest as _, Sha256};
use std::fmt;

/// A validated `sha256:` digest (the only algorithm registries use in practice).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest(String);

/// Why a digest string is not one.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid digest {0:?}: expected sha256: and 64 lowercase hex digits")]
pub struct BadDigest(pub String);

impl Digest {
    /// Parses `sha256:` + 64 lowercase hex digits.
    pub fn parse(s: &str) -> Result<Digest, BadDigest> {
        match s.strip_prefix("sha256:") {
            Some(hex)
                if hex.len() == 64
                    && hex
                        .bytes()
                        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) =>
            {
                Ok(Digest(s.to_string()))
            }
            _ => Err(BadDigest(s.to_string())),
        }
    }

    /// The digest of `data`.
    pub fn of(data: &[u8]) -> Digest {
        Digest::from_sha256(&Sha256::digest(data))
    }

    /// The digest whose SHA-256 hash is `hash` (32 bytes).
    pub fn from_sha256(hash: &[u8]) -> Digest {
        Digest(format!("sha256:{}", hex::encode(hash)))
    }

    /// The hex part: the file name under `blobs/sha256/`.
    pub fn hex(&self) -> &str {
        &self.0["sha256:".len()..]
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first 12 hex digits, as `podctl images` shows them.
    pub fn short(&self) -> &str {
        &self.hex()[..12]
    }
}

impl From<&Digest> for oci_spec::image::Digest {
    /// For a descriptor (the crate's digest accepts every `sha256:` one).
    fn from(d: &Digest) -> Self {
        d.0.parse()
            .expect("sha256: and 64 lowercase hex digits is an OCI digest")
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
