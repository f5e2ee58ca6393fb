//! One container in the supervisor: its plan, its processes (held helper,
//! relay), its [`Lifecycle`] and what the state file shows of it; and the
//! helpers that read a slot (its launch spec, its journal events, why it
//! is not ready yet).

use super::SupervisorError;
use crate::layout::HostRoots;
use crate::layout::Layout;
use crate::model::Condition;
use crate::plan::{ContainerPlan, Plan};
use crate::supervise::launch::{self, LaunchSpec, PendingContainer};
use crate::supervise::lifecycle::{Lifecycle, Phase, Policy, Report};
use crate::supervise::notify::NotifySocket;
use crate::supervise::process::Process;
use crate::supervise::state::{ContainerState, now_secs};
use std::time::{Duration, Instant};

/// One container: its plan, its processes and its [`Lifecycle`].
pub(super) struct Slot {
    pub(super) plan: ContainerPlan,
    pub(super) policy: Policy,
    /// Held helper, until released ([`Phase::Waiting`]).
    pub(super) pending: Option<PendingContainer>,
    /// Its relay, while [`Phase::Running`] (and until reaped).
    pub(super) child: Option<Box<dyn Process>>,
    /// Its hook that runs: `post_start` ([`Phase::PostStart`]), or
    /// `pre_stop` until the stop takes it.
    pub(super) hook: Option<crate::supervise::hook::HookRun>,
    pub(super) life: Lifecycle,
    /// Its NOTIFY_SOCKET, for `ready = "notify"`.
    pub(super) notify: Option<NotifySocket>,
    /// What the state file shows besides the phase and readiness.
    pub(super) state: ContainerState,
}

impl Slot {
    /// Released once and ended for good: nothing to wait for.
    pub(super) fn ended(&self) -> bool {
        self.life.started.is_some() && self.life.phase.is_final()
    }

    pub(super) fn satisfies(&self, cond: Condition) -> bool {
        self.life.satisfies(cond, &self.policy)
    }

    pub(super) fn ready(&self) -> bool {
        self.life.ready(&self.policy)
    }

    /// The state file's record of it.
    pub(super) fn record(&self) -> ContainerState {
        ContainerState {
            state: self.life.phase.name().into(),
            ready: self.ready(),
            ..self.state.clone()
        }
    }
}

/// The helper's spec for a slot; binds its NOTIFY_SOCKET if it reports
/// readiness with sd_notify (the socket outlives restarts; stale messages
/// of a previous run are dropped). The runtime config gives the container
/// that socket ([`crate::oci::config`]).
pub(super) fn launch_spec(
    paths: &Layout,
    plan: &Plan,
    s: &mut Slot,
) -> Result<LaunchSpec, SupervisorError> {
    let mut spec = LaunchSpec::new(plan, &s.plan, &paths.pause);
    // Read at each start: systemd's credentials directory of the service.
    spec.secrets = crate::oci::secrets::read_credentials(
        paths.credentials.as_deref(),
        &s.plan.secrets.names(),
    );
    if spec.container.notify && s.notify.is_none() {
        let n = NotifySocket::bind(&paths.run, &plan.pod, &s.plan.name).map_err(|source| {
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
    }
    Ok(spec)
}

/// The journal event (and log line) of `r` for slot `s`.
pub(super) fn report(host: &HostRoots, pod: &str, s: &Slot, r: Report, slice_oom_kills: &mut u64) {
    let name = &s.plan.name;
    match r {
        Report::Started => {
            tracing::info!("container {name} started");
            crate::supervise::events::started(host, pod, name);
        }
        Report::Restarted => crate::supervise::events::restarted(host, pod, name),
        Report::Ready(how) => {
            match how {
                "probe" => tracing::info!("container {name} is ready"),
                _ => tracing::info!("container {name} is ready ({how})"),
            }
            crate::supervise::events::ready(host, pod, name, how);
        }
        Report::Exited(exit) => {
            tracing::info!("container {name} {exit}");
            crate::supervise::events::exited(
                host,
                pod,
                name,
                &s.plan.unit.name,
                &exit,
                slice_oom_kills,
            );
        }
        Report::ProbeFailed(n) => crate::supervise::events::probe_failed(host, pod, name, n),
        Report::HookFailed(hook, why) => {
            tracing::warn!("container {name}: its {} hook {why}", hook.key());
            crate::supervise::events::hook_failed(host, pod, name, hook.key(), &why);
        }
    }
}

pub(super) fn placeholder_slot(c: &ContainerPlan, backoff_reset: Duration) -> Slot {
    Slot {
        plan: c.clone(),
        policy: Policy::of(c, backoff_reset),
        pending: None,
        child: None,
        hook: None,
        life: Lifecycle::new(Instant::now()),
        notify: None,
        state: ContainerState {
            name: c.name.clone(),
            unit: c.unit.name.clone(),
            since: now_secs(),
            ..Default::default()
        },
    }
}

/// Why a container is not ready yet, for a start timeout message.
pub(super) fn describe_wait(s: &Slot, all: &[Slot]) -> String {
    if s.life.phase == Phase::Waiting {
        let unmet: Vec<String> = s
            .plan
            .after
            .iter()
            .filter(|(t, c)| !all.iter().any(|o| &o.plan.name == t && o.satisfies(*c)))
            .map(|(t, c)| format!("{t} to be {}", c.as_str()))
            .collect();
        format!("{} waits for {}", s.plan.name, unmet.join(", "))
    } else if s.life.phase == Phase::PostStart {
        format!("{}'s post_start hook has not ended", s.plan.name)
    } else {
        format!("{} is not ready ({})", s.plan.name, s.life.phase.name())
    }
}
