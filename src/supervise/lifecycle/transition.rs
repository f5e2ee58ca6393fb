//! The events of a container's life, the effects they call for, and the
//! pure [`transition`] between them.

use super::{BACKOFF_FACTOR, BACKOFF_MAX, BACKOFF_START, Lifecycle, Phase, Policy};
use crate::model::{Hook, Restart};
use crate::plan::Property;
use crate::plan::diff::Action;
use std::time::{Duration, Instant};

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
    /// One of its hooks ended (passed, failed, or cut short at its deadline).
    HookEnded {
        hook: Hook,
        end: HookEnd,
        now: Instant,
    },
    /// The pod stops, or it is stopped for good.
    Stop,
    /// A reload decided this for it (see [`crate::plan::decide`]).
    Reload(Action),
}

/// How a hook ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HookEnd {
    Passed,
    /// Why: "exited 1", "timed out after 2000 ms", ...
    Failed(String),
}

/// What the supervisor must do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Launch it again: a fresh helper in a fresh scope, then release it.
    Launch,
    /// Run this hook of it (its end comes back as [`Event::HookEnded`]).
    RunHook(Hook),
    /// End the hook of it that runs, if one does (killed, not reported).
    CancelHook,
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
    HookFailed(Hook, String),
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

/// The phase of a container whose command runs and whose `post_start`
/// hook (if any) passed.
fn running(next: &mut Lifecycle, policy: &Policy, now: Instant) {
    next.phase = Phase::Running {
        ready: !policy.ready_check,
    };
    next.up = true;
    next.next_probe = now;
}

/// The pure transition: `life` after `event`, and what to do about it.
pub fn transition(life: &Lifecycle, policy: &Policy, event: Event) -> (Lifecycle, Vec<Effect>) {
    let mut next = life.clone();
    let mut effects = Vec::new();
    match event {
        Event::Released { now } => {
            next.started = Some(now);
            effects.extend([Effect::Entered, Effect::Report(Report::Started)]);
            if policy.post_start {
                // Neither started nor ready until the hook has passed.
                next.phase = Phase::PostStart;
                effects.push(Effect::RunHook(Hook::PostStart));
            } else {
                running(&mut next, policy, now);
            }
            effects.push(Effect::Save);
        }
        Event::Exited { exit, success, now } => {
            if life.phase == Phase::PostStart {
                effects.push(Effect::CancelHook);
            }
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
        Event::HookEnded { hook, end, now } => match (hook, &life.phase, end) {
            (Hook::PostStart, Phase::PostStart, HookEnd::Passed) => {
                running(&mut next, policy, now);
                effects.extend([Effect::Entered, Effect::Save]);
            }
            // Killed, then restarted (or not) per its policy when its end is reaped.
            (Hook::PostStart, Phase::PostStart, HookEnd::Failed(why)) => {
                effects.extend([
                    Effect::Report(Report::HookFailed(hook, why)),
                    Effect::KillScope,
                ]);
            }
            (Hook::PreStop, Phase::PreStop, end) => {
                next.phase = Phase::Stopped;
                if let HookEnd::Failed(why) = end {
                    effects.push(Effect::Report(Report::HookFailed(hook, why)));
                }
                effects.extend([Effect::Entered, Effect::Stop]);
            }
            // A hook of a phase it has left (cancelled meanwhile).
            _ => {}
        },
        Event::Stop | Event::Reload(Action::Restarted | Action::Removed) => match life.phase {
            Phase::Running { .. } | Phase::PostStart => {
                if life.phase == Phase::PostStart {
                    effects.push(Effect::CancelHook);
                }
                if policy.pre_stop {
                    // The stop signal waits for the hook (within the stop timeout).
                    next.phase = Phase::PreStop;
                    effects.extend([
                        Effect::Entered,
                        Effect::RunHook(Hook::PreStop),
                        Effect::Save,
                    ]);
                } else {
                    next.phase = Phase::Stopped;
                    effects.extend([Effect::Entered, Effect::Stop]);
                }
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
