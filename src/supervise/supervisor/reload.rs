//! Reload (SIGHUP from `podctl apply`): make the running pod match the stored
//! definition with the least change.

use super::{Slot, Supervisor, SupervisorError, placeholder_slot};
use crate::plan::Plan;
use crate::plan::decide::{Changes, Running, Wanted, decide};
use crate::supervise::lifecycle::{Effect, Event, Phase, Policy, transition};
use crate::supervise::state::Reload;

/// Identifies a reload: Unix nanoseconds, so ids grow across supervisor restarts.
fn reload_id() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

impl Supervisor<'_> {
    /// SIGHUP (`systemctl reload`, sent by `podctl apply`): read the stored
    /// definition again and make the running pod match it with the least
    /// change: live limits, then restart or create only the containers whose
    /// definition changed (and those that wait for them), remove the others.
    /// An invalid file leaves the pod as it is; a pod-level change ends this
    /// supervisor so systemd recreates the pod.
    pub(super) fn reload(&mut self) -> Result<(), SupervisorError> {
        let path = self.paths.definition(&self.plan.pod);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                self.reload_failed(
                    String::new(),
                    format!("cannot read {}: {e}", path.display()),
                );
                return Ok(());
            }
        };
        let pod = match crate::spec::parse_str(&text, &path.display().to_string(), &self.plan.pod) {
            Ok(p) => p,
            Err(d) => {
                self.reload_failed(text, d.to_string());
                return Ok(());
            }
        };
        let found = match self.images {
            Some(images) => images.facts(&pod).map_err(|e| e.to_string()),
            None => self
                .paths
                .revisions_of(&pod.name)
                .pins()
                .map_err(|e| e.to_string())
                .and_then(|pins| {
                    crate::image::facts::stored(&self.paths.images, &pod, &pins)
                        .map_err(|e| e.to_string())
                }),
        };
        let found = found.and_then(|mut f| {
            let allocate = crate::ids::Allocate(&self.paths);
            let ids: &dyn crate::ids::IdSource = self.ids.unwrap_or(&allocate);
            f.ids = ids.range(&pod).map_err(|e| e.to_string())?;
            f.user = ids.user().map_err(|e| e.to_string())?;
            Ok(f)
        });
        let facts = match found {
            Ok(f) => f,
            Err(e) => {
                self.reload_failed(text, e.to_string());
                return Ok(());
            }
        };
        let (new_plan, changes) = self.decide_reload(&pod, &text, &facts);
        let d = match changes {
            // Unchanged too: containers a previous reload could not start
            // are retried, and apply waits for this reload to be recorded.
            Changes::Unchanged(d) | Changes::Reload(d) => d,
            // Recreate (Create cannot come of a running pod).
            other => {
                tracing::info!("reload: {}", other.report().replace('\n', ";"));
                self.definition = text;
                self.facts = facts;
                return Err(SupervisorError::Recreate);
            }
        };
        tracing::info!("reload: {}", d.to_string().replace('\n', ";"));
        if !d.slice.is_empty()
            && let Err(e) = self.mgr.set_properties(&self.plan.slice.name, &d.slice)
        {
            self.reload_failed(text, crate::error_chain(&e));
            return Ok(());
        }
        let result = self.apply_container_changes(&new_plan, &d);
        self.plan = new_plan;
        self.definition = text.clone();
        self.facts = facts;
        if let Err(e) = &result {
            tracing::warn!("reload: {}", crate::error_chain(e));
        }
        self.last_reload = Some(Reload {
            id: reload_id(),
            definition: text,
            error: result.as_ref().err().map(|e| crate::error_chain(e)),
            summary: d.to_string(),
        });
        self.save();
        Ok(())
    }

    /// The plan of `pod` (file text `text`) assembled from `facts`, and
    /// what to do to run it instead of what runs: the decision `podctl
    /// apply` made on the same plans ([`crate::supervise::state::changes_against`]).
    pub(super) fn decide_reload(
        &self,
        pod: &crate::model::Pod,
        text: &str,
        facts: &crate::plan::Facts,
    ) -> (Plan, Changes) {
        let wanted = crate::plan::assemble(pod, facts);
        let running = Running {
            plan: Some(&self.plan),
            definition: &self.definition,
            reload_failed: false,
        };
        let changes = decide(
            Some(running),
            Wanted {
                plan: &wanted,
                definition: text,
            },
        );
        (wanted, changes)
    }

    fn reload_failed(&mut self, definition: String, error: String) {
        tracing::warn!("reload failed, the pod runs on unchanged: {error}");
        self.last_reload = Some(Reload {
            id: reload_id(),
            definition,
            error: Some(error),
            summary: String::new(),
        });
        self.save();
    }

    fn apply_container_changes(
        &mut self,
        new_plan: &Plan,
        d: &crate::plan::diff::PlanDiff,
    ) -> Result<(), SupervisorError> {
        use crate::plan::diff::Action;
        let action = |name: &str| {
            d.containers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, a)| a.clone())
        };
        // Stop what goes or restarts, in reverse start order; a stop
        // request meanwhile cuts the waits to the pod's stop budget.
        for i in (0..self.slots.len()).rev() {
            let Some(a) = action(&self.slots[i].plan.name) else {
                continue;
            };
            if matches!(a, Action::Restarted | Action::Removed) {
                self.stop_wave(vec![(i, Event::Reload(a))], None);
            }
        }
        // The new order: kept slots take their new plan, new ones are made.
        let mut old: Vec<Slot> = std::mem::take(&mut self.slots);
        let mut first_error = None;
        for c in &new_plan.containers {
            let kept = old
                .iter()
                .position(|s| s.plan.name == c.name)
                .map(|i| old.remove(i));
            match (action(&c.name), kept) {
                (Some(a @ (Action::Updated(_) | Action::Unchanged)), Some(mut s)) => {
                    let (life, effects) = transition(&s.life, &s.policy, Event::Reload(a));
                    s.life = life;
                    for e in effects {
                        if let Effect::SetProperties(props) = e
                            && let Err(e) = self.mgr.set_properties(&c.unit.name, &props)
                        {
                            first_error.get_or_insert(e.into());
                        }
                    }
                    s.policy = Policy::of(c, self.backoff_reset);
                    s.plan = c.clone();
                    self.slots.push(s);
                }
                // Restarted or created: a fresh slot, launched below.
                _ => self.slots.push(placeholder_slot(c, self.backoff_reset)),
            }
        }
        // Launch the new and changed ones, and retry those a previous reload
        // could not start (never released). One that fails is retried with
        // its backoff and the reload reports it (apply fails, naming it).
        let mut failed = Vec::new();
        for i in 0..self.slots.len() {
            if self.inbox.stop_requested().is_some() {
                // The stop clears what is left to launch.
                return Err(SupervisorError::StopRequested);
            }
            let s = &self.slots[i];
            let unlaunched = s.life.started.is_none()
                && s.pending.is_none()
                && matches!(s.life.phase, Phase::Waiting | Phase::Backoff { .. });
            if unlaunched && let Err(e) = self.launch(i) {
                failed.push(format!(
                    "container {} could not start: {}",
                    self.slots[i].plan.name,
                    crate::error_chain(&e)
                ));
                self.launch_failed(i, &e);
            }
        }
        if !failed.is_empty() {
            return Err(SupervisorError::ReloadLaunch(failed.join("; ")));
        }
        first_error.map_or(Ok(()), Err)
    }
}
