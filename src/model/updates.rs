//! How a pod's images change over time: when apply pulls a tag, which
//! containers `podctl auto-update` moves to a tag's new digest, how long an
//! update has to prove itself, and how many revisions are kept.
//! None of it is part of a plan: changing it restarts nothing.

use serde::{Deserialize, Serialize};

/// Revisions kept per pod unless `revision_history` says otherwise.
pub const DEFAULT_REVISION_HISTORY: u32 = 10;
/// The most revisions a pod may keep.
pub const MAX_REVISION_HISTORY: u32 = 1000;

/// When `podctl apply` asks the registry for a container's tag
/// (`pull = ...`; Kubernetes' `imagePullPolicy`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PullPolicy {
    /// The digest the pod runs is kept; a tag not stored is pulled
    /// (`IfNotPresent`).
    #[default]
    Missing,
    /// Every apply resolves the tag again; a new digest restarts the
    /// container (`Always`).
    Always,
    /// Never pulled: an image not stored is an error at apply (`Never`).
    Never,
}

impl PullPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            PullPolicy::Missing => "missing",
            PullPolicy::Always => "always",
            PullPolicy::Never => "never",
        }
    }
}

/// A container's image settings over time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageUpdates {
    pub pull: PullPolicy,
    /// `auto_update = "registry"` (its own, or the pod's): `podctl
    /// auto-update` moves it to its tag's new digest.
    pub auto_update: bool,
}

/// A pod's settings over time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodUpdates {
    /// How long an updated container has to become ready and stay so
    /// (`update_deadline`); `None`: the pod's `start_timeout`.
    pub deadline_ms: Option<u64>,
    /// Revisions kept (`revision_history`), at least 1.
    pub history: u32,
}

impl Default for PodUpdates {
    fn default() -> Self {
        PodUpdates {
            deadline_ms: None,
            history: DEFAULT_REVISION_HISTORY,
        }
    }
}
