//! What the store holds, for `podctl images`, `rmi` and `image prune`:
//! names with their manifest, config and size; removal of names; garbage
//! collection of blobs and layers no stored name reaches.

use super::config::ImageConfig;
use super::digest::Digest;
use super::error::StoreError;
use super::manifest::{self, Document, ImageManifest};
use super::store::Store;
use serde::Serialize;
use std::collections::BTreeSet;
use std::fs;

/// One stored image name.
#[derive(Debug, Clone, Serialize)]
pub struct ImageInfo {
    pub reference: String,
    pub digest: String,
    /// Compressed size: config plus layers.
    pub size: u64,
    pub layers: Vec<String>,
    pub config: ImageConfig,
    /// Pods whose definitions use this image.
    pub used_by: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("stored manifest {digest}: {why}")]
    Broken { digest: Digest, why: String },
}

/// The manifest stored as `d`.
pub fn manifest(store: &Store, d: &Digest) -> Result<ImageManifest, CatalogError> {
    let bytes = store.read_blob(d)?;
    match Document::parse(&bytes, d.as_str()) {
        Ok(Document::Manifest(m)) => Ok(*m),
        Ok(Document::Index(_)) => Err(CatalogError::Broken {
            digest: d.clone(),
            why: "is an index, not an image manifest".into(),
        }),
        Err(e) => Err(CatalogError::Broken {
            digest: d.clone(),
            why: e.to_string(),
        }),
    }
}

/// Every stored name, sorted.
pub fn list(store: &Store) -> Result<Vec<ImageInfo>, CatalogError> {
    let mut out = Vec::new();
    for (name, d) in store.refs()? {
        let m = manifest(store, &d)?;
        let cd = manifest::digest_of(m.config()).map_err(|e| CatalogError::Broken {
            digest: d.clone(),
            why: e.to_string(),
        })?;
        let config =
            ImageConfig::parse(&store.read_blob(&cd)?).map_err(|e| CatalogError::Broken {
                digest: d.clone(),
                why: format!("config {cd}: {e}"),
            })?;
        out.push(ImageInfo {
            reference: name,
            digest: d.to_string(),
            size: m.config().size() + m.layers().iter().map(|l| l.size()).sum::<u64>(),
            layers: m.layers().iter().map(|l| l.digest().to_string()).collect(),
            config,
            used_by: Vec::new(),
        });
    }
    out.sort_by(|a, b| a.reference.cmp(&b.reference));
    Ok(out)
}

/// The layer directories of the image stored as manifest `d`, lowest first.
pub fn layer_dirs(store: &Store, d: &Digest) -> Result<Vec<std::path::PathBuf>, CatalogError> {
    let m = manifest(store, d)?;
    m.layers()
        .iter()
        .map(|l| {
            let ld = manifest::digest_of(l).map_err(|e| CatalogError::Broken {
                digest: d.clone(),
                why: e.to_string(),
            })?;
            Ok(store.layer_path(&ld))
        })
        .collect()
}

/// What a garbage collection removed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Collected {
    pub blobs: usize,
    pub layers: usize,
    pub bytes: u64,
    /// Layers no name reaches that a mounted image root still stacks:
    /// kept (with their blobs) until a later collection.
    pub kept_mounted: usize,
}

/// Removes every blob and unpacked layer no stored name and no manifest of
/// `pinned` (the pods' kept revisions, [`crate::revision::pinned_manifests`])
/// reaches, except the layers of a mounted image root (a running container
/// whose image was renamed, replaced or removed keeps its files). Waits for
/// running pulls (they hold the `gc` lock shared).
pub fn collect(store: &Store, pinned: &[String]) -> Result<Collected, CatalogError> {
    let _gc = store.lock("gc")?;
    let mut keep = BTreeSet::new();
    let mut c = Collected::default();
    let mounted = super::mounted::layers(store);
    let pinned = pinned
        .iter()
        .filter_map(|d| Digest::parse(d).ok())
        .filter(|d| store.has_blob(d));
    let named = store.refs()?.into_iter().map(|(_, d)| d);
    for d in named.chain(pinned) {
        let m = manifest(store, &d)?;
        keep.insert(d.hex().to_string());
        for b in std::iter::once(m.config()).chain(m.layers()) {
            let hex = b.digest().as_ref().trim_start_matches("sha256:");
            keep.insert(hex.to_string());
        }
    }
    for hex in mounted.layers {
        if keep.insert(hex) {
            c.kept_mounted += 1;
        }
    }
    let blobs = store.root().join("blobs/sha256");
    let io = |path: &std::path::Path| {
        let path = path.to_path_buf();
        move |source| StoreError::Io { path, source }
    };
    for e in fs::read_dir(&blobs).map_err(io(&blobs))?.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !keep.contains(&name) {
            c.bytes += e.metadata().map(|m| m.len()).unwrap_or(0);
            fs::remove_file(e.path()).map_err(io(&e.path()))?;
            c.blobs += 1;
        }
    }
    let layers = store.root().join("layers");
    let mut gone = Vec::new();
    for e in fs::read_dir(&layers).map_err(io(&layers))?.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if mounted.unknown && !keep.contains(&name) {
            // A root stacks layers named by descriptors: which is unknown.
            c.kept_mounted += 1;
            continue;
        }
        if !keep.contains(&name) {
            gone.push(e.path());
        }
    }
    // At once: a user's store removes them through one helper.
    store.remove_all(&gone)?;
    c.layers = gone.len();
    Ok(c)
}
