//! Stopping scopes: each container's `pre_stop` hook first, then its stop
//! signal, then SIGKILL to its whole scope once its stop timeout (or the
//! pod's stop budget) has passed; the sandbox's holder the same way,
//! without a hook.
//!
//! A hook's time counts against the stop timeout (Kubernetes' grace
//! period): it is cut short at the container's SIGKILL deadline, and the
//! stop signal that follows still gets [`GRACE_AFTER_HOOK`] before SIGKILL,
//! as the kubelet gives it.

use super::signals::Inbox;
use super::stop::kill_due;
use crate::supervise::hook::HookRun;
use crate::supervise::lifecycle::HookEnd;
use crate::supervise::process::Process;
use crate::systemd::Manager;
use nix::sys::signal::Signal;
use std::time::{Duration, Instant};

/// After their main processes are gone, how long scopes may take to empty.
const EMPTY_GRACE: Duration = Duration::from_secs(1);
/// How often the stop looks whether stopped scopes' cgroups are empty (no
/// event tells: cgroup.events would need an inotify watch per scope).
const EMPTY_POLL: Duration = Duration::from_millis(1);
/// Longest wait between two looks at the stopping children (their exit
/// wakes the wait earlier, through SIGCHLD).
const STOP_POLL: Duration = Duration::from_millis(20);
/// The least time a stop signal gets before SIGKILL when a `pre_stop`
/// hook took the rest of the stop timeout (the kubelet's minimum grace
/// period).
#[cfg(not(test))]
pub const GRACE_AFTER_HOOK: Duration = Duration::from_secs(2);
#[cfg(test)]
pub const GRACE_AFTER_HOOK: Duration = Duration::from_millis(300);

/// A scope being stopped: its unit, our child in it, how to stop it.
pub(super) struct Stopping {
    /// The container's slot (0 for the sandbox).
    pub slot: usize,
    pub unit: String,
    pub child: Box<dyn Process>,
    pub signal: i32,
    pub timeout: Duration,
    /// Its `pre_stop` hook while it runs: the signal waits for it.
    pub hook: Option<HookRun>,
    /// When its stop began: its timeout counts from then.
    since: Instant,
    /// When its signal was sent, if it was.
    signalled: Option<Instant>,
    /// It had a hook: its signal gets at least [`GRACE_AFTER_HOOK`].
    hooked: bool,
    killed: bool,
}

impl Stopping {
    pub fn new(
        slot: usize,
        unit: &str,
        child: Box<dyn Process>,
        signal: i32,
        timeout: Duration,
    ) -> Self {
        Stopping {
            slot,
            unit: unit.to_string(),
            child,
            signal,
            timeout,
            hook: None,
            since: Instant::now(),
            signalled: None,
            hooked: false,
            killed: false,
        }
    }

    /// Its signal waits for `hook` to end.
    pub fn after(mut self, hook: Option<HookRun>) -> Self {
        self.hooked = hook.is_some();
        self.hook = hook;
        self
    }

    /// When it gets SIGKILL, once signalled.
    fn kill_at(&self, cap: Option<Instant>) -> Instant {
        let due = kill_due(self.since, self.timeout, cap);
        match self.signalled {
            Some(at) if self.hooked => due.max(at + GRACE_AFTER_HOOK),
            _ => due,
        }
    }
}

/// What a stop needs besides the scopes: systemd, the signals (a stop
/// request arriving meanwhile shortens the wait to the pod's stop budget)
/// and a deadline for SIGKILL, if one is set already.
pub(super) struct StopContext<'a> {
    pub mgr: &'a dyn Manager,
    /// The cgroup root ([`crate::layout::HostRoots::cgroup`]).
    pub cgroup: &'a std::path::Path,
    pub pod: &'a str,
    pub inbox: &'a mut Inbox,
    /// The pod's stop budget, counted from a stop request; None: a stop
    /// request does not shorten this stop (the sandbox's).
    pub budget: Option<Duration>,
    pub deadline: Option<Instant>,
}

impl StopContext<'_> {
    /// When SIGKILL is due at the latest, whatever the scope's own timeout.
    fn cap(&mut self) -> Option<Instant> {
        let budget = self.budget?;
        let requested = self.inbox.stop_requested().map(|t| t + budget);
        match (self.deadline, requested) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Stops scopes together: for each, its hook (if it has one) until it
    /// ends or is cut short, then `signal` to our child in it (its relay
    /// forwards it to the container's processes), SIGKILL to every process
    /// of a scope still running after its timeout (or the stop budget).
    /// Returns `(index, end)` as soon as a hook ends, for the caller to
    /// tell the container's state machine, and is then called again (its
    /// signal follows); returns None once every child is reaped and every
    /// scope's cgroup is empty.
    pub(super) fn stop_scopes(&mut self, scopes: &mut [Stopping]) -> Option<(usize, HookEnd)> {
        loop {
            let cap = self.cap();
            let now = Instant::now();
            let mut next: Option<Instant> = None;
            let mut running = false;
            for (k, s) in scopes.iter_mut().enumerate() {
                let alive = matches!(s.child.try_wait(), Ok(None));
                if let Some(h) = &mut s.hook {
                    if !alive {
                        // It ended meanwhile: nothing left to prepare for.
                        s.hook = None;
                        return Some((k, HookEnd::Passed));
                    }
                    h.deadline = kill_due(s.since, s.timeout, cap);
                    if let Some(end) = h.poll(now) {
                        s.hook = None;
                        return Some((k, end));
                    }
                    running = true;
                    next = Some(next.map_or(h.due(), |n: Instant| n.min(h.due())));
                    continue;
                }
                if !alive {
                    continue;
                }
                running = true;
                if s.signalled.is_none() {
                    if let Ok(sig) = Signal::try_from(s.signal) {
                        let _ = s.child.signal(sig);
                    }
                    s.signalled = Some(now);
                }
                let due = s.kill_at(cap);
                if !s.killed && now >= due {
                    tracing::warn!(
                        "{}: still running {:?} after signal {}, sending SIGKILL",
                        s.unit,
                        s.signalled.map_or(Duration::ZERO, |t| t.elapsed()),
                        s.signal
                    );
                    let _ = self.mgr.kill_unit(&s.unit, Signal::SIGKILL as i32);
                    let _ = s.child.kill();
                    s.killed = true;
                }
                if !s.killed {
                    next = Some(next.map_or(due, |n: Instant| n.min(due)));
                }
            }
            if !running {
                break;
            }
            let wake = next.map_or(STOP_POLL, |n| {
                n.saturating_duration_since(Instant::now()).min(STOP_POLL)
            });
            self.inbox.wait(Some(wake), &[]);
        }
        // Our children are gone; wait until the scopes are empty too (their
        // other processes die with them), so what stops next stops strictly after.
        let grace = Instant::now() + EMPTY_GRACE;
        while scopes
            .iter()
            .any(|s| crate::supervise::cgroup::populated(self.cgroup, self.pod, &s.unit))
            && Instant::now() < grace
        {
            std::thread::sleep(EMPTY_POLL);
        }
        None
    }
}
