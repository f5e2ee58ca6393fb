//! `podctl up NAME`: the supervisor run by `pod@NAME.service`.
//! (Readiness and liveness in `probes`, restarts and launches in `restart`,
//! reload in `reload`, stop in `stop`, the signal inbox in `signals`.)
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
mod restart;
mod signals;
mod start;
mod stop;
#[cfg(test)]
mod tests;

use super::launch::{self, LaunchSpec, PendingContainer};
use super::notify::NotifySocket;
use super::state::{ContainerState, PodState, Reload, now_secs};
use super::{Paths, holder};
use crate::model::Condition;
use crate::plan::{ContainerPlan, Plan};
use crate::systemd::Manager;
use nix::sys::signal::{SigSet, SigmaskHow, Signal, sigprocmask};
use signals::Inbox;
use std::os::fd::BorrowedFd;
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

/// First restart delay; doubles up to [`BACKOFF_MAX`]; reset after [`BACKOFF_RESET`] of uptime.
pub const BACKOFF_START: Duration = Duration::from_millis(100);
pub const BACKOFF_MAX: Duration = Duration::from_secs(30);
pub const BACKOFF_RESET: Duration = Duration::from_secs(60);
/// Overrides [`BACKOFF_RESET`] (whole seconds), for tests that cannot wait
/// a minute: `systemctl set-environment` or a drop-in for pod@.service.
pub const BACKOFF_RESET_ENV: &str = "PODCTL_BACKOFF_RESET_SECS";
/// How long a container's old scope may take to go away before its name is
/// reused (its processes are killed halfway).
#[cfg(not(test))]
pub const SCOPE_GONE_TIMEOUT: Duration = Duration::from_secs(10);
#[cfg(test)]
pub const SCOPE_GONE_TIMEOUT: Duration = Duration::from_millis(300);
/// How often a launch looks again whether the old scope is gone.
const SCOPE_GONE_POLL: Duration = Duration::from_millis(20);
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
    #[error("{unit}: the previous scope of this name is still there after {timeout:?}")]
    ScopeInUse { unit: String, timeout: Duration },
    #[error("stop requested")]
    StopRequested,
    #[error("{0} (retried with backoff; podctl status shows it)")]
    ReloadLaunch(String),
}

/// How [`Supervisor::start`] ended when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Started {
    /// Every regular container runs and is ready.
    Running,
    /// A stop was requested during the start; the pod was stopped in order.
    Stopped,
}

/// The backoff reset window: [`BACKOFF_RESET`] unless [`BACKOFF_RESET_ENV`] says otherwise.
pub fn backoff_reset() -> Duration {
    std::env::var(BACKOFF_RESET_ENV)
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .map_or(BACKOFF_RESET, Duration::from_secs)
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
    /// Released once and ended for good (not running, held or due to restart):
    /// nothing to wait for.
    fn ended(&self) -> bool {
        self.released && self.child.is_none() && self.pending.is_none() && self.restart_at.is_none()
    }

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
    inbox: Inbox,
    backoff_reset: Duration,
    /// The pod slice's OOM kill count at the last exit (see events::exited).
    slice_oom_kills: u64,
    /// The pod's network (set up on the holder's namespace before any
    /// container starts; torn down when the supervisor goes).
    pub network: Option<crate::net::session::Session>,
}

impl<'m> Supervisor<'m> {
    /// `definition` is the pod file text `plan` comes from (kept in the state
    /// file, so that `podctl apply` knows what runs).
    /// The supervisor's signals must be blocked already ([`block_signals`]).
    pub fn new(
        mgr: &'m dyn Manager,
        paths: Paths,
        plan: Plan,
        definition: String,
    ) -> Result<Self, SupervisorError> {
        // A pod recreated after losing its sandbox keeps counting.
        let sandbox_losses = PodState::load(&paths.run, &plan.pod).map_or(0, |s| s.sandbox_losses);
        Ok(Supervisor {
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
            inbox: Inbox::new().map_err(SupervisorError::Signals)?,
            backoff_reset: backoff_reset(),
            slice_oom_kills: 0,
            network: None,
        })
    }

    /// Creates the pod's units and processes; returns once every regular
    /// container runs and is ready, or once a stop requested meanwhile
    /// (SIGTERM) has stopped what was started, in order.
    pub fn start(&mut self) -> Result<Started, SupervisorError> {
        let result = self.try_start();
        if result.is_err() && self.inbox.stop_requested().is_some() {
            tracing::info!("stop requested during the start");
            self.stop()?;
            return Ok(Started::Stopped);
        }
        if let Err(SupervisorError::Launch(launch::LaunchError::Setup {
            container, message, ..
        })) = &result
            && let Some(s) = self.slots.iter_mut().find(|s| &s.plan.name == container)
        {
            // `podctl status` says why (a runtime's refusal, a missing program).
            s.state.last_error = Some(message.clone());
        }
        if result.is_err() {
            self.phase = "failed";
            self.save();
            // Nothing half-applied: the slice takes every scope with it.
            let _ = self.mgr.stop_unit(&self.plan.slice.name);
            self.remove_pod_mounts();
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
        result.map(|()| Started::Running)
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

    /// When something is due next: a restart, a probe.
    fn next_due(&self) -> Option<Instant> {
        self.slots
            .iter()
            .filter_map(|s| {
                let probing = s.child.is_some()
                    && (s.plan.live.is_some()
                        || (!s.state.ready
                            && s.plan
                                .ready
                                .as_ref()
                                .is_some_and(|p| p.check != crate::model::Check::Notify)));
                s.restart_at.or(probing.then_some(s.next_probe))
            })
            .min()
    }

    /// Sleeps until `until` at the latest, or until a signal, a helper's
    /// exit (SIGCHLD) or a notification of a container not ready yet.
    fn wait(&mut self, until: Option<Instant>) {
        let timeout = until.map(|t| t.saturating_duration_since(Instant::now()));
        // The NOTIFY_SOCKETs of containers not ready yet.
        let notify: Vec<BorrowedFd<'_>> = self
            .slots
            .iter()
            .filter(|s| !s.state.ready)
            .filter_map(|s| s.notify.as_ref())
            .map(|n| n.as_fd())
            .collect();
        self.inbox.wait(timeout, &notify);
    }

    /// Runs until SIGTERM/SIGINT (Ok) or until the pod cannot go on (Err).
    pub fn run(&mut self) -> Result<(), SupervisorError> {
        loop {
            if self.inbox.stop_requested().is_some() {
                return self.stop();
            }
            if self.inbox.take_reload() {
                self.reload()?;
                continue;
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
            let next = self.next_due();
            // Waiting from here: hold no connection to systemd meanwhile.
            self.mgr.idle();
            self.wait(next);
        }
    }
}

/// The helper's spec for a slot; gives it a NOTIFY_SOCKET if it reports
/// readiness with sd_notify (the socket outlives restarts; stale messages
/// of a previous run are dropped).
fn launch_spec(paths: &Paths, plan: &Plan, s: &mut Slot) -> Result<LaunchSpec, SupervisorError> {
    let pod = plan.pod.as_str();
    let mut spec = LaunchSpec::new(&s.plan, &paths.pause);
    // Every container goes through its OCI runtime (crun by default).
    spec.oci = Some(crate::oci::Container::from_plan(plan, &s.plan));
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
        // Stale messages of a previous run count for nothing.
        n.discard();
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
