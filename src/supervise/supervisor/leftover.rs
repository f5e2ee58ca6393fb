//! What is left in the pod's cgroups once its processes should be gone:
//! killed by PID, whatever systemd managed ([`crate::supervise::leftovers`]);
//! and before a start, what a previous life of the pod left, processes and
//! units, so the new one does not fail on its own leftovers.

use super::{SCOPE_GONE_POLL, SCOPE_GONE_TIMEOUT, Supervisor, SupervisorError};
use crate::supervise::leftovers;
use crate::systemd::ActiveState;
use std::time::Instant;

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

    /// Before anything of the new pod is spawned: if the pod's slice still
    /// has a cgroup (a previous supervisor's, which systemd could not
    /// clear), its processes are killed by PID. The unit itself is seen to
    /// next ([`Self::wait_slice_gone`]). No cgroup: no call to systemd.
    pub(super) fn clear_previous_life(&mut self) -> Result<(), SupervisorError> {
        let roots = leftovers::hierarchies(&self.paths.host.cgroup);
        if !leftovers::any_cgroup(&roots, &self.plan.pod) {
            return Ok(());
        }
        tracing::warn!(
            "pod {}: {} is left from a previous run, clearing it",
            self.plan.pod,
            self.plan.slice.name
        );
        self.kill_leftovers();
        Ok(())
    }

    /// Right before the units are made: the pod's slice must not be loaded,
    /// or its name cannot be taken (`UnitExists`). A restart of
    /// pod@NAME.service (`systemctl restart`, an apply that recreates the
    /// pod) is propagated to the slice bound to it, which systemd may still
    /// be stopping or starting anew, cgroup or not, when this supervisor
    /// starts; a previous run's may be left active. The slice is stopped
    /// (its pending jobs replaced), reset, and waited for until systemd has
    /// let it go, within [`SCOPE_GONE_TIMEOUT`]. One call to systemd when
    /// there is no such slice.
    pub(super) fn wait_slice_gone(&mut self) -> Result<(), SupervisorError> {
        let slice = self.plan.slice.name.clone();
        let start = Instant::now();
        let mut stopped = false;
        loop {
            let units = self.mgr.list_units(&[&slice])?;
            let Some(st) = units.iter().find(|u| u.name == slice) else {
                return Ok(());
            };
            if !stopped {
                tracing::info!(
                    "pod {}: {slice} is still there ({}), stopping it first",
                    self.plan.pod,
                    st.active_state.as_str()
                );
                if st.active_state != ActiveState::Failed {
                    self.mgr.stop_unit(&slice)?;
                }
                self.mgr.reset_failed(&slice)?;
                stopped = true;
                continue;
            }
            if start.elapsed() >= SCOPE_GONE_TIMEOUT {
                return Err(SupervisorError::ScopeInUse {
                    unit: slice,
                    timeout: SCOPE_GONE_TIMEOUT,
                });
            }
            self.inbox.wait(Some(SCOPE_GONE_POLL), &[]);
            if self.inbox.stop_requested().is_some() {
                return Err(SupervisorError::StopRequested);
            }
        }
    }
}
