//! Readiness (probes, sd_notify) and liveness of running containers.

use super::Supervisor;
use crate::runtime::{notify, probe};
use nix::sys::signal::Signal;
use std::path::Path;
use std::time::{Duration, Instant};

impl Supervisor<'_> {
    /// One readiness attempt for each running, not yet ready container that is due.
    pub(super) fn probe_readiness(&mut self) {
        let now = Instant::now();
        let mut changed = false;
        for s in &mut self.slots {
            let (Some(probe), Some(_)) = (&s.plan.ready, &s.child) else {
                continue;
            };
            if s.state.ready {
                continue;
            }
            if let Some(n) = &s.notify {
                let unit = &s.plan.unit.name;
                if n.ready(|pid| notify::pid_in_unit(Path::new("/proc"), pid, unit)) {
                    tracing::info!("container {} is ready (READY=1)", s.plan.name);
                    crate::runtime::events::ready(&self.plan.pod, &s.plan.name, "READY=1");
                    s.state.ready = true;
                    changed = true;
                }
                continue;
            }
            // Not before the probe's delay from the start (the wake-up
            // deadline is next_probe, so it moves there).
            s.next_probe = s
                .next_probe
                .max(s.started + Duration::from_millis(probe.delay_ms));
            if now < s.next_probe {
                continue;
            }
            s.next_probe = now + Duration::from_millis(probe.interval_ms);
            if probe::attempt(
                self.mgr,
                &self.paths,
                probe,
                &s.plan.unit.name,
                self.ns_pid,
                s.state.pid,
                self.inbox.stop_fd(),
            ) {
                tracing::info!("container {} is ready", s.plan.name);
                crate::runtime::events::ready(&self.plan.pod, &s.plan.name, "probe");
                s.state.ready = true;
                changed = true;
            }
        }
        if changed {
            self.save();
        }
    }

    /// One liveness attempt for each ready container that is due; after
    /// `retries` failures in a row its scope is killed (and restarted per policy).
    pub(super) fn probe_liveness(&mut self) {
        let now = Instant::now();
        for s in &mut self.slots {
            let (Some(probe), Some(_)) = (&s.plan.live, &s.child) else {
                continue;
            };
            if !s.state.ready {
                continue;
            }
            s.next_probe = s
                .next_probe
                .max(s.started + Duration::from_millis(probe.delay_ms));
            if now < s.next_probe {
                continue;
            }
            s.next_probe = now + Duration::from_millis(probe.interval_ms);
            if probe::attempt(
                self.mgr,
                &self.paths,
                probe,
                &s.plan.unit.name,
                self.ns_pid,
                s.state.pid,
                self.inbox.stop_fd(),
            ) {
                s.live_failures = 0;
                continue;
            }
            s.live_failures += 1;
            crate::runtime::events::probe_failed(&self.plan.pod, &s.plan.name, s.live_failures);
            if s.live_failures >= probe.retries {
                tracing::warn!(
                    "container {}: liveness probe failed {} times, killing it",
                    s.plan.name,
                    s.live_failures
                );
                s.live_failures = 0;
                let _ = self
                    .mgr
                    .kill_unit(&s.plan.unit.name, Signal::SIGKILL as i32);
            }
        }
    }
}
