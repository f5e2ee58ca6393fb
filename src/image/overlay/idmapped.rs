//! An image root's layers in a pod's user namespace: each attached
//! idmapped under the container's directory while its overlay is mounted
//! (overlayfs keeps clones of them), then detached.

use super::{Mounter, RootError, private_dir};
use crate::model::IdMap;
use crate::mount::IdmapError;
use std::path::{Path, PathBuf};

/// The directory under a container's that holds its idmapped layers while
/// its overlay is mounted.
pub const LOWER: &str = "lower";

/// The file under a container's directory naming the stored layers its
/// overlay stacks (one path a line): the mount table names only the attach
/// points under [`LOWER`] ([`crate::image::mounted`] reads it).
pub const LAYER_LIST: &str = "layers";

/// Detaches the idmapped layers an interrupted start left in `container_dir`
/// ([`super::container_dir`]), before anything there is removed.
pub fn detach_layers(container_dir: &Path, m: &dyn Mounter) {
    release(&container_dir.join(LOWER), m);
}

/// Detaches every attachment in `dir`, then removes the attach points and
/// `dir` if they are empty (one still mounted is not).
fn release(dir: &Path, m: &dyn Mounter) {
    crate::mount::detach_entries(dir, m);
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let _ = std::fs::remove_dir(e.path());
    }
    let _ = std::fs::remove_dir(dir);
}

/// Image layers attached idmapped at `CONTAINER_DIR/lower/INDEX` (lowest
/// first, as the layers), for an overlay to be mounted of; detached, and
/// the attach points removed, when dropped.
pub(super) struct IdmappedLayers<'a> {
    dir: PathBuf,
    /// The attach points, in the order of the layers.
    pub(super) points: Vec<PathBuf>,
    m: &'a dyn Mounter,
}

impl<'a> IdmappedLayers<'a> {
    /// Attaches `layers` of `image` idmapped with `map` under
    /// `container_dir` ([`super::container_dir`]).
    pub(super) fn attach(
        image: &str,
        layers: &[PathBuf],
        container_dir: &Path,
        map: IdMap,
        m: &'a dyn Mounter,
    ) -> Result<IdmappedLayers<'a>, RootError> {
        let dir = &container_dir.join(LOWER);
        private_dir(dir)?;
        let mut attached = IdmappedLayers {
            dir: dir.to_path_buf(),
            points: Vec::with_capacity(layers.len()),
            m,
        };
        for (i, layer) in layers.iter().enumerate() {
            let at = dir.join(i.to_string());
            private_dir(&at)?;
            m.idmapped_bind(layer, &at, map)
                .map_err(|e| RootError::Idmap {
                    image: image.to_string(),
                    source: IdmapError::new(layer, &at, e),
                })?;
            attached.points.push(at);
        }
        Ok(attached)
    }
}

impl Drop for IdmappedLayers<'_> {
    fn drop(&mut self) {
        release(&self.dir, self.m);
    }
}
