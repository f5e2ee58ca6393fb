//! Stopping: containers in reverse dependency order, then the sandbox.
//!
//! The whole stop fits in one budget, the longest `stop_timeout` of the pod,
//! counted from the stop request: a wave that starts late gets what is left
//! (SIGKILL at once when nothing is). The supervisor tells systemd
//! (EXTEND_TIMEOUT_USEC) so that pod@.service's TimeoutStopSec never cuts
//! an orderly stop short.

use super::signals::Inbox;
use super::{Supervisor, SupervisorError};
use crate::supervise::lifecycle::{Effect, Event};
use crate::supervise::process::Process;
use crate::systemd::Manager;
use nix::sys::signal::Signal;
use std::time::{Duration, Instant};

/// How long the holder gets after SIGTERM before SIGKILL (it exits at once).
const SANDBOX_STOP_TIMEOUT: Duration = Duration::from_secs(1);
/// After their main processes are gone, how long scopes may take to empty.
const EMPTY_GRACE: Duration = Duration::from_secs(1);
/// Asked of systemd on top of the stop budget: the sandbox, the empty-scope
/// waits and exiting.
const STOP_MARGIN: Duration = Duration::from_secs(5);
/// How often the stop looks whether stopped scopes' cgroups are empty (no
/// event tells: cgroup.events would need an inotify watch per scope).
const EMPTY_POLL: Duration = Duration::from_millis(1);
/// Longest wait between two looks at the stopping children (their exit
/// wakes the wait earlier, through SIGCHLD).
const STOP_POLL: Duration = Duration::from_millis(20);

impl Supervisor<'_> {
    /// The time the whole pod may take to stop: its longest `stop_timeout`.
    pub(super) fn stop_budget(&self) -> Duration {
        self.slots
            .iter()
            .map(|s| Duration::from_millis(s.plan.stop_timeout_ms))
            .max()
            .unwrap_or_default()
    }

    /// Stops the pod: containers in reverse start order, each given its stop
    /// signal and timeout before SIGKILL (within the pod's stop budget), then
    /// the sandbox. Signals, not stop jobs: when `systemctl stop pod@NAME`
    /// got us here, the scopes' own stop jobs wait for this service to finish
    /// stopping (they are ordered Before= it).
    pub fn stop(&mut self) -> Result<(), SupervisorError> {
        tracing::info!("stopping pod {}", self.plan.pod);
        self.stop_containers();
        self.stop_sandbox();
        // Whatever outlived its relay (systemd may be unable to kill a scope).
        self.kill_leftovers();
        self.remove_pod_mounts();
        let _ = std::fs::remove_file(crate::supervise::state::path(
            &self.paths.run,
            &self.plan.pod,
        ));
        Ok(())
    }

    /// The containers, in reverse dependency order, each with its stop
    /// signal and timeout before SIGKILL, within the pod's stop budget.
    pub(super) fn stop_containers(&mut self) {
        let budget = self.stop_budget();
        let since = self.inbox.stop_requested().unwrap_or_else(Instant::now);
        let deadline = since + budget;
        let extend = (budget + STOP_MARGIN).as_micros().min(u32::MAX as u128) as u32;
        let _ = sd_notify::notify(&[sd_notify::NotifyState::ExtendTimeoutUsec(extend)]);
        // Nothing restarts or is released any more.
        for i in 0..self.slots.len() {
            if self.slots[i].child.is_none() {
                self.fire(i, Event::Stop);
            }
        }
        let running: Vec<usize> = (0..self.slots.len())
            .filter(|&i| self.slots[i].child.is_some())
            .collect();
        let waves = {
            let plans: Vec<&crate::plan::ContainerPlan> =
                self.slots.iter().map(|s| &s.plan).collect();
            stop_waves(&plans, &running)
        };
        for wave in waves {
            let mut taken: Vec<(usize, Box<dyn Process>)> = Vec::new();
            for &i in &wave {
                if self.fire(i, Event::Stop).contains(&Effect::Stop)
                    && let Some(child) = self.slots[i].child.take()
                {
                    taken.push((i, child));
                }
            }
            let stopping = taken
                .into_iter()
                .map(|(i, child)| {
                    let p = &self.slots[i].plan;
                    Stopping {
                        unit: &p.unit.name,
                        child,
                        signal: p.stop_signal,
                        timeout: Duration::from_millis(p.stop_timeout_ms),
                    }
                })
                .collect();
            let mut ctx = StopContext {
                mgr: self.mgr,
                cgroup: &self.paths.host.cgroup,
                pod: &self.plan.pod,
                inbox: &mut self.inbox,
                budget: Some(budget),
                deadline: Some(deadline),
            };
            ctx.stop_scopes(stopping);
        }
    }

    /// The pod's /dev/shm, scratch volumes and bundles go with it (named
    /// volumes stay).
    pub(super) fn remove_pod_mounts(&self) {
        let dirs = self.paths.oci();
        for left in crate::oci::pod::teardown(&self.plan.pod, &dirs, self.mounts) {
            tracing::warn!("cannot remove {left}");
        }
    }

    pub(super) fn stop_sandbox(&mut self) {
        if let Some(h) = self.holder.take() {
            let mut ctx = StopContext {
                mgr: self.mgr,
                cgroup: &self.paths.host.cgroup,
                pod: &self.plan.pod,
                inbox: &mut self.inbox,
                budget: None,
                deadline: None,
            };
            ctx.stop_scopes(vec![Stopping {
                unit: &self.plan.sandbox.unit.name,
                child: h,
                signal: Signal::SIGTERM as i32,
                timeout: SANDBOX_STOP_TIMEOUT,
            }]);
        }
    }
}

