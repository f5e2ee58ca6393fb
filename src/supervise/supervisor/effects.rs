//! Feeding an event to a container's state machine and carrying out the
//! effects that need nothing but its slot and the supervisor's handles.

use super::{Supervisor, hooks, report};
use crate::supervise::hook::Target;
use crate::supervise::lifecycle::{Effect, Event, Phase, transition};
use crate::supervise::state::now_secs;
use nix::sys::signal::Signal;

impl Supervisor<'_> {
    /// Feeds `event` to slot `i`'s state machine and carries out the
    /// effects that need nothing but the slot; returns the others (launch,
    /// stop, set properties) for the caller, which knows how.
    pub(super) fn fire(&mut self, i: usize, event: Event) -> Vec<Effect> {
        let s = &mut self.slots[i];
        let (life, effects) = transition(&s.life, &s.policy, event);
        s.life = life;
        let mut rest = Vec::new();
        let mut save = false;
        for e in effects {
            match e {
                Effect::Entered => s.state.since = now_secs(),
                Effect::Save => save = true,
                Effect::DropHeld => drop(s.pending.take()),
                Effect::KillScope => {
                    let why = match s.life.phase {
                        Phase::PostStart => "its post_start hook failed".to_string(),
                        _ => format!(
                            "liveness probe failed {} times",
                            s.policy.live_retries.unwrap_or(0)
                        ),
                    };
                    tracing::warn!("container {}: {why}, killing it", s.plan.name);
                    let _ = self
                        .mgr
                        .kill_unit(&s.plan.unit.name, Signal::SIGKILL as i32);
                }
                // Dropped: killed if it runs.
                Effect::CancelHook => s.hook = None,
                Effect::RunHook(hook) => {
                    let to = Target {
                        procs: self.procs,
                        mgr: self.mgr,
                        paths: &self.paths,
                        unit: &s.plan.unit.name,
                        ns_pid: self.ns_pid,
                        command_pid: s.state.pid,
                    };
                    s.hook = hooks::start(hook, &s.plan, self.plan.start_timeout_ms, &to);
                }
                Effect::Report(r) => report(
                    &self.paths.host,
                    &self.plan.pod,
                    s,
                    r,
                    &mut self.slice_oom_kills,
                ),
                other => rest.push(other),
            }
        }
        if save {
            self.save();
        }
        rest
    }
}
