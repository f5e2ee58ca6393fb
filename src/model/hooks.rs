//! A container's lifecycle hooks (Kubernetes' `lifecycle.postStart` and
//! `lifecycle.preStop`): what runs right after its command starts, and
//! what runs before its stop signal.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Which hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Hook {
    /// Right after the command started; the container is neither started
    /// (for `after`) nor ready until it has ended, and a failure kills it.
    PostStart,
    /// Before the stop signal, within the stop timeout.
    PreStop,
}

impl Hook {
    /// Its key in the pod file, as messages and events name it.
    pub fn key(self) -> &'static str {
        match self {
            Hook::PostStart => "post_start",
            Hook::PreStop => "pre_stop",
        }
    }
}

/// What a hook does (Kubernetes' LifecycleHandler).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Handler {
    /// Run this command in the container (as an exec probe); exit 0 passes.
    Exec(Vec<String>),
    /// GET this http:// URL in the pod's network namespace (as an http
    /// probe, with these headers); 2xx/3xx passes.
    Http {
        url: String,
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        headers: BTreeMap<String, String>,
    },
    /// Wait this many milliseconds; always passes.
    Sleep(u64),
}

/// A container's hooks; either may be absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hooks {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_start: Option<Handler>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pre_stop: Option<Handler>,
}

impl Hooks {
    pub fn is_empty(&self) -> bool {
        self.post_start.is_none() && self.pre_stop.is_none()
    }

    pub fn get(&self, hook: Hook) -> Option<&Handler> {
        match hook {
            Hook::PostStart => self.post_start.as_ref(),
            Hook::PreStop => self.pre_stop.as_ref(),
        }
    }
}
