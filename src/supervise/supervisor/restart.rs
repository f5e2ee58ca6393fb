//! Containers that ended: reaping, restarting per policy with backoff,
//! (re)launching a container in a fresh scope, and knowing when the pod
//! has finished.

use super::{
    PodPhase, SCOPE_GONE_POLL, SCOPE_GONE_TIMEOUT, Supervisor, SupervisorError, describe_exit,
    launch_spec,
};
use crate::supervise::launch;
use crate::supervise::lifecycle::{Effect, Event, Phase};
use crate::systemd::{ActiveState, Transient};
use nix::sys::signal::Signal;
use std::time::Instant;

impl Supervisor<'_> {
    pub(super) fn reap(&mut self) -> Result<(), SupervisorError> {
        if let Some(h) = &mut self.holder
            && let Ok(Some(status)) = h.try_wait()
        {
            self.holder = None;
            self.sandbox_losses += 1;
            self.phase = PodPhase::Recreating;
            self.save();
            return Err(SupervisorError::SandboxLost(describe_exit(status)));
        }
        for i in 0..self.slots.len() {
            let s = &mut self.slots[i];
            let Some(child) = &mut s.child else { continue };
            let Ok(Some(status)) = child.try_wait() else {
                continue;
            };
            s.child = None;
            let exit = describe_exit(status);
            s.state.last_exit = Some(exit.clone());
            s.state.pid = 0;
            s.state.pid_start = 0;
            s.state.monitor_pid = 0;
            self.fire(
                i,
                Event::Exited {
                    exit,
                    success: status.success(),
                    now: Instant::now(),
                },
            );
        }
        Ok(())
    }

    pub(super) fn restart_due(&mut self) {
        let now = Instant::now();
        for i in 0..self.slots.len() {
            if self.fire(i, Event::Timer { now }).contains(&Effect::Launch)
                && let Err(e) = self.restart_one(i)
            {
                self.launch_failed(i, &e);
            }
        }
    }

    /// A (re)start of slot `i` failed: try again after its backoff; status
    /// shows why.
    pub(super) fn launch_failed(&mut self, i: usize, e: &SupervisorError) {
        let s = &mut self.slots[i];
        let cause = crate::error_chain(e);
        tracing::warn!("starting container {}: {cause}", s.plan.name);
        s.state.last_error = Some(cause);
        self.fire(
            i,
            Event::LaunchFailed {
                now: Instant::now(),
            },
        );
    }

    fn restart_one(&mut self, i: usize) -> Result<(), SupervisorError> {
        self.launch(i)?;
        self.slots[i].state.restarts += 1;
        self.save();
        Ok(())
    }

    /// (Re)creates slot `i`'s scope once its old one is gone, and starts it.
    pub(super) fn launch(&mut self, i: usize) -> Result<(), SupervisorError> {
        let unit = self.slots[i].plan.unit.clone();
        // The old scope must be gone before its name can be reused.
        let start = Instant::now();
        let mut kill_sent = false;
        while let Some(st) = self.mgr.status(&unit.name)? {
            if st.active_state == ActiveState::Failed {
                self.mgr.reset_failed(&unit.name)?;
            }
            if start.elapsed() >= SCOPE_GONE_TIMEOUT {
                return Err(SupervisorError::ScopeInUse {
                    unit: unit.name.clone(),
                    timeout: SCOPE_GONE_TIMEOUT,
                });
            }
            // What is left of the old run goes (a signal: no job to wait
            // for, so a stop request is still heard).
            if !kill_sent && start.elapsed() >= SCOPE_GONE_TIMEOUT / 2 {
                self.mgr.kill_unit(&unit.name, Signal::SIGKILL as i32)?;
                kill_sent = true;
            }
            self.inbox.wait(Some(SCOPE_GONE_POLL), &[]);
            if self.inbox.stop_requested().is_some() {
                return Err(SupervisorError::StopRequested);
            }
        }
        let spec = launch_spec(&self.paths, &self.plan, &mut self.slots[i])?;
        let p = launch::spawn(
            self.procs,
            &self.paths.podctl,
            &self.slots[i].plan.name,
            &spec,
        )?;
        let pid = [p.pid()];
        self.mgr.start_transient(&[Transient {
            unit: &unit,
            pids: &pid,
        }])?;
        self.slots[i].pending = Some(p);
        self.release(i)
    }

    /// Some(outcome) once no regular container runs or will run again.
    pub(super) fn finished(&self) -> Option<Result<(), SupervisorError>> {
        let regular = || self.slots.iter().filter(|s| !s.plan.init);
        if regular().any(|s| !s.life.phase.is_final()) {
            return None;
        }
        let failed: Vec<String> = regular()
            .filter(|s| matches!(s.life.phase, Phase::Failed { .. }))
            .map(|s| {
                format!(
                    "{} {}",
                    s.plan.name,
                    s.state.last_exit.as_deref().unwrap_or("")
                )
            })
            .collect();
        Some(if failed.is_empty() {
            Ok(())
        } else {
            Err(SupervisorError::Finished(format!(
                "failed: {}",
                failed.join(", ")
            )))
        })
    }
}
