//! Stopping: containers in reverse dependency order, then the sandbox.

use super::{Supervisor, SupervisorError};
use crate::systemd::Manager;
use nix::sys::signal::Signal;
use std::process::Child;
use std::time::{Duration, Instant};

impl Supervisor<'_> {
    /// Stops the pod: containers in reverse start order, each given its stop
    /// signal and timeout before SIGKILL, then the sandbox. Signals, not stop
    /// jobs: when `systemctl stop pod@NAME` got us here, the scopes' own stop
    /// jobs wait for this service to finish stopping (they are ordered Before= it).
    pub fn stop(&mut self) -> Result<(), SupervisorError> {
        tracing::info!("stopping pod {}", self.plan.pod);
        for s in &mut self.slots {
            s.restart_at = None;
            drop(s.pending.take());
        }
        // In waves, in reverse dependency order: a container stops once every
        // container that waits for it (`after`) has stopped; those with no
        // such relation stop together. Signals go out in reverse start order.
        let mut remaining: Vec<usize> = (0..self.slots.len())
            .rev()
            .filter(|&i| self.slots[i].child.is_some())
            .collect();
        while !remaining.is_empty() {
            let waited_for = |i: usize| {
                remaining.iter().any(|&j| {
                    j != i
                        && self.slots[j]
                            .plan
                            .after
                            .iter()
                            .any(|(t, _)| *t == self.slots[i].plan.name)
                })
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
            let mut taken: Vec<(usize, Child)> = Vec::new();
            for &i in &wave {
                if let Some(child) = self.slots[i].child.take() {
                    self.slots[i].set("stopped");
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
            stop_scopes(self.mgr, &self.plan.pod, stopping);
        }
        self.stop_sandbox();
        let _ = std::fs::remove_file(crate::runtime::state::path(&self.paths.run, &self.plan.pod));
        Ok(())
    }

    pub(super) fn stop_sandbox(&mut self) {
        if let Some(h) = self.holder.take() {
            stop_scope(
                self.mgr,
                &self.plan.pod,
                &self.plan.sandbox.unit.name,
                h,
                Signal::SIGTERM as i32,
                Duration::from_secs(5),
            );
        }
    }
}

/// A scope being stopped: its unit, our child in it, how to stop it.
struct Stopping<'a> {
    unit: &'a str,
    child: Child,
    signal: i32,
    timeout: Duration,
}

/// Stops scopes together: `signal` to our child in each (its relay forwards
/// it to the container's processes), SIGKILL to every process of a scope
/// still running after its timeout; returns once every child is reaped and
/// every scope's cgroup is empty.
fn stop_scopes(mgr: &dyn Manager, pod: &str, mut scopes: Vec<Stopping<'_>>) {
    let start = Instant::now();
    for s in &scopes {
        if let Ok(sig) = Signal::try_from(s.signal) {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(s.child.id() as i32), sig);
        }
    }
    let mut killed = vec![false; scopes.len()];
    loop {
        let mut running = false;
        for (s, killed) in scopes.iter_mut().zip(killed.iter_mut()) {
            if !matches!(s.child.try_wait(), Ok(None)) {
                continue;
            }
            running = true;
            if !*killed && start.elapsed() >= s.timeout {
                tracing::warn!(
                    "{}: still running {:?} after signal {}, sending SIGKILL",
                    s.unit,
                    s.timeout,
                    s.signal
                );
                let _ = mgr.kill_unit(s.unit, Signal::SIGKILL as i32);
                let _ = s.child.kill();
                *killed = true;
            }
        }
        if !running {
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    // Our children are gone; wait until the scopes are empty too (their
    // other processes die with them), so what stops next stops strictly after.
    let root = crate::runtime::cgroup::root();
    let grace = Instant::now() + Duration::from_secs(1);
    while scopes
        .iter()
        .any(|s| crate::runtime::cgroup::populated(&root, pod, s.unit))
        && Instant::now() < grace
    {
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Stops one scope; see [`stop_scopes`].
pub(super) fn stop_scope(
    mgr: &dyn Manager,
    pod: &str,
    unit: &str,
    child: Child,
    signal: i32,
    timeout: Duration,
) {
    stop_scopes(
        mgr,
        pod,
        vec![Stopping {
            unit,
            child,
            signal,
            timeout,
        }],
    );
}
