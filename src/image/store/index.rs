//! The store's names: `index.json`, naming the manifests that are complete
//! in the store (each by its `org.opencontainers.image.ref.name`).

use super::{Store, StoreError};
use crate::image::digest::Digest;
use crate::image::manifest::{Descriptor, Index, OCI_MANIFEST, REF_NAME};
use std::fs;
use std::io;

impl Store {
    /// The stored names and their manifests (`index.json`).
    pub fn index(&self) -> Result<Index, StoreError> {
        let p = self.root.join("index.json");
        match fs::read(&p) {
            Ok(b) => {
                serde_json::from_slice(&b).map_err(|source| StoreError::Json { path: p, source })
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Index {
                schema_version: 2,
                ..Default::default()
            }),
            Err(source) => Err(StoreError::Io { path: p, source }),
        }
    }

    fn write_index(&self, index: &Index) -> Result<(), StoreError> {
        let p = self.root.join("index.json");
        let bytes = serde_json::to_vec_pretty(index).map_err(|source| StoreError::Json {
            path: p.clone(),
            source,
        })?;
        self.write_atomic(&p, &bytes)
    }

    /// Points `name` at `manifest` (replacing what it named before).
    pub fn set_ref(&self, name: &str, manifest: &Digest, size: u64) -> Result<(), StoreError> {
        let _lock = self.lock("index")?;
        let mut index = self.index()?;
        index
            .manifests
            .retain(|d| d.annotations.get(REF_NAME).map(String::as_str) != Some(name));
        let mut d = Descriptor {
            media_type: OCI_MANIFEST.into(),
            digest: manifest.to_string(),
            size,
            platform: None,
            annotations: Default::default(),
        };
        d.annotations.insert(REF_NAME.into(), name.into());
        index.manifests.push(d);
        index
            .manifests
            .sort_by(|a, b| a.annotations.cmp(&b.annotations));
        self.write_index(&index)
    }

    /// Removes `name`; returns the manifest it named, if any.
    pub fn remove_ref(&self, name: &str) -> Result<Option<Digest>, StoreError> {
        let _lock = self.lock("index")?;
        let mut index = self.index()?;
        let pos = index
            .manifests
            .iter()
            .position(|d| d.annotations.get(REF_NAME).map(String::as_str) == Some(name));
        let Some(pos) = pos else { return Ok(None) };
        let d = index.manifests.remove(pos);
        self.write_index(&index)?;
        Ok(Digest::parse(&d.digest).ok())
    }

    /// `(name, manifest digest)` for every stored name.
    pub fn refs(&self) -> Result<Vec<(String, Digest)>, StoreError> {
        Ok(self
            .index()?
            .manifests
            .into_iter()
            .filter_map(|d| {
                let name = d.annotations.get(REF_NAME)?.clone();
                Some((name, Digest::parse(&d.digest).ok()?))
            })
            .collect())
    }
}
