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
//! Hooks (`hooks`): a container's post_start hook runs once it is
//! released (it is neither started nor ready until the hook passes); its
//! pre_stop hook before its stop signal (`scopes`).
//! Run: restart containers per policy with exponential backoff, probe
//! liveness; a lost sandbox fails the service (systemd's Restart= recreates
//! the pod). Stop (SIGTERM): containers in reverse start order, each with its
//! stop signal and timeout, then the sandbox.

mod effects;
mod error;
mod evict;
mod hooks;
mod leftover;
pub mod memory;
mod probes;
mod reload;
mod restart;
mod scopes;
mod signals;
mod slot;
mod start;
mod stop;
#[cfg(test)]
mod tests;
pub mod up;

use super::holder;
use super::launch;
use super::process::{Process, Spawner};
use super::state::{PodState, Reload};
use crate::layout::Layout;
use crate::plan::Plan;
use crate::systemd::Manager;
pub use error::SupervisorError;
use nix::sys::signal::{SigSet, SigmaskHow, Signal, sigprocmask};
use signals::Inbox;
use slot::{Slot, describe_wait, launch_spec, placeholder_slot, report};
use std::os::fd::BorrowedFd;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::time::{Duration, Instant};

pub use super::lifecycle::{BACKOFF_MAX, BACKOFF_RESET, BACKOFF_START};
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

/// Where the pod is, as the state file shows it (`phase`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PodPhase {
    Starting,
    Running,
    /// The sandbox was lost: the supervisor ends and systemd recreates the pod.
    Recreating,
    /// Every regular container ended and none failed.
    Succeeded,
    /// The start failed, or every regular container ended and some failed.
    Failed,
    /// A scratch volume went past its limit: every container was stopped.
    Evicted,
}

impl PodPhase {
    pub fn name(self) -> &'static str {
        match self {
            PodPhase::Starting => "starting",
            PodPhase::Running => "running",
            PodPhase::Recreating => "recreating",
            PodPhase::Succeeded => "succeeded",
            PodPhase::Failed => "failed",
            PodPhase::Evicted => "evicted",
        }
    }
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

pub struct Supervisor<'m> {
    mgr: &'m dyn Manager,
    /// Starts the holder and the helpers ([`super::process::OsProcesses`] unless
    /// [`Supervisor::with_processes`] says otherwise).
    procs: &'m dyn Spawner,
    /// Detaches the pod's mounts when it goes ([`crate::mount::SystemMounts`]
    /// unless [`Supervisor::with_mounts`] says otherwise; its helpers mount).
    mounts: &'m dyn crate::mount::Mounter,
    paths: Layout,
    plan: Plan,
    holder: Option<Box<dyn Process>>,
    ns_pid: u32,
    sandbox_losses: u32,
    phase: PodPhase,
    /// The pod file text `plan` was assembled from.
    definition: String,
    /// The facts about its images `plan` was assembled from.
    facts: crate::plan::Facts,
    /// Where a reload's image facts come from (the store at
    /// [`Layout::images`] unless [`Supervisor::with_images`] says otherwise).
    images: Option<&'m dyn crate::image::facts::ImageSource>,
    /// Where a reload's range of IDs comes from (`None`: allocated in
    /// `paths`' store).
    ids: Option<&'m dyn crate::ids::IdSource>,
    last_reload: Option<Reload>,
    slots: Vec<Slot>,
    inbox: Inbox,
    backoff_reset: Duration,
    /// The pod slice's OOM kill count at the last exit (see events::exited).
    slice_oom_kills: u64,
    /// The pod's network (set up on the holder's namespace before any
    /// container starts; torn down when the supervisor goes): none unless
    /// [`Supervisor::with_network`] gives one.
    network: Option<Box<dyn crate::net::session::Session>>,
    /// Measures scratch volumes that have a `limit`
    /// ([`evict::TreeUsage`] unless [`Supervisor::with_usage`] says otherwise).
    usage: &'m dyn evict::VolumeUsage,
    /// When those are measured next (`None`: the pod has none).
    usage_due: Option<Instant>,
    /// Why the pod ended, when it was evicted.
    reason: Option<String>,
}

impl<'m> Supervisor<'m> {
    /// `definition` is the pod file text `plan` comes from (kept in the state
    /// file, so that `podctl apply` knows what runs).
    /// The supervisor's signals must be blocked already ([`block_signals`]).
    pub fn new(
        mgr: &'m dyn Manager,
        paths: Layout,
        plan: Plan,
        definition: String,
    ) -> Result<Self, SupervisorError> {
        // A pod recreated after losing its sandbox keeps counting.
        let sandbox_losses = PodState::load(&paths.run, &plan.pod).map_or(0, |s| s.sandbox_losses);
        Ok(Supervisor {
            mgr,
            procs: &super::process::OsProcesses,
            mounts: &crate::mount::SystemMounts,
            paths,
            plan,
            holder: None,
            ns_pid: 0,
            sandbox_losses,
            phase: PodPhase::Starting,
            definition,
            facts: crate::plan::Facts::default(),
            images: None,
            ids: None,
            last_reload: None,
            slots: Vec::new(),
            inbox: Inbox::new().map_err(SupervisorError::Signals)?,
            backoff_reset: backoff_reset(),
            slice_oom_kills: 0,
            network: None,
            usage: &evict::TreeUsage,
            usage_due: None,
            reason: None,
        })
    }

