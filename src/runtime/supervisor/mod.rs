//! `podctl up NAME`: the supervisor run by `pod@NAME.service`.
//! (Readiness and liveness in `probes`, reload in `reload`, stop in `stop`.)
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

mod probes;
mod reload;
mod start;
mod stop;

use super::launch::{self, LaunchSpec, PendingContainer};
use super::notify::NotifySocket;
use super::state::{ContainerState, PodState, Reload, now_secs};
use super::{Paths, holder};
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
    #[error(transparent)]
    Network(#[from] crate::net::NetError),
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
    /// The pod's network (set up on the holder's namespace before any
    /// container starts; torn down when the supervisor goes).
    pub network: Option<crate::net::session::Session>,
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
            network: None,
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
            crate::runtime::events::exited(&self.plan.pod, &s.plan.name, &s.plan.unit.name, &exit);
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
        crate::runtime::events::restarted(&self.plan.pod, &self.slots[i].plan.name);
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
