//! Containers that ended: reaping, restarting per policy with backoff,
//! (re)launching a container in a fresh scope, and knowing when the pod
//! has finished.

use super::{
    BACKOFF_MAX, BACKOFF_START, SCOPE_GONE_POLL, SCOPE_GONE_TIMEOUT, Supervisor, SupervisorError,
    describe_exit, launch_spec,
};
use crate::model::Restart;
use crate::runtime::launch;
use crate::systemd::Transient;
use nix::sys::signal::Signal;
use std::time::Instant;

impl Supervisor<'_> {
    pub(super) fn reap(&mut self) -> Result<(), SupervisorError> {
        if let Some(h) = &mut self.holder
            && let Ok(Some(status)) = h.try_wait()
        {
            self.holder = None;
            self.sandbox_losses += 1;
            self.phase = "recreating";
            self.save();
            return Err(SupervisorError::SandboxLost(describe_exit(status)));
        }
        let mut changed = false;
        for s in &mut self.slots {
            let Some(child) = &mut s.child else { continue };
            let Ok(Some(status)) = child.try_wait() else {
                continue;
            };
            s.child = None;
            changed = true;
            let exit = describe_exit(status);
            tracing::info!("container {} {exit}", s.plan.name);
            crate::runtime::events::exited(
                &self.plan.pod,
                &s.plan.name,
                &s.plan.unit.name,
                &exit,
                &mut self.slice_oom_kills,
            );
            s.state.last_exit = Some(exit);
            s.state.pid = 0;
            s.state.monitor_pid = 0;
            s.state.ready = false;
            s.completed |= status.success();
            let again = match s.plan.restart {
                Restart::Always => true,
                Restart::OnFailure => !status.success(),
                Restart::Never => false,
            };
            if again {
                if s.started.elapsed() >= self.backoff_reset {
                    s.backoff = BACKOFF_START;
                }
                s.restart_at = Some(Instant::now() + s.backoff);
                s.backoff = (s.backoff * 2).min(BACKOFF_MAX);
                s.set("restarting");
            } else {
                s.set(if status.success() { "exited" } else { "failed" });
            }
        }
        if changed {
            self.save();
        }
        Ok(())
    }

    pub(super) fn restart_due(&mut self) {
        let now = Instant::now();
        for i in 0..self.slots.len() {
            if self.slots[i].restart_at.is_none_or(|t| t > now) {
                continue;
            }
            self.slots[i].restart_at = None;
            if let Err(e) = self.restart_one(i) {
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
        s.restart_at = Some(Instant::now() + s.backoff);
        s.backoff = (s.backoff * 2).min(BACKOFF_MAX);
        s.state.last_error = Some(cause);
        s.set("restarting");
        self.save();
    }

    fn restart_one(&mut self, i: usize) -> Result<(), SupervisorError> {
        crate::runtime::events::restarted(&self.plan.pod, &self.slots[i].plan.name);
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
            if st.active_state == "failed" {
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
        let p = launch::spawn(&self.paths.podctl, &self.slots[i].plan.name, &spec)?;
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
        if regular().any(|s| s.child.is_some() || s.restart_at.is_some() || s.pending.is_some()) {
            return None;
        }
        let failed: Vec<String> = regular()
            .filter(|s| s.state.state == "failed")
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
