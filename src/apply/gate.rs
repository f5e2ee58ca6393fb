//! Whether an update holds: every updated container becomes ready and
//! stays running, without an exit or a restart, through the pod's
//! `update_deadline`. Pure: fed what the supervisor publishes (its state
//! file) and the time gone by; `podctl auto-update` rolls the pod back on
//! [`Verdict::Fail`].

use crate::supervise::state::PodState;
use std::collections::BTreeMap;
use std::time::Duration;

/// What the gate says so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Not decided yet: look again.
    Wait,
    /// Every updated container was ready and running at the deadline and
    /// none exited or restarted before.
    Pass,
    /// Why the update does not hold.
    Fail(String),
}

/// The watch over one update.
#[derive(Debug, Clone)]
pub struct Gate {
    containers: Vec<String>,
    deadline: Duration,
    /// Each container's restart count when first seen after the update.
    seen: BTreeMap<String, u32>,
}

impl Gate {
    /// Watches `containers` (the ones whose image changed) for `deadline`.
    pub fn new(containers: Vec<String>, deadline: Duration) -> Gate {
        Gate {
            containers,
            deadline,
            seen: BTreeMap::new(),
        }
    }

    pub fn deadline(&self) -> Duration {
        self.deadline
    }

    /// The verdict given the pod's state (`None`: no state file) `elapsed`
    /// after the update was carried out.
    pub fn observe(&mut self, state: Option<&PodState>, elapsed: Duration) -> Verdict {
        let over = elapsed >= self.deadline;
        let within = humantime(self.deadline);
        let Some(state) = state else {
            return if over {
                Verdict::Fail(format!("the pod was not running within {within}"))
            } else {
                Verdict::Wait
            };
        };
        if matches!(state.phase.as_str(), "failed" | "succeeded") {
            return Verdict::Fail(format!("the pod {}", state.phase));
        }
        let mut not_ready = Vec::new();
        for name in &self.containers {
            let Some(c) = state.containers.iter().find(|c| &c.name == name) else {
                not_ready.push(name.as_str());
                continue;
            };
            let first = *self.seen.entry(name.clone()).or_insert(c.restarts);
            let last = c.last_exit.as_deref().unwrap_or("no exit status");
            if c.restarts > first {
                return Verdict::Fail(format!("{name} restarted ({last})"));
            }
            match c.state.as_str() {
                "exited" | "failed" | "restarting" => {
                    return Verdict::Fail(format!("{name} {} ({last})", c.state));
                }
                "running" if c.ready => {}
                _ => not_ready.push(name.as_str()),
            }
        }
        match (over, not_ready.as_slice()) {
            (false, _) => Verdict::Wait,
            (true, []) => Verdict::Pass,
            (true, names) => Verdict::Fail(format!(
                "{} did not become ready within {within}",
                names.join(", ")
            )),
        }
    }
}

/// `90s`, `1.5s`: a deadline as a pod file writes it.
fn humantime(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::supervise::state::ContainerState;

    fn state(containers: &[(&str, &str, bool, u32)]) -> PodState {
        PodState {
            pod: "web".into(),
            phase: "running".into(),
            containers: containers
                .iter()
                .map(|(name, st, ready, restarts)| ContainerState {
                    name: name.to_string(),
                    state: st.to_string(),
                    ready: *ready,
                    restarts: *restarts,
                    last_exit: (*restarts > 0).then(|| "exited 1".to_string()),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    const S: fn(u64) -> Duration = Duration::from_secs;

    /// Ready and running through the deadline: the update holds; only the
    /// updated containers are watched.
    #[test]
    fn ready_through_the_deadline_passes() {
        let mut g = Gate::new(vec!["app".into()], S(10));
        let st = state(&[("app", "running", true, 2), ("side", "exited", false, 9)]);
        assert_eq!(g.observe(Some(&st), S(1)), Verdict::Wait);
        assert_eq!(g.observe(Some(&st), S(10)), Verdict::Pass);
    }

    /// Never ready by the deadline: fails, naming the container.
    #[test]
    fn not_ready_by_the_deadline_fails() {
        let mut g = Gate::new(vec!["app".into(), "db".into()], S(5));
        let st = state(&[("app", "running", false, 0), ("db", "running", true, 0)]);
        assert_eq!(g.observe(Some(&st), S(4)), Verdict::Wait);
        assert_eq!(
            g.observe(Some(&st), S(5)),
            Verdict::Fail("app did not become ready within 5s".into())
        );
    }

    /// A restart after the update was first seen fails at once, ready or not.
    #[test]
    fn a_restart_fails_at_once() {
        let mut g = Gate::new(vec!["app".into()], S(30));
        assert_eq!(
            g.observe(Some(&state(&[("app", "running", true, 1)])), S(1)),
            Verdict::Wait
        );
        assert_eq!(
            g.observe(Some(&state(&[("app", "running", true, 2)])), S(2)),
            Verdict::Fail("app restarted (exited 1)".into())
        );
    }

    /// An exit, or waiting for a restart, fails at once.
    #[test]
    fn an_exit_fails_at_once() {
        for st in ["exited", "failed", "restarting"] {
            let mut g = Gate::new(vec!["app".into()], S(30));
            let v = g.observe(Some(&state(&[("app", st, false, 0)])), S(0));
            assert_eq!(v, Verdict::Fail(format!("app {st} (no exit status)")));
        }
    }

    /// No state file: waits, then fails at the deadline; a failed pod fails.
    #[test]
    fn a_pod_that_is_gone_or_failed_fails() {
        let mut g = Gate::new(vec!["app".into()], Duration::from_millis(1500));
        assert_eq!(g.observe(None, S(1)), Verdict::Wait);
        assert_eq!(
            g.observe(None, S(2)),
            Verdict::Fail("the pod was not running within 1.5s".into())
        );
        let mut failed = state(&[("app", "running", true, 0)]);
        failed.phase = "failed".into();
        assert_eq!(
            Gate::new(vec!["app".into()], S(9)).observe(Some(&failed), S(0)),
            Verdict::Fail("the pod failed".into())
        );
    }
}
