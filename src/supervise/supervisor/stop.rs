//! Stopping: containers in reverse dependency order, then the sandbox.
//!
//! The whole stop fits in one budget, the longest `stop_timeout` of the pod,
//! counted from the stop request: a wave that starts late gets what is left
//! (SIGKILL at once when nothing is). The supervisor tells systemd
//! (EXTEND_TIMEOUT_USEC) so that pod@.service's TimeoutStopSec never cuts
//! an orderly stop short.

use super::scopes::{GRACE_AFTER_HOOK, StopContext, Stopping};
use super::{Supervisor, SupervisorError};
use crate::model::Hook;
use crate::supervise::lifecycle::{Effect, Event, Phase};
use nix::sys::signal::Signal;
use std::time::{Duration, Instant};

/// How long the holder gets after SIGTERM before SIGKILL (it exits at once).
const SANDBOX_STOP_TIMEOUT: Duration = Duration::from_secs(1);
/// Asked of systemd on top of the stop budget: the sandbox, the empty-scope
/// waits and exiting.
const STOP_MARGIN: Duration = Duration::from_secs(5);

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

    /// The containers, in reverse dependency order, each with its
    /// `pre_stop` hook, stop signal and timeout before SIGKILL, within the
    /// pod's stop budget.
    pub(super) fn stop_containers(&mut self) {
        let budget = self.stop_budget();
        let since = self.inbox.stop_requested().unwrap_or_else(Instant::now);
        let deadline = since + budget;
        // A signal after a hook that took the whole timeout still gets its grace.
        let hooked = self.slots.iter().any(|s| s.policy.pre_stop);
        let grace = if hooked {
            GRACE_AFTER_HOOK
        } else {
            Duration::ZERO
        };
        let extend = (budget + grace + STOP_MARGIN)
            .as_micros()
            .min(u32::MAX as u128) as u32;
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
            let wave = wave.into_iter().map(|i| (i, Event::Stop)).collect();
            self.stop_wave(wave, Some(deadline));
        }
    }

    /// Stops the containers of `wave` together, each told its event (a stop,
    /// or a reload's restart or removal): those the state machine stops run
    /// their `pre_stop` hook, then get their signal and, after their
    /// timeout (within the pod's stop budget, and `deadline` if set), SIGKILL.
    pub(super) fn stop_wave(&mut self, wave: Vec<(usize, Event)>, deadline: Option<Instant>) {
        let budget = self.stop_budget();
        let mut scopes = Vec::new();
        for (i, event) in wave {
            let effects = self.fire(i, event);
            let s = &mut self.slots[i];
            // Started by the transition: the stop watches it from here.
            let hook = s.hook.take().filter(|h| h.hook == Hook::PreStop);
            let stops = effects.contains(&Effect::Stop) || s.life.phase == Phase::PreStop;
            if stops && let Some(child) = s.child.take() {
                let timeout = Duration::from_millis(s.plan.stop_timeout_ms);
                let stopping =
                    Stopping::new(i, &s.plan.unit.name, child, s.plan.stop_signal, timeout);
                scopes.push(stopping.after(hook));
            }
        }
        loop {
            let mut ctx = StopContext {
                mgr: self.mgr,
                cgroup: &self.paths.host.cgroup,
                pod: &self.plan.pod,
                inbox: &mut self.inbox,
                budget: Some(budget),
                deadline,
            };
            let Some((k, end)) = ctx.stop_scopes(&mut scopes) else {
                break;
            };
            // Its signal follows at once (the transition's Stop).
            let now = Instant::now();
            let hook = Hook::PreStop;
            self.fire(scopes[k].slot, Event::HookEnded { hook, end, now });
        }
    }

    /// The pod's /dev/shm, scratch volumes and bundles go with it (named
    /// volumes stay).
    pub(super) fn remove_pod_mounts(&self) {
        let dirs = self.paths.oci();
        // A user's pod: its containers' upper layers hold files of the
        // user's subordinate IDs, which only root of the user's namespace
        // may remove (its mounts were in the holder's mount namespace,
        // gone with it).
        if let Some(map) = self.plan.userns.user() {
            use crate::image::userns::Userns;
            let helper = crate::image::userns::Helper::new(self.paths.podctl.clone(), map);
            let upper = dirs.containers().join(&self.plan.pod);
            if upper.exists()
                && let Err(e) = helper.remove(&[upper])
            {
                tracing::warn!("cannot remove the pod's container layers: {e}");
            }
        }
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
            let unit = &self.plan.sandbox.unit.name;
            let signal = Signal::SIGTERM as i32;
            let holder = Stopping::new(0, unit, h, signal, SANDBOX_STOP_TIMEOUT);
            ctx.stop_scopes(&mut [holder]);
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
