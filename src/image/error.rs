//! The image store's errors: what [`super::store`] returns, and what
//! [`super::fs_hint`] makes of a filesystem's refusal (both use it; neither
//! is the other's).

use super::digest::Digest;
use std::io;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error(
        "blob {digest} is corrupt: its content hashes to {actual} ({size} bytes); nothing was stored"
    )]
    Mismatch {
        digest: Digest,
        actual: Digest,
        size: u64,
    },
    #[error(
        "blob {digest} is truncated or too long: {got} bytes, the manifest says {want}; nothing was stored"
    )]
    Size { digest: Digest, got: u64, want: u64 },
    #[error("{path}: {source}")]
    Json {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("layer limits: {0}")]
    Limit(#[from] super::unpack::limits::BadLimit),
    #[error("unpacking layer {digest}: {source}")]
    Unpack {
        digest: Digest,
        source: Box<super::unpack::UnpackError>,
    },
    #[error(
        "unpacking layer {digest}: {cause}: the image store {} is on overlayfs, which cannot hold a layer's whiteouts and device files; put it on another filesystem (ext4, xfs, btrfs, tmpfs): mount one there, or set PODCTL_STORAGE=DIR to a directory on one",
        root.display()
    )]
    // The causes are in the messages, before what to do (not sources,
    // which would be said again after it).
    UnpackOnOverlay {
        digest: Digest,
        cause: Box<super::unpack::UnpackError>,
        root: PathBuf,
    },
    #[error("the user's image store: {0}")]
    Ids(#[from] Box<crate::ids::IdsError>),
    /// The user's namespace helper failed (not the layer: that is `Unpack`).
    #[error("the user's image store {}: {source}", root.display())]
    Userns {
        root: PathBuf,
        source: Box<super::userns::UsernsError>,
    },
    #[error("{}: {cause}; {hint}", path.display())]
    Open {
        path: PathBuf,
        cause: io::Error,
        hint: &'static str,
    },
}

pub(super) fn io_err(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}
