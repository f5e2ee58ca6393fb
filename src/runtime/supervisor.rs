//! `podctl up NAME`: the supervisor run by `pod@NAME.service`.
//!
//! Start: spawn the holder and every container helper (all held), create the
//! slice, the sandbox scope and every container scope in one batch of
//! StartTransientUnit calls, wait for the jobs, release the holder; run the
//! init containers one by one to completion; then release each regular
//! container once what it waits for (`after`) holds. READY=1 (by the caller)
//! once every regular container is ready.
//! Run: restart containers per policy with exponential backoff, probe
//! liveness; a lost sandbox fails the service (systemd's Restart= recreates
//! the pod). Stop (SIGTERM): containers in reverse start order, each with its
//! stop signal and timeout, then the sandbox.

use super::launch::{self, LaunchSpec, PendingContainer};
use super::notify::NotifySocket;
use super::state::{ContainerState, PodState, Reload, now_secs};
use super::{Paths, holder, probe};
use crate::model::{Condition, Restart};
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
/// How long the start may wait for init containers and conditions (pod@.service
/// gives the whole start 90 s).
pub const START_TIMEOUT: Duration = Duration::from_secs(80);

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
    #[error("init container {name} failed ({exit}); its output: podctl logs {pod} {name}")]
    InitFailed {
        pod: String,
        name: String,
        exit: String,
    },
    #[error(
        "container {name} ended ({exit}) before {waiter} could start (it waits for it to be {condition})"
    )]
    DependencyFailed {
        name: String,
        exit: String,
        waiter: String,
        condition: &'static str,
    },
    #[error("start timed out after {timeout:?}: {waiting}")]
    StartTimeout { timeout: Duration, waiting: String },
    #[error("pod finished: {0}")]
    Finished(String),
    #[error("the new definition changes the pod itself (namespaces, hostname): recreating it")]
    Recreate,
}

