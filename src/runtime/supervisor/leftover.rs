//! What is left in the pod's cgroups once its processes should be gone:
//! killed by PID, whatever systemd managed ([`crate::runtime::leftovers`]);
//! and before a start, what a previous life of the pod left, processes and
//! units, so the new one does not fail on its own leftovers.

use super::{Supervisor, SupervisorError};
use crate::runtime::leftovers;
use crate::systemd::ActiveState;

impl Supervisor<'_> {
    /// SIGKILL to every process still in the pod's cgroups (our relays
    /// among them are reaped).
    pub(super) fn kill_leftovers(&mut self) {
        let roots = leftovers::hierarchies(&self.paths.host.cgroup);
        let left = leftovers::kill_all(
            &roots,
            &self.plan.pod,
            leftovers::KILL_TIMEOUT,
            std::process::id(),
            &mut leftovers::sigkill,
        );
        for s in &mut self.slots {
            if let Some(c) = &mut s.child {
                let _ = c.try_wait();
            }
        }
        if !left.is_empty() {
            tracing::warn!(
                "pod {}: processes {left:?} still in its cgroups after SIGKILL for {:?}",
                self.plan.pod,
                leftovers::KILL_TIMEOUT
            );
        }
    }

    /// Before the units are made: if the pod's slice still has a cgroup (a
    /// previous supervisor's, which systemd could not clear), its processes
    /// are killed and its slice stopped (its scopes with it) or reset, so
    /// that the names can be taken again.
    pub(super) fn clear_previous_life(&mut self) -> Result<(), SupervisorError> {
        let roots = leftovers::hierarchies(&self.paths.host.cgroup);
        if !leftovers::any_cgroup(&roots, &self.plan.pod) {
            return Ok(());
        }
        let slice = self.plan.slice.name.clone();
        tracing::warn!(
            "pod {}: {slice} is left from a previous run, clearing it",
            self.plan.pod
        );
        self.kill_leftovers();
        match self.mgr.status(&slice)?.map(|s| s.active_state) {
            None | Some(ActiveState::Inactive) => {}
            Some(ActiveState::Failed) => self.mgr.reset_failed(&slice)?,
            Some(_) => {
                self.mgr.stop_unit(&slice)?;
                self.mgr.reset_failed(&slice)?;
            }
        }
        Ok(())
    }
}
