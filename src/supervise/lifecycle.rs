//! A container's life in the supervisor, as a typed state machine: a
//! [`Phase`] (with what each phase needs), and one pure function,
//! [`transition`] (in `lifecycle/transition.rs`, with the events and
//! effects), from (state, event) to (new state, effects). The supervisor
//! gathers the events (a helper's exit, a probe's or a hook's result,
//! READY=1, a timer, a stop or reload request) and carries out the effects
//! (launch, run a hook, stop, kill the scope, set properties, report); it
//! holds the processes, this module holds the decisions. Tested without
//! root in `lifecycle/tests.rs`.
//!
//! The phases' names are what the state file and `podctl status` show:
//! waiting, starting, running, stopping, restarting, completed, exited,
//! failed, stopped.

#[cfg(test)]
mod tests;
mod transition;

pub use transition::{Effect, Event, HookEnd, Report, transition};

use crate::model::{Check, Condition, Restart};
use crate::plan::ContainerPlan;
use std::time::{Duration, Instant};

/// First restart delay; doubles up to [`BACKOFF_MAX`]; reset after [`BACKOFF_RESET`] of uptime.
pub const BACKOFF_START: Duration = Duration::from_millis(100);
/// The longest restart delay (Kubernetes' CrashLoopBackOff caps at 5 min;
/// a pod on one host wants its containers back sooner).
pub const BACKOFF_MAX: Duration = Duration::from_secs(30);
/// A container that ran this long before it ended starts again from [`BACKOFF_START`].
pub const BACKOFF_RESET: Duration = Duration::from_secs(60);
/// Each restart after a quick end waits this many times longer than the last.
const BACKOFF_FACTOR: u32 = 2;

/// Where a container is in its life.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    /// Its helper is held in its scope until what it waits for (`after`)
    /// holds; or, made by a reload, it is about to be launched.
    Waiting,
    /// Released, its relay runs, and its `post_start` hook runs: neither
    /// started (for `after`) nor ready until the hook has passed.
    PostStart,
    /// Released: its relay runs. `ready`: its readiness check passed (or it
    /// has none).
    Running { ready: bool },
    /// Being stopped: its `pre_stop` hook runs; its stop signal follows.
    PreStop,
    /// It ended, or could not be launched, and is launched again at `until`.
    Backoff { until: Instant },
    /// An init container that exited 0.
    Completed,
    /// Ended with status 0 and not restarted (its policy).
    Exited,
    /// Ended otherwise and not restarted, or an init container that failed.
    Failed { exit: String },
    /// Stopped by the supervisor (the pod stops, or a reload restarts or
    /// removes it).
    Stopped,
}

impl Phase {
    /// The name the state file and `podctl status` show.
    pub fn name(&self) -> &'static str {
        match self {
            Phase::Waiting => "waiting",
            Phase::PostStart => "starting",
            Phase::Running { .. } => "running",
            Phase::PreStop => "stopping",
            Phase::Backoff { .. } => "restarting",
            Phase::Completed => "completed",
            Phase::Exited => "exited",
            Phase::Failed { .. } => "failed",
            Phase::Stopped => "stopped",
        }
    }

    /// Ended for good: it neither runs, nor is held, nor will run again.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            Phase::Completed | Phase::Exited | Phase::Failed { .. } | Phase::Stopped
        )
    }
}

/// What of a container's definition its life depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub restart: Restart,
    pub init: bool,
    /// It has a readiness check (a probe or `ready = "notify"`).
    pub ready_check: bool,
    /// Its readiness check is a probe the supervisor runs (not sd_notify).
    pub ready_probe: bool,
    /// Liveness probe failures in a row that kill it; None: no liveness probe.
    pub live_retries: Option<u32>,
    /// Uptime after which the backoff starts again from [`BACKOFF_START`].
    pub backoff_reset: Duration,
    /// It has a `post_start` hook.
    pub post_start: bool,
    /// It has a `pre_stop` hook.
    pub pre_stop: bool,
}

impl Policy {
    pub fn of(plan: &ContainerPlan, backoff_reset: Duration) -> Self {
        Policy {
            restart: plan.restart,
            init: plan.init,
            ready_check: plan.ready.is_some(),
            ready_probe: plan
                .ready
                .as_ref()
                .is_some_and(|p| p.check != Check::Notify),
            live_retries: plan.live.as_ref().map(|p| p.retries),
            backoff_reset,
            post_start: plan.hooks.post_start.is_some(),
            pre_stop: plan.hooks.pre_stop.is_some(),
        }
    }
}

/// A container's state: its phase and what carries over between runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lifecycle {
    pub phase: Phase,
    /// The delay before the next restart.
    pub backoff: Duration,
    /// When it was last released; None: never.
    pub started: Option<Instant>,
    /// It reached running once: released, and its `post_start` hook (if
    /// any) passed (`after = "started"`).
    pub up: bool,
    /// It exited 0 at least once (`after = "completed"`).
    pub completed: bool,
    /// Liveness probe failures in a row.
    pub live_failures: u32,
    /// When its next probe (readiness or liveness) is due.
    pub next_probe: Instant,
}

impl Lifecycle {
    /// A container about to be started: held (at the pod's start) or to be
    /// launched at once (made by a reload).
    pub fn new(now: Instant) -> Self {
        Lifecycle {
            phase: Phase::Waiting,
            backoff: BACKOFF_START,
            started: None,
            up: false,
            completed: false,
            live_failures: 0,
            next_probe: now,
        }
    }

    /// Whether it counts as ready (`podctl status`, `after = "ready"`).
    /// An init container keeps what it had at its release.
    pub fn ready(&self, policy: &Policy) -> bool {
        match &self.phase {
            Phase::Running { ready } => *ready,
            Phase::Completed | Phase::Failed { .. } if policy.init && self.started.is_some() => {
                !policy.ready_check
            }
            _ => false,
        }
    }

    /// Whether `cond` holds for the containers that wait for it.
    pub fn satisfies(&self, cond: Condition, policy: &Policy) -> bool {
        match cond {
            Condition::Started => self.up,
            Condition::Ready => self.ready(policy) || self.completed,
            Condition::Completed => self.completed,
        }
    }

    /// Whether `cond` can never hold any more (it ended for good).
    pub fn never(&self, cond: Condition, policy: &Policy) -> bool {
        !self.satisfies(cond, policy) && self.phase.is_final()
    }

    /// The next instant something is due for it: a restart, a probe. (A
    /// hook's end is the supervisor's to watch: it holds the hook.)
    pub fn due(&self, policy: &Policy) -> Option<Instant> {
        match &self.phase {
            Phase::Backoff { until } => Some(*until),
            Phase::Running { ready } => {
                let probing = policy.live_retries.is_some() || (!*ready && policy.ready_probe);
                probing.then_some(self.next_probe)
            }
            _ => None,
        }
    }
}
