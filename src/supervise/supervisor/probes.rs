//! Readiness (probes, sd_notify) and liveness of running containers.

use super::Supervisor;
use crate::supervise::lifecycle::{Event, Phase};
use crate::supervise::{notify, probe};
use std::time::{Duration, Instant};

impl Supervisor<'_> {
    /// One readiness attempt for each running, not yet ready container that is due.
    pub(super) fn probe_readiness(&mut self) {
        let now = Instant::now();
        for i in 0..self.slots.len() {
            let s = &mut self.slots[i];
            let (Some(probe), Some(_)) = (&s.plan.ready, &s.child) else {
                continue;
            };
            // Not before its post_start hook has passed (nor READY=1 read).
            if s.ready() || s.life.phase == Phase::PostStart {
                continue;
            }
            if let Some(n) = &s.notify {
                let unit = &s.plan.unit.name;
                let proc = &self.paths.host.proc;
                let pod = &self.plan.pod;
                if n.ready(|pid| notify::pid_in_scope(proc, pid, pod, unit)) {
                    self.fire(i, Event::Ready { how: "READY=1" });
                }
                continue;
            }
            if !probe_due(&mut s.life, probe, now) {
                continue;
            }
            if probe::attempt(
                self.procs,
                self.mgr,
                &self.paths,
                probe,
                &s.plan.unit.name,
                self.ns_pid,
                s.state.pid,
                self.inbox.stop_fd(),
            ) {
                self.fire(i, Event::Ready { how: "probe" });
            }
        }
    }

    /// One liveness attempt for each ready container that is due; after
    /// `retries` failures in a row its scope is killed (and restarted per policy).
    pub(super) fn probe_liveness(&mut self) {
        let now = Instant::now();
        for i in 0..self.slots.len() {
            let s = &mut self.slots[i];
            let (Some(probe), Some(_)) = (&s.plan.live, &s.child) else {
                continue;
            };
            if !s.ready() {
                continue;
            }
            if !probe_due(&mut s.life, probe, now) {
                continue;
            }
            let passed = probe::attempt(
                self.procs,
                self.mgr,
                &self.paths,
                probe,
                &s.plan.unit.name,
                self.ns_pid,
                s.state.pid,
                self.inbox.stop_fd(),
            );
            self.fire(i, Event::Liveness { passed });
        }
    }
}

/// Whether a probe attempt is due now; if so, the next one is scheduled.
/// Never before the probe's delay from the start (Kubernetes'
/// initialDelaySeconds): the wake-up deadline is `next_probe`, so it moves
/// there.
fn probe_due(
    life: &mut crate::supervise::lifecycle::Lifecycle,
    probe: &crate::model::Probe,
    now: Instant,
) -> bool {
    if let Some(started) = life.started {
        life.next_probe = life
            .next_probe
            .max(started + Duration::from_millis(probe.delay_ms));
    }
    if now < life.next_probe {
        return false;
    }
    life.next_probe = now + Duration::from_millis(probe.interval_ms);
    true
}
