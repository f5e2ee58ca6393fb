//! Starting a pod: one batch of transient units, then the holder, the init
//! containers one by one, and the regular ones as their conditions hold.

use super::{
    PodPhase, Supervisor, SupervisorError, describe_exit, describe_wait, launch_spec,
    placeholder_slot,
};
use crate::supervise::lifecycle::Event;
use crate::supervise::{holder, launch};
use crate::systemd::Transient;
use std::time::{Duration, Instant};

/// How often the start looks at what it waits for when nothing wakes it
/// (a helper's exit or a signal does).
const START_POLL: Duration = Duration::from_millis(10);

/// Beyond the start's own deadline: time to report the outcome.
const START_MARGIN: Duration = Duration::from_secs(5);

/// EXTEND_TIMEOUT_USEC once the sandbox and its network are up: the rest of
/// the start (init containers, conditions, probes: the pod's
/// `start_timeout`) plus a margin.
fn start_extension(timeout: Duration) -> u32 {
    (timeout + START_MARGIN).as_micros().min(u32::MAX as u128) as u32
}

impl Supervisor<'_> {
    /// The pod's `start_timeout`.
    fn start_timeout(&self) -> Duration {
        Duration::from_millis(self.plan.start_timeout_ms)
    }
}

impl Supervisor<'_> {
    pub(super) fn try_start(&mut self) -> Result<(), SupervisorError> {
        // What a previous run left goes first (its runtime state and
        // mounts are removed next).
        if let crate::plan::UserNsPlan::Pending { .. } = self.plan.userns {
            return Err(SupervisorError::NoIdRange(self.plan.pod.clone()));
        }
        self.clear_previous_life()?;
        // Scratch volumes start empty; /dev/shm is made anew (before the
        // helpers, which prepare their containers' mounts while held).
        self.remove_pod_mounts();
        let plan = &self.plan;
        let pending_holder = holder::spawn(self.procs, &self.paths.pause, &plan.sandbox)?;
        let holder_pid = [pending_holder.pid()];
        let mut slots = Vec::with_capacity(plan.containers.len());
        for c in &plan.containers {
            let mut s = placeholder_slot(c, self.backoff_reset);
            let spec = launch_spec(&self.paths, plan, &mut s)?;
            s.pending = Some(launch::spawn(
                self.procs,
                &self.paths.podctl,
                &c.name,
                &spec,
            )?);
            slots.push(s);
        }
        self.slots = slots;
        // The connection to systemd was made meanwhile
        // (OnDemand::connect_ahead). The slice's name must be free (a
        // restart of the service is propagated to it); failed leftovers of
        // a crashed run are reset in the same round trip as the units are
        // made.
        self.wait_slice_gone()?;
        let plan = &self.plan;
        let pids: Vec<[u32; 1]> = self
            .slots
            .iter()
            .map(|s| [s.pending.as_ref().map_or(0, |p| p.pid())])
            .collect();
        let mut batch = vec![
            Transient {
                unit: &plan.slice,
                pids: &[],
            },
            Transient {
                unit: &plan.sandbox.unit,
                pids: &holder_pid,
            },
        ];
        for (c, pid) in plan.containers.iter().zip(&pids) {
            batch.push(Transient {
                unit: &c.unit,
                pids: pid,
            });
        }
        self.mgr.start_transient(&batch)?;
        if self.inbox.stop_requested().is_some() {
            return Err(SupervisorError::StopRequested);
        }

        let (holder_child, ns_pid) =
            pending_holder.release(&self.plan.userns, &self.paths.host.proc)?;
        self.holder = Some(holder_child);
        self.ns_pid = ns_pid;
        self.save();
        if let Some(net) = &mut self.network {
            net.attach(ns_pid)?;
        }
        // From here the start bounds itself (the pod's start_timeout). What the units,
        // the holder and the network took before (netavark at boot under
        // emulation: ~50 s) must not come out of it: pod@.service's start
        // timeout is moved to cover the whole of it.
        let timeout = self.start_timeout();
        let _ = sd_notify::notify(&[sd_notify::NotifyState::ExtendTimeoutUsec(start_extension(
            timeout,
        ))]);
        let deadline = Instant::now() + timeout;
        self.run_init_containers(deadline)?;
        self.start_regular_containers(deadline)?;
        self.phase = PodPhase::Running;
        self.save();
        Ok(())
    }

    /// Each init container, in order, must exit 0 before the next one starts.
    fn run_init_containers(&mut self, deadline: Instant) -> Result<(), SupervisorError> {
        for i in 0..self.slots.len() {
            if !self.slots[i].plan.init {
                continue;
            }
            self.release(i)?;
            // The child stays in its slot while it runs: a stop requested
            // meanwhile stops it like any container.
            let status = loop {
                let child = self.slots[i].child.as_mut().expect("just released");
                if let Ok(Some(st)) = child.try_wait() {
                    break st;
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(SupervisorError::StartTimeout {
                        timeout: self.start_timeout(),
                        waiting: format!(
                            "init container {} still running",
                            self.slots[i].plan.name
                        ),
                    });
                }
                if self.inbox.stop_requested().is_some() {
                    return Err(SupervisorError::StopRequested);
                }
                self.inbox.wait(Some(START_POLL), &[]);
            };
            let s = &mut self.slots[i];
            s.child = None;
            let exit = describe_exit(status);
            s.state.last_exit = Some(exit.clone());
            s.state.pid = 0;
            s.state.pid_start = 0;
            s.state.monitor_pid = 0;
            // Completed or Failed, saved either way.
            self.fire(
                i,
                Event::Exited {
                    exit: exit.clone(),
                    success: status.success(),
                    now: Instant::now(),
                },
            );
            if !status.success() {
                return Err(SupervisorError::InitFailed {
                    pod: self.plan.pod.clone(),
                    name: self.slots[i].plan.name.clone(),
                    exit,
                });
            }
        }
        Ok(())
    }

    /// Releases regular containers as their conditions hold, until all are ready.
    fn start_regular_containers(&mut self, deadline: Instant) -> Result<(), SupervisorError> {
        loop {
            if self.inbox.stop_requested().is_some() {
                return Err(SupervisorError::StopRequested);
            }
            let mut due = Vec::new();
            for i in 0..self.slots.len() {
                if self.slots[i].pending.is_some() && self.conditions_hold(i)? {
                    due.push(i);
                }
            }
            let progress = !due.is_empty();
            self.release_together(&due)?;
            self.reap()?;
            self.poll_hooks();
            self.restart_due();
            self.probe_readiness();
            let waiting: Vec<String> = self
                .slots
                .iter()
                .filter(|s| !(s.plan.init || s.ready() || s.life.completed || s.ended()))
                .map(|s| describe_wait(s, &self.slots))
                .collect();
            if waiting.is_empty() {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(SupervisorError::StartTimeout {
                    timeout: self.start_timeout(),
                    waiting: waiting.join("; "),
                });
            }
            if !progress {
                let until = self.next_due().map_or(Instant::now() + START_POLL, |t| {
                    t.min(Instant::now() + START_POLL)
                });
                self.wait(Some(until));
            }
        }
    }

    /// Whether every `after` condition of slot `i` holds; an error when one
    /// can no longer hold (the container waited for ended for good).
    fn conditions_hold(&self, i: usize) -> Result<bool, SupervisorError> {
        let s = &self.slots[i];
        for (target, cond) in &s.plan.after {
            let Some(t) = self.slots.iter().find(|t| &t.plan.name == target) else {
                continue;
            };
            if t.satisfies(*cond) {
                continue;
            }
            if t.life.never(*cond, &t.policy) {
                return Err(SupervisorError::DependencyFailed {
                    name: t.plan.name.clone(),
                    exit: t.state.last_exit.clone().unwrap_or_default(),
                    waiter: s.plan.name.clone(),
                    condition: cond.as_str(),
                });
            }
            return Ok(false);
        }
        Ok(true)
    }

    /// Lets a held container run (it is in its scope already).
    pub(super) fn release(&mut self, i: usize) -> Result<(), SupervisorError> {
        self.release_together(&[i])
    }

    /// Releases the held containers `due` at once: every helper is let go
    /// before any is waited for, so their OCI runtimes create and start them
    /// side by side (each `crun create` + `crun start` costs tens of
    /// milliseconds natively, seconds under emulation). Should one fail, the
    /// ones not yet waited for are killed and reaped (dropped held children)
    /// and the error is the start's.
    pub(super) fn release_together(&mut self, due: &[usize]) -> Result<(), SupervisorError> {
        let mut going = Vec::with_capacity(due.len());
        for &i in due {
            let mut p = self.slots[i].pending.take().expect("a held container");
            p.go(self.ns_pid)?;
            going.push((i, p));
        }
        for (i, p) in going {
            let r = p.wait_started(self.inbox.stop_fd(), &self.paths.host.proc)?;
            self.released(i, r);
        }
        Ok(())
    }

    fn released(&mut self, i: usize, r: crate::supervise::launch::Released) {
        let s = &mut self.slots[i];
        s.state.pid = r.command_pid;
        s.state.pid_start =
            crate::supervise::pin::start_time(&self.paths.host.proc, r.command_pid).unwrap_or(0);
        s.state.monitor_pid = r.child.pid();
        s.state.last_error = None;
        s.child = Some(r.child);
        self.fire(
            i,
            Event::Released {
                now: Instant::now(),
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    /// The extension covers the pod's start_timeout, the longest allowed
    /// one included (EXTEND_TIMEOUT_USEC is 32 bits of microseconds).
    #[test]
    fn start_extension_covers_the_start_deadline() {
        for ms in [
            1000,
            crate::model::DEFAULT_START_TIMEOUT_MS,
            crate::model::MAX_START_TIMEOUT_MS,
        ] {
            let timeout = Duration::from_millis(ms);
            let extended = Duration::from_micros(super::start_extension(timeout).into());
            assert!(extended > timeout, "{extended:?} for {timeout:?}");
        }
    }
}
