//! The store's names: `index.json`, naming the manifests that are complete
//! in the store (each by its `org.opencontainers.image.ref.name`).

use super::Store;
use crate::image::digest::Digest;
use crate::image::error::StoreError;
use crate::image::manifest::{self, Descriptor, ImageIndex, MediaType, REF_NAME, ref_name};
use std::fs;
use std::io;

impl Store {
    /// The stored names and their manifests (`index.json`).
    pub fn index(&self) -> Result<ImageIndex, StoreError> {
        let p = self.root.join("index.json");
        match fs::read(&p) {
            Ok(b) => {
                manifest::parse_index(&b).map_err(|source| StoreError::Json { path: p, source })
            }
            // schemaVersion 2, no manifests.
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(ImageIndex::default()),
            Err(source) => Err(StoreError::Io { path: p, source }),
        }
    }

    fn write_index(&self, index: &ImageIndex) -> Result<(), StoreError> {
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
        let mut manifests = index.manifests().clone();
        manifests.retain(|d| ref_name(d) != Some(name));
        let mut d = Descriptor::new(MediaType::ImageManifest, size, manifest);
        d.set_annotations(Some([(REF_NAME.to_string(), name.to_string())].into()));
        manifests.push(d);
        manifests.sort_by(|a, b| ref_name(a).cmp(&ref_name(b)));
        index.set_manifests(manifests);
        self.write_index(&index)
    }

    /// Removes `name`; returns the manifest it named, if any.
    pub fn remove_ref(&self, name: &str) -> Result<Option<Digest>, StoreError> {
        let _lock = self.lock("index")?;
        let mut index = self.index()?;
        let mut manifests = index.manifests().clone();
        let pos = manifests.iter().position(|d| ref_name(d) == Some(name));
        let Some(pos) = pos else { return Ok(None) };
        let d = manifests.remove(pos);
        index.set_manifests(manifests);
        self.write_index(&index)?;
        Ok(manifest::digest_of(&d).ok())
    }

    /// `(name, manifest digest)` for every stored name.
    pub fn refs(&self) -> Result<Vec<(String, Digest)>, StoreError> {
        Ok(self
            .index()?
            .manifests()
            .iter()
            .filter_map(|d| {
                let name = ref_name(d)?.to_string();
                Some((name, manifest::digest_of(d).ok()?))
            })
            .collect())
    }
}
