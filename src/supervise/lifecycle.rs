//! A container's life in the supervisor, as a typed state machine: a
//! [`Phase`] (with what each phase needs), and one pure function,
//! [`transition`], from (state, event) to (new state, effects). The
//! supervisor gathers the events (a helper's exit, a probe's result,
//! READY=1, a timer, a stop or reload request) and carries out the effects
//! (launch, stop, kill the scope, set properties, report); it holds the
//! processes, this module holds the decisions. Tested without root in
//! `lifecycle/tests.rs`.
//!
//! The phases' names are what the state file and `podctl status` show:
//! waiting, running, restarting, completed, exited, failed, stopped.

#[cfg(test)]
mod tests;

use crate::model::{Check, Condition, Restart};
use crate::plan::diff::Action;
use crate::plan::{ContainerPlan, Property};
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
    /// Released: its relay runs. `ready`: its readiness check passed (or it
    /// has none).
    Running { ready: bool },
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
            Phase::Running { .. } => "running",
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
        }
    }
}

/// A container's state: its phase and what carries over between runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lifecycle {
    pub phase: Phase,
    /// The delay before the next restart.
    pub backoff: Duration,
    /// When it was last released; None: never (`after = "started"`).
    pub started: Option<Instant>,
    /// It exited 0 at least once (`after = "completed"`).
    pub completed: bool,
    /// Liveness probe failures in a row.
    pub live_failures: u32,
    /// When its next probe (readiness or liveness) is due.
    pub next_probe: Instant,
}

/// What happened to a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Its held helper was let go: it runs (in its scope) from now.
    Released { now: Instant },
    /// Its relay exited with `exit` ("exited N", "signal N").
    Exited {
        exit: String,
        success: bool,
        now: Instant,
    },
    /// A launch (or relaunch) of it failed.
    LaunchFailed { now: Instant },
    /// Time passed: a restart may be due.
    Timer { now: Instant },
    /// Its readiness check passed (`how`: "probe", "READY=1").
    Ready { how: &'static str },
    /// A liveness probe's result.
    Liveness { passed: bool },
    /// The pod stops, or it is stopped for good.
    Stop,
    /// A reload decided this for it (see [`crate::plan::decide`]).
    Reload(Action),
}

/// What the supervisor must do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Launch it again: a fresh helper in a fresh scope, then release it.
    Launch,
    /// Its stop signal to its relay, SIGKILL to its scope after its stop
    /// timeout (the supervisor's stop waves).
    Stop,
    /// Let its held helper go without releasing it (it never ran).
    DropHeld,
    /// SIGKILL every process of its scope (it is then restarted per policy).
    KillScope,
    /// Set these live limits on its scope.
    SetProperties(Vec<Property>),
    /// The phase was set now: `since` in the state file.
    Entered,
    /// Write the state file.
    Save,
    /// A journal event (see [`crate::supervise::events`]).
    Report(Report),
}

/// The journal events of a container's life.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Report {
    Started,
    Restarted,
    Ready(&'static str),
    Exited(String),
    ProbeFailed(u32),
}

impl Lifecycle {
    /// A container about to be started: held (at the pod's start) or to be
    /// launched at once (made by a reload).
    pub fn new(now: Instant) -> Self {
        Lifecycle {
            phase: Phase::Waiting,
            backoff: BACKOFF_START,
            started: None,
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
            Condition::Started => self.started.is_some(),
            Condition::Ready => self.ready(policy) || self.completed,
            Condition::Completed => self.completed,
        }
    }

    /// Whether `cond` can never hold any more (it ended for good).
    pub fn never(&self, cond: Condition, policy: &Policy) -> bool {
        !self.satisfies(cond, policy) && self.phase.is_final()
    }

    /// The next instant something is due for it: a restart, a probe.
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

/// The backoff after a run that began at `started` and ended at `now`,
/// and the one after it.
fn backoff(life: &Lifecycle, policy: &Policy, now: Instant) -> (Duration, Duration) {
    let ran = life
        .started
        .map_or(Duration::ZERO, |s| now.saturating_duration_since(s));
    let delay = if ran >= policy.backoff_reset {
        BACKOFF_START
    } else {
        life.backoff
    };
    (delay, (delay * BACKOFF_FACTOR).min(BACKOFF_MAX))
}

/// The pure transition: `life` after `event`, and what to do about it.
pub fn transition(life: &Lifecycle, policy: &Policy, event: Event) -> (Lifecycle, Vec<Effect>) {
    let mut next = life.clone();
    let mut effects = Vec::new();
    match event {
        Event::Released { now } => {
            next.phase = Phase::Running {
                ready: !policy.ready_check,
            };
            next.started = Some(now);
            next.next_probe = now;
            effects.extend([
                Effect::Entered,
                Effect::Report(Report::Started),
                Effect::Save,
            ]);
        }
        Event::Exited { exit, success, now } => {
            next.completed |= success;
            if !policy.init {
                // An init container's end is the start's business.
                effects.push(Effect::Report(Report::Exited(exit.clone())));
            }
            let again = match policy.restart {
                _ if policy.init => false,
                Restart::Always => true,
                Restart::OnFailure => !success,
                Restart::Never => false,
            };
            next.phase = if again {
                let (delay, after) = backoff(life, policy, now);
                next.backoff = after;
                Phase::Backoff { until: now + delay }
            } else if success && policy.init {
                Phase::Completed
            } else if success {
                Phase::Exited
            } else {
                Phase::Failed { exit }
            };
            effects.extend([Effect::Entered, Effect::Save]);
        }
        Event::LaunchFailed { now } => {
            next.phase = Phase::Backoff {
                until: now + life.backoff,
            };
            next.backoff = (life.backoff * BACKOFF_FACTOR).min(BACKOFF_MAX);
            effects.extend([Effect::Entered, Effect::Save]);
        }
        Event::Timer { now } => {
            if matches!(life.phase, Phase::Backoff { until } if until <= now) {
                effects.extend([Effect::Report(Report::Restarted), Effect::Launch]);
            }
        }
        Event::Ready { how } => {
            if life.phase == (Phase::Running { ready: false }) {
                next.phase = Phase::Running { ready: true };
                effects.extend([Effect::Report(Report::Ready(how)), Effect::Save]);
            }
        }
        Event::Liveness { passed: true } => next.live_failures = 0,
        Event::Liveness { passed: false } => {
            next.live_failures += 1;
            effects.push(Effect::Report(Report::ProbeFailed(next.live_failures)));
            if policy.live_retries.is_some_and(|r| next.live_failures >= r) {
                next.live_failures = 0;
                effects.push(Effect::KillScope);
            }
        }
        Event::Stop | Event::Reload(Action::Restarted | Action::Removed) => match life.phase {
            Phase::Running { .. } => {
                next.phase = Phase::Stopped;
                effects.extend([Effect::Entered, Effect::Stop]);
            }
            Phase::Waiting => {
                next.phase = Phase::Stopped;
                effects.push(Effect::DropHeld);
            }
            Phase::Backoff { .. } => next.phase = Phase::Stopped,
            _ => {}
        },
        Event::Reload(Action::Updated(props)) => effects.push(Effect::SetProperties(props)),
        Event::Reload(Action::Unchanged | Action::Created) => {}
    }
    (next, effects)
}
