//! `podctl up NAME`: the supervisor run by `pod@NAME.service`.
//!
//! Start: spawn the holder and every container helper (all held), create the
//! slice, the sandbox scope and the container scopes in one batch of
//! StartTransientUnit calls, wait for the jobs, release the holder, then
//! release the containers in order; READY=1 once every command runs.
//! Run: restart containers per policy with exponential backoff; a lost
//! sandbox fails the service (systemd's Restart= recreates the pod).
//! Stop (SIGTERM): stop the slice (systemd stops the scopes in reverse
//! dependency order) and exit 0.

use super::launch::{self, LaunchSpec, PendingContainer};
use super::state::{ContainerState, PodState, now_secs};
use super::{Paths, holder};
use crate::model::Restart;
use crate::plan::{ContainerPlan, Plan};
use crate::systemd::{Manager, Transient};
use nix::sys::signal::{SigSet, SigmaskHow, Signal, sigprocmask};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use std::os::fd::AsFd;
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

/// First restart delay; doubles up to [`BACKOFF_MAX`]; reset after [`BACKOFF_RESET`] of uptime.
pub const BACKOFF_START: Duration = Duration::from_millis(100);
pub const BACKOFF_MAX: Duration = Duration::from_secs(30);
pub const BACKOFF_RESET: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum SupervisorError {
    #[error(transparent)]
    Systemd(#[from] crate::systemd::Error),
    #[error(transparent)]
    Holder(#[from] holder::HolderError),
    #[error(transparent)]
    Launch(#[from] launch::LaunchError),
    #[error("signal handling")]
    Signals(#[source] nix::Error),
    #[error("the sandbox holder exited ({0}): the pod's namespaces are gone")]
    SandboxLost(String),
    #[error("pod finished: {0}")]
    Finished(String),
}

/// The signals the supervisor takes through a signalfd. Block them before any
/// thread exists (the D-Bus connection starts one), so all threads inherit it.
pub fn block_signals() -> nix::Result<SigSet> {
    let mut set = SigSet::empty();
    for s in [Signal::SIGTERM, Signal::SIGINT, Signal::SIGCHLD] {
        set.add(s);
    }
    sigprocmask(SigmaskHow::SIG_BLOCK, Some(&set), None)?;
    Ok(set)
}

/// "exited N" or "signal N", as status and logs show it.
pub fn describe_exit(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(c), _) if c > 128 => format!("signal {}", c - 128),
        (Some(c), _) => format!("exited {c}"),
        (None, Some(s)) => format!("signal {s}"),
        _ => "unknown".into(),
    }
}

/// Whether `child` exits within `limit` (it is reaped if so).
fn exits_within(child: &mut Child, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if !matches!(child.try_wait(), Ok(None)) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// SIGTERM to every process of the scope (and to our child directly, whose
/// relay forwards it), SIGKILL after `timeout`; returns once `child` is reaped.
fn stop_scope(mgr: &dyn Manager, unit: &str, child: &mut Child, timeout: Duration) {
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    let _ = mgr.kill_unit(unit, Signal::SIGTERM as i32);
    let _ = nix::sys::signal::kill(pid, Signal::SIGTERM);
    if !exits_within(child, timeout) {
        tracing::warn!("{unit}: still running {timeout:?} after SIGTERM, sending SIGKILL");
        let _ = mgr.kill_unit(unit, Signal::SIGKILL as i32);
        let _ = child.kill();
        let _ = child.wait();
    }
}

struct Slot {
    plan: ContainerPlan,
    child: Option<Child>,
    started: Instant,
    backoff: Duration,
    restart_at: Option<Instant>,
    state: ContainerState,
}

pub struct Supervisor<'m> {
    mgr: &'m dyn Manager,
    paths: Paths,
    plan: Plan,
    holder: Option<Child>,
    ns_pid: u32,
    slots: Vec<Slot>,
}

impl<'m> Supervisor<'m> {
    pub fn new(mgr: &'m dyn Manager, paths: Paths, plan: Plan) -> Self {
        Supervisor {
            mgr,
            paths,
            plan,
            holder: None,
            ns_pid: 0,
            slots: Vec::new(),
        }
    }

    /// Creates the pod's units and processes; returns once every command runs.
    pub fn start(&mut self) -> Result<(), SupervisorError> {
        let result = self.try_start();
        if result.is_err() {
            // Nothing half-applied: the slice takes every scope with it.
            let _ = self.mgr.stop_unit(&self.plan.slice.name);
            for s in &mut self.slots {
                if let Some(mut c) = s.child.take() {
                    let _ = c.kill();
                    let _ = c.wait();
                }
            }
            if let Some(mut h) = self.holder.take() {
                let _ = h.kill();
                let _ = h.wait();
            }
        }
        result
    }

    fn try_start(&mut self) -> Result<(), SupervisorError> {
        let plan = &self.plan;
        // Leftovers of a crashed run would make the names clash.
        for unit in
            std::iter::once(&plan.sandbox.unit).chain(plan.containers.iter().map(|c| &c.unit))
        {
            self.mgr.reset_failed(&unit.name)?;
        }
        let pending_holder = holder::spawn(&self.paths.pause, &plan.sandbox)?;
        let holder_pid = [pending_holder.pid()];
        let mut pending: Vec<PendingContainer> = Vec::with_capacity(plan.containers.len());
        for c in &plan.containers {
            let spec = LaunchSpec::new(c, &self.paths.pause);
            pending.push(launch::spawn(&self.paths.podctl, &c.name, &spec)?);
        }
        let pids: Vec<[u32; 1]> = pending.iter().map(|p| [p.pid()]).collect();
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

        let (holder_child, ns_pid) = pending_holder.release()?;
        self.holder = Some(holder_child);
        self.ns_pid = ns_pid;
        for (c, p) in self.plan.containers.iter().zip(pending) {
            let child = p.release(ns_pid)?;
            self.slots.push(Slot {
                plan: c.clone(),
                state: ContainerState {
                    name: c.name.clone(),
                    unit: c.unit.name.clone(),
                    pid: child.id(),
                    state: "running".into(),
                    restarts: 0,
                    last_exit: None,
                    since: now_secs(),
                },
                child: Some(child),
                started: Instant::now(),
                backoff: BACKOFF_START,
                restart_at: None,
            });
        }
        self.save();
        Ok(())
    }

    fn save(&self) {
        let st = PodState {
            pod: self.plan.pod.clone(),
            supervisor_pid: std::process::id(),
            sandbox_pid: self.ns_pid,
            containers: self.slots.iter().map(|s| s.state.clone()).collect(),
        };
        if let Err(e) = st.save(&self.paths.run) {
            tracing::warn!("cannot write state to {}: {e}", self.paths.run.display());
        }
    }

    /// Runs until SIGTERM/SIGINT (Ok) or until the pod cannot go on (Err).
    pub fn run(&mut self, signals: &SigSet) -> Result<(), SupervisorError> {
        let sfd = SignalFd::with_flags(signals, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK)
            .map_err(SupervisorError::Signals)?;
        loop {
            let timeout = self
                .slots
                .iter()
                .filter_map(|s| s.restart_at)
                .min()
                .map(|t| t.saturating_duration_since(Instant::now()));
            let ms = timeout.map_or(-1, |d| d.as_millis().min(60_000) as i32 + 1);
            let mut fds = [nix::poll::PollFd::new(
                sfd.as_fd(),
                nix::poll::PollFlags::POLLIN,
            )];
            match nix::poll::poll(
                &mut fds,
                nix::poll::PollTimeout::try_from(ms).unwrap_or(nix::poll::PollTimeout::NONE),
            ) {
                Ok(_) | Err(nix::Error::EINTR) => {}
                Err(e) => return Err(SupervisorError::Signals(e)),
            }
            while let Ok(Some(info)) = sfd.read_signal() {
                let sig = info.ssi_signo as i32;
                if sig == Signal::SIGTERM as i32 || sig == Signal::SIGINT as i32 {
                    return self.stop();
                }
            }
            self.reap()?;
            self.restart_due()?;
            if let Some(outcome) = self.finished() {
                let _ = self.mgr.stop_unit(&self.plan.slice.name);
                return outcome;
            }
        }
    }

    /// Stops the pod: containers in reverse start order, each given its stop
    /// timeout before SIGKILL, then the sandbox. Signals, not stop jobs: when
    /// `systemctl stop pod@NAME` got us here, the scopes' own stop jobs wait
    /// for this service to finish stopping (they are ordered Before= it).
    pub fn stop(&mut self) -> Result<(), SupervisorError> {
        tracing::info!("stopping pod {}", self.plan.pod);
        for s in self.slots.iter_mut().rev() {
            s.restart_at = None;
            if let Some(mut child) = s.child.take() {
                let timeout = match s.plan.unit.property("TimeoutStopUSec") {
                    Some(crate::plan::Value::U64(us)) => Duration::from_micros(*us),
                    _ => Duration::from_secs(10),
                };
                stop_scope(self.mgr, &s.plan.unit.name, &mut child, timeout);
                s.state.state = "stopped".into();
            }
        }
        if let Some(mut h) = self.holder.take() {
            stop_scope(
                self.mgr,
                &self.plan.sandbox.unit.name,
                &mut h,
                Duration::from_secs(5),
            );
        }
        let _ = std::fs::remove_file(super::state::path(&self.paths.run, &self.plan.pod));
        Ok(())
    }

    fn reap(&mut self) -> Result<(), SupervisorError> {
        if let Some(h) = &mut self.holder
            && let Ok(Some(status)) = h.try_wait()
        {
            self.holder = None;
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
            s.state.last_exit = Some(exit);
            s.state.pid = 0;
            s.state.since = now_secs();
            let again = match s.plan.restart {
                Restart::Always => true,
                Restart::OnFailure => !status.success(),
                Restart::Never => false,
            };
            if again {
                if s.started.elapsed() >= BACKOFF_RESET {
                    s.backoff = BACKOFF_START;
                }
                s.restart_at = Some(Instant::now() + s.backoff);
                s.backoff = (s.backoff * 2).min(BACKOFF_MAX);
                s.state.state = "restarting".into();
            } else {
                s.state.state = if status.success() { "exited" } else { "failed" }.into();
            }
        }
        if changed {
            self.save();
        }
        Ok(())
    }

    fn restart_due(&mut self) -> Result<(), SupervisorError> {
        let now = Instant::now();
        for i in 0..self.slots.len() {
            if self.slots[i].restart_at.is_none_or(|t| t > now) {
                continue;
            }
            self.slots[i].restart_at = None;
            if let Err(e) = self.restart_one(i) {
                tracing::warn!(
                    "restarting {}: {}",
                    self.slots[i].plan.name,
                    crate::error_chain(&e)
                );
                let s = &mut self.slots[i];
                s.restart_at = Some(Instant::now() + s.backoff);
                s.backoff = (s.backoff * 2).min(BACKOFF_MAX);
            }
        }
        Ok(())
    }

    fn restart_one(&mut self, i: usize) -> Result<(), SupervisorError> {
        let unit = self.slots[i].plan.unit.clone();
        // The old scope must be gone before its name can be reused.
        let deadline = Instant::now() + Duration::from_secs(10);
        while let Some(st) = self.mgr.status(&unit.name)? {
            if st.active_state == "failed" {
                self.mgr.reset_failed(&unit.name)?;
            }
            if Instant::now() > deadline {
                self.mgr.stop_unit(&unit.name)?;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let spec = LaunchSpec::new(&self.slots[i].plan, &self.paths.pause);
        let p = launch::spawn(&self.paths.podctl, &self.slots[i].plan.name, &spec)?;
        let pid = [p.pid()];
        if let Err(e) = self.mgr.start_transient(&[Transient {
            unit: &unit,
            pids: &pid,
        }]) {
            drop(p);
            return Err(e.into());
        }
        let child = p.release(self.ns_pid)?;
        let s = &mut self.slots[i];
        s.state.pid = child.id();
        s.state.restarts += 1;
        s.state.state = "running".into();
        s.state.since = now_secs();
        s.child = Some(child);
        s.started = Instant::now();
        self.save();
        Ok(())
    }

    /// Some(outcome) once no container runs or will run again.
    fn finished(&self) -> Option<Result<(), SupervisorError>> {
        let idle = self
            .slots
            .iter()
            .all(|s| s.child.is_none() && s.restart_at.is_none());
        if !idle {
            return None;
        }
        let failed: Vec<String> = self
            .slots
            .iter()
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
