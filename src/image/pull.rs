//! Copies one image from a [`Source`] into the [`Store`]: manifest (an
//! index is resolved to the host's platform), config, layers, each verified
//! against its digest before it is stored, each layer unpacked once, and the
//! name recorded last. Transient failures are retried with backoff.

use super::config::ImageConfig;
use super::digest::Digest;
use super::error::StoreError;
use super::manifest::{self, Descriptor, Document, ImageManifest, ManifestError, host_platform};
use super::progress::Progress;
use super::source::{Source, SourceError};
use super::store::{PutError, Store};
use super::unpack::limits::MAX_DOCUMENT;
use std::time::Duration;

/// Attempts per request when the failure is transient (timeouts, refused
/// connections, broken transfers, HTTP 5xx/429).
const ATTEMPTS: u32 = 4;
/// Pause before the first retry; doubled for each next one (0.5, 1, 2 s).
const FIRST_BACKOFF: Duration = Duration::from_millis(500);

/// What a pull stored.
#[derive(Debug, Clone)]
pub struct Pulled {
    pub name: String,
    pub manifest: Digest,
    pub config: ImageConfig,
    pub layers: Vec<Digest>,
    /// Blobs downloaded now (the others were stored already).
    pub fetched: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum PullError {
    #[error("{source_name}: {error}")]
    Source {
        source_name: String,
        error: SourceError,
    },
    #[error(
        "{source_name}: manifest {reference} hashes to {actual}, not {expected}; nothing was stored"
    )]
    ManifestDigest {
        source_name: String,
        reference: String,
        expected: Digest,
        actual: Digest,
    },
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error("index {index} has no image for {os}/{arch} (it has: {available})")]
    NoPlatform {
        index: Digest,
        os: String,
        arch: String,
        available: String,
    },
    #[error("{source_name}: {error}")]
    Store {
        source_name: String,
        error: StoreError,
    },
    #[error("image config {digest}: {error}")]
    Config {
        digest: Digest,
        error: serde_json::Error,
    },
    #[error("invalid digest in manifest: {0}")]
    BadDigest(#[from] super::digest::BadDigest),
    #[error(
        "{source_name}: {what} is {size} bytes, more than the limit of {limit}; nothing was stored"
    )]
    TooBig {
        source_name: String,
        what: String,
        size: u64,
        limit: u64,
    },
}

impl PullError {
    /// The source's answer, when the failure was one.
    pub fn failure(&self) -> Option<&super::source::Failure> {
        match self {
            PullError::Source { error, .. } => Some(&error.kind),
            _ => None,
        }
    }
}

/// Runs `op` up to [`ATTEMPTS`] times while it fails transiently.
fn retry<T>(mut op: impl FnMut() -> Result<T, SourceError>) -> Result<T, SourceError> {
    let mut delay = FIRST_BACKOFF;
    for attempt in 1.. {
        match op() {
            Err(e) if e.kind.is_transient() && attempt < ATTEMPTS => {
                tracing::warn!("{e}; retrying in {delay:?} (attempt {attempt} of {ATTEMPTS})");
                std::thread::sleep(delay);
                delay *= 2;
            }
            other => return other,
        }
    }
    unreachable!("the loop returns on the last attempt")
}

/// Fetches the manifest named by `reference` (tag or digest) and checks it
/// against `expected` when pinned. Returns the bytes and their digest.
fn fetch_manifest(
    src: &mut dyn Source,
    reference: &str,
    expected: Option<&Digest>,
) -> Result<(Vec<u8>, Digest), PullError> {
    let source_name = src.describe();
    let bytes = retry(|| src.manifest(reference)).map_err(|error| PullError::Source {
        source_name: source_name.clone(),
        error,
    })?;
    if bytes.len() as u64 > MAX_DOCUMENT {
        return Err(PullError::TooBig {
            source_name,
            what: format!("manifest {reference}"),
            size: bytes.len() as u64,
            limit: MAX_DOCUMENT,
        });
    }
    let actual = Digest::of(&bytes);
    if let Some(want) = expected
        && want != &actual
    {
        return Err(PullError::ManifestDigest {
            source_name,
            reference: reference.to_string(),
            expected: want.clone(),
            actual,
        });
    }
    Ok((bytes, actual))
}

/// The image manifest a pull of a reference stores, and what led to it.
pub(super) struct Chosen {
    pub(super) image: Box<ImageManifest>,
    pub(super) bytes: Vec<u8>,
    /// What the stored name points to.
    pub(super) digest: Digest,
    /// The indexes it was reached through (bytes and digest), outermost first.
    pub(super) indexes: Vec<(Vec<u8>, Digest)>,
}