    /// `plan` was assembled with `facts` (kept in the state file with the
    /// definition: together they are the plan that runs).
    pub fn with_facts(mut self, facts: crate::plan::Facts) -> Self {
        self.facts = facts;
        self
    }

    /// Looks a reload's images up in `images` (tests: a fake store).
    pub fn with_images(mut self, images: &'m dyn crate::image::facts::ImageSource) -> Self {
        self.images = Some(images);
        self
    }

    /// Reloads take a pod's range of IDs from `ids` (tests: a fixed one).
    pub fn with_ids(mut self, ids: &'m dyn crate::ids::IdSource) -> Self {
        self.ids = Some(ids);
        self
    }

    /// Starts its processes through `procs` (tests: [`super::process::fake`]).
    pub fn with_processes(mut self, procs: &'m dyn Spawner) -> Self {
        self.procs = procs;
        self
    }

    /// Detaches the pod's mounts through `mounts` (tests: [`crate::mount::fake`]).
    pub fn with_mounts(mut self, mounts: &'m dyn crate::mount::Mounter) -> Self {
        self.mounts = mounts;
        self
    }

    /// Sets the pod's network up on the holder's namespace through
    /// `network` (reserved already), and tears it down when dropped
    /// (tests: [`crate::net::session::fake`]).
    pub fn with_network(mut self, network: Box<dyn crate::net::session::Session>) -> Self {
        self.network = Some(network);
        self
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
            self.phase = PodPhase::Failed;
            self.save();
            // Nothing half-applied: what started is killed (by PID, and
            // the slice takes every scope with it).
            self.kill_leftovers();
            let _ = self.mgr.stop_unit(&self.plan.slice.name);
            self.remove_pod_mounts();
            for s in &mut self.slots {
                drop(s.pending.take());
                s.hook = None;
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
            phase: self.phase.name().to_string(),
            definition: self.definition.clone(),
            facts: self.facts.clone(),
            userns: self.plan.userns.map(),
            reason: self.reason.clone(),
            last_reload: self.last_reload.clone(),
            containers: self.slots.iter().map(Slot::record).collect(),
        };
        if let Err(e) = st.save(&self.paths.run) {
            tracing::warn!("cannot write state to {}: {e}", self.paths.run.display());
        }
    }

    /// When something is due next: a restart, a probe, a hook's end.
    fn next_due(&self) -> Option<Instant> {
        let hooks = self.slots.iter().filter_map(|s| s.hook.as_ref());
        self.slots
            .iter()
            .filter_map(|s| s.life.due(&s.policy))
            .chain(hooks.map(|h| h.due()))
            .chain(self.usage_due)
            .min()
    }

    /// Sleeps until `until` at the latest, or until a signal, a helper's
    /// exit (SIGCHLD) or a notification of a container not ready yet.
    fn wait(&mut self, until: Option<Instant>) {
        let timeout = until.map(|t| t.saturating_duration_since(Instant::now()));
        // The NOTIFY_SOCKETs of containers not ready yet (READY=1 waits
        // for a post_start hook to pass).
        let notify: Vec<BorrowedFd<'_>> = self
            .slots
            .iter()
            .filter(|s| !s.ready() && s.life.phase != super::lifecycle::Phase::PostStart)
            .filter_map(|s| s.notify.as_ref())
            .map(|n| n.as_fd())
            .collect();
        // Quiet for a moment first, then what the work left in memory goes
        // (`memory`); a shorter wait (a start or stop polling) is busy, not
        // quiet: nothing is released, or the next look would map it back.
        if timeout.is_some_and(|t| t < memory::SETTLE) {
            self.inbox.wait(timeout, &notify);
            return;
        }
        if self.inbox.wait(Some(memory::SETTLE), &notify) {
            return;
        }
        memory::release_free();
        memory::release_code();
        self.inbox
            .wait(timeout.map(|t| t - memory::SETTLE), &notify);
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
            if let Err(e) = self.reap() {
                // The sandbox is lost: its containers go now, not with the
                // units (systemd may be unable to kill a scope).
                self.stop_containers();
                self.kill_leftovers();
                return Err(e);
            }
            self.poll_hooks();
            self.restart_due();
            self.probe_readiness();
            self.probe_liveness();
            if let Some(eviction) = self.measure_volumes() {
                return self.evict(eviction);
            }
            if let Some(outcome) = self.finished() {
                self.phase = if outcome.is_ok() {
                    PodPhase::Succeeded
                } else {
                    PodPhase::Failed
                };
                self.save();
                self.stop_sandbox();
                self.kill_leftovers();
                return outcome;
            }
            let next = self.next_due();
            // Waiting from here: hold no connection to systemd meanwhile.
            self.mgr.idle();
            memory::release_free();
            self.wait(next);
        }
    }
}
