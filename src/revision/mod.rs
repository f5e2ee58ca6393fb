//! A pod's revisions: every apply that changes what a pod runs (its file,
//! or the digest a tag resolves to) is stored as a numbered revision, the
//! file's text and every image pinned to its digest, in
//! `/var/lib/podctl/revisions/POD/` ([`crate::layout::Layout::revisions`],
//! 0700, files 0600). The newest revision is what the pod runs: its pins
//! decide which stored manifest each image reference means, at apply, in
//! the supervisor and at boot ([`crate::image::facts::stored`]).
//! `podctl rollback` and a failed auto-update add a revision with an older
//! one's contents; the last `revision_history` are kept, and the image
//! store keeps their images ([`pinned_manifests`]).

mod bad;
mod store;
#[cfg(test)]
mod tests;

pub use bad::Bad;
pub use store::{Revisions, pinned_manifests};

use crate::image::facts::Pins;
use serde::{Deserialize, Serialize};

/// What made a revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Cause {
    /// `podctl apply`.
    Apply,
    /// `podctl auto-update` moved tags to new digests.
    AutoUpdate,
    /// Back to revision `to`'s contents: `podctl rollback`, or an update
    /// that failed (`why`).
    Rollback {
        to: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        why: Option<String>,
    },
}

impl Cause {
    /// One line, as `podctl history` prints it.
    pub fn describe(&self) -> String {
        match self {
            Cause::Apply => "apply".into(),
            Cause::AutoUpdate => "auto-update".into(),
            Cause::Rollback { to, why: None } => format!("rollback to {to}"),
            Cause::Rollback { to, why: Some(w) } => format!("rollback to {to}: {w}"),
        }
    }
}

/// One stored revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revision {
    /// 1 for a pod's first, one more for each after (never reused).
    pub number: u64,
    /// Unix seconds.
    pub created: u64,
    pub cause: Cause,
    /// The pod file as stored (`/etc/podctl/pods/POD.toml`).
    pub text: String,
    /// Every image reference of the pod and the manifest it means.
    pub images: Pins,
    /// An auto-update not yet proven (its containers ready and running
    /// through `update_deadline`): the next `auto-update` gates it again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pending: bool,
}

impl Revision {
    /// Whether it runs the same as `text` with `images`.
    pub fn same(&self, text: &str, images: &Pins) -> bool {
        self.text == text && &self.images == images
    }
}

/// Why revisions could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum RevisionError {
    #[error("pod {pod}: cannot {what} {}: {source}", path.display())]
    Io {
        pod: String,
        what: &'static str,
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("pod {pod}: revision file {} is damaged: {why}", path.display())]
    Damaged {
        pod: String,
        path: std::path::PathBuf,
        why: String,
    },
    #[error("pod {pod} has no revision {number} (podctl history {pod} lists them)")]
    NoSuch { pod: String, number: u64 },
    #[error("pod {pod} has no earlier revision to roll back to")]
    NoEarlier { pod: String },
}
