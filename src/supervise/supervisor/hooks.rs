//! The containers' lifecycle hooks as the run loop sees them: a hook is
//! started when the state machine says so ([`start`], from
//! [`Supervisor::fire`]), looked at without blocking, and its end fed back
//! ([`Supervisor::poll_hooks`]). A `pre_stop` hook is the stop's to watch
//! (`scopes`).

use super::Supervisor;
use crate::model::Hook;
use crate::plan::ContainerPlan;
use crate::supervise::hook::{HookRun, Target};
use crate::supervise::lifecycle::Event;
use std::time::{Duration, Instant};

/// Starts `hook` of container `plan`: a `post_start` hook has the pod's
/// start timeout (`start_timeout_ms`) to pass, a `pre_stop` hook the
/// container's stop timeout (the stop moves that deadline to the
/// container's SIGKILL deadline). None if the container has no such hook.
pub(super) fn start(
    hook: Hook,
    plan: &ContainerPlan,
    start_timeout_ms: u64,
    to: &Target<'_>,
) -> Option<HookRun> {
    let handler = plan.hooks.get(hook)?;
    let within = match hook {
        Hook::PostStart => start_timeout_ms,
        Hook::PreStop => plan.stop_timeout_ms,
    };
    let deadline = Instant::now() + Duration::from_millis(within);
    tracing::info!("container {}: running its {} hook", plan.name, hook.key());
    Some(HookRun::start(hook, handler, to, deadline))
}

impl Supervisor<'_> {
    /// Feeds the end of every `post_start` hook that ended (passed, failed
    /// or timed out) to its container's state machine.
    pub(super) fn poll_hooks(&mut self) {
        let now = Instant::now();
        for i in 0..self.slots.len() {
            let s = &mut self.slots[i];
            let Some(h) = s.hook.as_mut().filter(|h| h.hook == Hook::PostStart) else {
                continue;
            };
            let Some(end) = h.poll(now) else { continue };
            s.hook = None;
            self.fire(
                i,
                Event::HookEnded {
                    hook: Hook::PostStart,
                    end,
                    now,
                },
            );
        }
    }
}