/// The signals the supervisor takes through a signalfd. Block them before any
/// thread exists (the D-Bus connection starts one), so all threads inherit it.
pub fn block_signals() -> nix::Result<SigSet> {
    let mut set = SigSet::empty();
    for s in [
        Signal::SIGTERM,
        Signal::SIGINT,
        Signal::SIGCHLD,
        Signal::SIGHUP,
    ] {
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

struct Slot {
    plan: ContainerPlan,
    /// Held helper, until released.
    pending: Option<PendingContainer>,
    child: Option<Child>,
    started: Instant,
    backoff: Duration,
    restart_at: Option<Instant>,
    /// Released at least once.
    released: bool,
    /// Exited 0 at least once.
    completed: bool,
    next_probe: Instant,
    live_failures: u32,
    /// Its NOTIFY_SOCKET, for `ready = "notify"`.
    notify: Option<NotifySocket>,
    state: ContainerState,
}

impl Slot {
    fn satisfies(&self, cond: Condition) -> bool {
        match cond {
            Condition::Started => self.released,
            Condition::Ready => self.state.ready || self.completed,
            Condition::Completed => self.completed,
        }
    }

    fn set(&mut self, state: &str) {
        self.state.state = state.into();
        self.state.since = now_secs();
    }
}

pub struct Supervisor<'m> {
    mgr: &'m dyn Manager,
    paths: Paths,
    plan: Plan,
    holder: Option<Child>,
    ns_pid: u32,
    sandbox_losses: u32,
    phase: &'static str,
    /// The pod file text `plan` was built from.
    definition: String,
    last_reload: Option<Reload>,
    slots: Vec<Slot>,
}

impl<'m> Supervisor<'m> {
    /// `definition` is the pod file text `plan` comes from (kept in the state
    /// file, so that `podctl apply` knows what runs).
    pub fn new(mgr: &'m dyn Manager, paths: Paths, plan: Plan, definition: String) -> Self {
        // A pod recreated after losing its sandbox keeps counting.
        let sandbox_losses = PodState::load(&paths.run, &plan.pod).map_or(0, |s| s.sandbox_losses);
        Supervisor {
            mgr,
            paths,
            plan,
            holder: None,
            ns_pid: 0,
            sandbox_losses,
            phase: "starting",
            definition,
            last_reload: None,
            slots: Vec::new(),
        }
    }

    /// Creates the pod's units and processes; returns once every regular
    /// container runs and is ready.
    pub fn start(&mut self) -> Result<(), SupervisorError> {
        let result = self.try_start();
        if result.is_err() {
            self.phase = "failed";
            self.save();
            // Nothing half-applied: the slice takes every scope with it.
            let _ = self.mgr.stop_unit(&self.plan.slice.name);
            for s in &mut self.slots {
                drop(s.pending.take());
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
        // Leftovers of a crashed run would make the names clash (one call
        // to find them, whatever the number of containers).
        let pattern = format!("pod-{}.*", plan.pod);
        for leftover in self.mgr.list_units(&[&pattern])? {
            if leftover.active_state == "failed" {
                self.mgr.reset_failed(&leftover.name)?;
            }
        }
        let pending_holder = holder::spawn(&self.paths.pause, &plan.sandbox)?;
        let holder_pid = [pending_holder.pid()];
        let mut slots = Vec::with_capacity(plan.containers.len());
        for c in &plan.containers {
            let mut s = placeholder_slot(c);
            let spec = launch_spec(&self.paths, &plan.pod, &mut s)?;
            s.pending = Some(launch::spawn(&self.paths.podctl, &c.name, &spec)?);
            slots.push(s);
        }
        self.slots = slots;
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

        let (holder_child, ns_pid) = pending_holder.release()?;
        self.holder = Some(holder_child);
        self.ns_pid = ns_pid;
        self.save();
        let deadline = Instant::now() + START_TIMEOUT;
        self.run_init_containers(deadline)?;
        self.start_regular_containers(deadline)?;
        self.phase = "running";
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
            let s = &mut self.slots[i];
            let mut child = s.child.take().expect("just released");
            let status = loop {
                if let Ok(Some(st)) = child.try_wait() {
                    break st;
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(SupervisorError::StartTimeout {
                        timeout: START_TIMEOUT,
                        waiting: format!("init container {} still running", s.plan.name),
                    });
                }
                std::thread::sleep(Duration::from_millis(5));
            };
            let exit = describe_exit(status);
            s.state.last_exit = Some(exit.clone());
            s.state.pid = 0;
            if !status.success() {
                s.set("failed");
                return Err(SupervisorError::InitFailed {
                    pod: self.plan.pod.clone(),
                    name: s.plan.name.clone(),
                    exit,
                });
            }
            s.completed = true;
            s.set("completed");
            self.save();
        }
        Ok(())
    }

    /// Releases regular containers as their conditions hold, until all are ready.
    fn start_regular_containers(&mut self, deadline: Instant) -> Result<(), SupervisorError> {
        loop {
            let mut progress = false;
            for i in 0..self.slots.len() {
                if self.slots[i].pending.is_some() && self.conditions_hold(i)? {
                    self.release(i)?;
                    progress = true;
                }
            }
            self.reap()?;
            self.restart_due();
            self.probe_readiness();
            let waiting: Vec<String> = self
                .slots
                .iter()
                .filter(|s| !(s.plan.init || s.state.ready || s.completed))
                .map(|s| describe_wait(s, &self.slots))
                .collect();
            if waiting.is_empty() {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(SupervisorError::StartTimeout {
                    timeout: START_TIMEOUT,
                    waiting: waiting.join("; "),
                });
            }
            if !progress {
                std::thread::sleep(Duration::from_millis(10));
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
            let gone = t.child.is_none() && t.pending.is_none() && t.restart_at.is_none();
            if gone {
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
    fn release(&mut self, i: usize) -> Result<(), SupervisorError> {
        let s = &mut self.slots[i];
        let p = s.pending.take().expect("a held container");
        let child = p.release(self.ns_pid)?;
        s.state.pid = child.id();
        s.child = Some(child);
        s.released = true;
        s.started = Instant::now();
        s.state.ready = s.plan.ready.is_none();
        s.next_probe = Instant::now();
        s.set("running");
        tracing::info!("container {} started", s.plan.name);
        self.save();
        Ok(())
    }

    /// One readiness attempt for each running, not yet ready container that is due.
    fn probe_readiness(&mut self) {
        let now = Instant::now();
        let mut changed = false;
        for s in &mut self.slots {
            let (Some(probe), Some(child)) = (&s.plan.ready, &s.child) else {
                continue;
            };
            if s.state.ready {
                continue;
            }
            if let Some(n) = &s.notify {
                if n.ready() {
                    tracing::info!("container {} is ready (READY=1)", s.plan.name);
                    s.state.ready = true;
                    changed = true;
                }
                continue;
            }
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
                child.id(),
            ) {
                tracing::info!("container {} is ready", s.plan.name);
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
    fn probe_liveness(&mut self) {
        let now = Instant::now();
        for s in &mut self.slots {
            let (Some(probe), Some(child)) = (&s.plan.live, &s.child) else {
                continue;
            };
            if !s.state.ready || now < s.next_probe {
                continue;
            }
            s.next_probe = now + Duration::from_millis(probe.interval_ms);
            if probe::attempt(
                self.mgr,
                &self.paths,
                probe,
                &s.plan.unit.name,
                self.ns_pid,
                child.id(),
            ) {
                s.live_failures = 0;
                continue;
            }
            s.live_failures += 1;
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

    /// SIGHUP (`systemctl reload`, sent by `podctl apply`): read the stored
    /// definition again and make the running pod match it with the least
    /// change: live limits, then restart or create only the containers whose
    /// definition changed (and those that wait for them), remove the others.
    /// An invalid file leaves the pod as it is; a pod-level change ends this
    /// supervisor so systemd recreates the pod.
    fn reload(&mut self) -> Result<(), SupervisorError> {
        let path = self.paths.definition(&self.plan.pod);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                self.reload_failed(
                    String::new(),
                    format!("cannot read {}: {e}", path.display()),
                );
                return Ok(());
            }
        };
        let pod = match crate::spec::parse_str(&text, &path.display().to_string(), &self.plan.pod) {
            Ok(p) => p,
            Err(d) => {
                self.reload_failed(text, d.to_string());
                return Ok(());
            }
        };
        let new_plan = crate::plan::build(&pod);
        let d = crate::plan::diff::diff(&self.plan, &new_plan);
        tracing::info!("reload: {}", d.to_string().replace('\n', ";"));
        if d.recreate {
            self.definition = text;
            return Err(SupervisorError::Recreate);
        }
        if !d.slice.is_empty()
            && let Err(e) = self.mgr.set_properties(&self.plan.slice.name, &d.slice)
        {
            self.reload_failed(text, crate::error_chain(&e));
            return Ok(());
        }
        let result = self.apply_container_changes(&new_plan, &d);
        self.plan = new_plan;
        self.definition = text.clone();
        self.last_reload = Some(Reload {
            definition: text,
            error: result.as_ref().err().map(|e| crate::error_chain(e)),
            summary: d.to_string(),
        });
        self.save();
        Ok(())
    }

    fn reload_failed(&mut self, definition: String, error: String) {
        tracing::warn!("reload failed, the pod runs on unchanged: {error}");
        self.last_reload = Some(Reload {
            definition,
            error: Some(error),
            summary: String::new(),
        });
        self.save();
    }

    fn apply_container_changes(
        &mut self,
        new_plan: &Plan,
        d: &crate::plan::diff::PlanDiff,
    ) -> Result<(), SupervisorError> {
        use crate::plan::diff::Action;
        let action = |name: &str| {
            d.containers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, a)| a.clone())
        };
        // Stop what goes or restarts, in reverse start order.
        for s in self.slots.iter_mut().rev() {
            if matches!(
                action(&s.plan.name),
                Some(Action::Restarted | Action::Removed)
            ) {
                s.restart_at = None;
                drop(s.pending.take());
                if let Some(child) = s.child.take() {
                    let timeout = Duration::from_millis(s.plan.stop_timeout_ms);
                    stop_scope(
                        self.mgr,
                        &self.plan.pod,
                        &s.plan.unit.name,
                        child,
                        s.plan.stop_signal,
                        timeout,
                    );
                }
            }
        }
        // The new order: kept slots take their new plan, new ones are made.
        let mut old: Vec<Slot> = std::mem::take(&mut self.slots);
        let mut first_error = None;
        for c in &new_plan.containers {
            let kept = old
                .iter()
                .position(|s| s.plan.name == c.name)
                .map(|i| old.remove(i));
            match (action(&c.name), kept) {
                (Some(Action::Updated(props)), Some(mut s)) => {
                    if let Err(e) = self.mgr.set_properties(&c.unit.name, &props) {
                        first_error.get_or_insert(e.into());
                    }
                    s.plan = c.clone();
                    self.slots.push(s);
                }
                (Some(Action::Unchanged), Some(mut s)) => {
                    s.plan = c.clone();
                    self.slots.push(s);
                }
                _ => {
                    // Restarted or created: a fresh slot, launched below.
                    let mut s = placeholder_slot(c);
                    s.restart_at = Some(Instant::now());
                    self.slots.push(s);
                }
            }
        }
        for i in 0..self.slots.len() {
            if self.slots[i].restart_at.is_some()
                && self.slots[i].child.is_none()
                && self.slots[i].restarts_pending_launch()
            {
                self.slots[i].restart_at = None;
                if let Err(e) = self.launch(i) {
                    first_error.get_or_insert(e);
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    fn save(&self) {
        let st = PodState {
            pod: self.plan.pod.clone(),
            supervisor_pid: std::process::id(),
            sandbox_pid: self.ns_pid,
            sandbox_losses: self.sandbox_losses,
            phase: self.phase.to_string(),
            definition: self.definition.clone(),
            last_reload: self.last_reload.clone(),
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
            let next = self
                .slots
                .iter()
                .filter_map(|s| {
                    s.restart_at.or(s
                        .plan
                        .live
                        .as_ref()
                        .and(s.child.as_ref())
                        .map(|_| s.next_probe))
                })
                .min()
                .map(|t| t.saturating_duration_since(Instant::now()));
            let ms = next.map_or(-1, |d| d.as_millis().min(60_000) as i32 + 1);
            // Signals, and the NOTIFY_SOCKETs of containers not ready yet.
            let mut fds = vec![nix::poll::PollFd::new(
                sfd.as_fd(),
                nix::poll::PollFlags::POLLIN,
            )];
            for n in self
                .slots
                .iter()
                .filter(|s| !s.state.ready)
                .filter_map(|s| s.notify.as_ref())
            {
                fds.push(nix::poll::PollFd::new(
                    n.as_fd(),
                    nix::poll::PollFlags::POLLIN,
                ));
            }
            let timeout =
                nix::poll::PollTimeout::try_from(ms).unwrap_or(nix::poll::PollTimeout::NONE);
            match nix::poll::poll(&mut fds, timeout) {
                Ok(_) | Err(nix::Error::EINTR) => {}
                Err(e) => return Err(SupervisorError::Signals(e)),
            }
            while let Ok(Some(info)) = sfd.read_signal() {
                let sig = info.ssi_signo as i32;
                if sig == Signal::SIGTERM as i32 || sig == Signal::SIGINT as i32 {
                    return self.stop();
                }
                if sig == Signal::SIGHUP as i32 {
                    self.reload()?;
                }
            }
            self.reap()?;
            self.restart_due();
            self.probe_readiness();
            self.probe_liveness();
            if let Some(outcome) = self.finished() {
                self.phase = if outcome.is_ok() {
                    "succeeded"
                } else {
                    "failed"
                };
                self.save();
                self.stop_sandbox();
                return outcome;
            }
        }
    }

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
        let _ = std::fs::remove_file(super::state::path(&self.paths.run, &self.plan.pod));
        Ok(())
    }

    fn stop_sandbox(&mut self) {
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

    fn reap(&mut self) -> Result<(), SupervisorError> {
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
            s.state.last_exit = Some(exit);
            s.state.pid = 0;
            s.state.ready = false;
            s.completed |= status.success();
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

    fn restart_due(&mut self) {
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
    }

    fn restart_one(&mut self, i: usize) -> Result<(), SupervisorError> {
        self.launch(i)?;
        self.slots[i].state.restarts += 1;
        self.save();
        Ok(())
    }

    /// (Re)creates slot `i`'s scope once its old one is gone, and starts it.
    fn launch(&mut self, i: usize) -> Result<(), SupervisorError> {
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
            std::thread::sleep(Duration::from_millis(5));
        }
        let spec = launch_spec(&self.paths, &self.plan.pod, &mut self.slots[i])?;
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
    fn finished(&self) -> Option<Result<(), SupervisorError>> {
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

/// The helper's spec for a slot; gives it a NOTIFY_SOCKET if it reports
/// readiness with sd_notify (the socket outlives restarts; stale messages
/// of a previous run are dropped).
fn launch_spec(paths: &Paths, pod: &str, s: &mut Slot) -> Result<LaunchSpec, SupervisorError> {
    let mut spec = LaunchSpec::new(&s.plan, &paths.pause);
    let wants = s
        .plan
        .ready
        .as_ref()
        .is_some_and(|p| p.check == crate::model::Check::Notify);
    if wants && s.notify.is_none() {
        let n = NotifySocket::bind(&paths.run, pod, &s.plan.name).map_err(|source| {
            launch::LaunchError::Pipe {
                container: s.plan.name.clone(),
                source,
            }
        })?;
        s.notify = Some(n);
    }
    if let Some(n) = &s.notify {
        let _ = n.ready();
        spec.process.env.retain(|(k, _)| k != "NOTIFY_SOCKET");
        spec.process
            .env
            .push(("NOTIFY_SOCKET".into(), n.path().display().to_string()));
    }
    Ok(spec)
}

impl Slot {
    /// A slot made by a reload, not launched yet.
    fn restarts_pending_launch(&self) -> bool {
        self.pending.is_none() && !self.released
    }
}

fn placeholder_slot(c: &ContainerPlan) -> Slot {
    Slot {
        plan: c.clone(),
        pending: None,
        child: None,
        started: Instant::now(),
        backoff: BACKOFF_START,
        restart_at: None,
        released: false,
        completed: false,
        next_probe: Instant::now(),
        live_failures: 0,
        notify: None,
        state: ContainerState {
            name: c.name.clone(),
            unit: c.unit.name.clone(),
            state: "waiting".into(),
            since: now_secs(),
            ..Default::default()
        },
    }
}

/// Why a container is not ready yet, for a start timeout message.
fn describe_wait(s: &Slot, all: &[Slot]) -> String {
    if s.pending.is_some() {
        let unmet: Vec<String> = s
            .plan
            .after
            .iter()
            .filter(|(t, c)| !all.iter().any(|o| &o.plan.name == t && o.satisfies(*c)))
            .map(|(t, c)| format!("{t} to be {}", c.as_str()))
            .collect();
        format!("{} waits for {}", s.plan.name, unmet.join(", "))
    } else {
        format!("{} is not ready ({})", s.plan.name, s.state.state)
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
    let root = super::cgroup::root();
    let grace = Instant::now() + Duration::from_secs(1);
    while scopes
        .iter()
        .any(|s| super::cgroup::populated(&root, pod, s.unit))
        && Instant::now() < grace
    {
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Stops one scope; see [`stop_scopes`].
fn stop_scope(
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
