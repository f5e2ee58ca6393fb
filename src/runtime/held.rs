//! One held child: a helper podctl started that must not outlive a failed
//! start. The holder, the container helpers and the exec and probe helpers
//! are each spawned held (waiting on a pipe), attached to their unit, then
//! released; until released, dropping it kills and reaps the process, so
//! no error path leaves a helper or a zombie behind.

use crate::systemd::Manager;
use std::process::Child;

/// A child that is killed and reaped when dropped, unless taken with
/// [`HeldChild::into_child`] (it was released and runs on its own).
#[derive(Debug)]
pub struct HeldChild {
    child: Option<Child>,
}

impl HeldChild {
    pub fn new(child: Child) -> Self {
        HeldChild { child: Some(child) }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// Moves it into `sub` (e.g. `/relay`, or "" for the unit's own cgroup)
    /// of the running `unit`. On failure the caller drops it: killed and reaped.
    pub fn attach(
        &self,
        mgr: &dyn Manager,
        unit: &str,
        sub: &str,
    ) -> Result<(), crate::systemd::Error> {
        mgr.attach_sub(unit, sub, &[self.pid()])
    }

    /// Released: the caller owns the process from now on.
    pub fn into_child(mut self) -> Child {
        self.child.take().expect("a held child is taken once")
    }
}

impl Drop for HeldChild {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn sleeper() -> HeldChild {
        HeldChild::new(
            std::process::Command::new("sleep")
                .arg("100")
                .spawn()
                .unwrap(),
        )
    }

    /// Dropped while held: killed and reaped (no process, no zombie).
    #[test]
    fn dropped_while_held_is_killed_and_reaped() {
        let held = sleeper();
        let pid = held.pid();
        assert!(Path::new(&format!("/proc/{pid}")).exists());
        drop(held);
        assert!(!Path::new(&format!("/proc/{pid}")).exists());
    }

    /// Released: it runs on, the caller's to wait for.
    #[test]
    fn released_runs_on() {
        let held = sleeper();
        let pid = held.pid();
        let mut child = held.into_child();
        assert!(Path::new(&format!("/proc/{pid}")).exists());
        assert!(matches!(child.try_wait(), Ok(None)));
        child.kill().unwrap();
        child.wait().unwrap();
    }

    /// Attaching goes to the unit's sub-cgroup through systemd.
    #[test]
    fn attach_names_the_unit_and_pid() {
        let mgr = crate::systemd::fake::Recorder::new();
        let held = sleeper();
        held.attach(&mgr, "pod-t.app.scope", "/relay").unwrap();
        assert_eq!(
            mgr.calls.borrow().as_slice(),
            [format!(
                "attach pod-t.app.scope/relay pids=[{}]",
                held.pid()
            )]
        );
    }
}