/// Fetches the manifest `reference` names (checked against `pinned`) and,
/// while it is an index, the entry for the host's platform (checked against
/// the digest the index gives it). Fetches no blob, stores nothing.
pub(super) fn platform_manifest(
    src: &mut dyn Source,
    reference: &str,
    pinned: Option<&Digest>,
) -> Result<Chosen, PullError> {
    let (mut bytes, mut digest) = fetch_manifest(src, reference, pinned)?;
    let mut indexes = Vec::new();
    loop {
        match Document::parse(&bytes, digest.as_str())? {
            Document::Manifest(image) => {
                return Ok(Chosen {
                    image,
                    bytes,
                    digest,
                    indexes,
                });
            }
            Document::Index(index) => {
                let (os, arch) = host_platform();
                let Some(d) = manifest::select(&index, os, arch) else {
                    return Err(PullError::NoPlatform {
                        index: digest,
                        os: os.into(),
                        arch: arch.into(),
                        available: manifest::platforms(&index),
                    });
                };
                let want = manifest::digest_of(d)?;
                indexes.push((std::mem::take(&mut bytes), digest));
                (bytes, digest) = fetch_manifest(src, want.as_str(), Some(&want))?;
            }
        }
    }
}

/// What a fetched blob is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Blob {
    Config,
    /// A layer: unpacked while it is fetched ([`Store::put_layer_blob`]).
    Layer,
}

/// Stores blob `d` from `src` (verified) unless present. Returns whether it was fetched.
fn fetch_blob(
    store: &Store,
    src: &mut dyn Source,
    d: &Descriptor,
    kind: Blob,
    progress: &dyn Progress,
) -> Result<bool, PullError> {
    let digest = manifest::digest_of(d)?;
    let source_name = src.describe();
    // The declared size bounds what is written (put_blob cuts the rest off).
    let (what, limit) = match kind {
        Blob::Config => ("image config", MAX_DOCUMENT),
        Blob::Layer => ("layer", store.limits().max_bytes),
    };
    let size = d.size();
    if size > limit {
        return Err(PullError::TooBig {
            source_name,
            what: format!("{what} {digest}"),
            size,
            limit,
        });
    }
    let mut bar = progress.start(&digest, size);
    let mut delay = FIRST_BACKOFF;
    for attempt in 1.. {
        let fill = |w: &mut dyn std::io::Write| src.blob(d, w, &mut |n| bar.inc(n));
        let r = match kind {
            Blob::Config => store.put_blob(&digest, Some(size), fill),
            Blob::Layer => store.put_layer_blob(&digest, Some(size), fill),
        };
        match r {
            Ok(fetched) => {
                bar.finish(fetched);
                return Ok(fetched);
            }
            Err(PutError::Fetch(e)) if e.kind.is_transient() && attempt < ATTEMPTS => {
                tracing::warn!("{e}; retrying in {delay:?} (attempt {attempt} of {ATTEMPTS})");
                std::thread::sleep(delay);
                delay *= 2;
            }
            Err(PutError::Fetch(error)) => return Err(PullError::Source { source_name, error }),
            Err(PutError::Store(error)) => return Err(PullError::Store { source_name, error }),
        }
    }
    unreachable!("the loop returns on the last attempt")
}

/// Pulls `reference` (a tag, or a digest when `pinned`) from `src` and
/// stores it as `name`.
pub fn pull(
    store: &Store,
    src: &mut dyn Source,
    reference: &str,
    pinned: Option<&Digest>,
    name: &str,
    progress: &dyn Progress,
) -> Result<Pulled, PullError> {
    let source_name = src.describe();
    let store_err = |error| PullError::Store {
        source_name: source_name.clone(),
        error,
    };
    let Chosen {
        image,
        bytes,
        digest,
        indexes,
    } = platform_manifest(src, reference, pinned)?;
    let mut fetched = 0;
    fetched += usize::from(fetch_blob(
        store,
        src,
        image.config(),
        Blob::Config,
        progress,
    )?);
    let config_digest = manifest::digest_of(image.config())?;
    let config_bytes = store.read_blob(&config_digest).map_err(store_err)?;
    let config = ImageConfig::parse(&config_bytes).map_err(|error| PullError::Config {
        digest: config_digest.clone(),
        error,
    })?;
    let mut layers = Vec::new();
    for l in image.layers() {
        fetched += usize::from(fetch_blob(store, src, l, Blob::Layer, progress)?);
        let d = manifest::digest_of(l)?;
        store.ensure_layer(&d).map_err(store_err)?;
        layers.push(d);
    }
    // The manifests last: a stored manifest means its blobs and layers are.
    for (b, d) in indexes
        .iter()
        .chain(std::iter::once(&(bytes.clone(), digest.clone())))
    {
        store
            .put_blob(d, None, |w| w.write_all(b))
            .map_err(|e| match e {
                PutError::Fetch(error) | PutError::Store(StoreError::Io { source: error, .. }) => {
                    store_err(StoreError::Io {
                        path: store.blob_path(d),
                        source: error,
                    })
                }
                PutError::Store(error) => store_err(error),
            })?;
    }
    store
        .set_ref(name, &digest, bytes.len() as u64)
        .map_err(store_err)?;
    Ok(Pulled {
        name: name.to_string(),
        manifest: digest,
        config,
        layers,
        fetched,
    })
}