/// A scope being stopped: its unit, our child in it, how to stop it.
pub(super) struct Stopping<'a> {
    pub unit: &'a str,
    pub child: Box<dyn Process>,
    pub signal: i32,
    pub timeout: Duration,
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

    /// Stops scopes together: `signal` to our child in each (its relay
    /// forwards it to the container's processes), SIGKILL to every process
    /// of a scope still running after its timeout (or the stop budget);
    /// returns once every child is reaped and every scope's cgroup is empty.
    pub(super) fn stop_scopes(&mut self, mut scopes: Vec<Stopping<'_>>) {
        let start = Instant::now();
        for s in &scopes {
            if let Ok(sig) = Signal::try_from(s.signal) {
                let _ = s.child.signal(sig);
            }
        }
        let mut killed = vec![false; scopes.len()];
        loop {
            let cap = self.cap();
            let mut next: Option<Instant> = None;
            let mut running = false;
            for (s, killed) in scopes.iter_mut().zip(killed.iter_mut()) {
                if !matches!(s.child.try_wait(), Ok(None)) {
                    continue;
                }
                running = true;
                let due = kill_due(start, s.timeout, cap);
                if !*killed && Instant::now() >= due {
                    tracing::warn!(
                        "{}: still running {:?} after signal {}, sending SIGKILL",
                        s.unit,
                        start.elapsed(),
                        s.signal
                    );
                    let _ = self.mgr.kill_unit(s.unit, Signal::SIGKILL as i32);
                    let _ = s.child.kill();
                    *killed = true;
                }
                if !*killed {
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
            .any(|s| crate::supervise::cgroup::populated(self.cgroup, self.pod, s.unit))
            && Instant::now() < grace
        {
            std::thread::sleep(EMPTY_POLL);
        }
    }
}

/// The stop waves, in reverse dependency order: a container stops once every
/// container that waits for it (`after`) has stopped; those with no such
/// relation stop together (a cycle, which validation rejects, stops at once).
/// `running`: the indexes (in start order) of the containers to stop; each
/// wave lists them in reverse start order, as the signals go out.
pub(super) fn stop_waves(
    plans: &[&crate::plan::ContainerPlan],
    running: &[usize],
) -> Vec<Vec<usize>> {
    let mut remaining: Vec<usize> = running.iter().rev().copied().collect();
    let mut waves = Vec::new();
    while !remaining.is_empty() {
        let waited_for = |i: usize| {
            remaining
                .iter()
                .any(|&j| j != i && plans[j].after.iter().any(|(t, _)| *t == plans[i].name))
        };
        let mut wave: Vec<usize> = remaining
            .iter()
            .copied()
            .filter(|&i| !waited_for(i))
            .collect();
        if wave.is_empty() {
            wave = remaining.clone();
        }
        remaining.retain(|i| !wave.contains(i));
        waves.push(wave);
    }
    waves
}

/// When a scope signalled at `start` gets SIGKILL: after its own `timeout`,
/// or at the pod's stop deadline (`cap`) if that comes first.
pub(super) fn kill_due(start: Instant, timeout: Duration, cap: Option<Instant>) -> Instant {
    cap.map_or(start + timeout, |c| c.min(start + timeout))
}
