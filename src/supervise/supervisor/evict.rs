//! Eviction: a scratch volume on disk with a `limit` (Kubernetes' emptyDir
//! `sizeLimit`) is measured every [`USAGE_INTERVAL`] while the pod runs;
//! once it holds more, the pod is evicted, as the kubelet evicts it: every
//! container is stopped in order, the phase becomes `evicted` with the
//! reason in the state file (`podctl status`), an `evicted` event is logged
//! for each container that mounts the volume (`podctl events`), and the
//! supervisor ends as a finished pod does (not restarted).

use super::{PodPhase, Supervisor, SupervisorError};
use crate::model::{ScratchVolume, VolumeSource};
use crate::spec::size::format_size;
use std::path::Path;
use std::time::{Duration, Instant};

/// How often the volumes are measured (the kubelet's housekeeping period).
#[cfg(not(test))]
pub const USAGE_INTERVAL: Duration = Duration::from_secs(10);
#[cfg(test)]
pub const USAGE_INTERVAL: Duration = Duration::from_millis(50);

/// Measures a volume: bytes allocated under a directory.
pub trait VolumeUsage {
    fn bytes(&self, dir: &Path) -> std::io::Result<u64>;
}

/// The host's: [`crate::oci::tree::usage`] (no link followed, bounded).
pub struct TreeUsage;

impl VolumeUsage for TreeUsage {
    fn bytes(&self, dir: &Path) -> std::io::Result<u64> {
        crate::oci::tree::usage(dir).map(|(bytes, _)| bytes)
    }
}

/// A volume found past its limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Eviction {
    pub volume: String,
    pub used: u64,
    pub limit: u64,
}

impl Eviction {
    /// What status and the events say.
    pub fn reason(&self) -> String {
        format!(
            "scratch volume {} holds {}, over its limit of {}",
            self.volume,
            format_size(self.used),
            format_size(self.limit)
        )
    }
}

/// The first of `measured` (volume, bytes) past its volume's limit (pure).
pub(super) fn over_limit(
    scratch: &[ScratchVolume],
    measured: &[(String, u64)],
) -> Option<Eviction> {
    measured.iter().find_map(|(name, used)| {
        let limit = scratch.iter().find(|s| &s.name == name)?.limit?;
        (*used > limit).then(|| Eviction {
            volume: name.clone(),
            used: *used,
            limit,
        })
    })
}

impl Supervisor<'_> {
    /// Measures the volumes with a limit the pod's containers mount when it
    /// is time; an eviction when one is past it.
    pub(super) fn measure_volumes(&mut self) -> Option<Eviction> {
        let limited: Vec<&ScratchVolume> = self
            .plan
            .scratch
            .iter()
            .filter(|s| s.size.is_none() && s.limit.is_some())
            .collect();
        if limited.is_empty() {
            self.usage_due = None;
            return None;
        }
        let now = Instant::now();
        match self.usage_due {
            Some(due) if due > now => return None,
            // The first measure one interval after the start.
            None => {
                self.usage_due = Some(now + USAGE_INTERVAL);
                return None;
            }
            Some(_) => self.usage_due = Some(now + USAGE_INTERVAL),
        }
        let dir = self.paths.oci().scratch(&self.plan.pod);
        let measured: Vec<(String, u64)> = limited
            .iter()
            .filter_map(|s| match self.usage.bytes(&dir.join(&s.name)) {
                Ok(b) => Some((s.name.clone(), b)),
                Err(e) => {
                    tracing::warn!("cannot measure scratch volume {}: {e}", s.name);
                    None
                }
            })
            .collect();
        over_limit(&self.plan.scratch, &measured)
    }

    /// Evicts the pod: stops it, says why, and ends.
    pub(super) fn evict(&mut self, e: Eviction) -> Result<(), SupervisorError> {
        let reason = e.reason();
        tracing::warn!("pod {} evicted: {reason}", self.plan.pod);
        let mounts = |c: &crate::plan::ContainerPlan| {
            c.volumes
                .iter()
                .any(|v| v.source == VolumeSource::Scratch(e.volume.clone()))
        };
        for c in self.plan.containers.iter().filter(|c| mounts(c)) {
            crate::supervise::events::emit(
                &self.paths.host,
                &self.plan.pod,
                &c.name,
                crate::supervise::events::Event::Evicted,
                &reason,
            );
        }
        self.stop_containers();
        self.phase = PodPhase::Evicted;
        self.reason = Some(reason.clone());
        self.save();
        self.stop_sandbox();
        self.kill_leftovers();
        Err(SupervisorError::Evicted(reason))
    }
}

impl<'m> Supervisor<'m> {
    /// Measures volumes through `usage` (tests: a fake).
    pub fn with_usage(mut self, usage: &'m dyn VolumeUsage) -> Self {
        self.usage = usage;
        self
    }
}

#[cfg(test)]
#[path = "tests/evict.rs"]
mod tests;
