//! The reconcile decision: given what runs and what is wanted, what to do.
//! Pure and made on the same plans everywhere: both sides assembled from a
//! pod file and the facts about its images ([`super::assemble`]).
//! `podctl apply` carries it out through systemd (start, restart or reload
//! the service) and prints [`Changes::report`]; `podctl diff` prints its
//! [`PlanDiff`]; the supervisor, told to reload, reaches the same decision
//! on the same plans and acts on it (recreate, or the per-container
//! changes).
//! Expected outputs: `tests/data/decide/CASE/` (see `tests/decide.rs`).

use super::Plan;
use super::diff::{PlanDiff, diff};

/// What runs now, as its supervisor reports it.
#[derive(Debug, Clone, Copy)]
pub struct Running<'a> {
    /// The plan of the definition it runs; None when that definition no
    /// longer parses (an older podctl's): everything counts as changed.
    pub plan: Option<&'a Plan>,
    /// The pod file text it runs.
    pub definition: &'a str,
    /// Its last reload adopted `definition` but could not start some
    /// container: the same file again must retry, not be "unchanged".
    pub reload_failed: bool,
}

/// What the pod file asks for.
#[derive(Debug, Clone, Copy)]
pub struct Wanted<'a> {
    pub plan: &'a Plan,
    /// The pod file text.
    pub definition: &'a str,
}

/// What to do to make the host run [`Wanted`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Changes {
    /// The pod does not run: start it.
    Create { pod: String },
    /// The same file runs and its last reload went through: nothing to do.
    Unchanged(PlanDiff),
    /// The pod itself changes (namespaces, hostname, sandbox, network) or
    /// what runs cannot be read: stop it and start it anew.
    Recreate(PlanDiff),
    /// Reload the running pod: set live limits, restart, create or remove
    /// the containers the diff names (none: the text changed but not the
    /// plan, or a failed reload of this file is retried).
    Reload(PlanDiff),
}

impl Changes {
    /// The per-container changes; None when the pod would be created.
    pub fn diff(&self) -> Option<&PlanDiff> {
        match self {
            Changes::Create { .. } => None,
            Changes::Unchanged(d) | Changes::Recreate(d) | Changes::Reload(d) => Some(d),
        }
    }

    /// The decision once secrets the pod uses got new values: systemd
    /// hands them to the pod's service when it starts, so a running pod
    /// is recreated.
    pub fn with_new_secret_values(self) -> Changes {
        match self {
            Changes::Unchanged(d) | Changes::Reload(d) => Changes::Recreate(PlanDiff {
                recreate: true,
                ..d
            }),
            other => other,
        }
    }

    /// One word for the decision: create, unchanged, recreate, reload.
    pub fn kind(&self) -> &'static str {
        match self {
            Changes::Create { .. } => "create",
            Changes::Unchanged(_) => "unchanged",
            Changes::Recreate(_) => "recreate",
            Changes::Reload(_) => "reload",
        }
    }

    /// What `podctl apply` prints once the decision is carried out.
    pub fn report(&self) -> String {
        match self {
            Changes::Create { pod } => format!("{pod}: created"),
            // Same plan, yet a reload: a failed one retried (or only the
            // text changed).
            Changes::Reload(d) if d.is_unchanged() => {
                format!("{}: updated (started what the last apply could not)", d.pod)
            }
            Changes::Unchanged(d) | Changes::Recreate(d) | Changes::Reload(d) => d.to_string(),
        }
    }
}

/// The plan of a running definition, assembled from the facts it was
/// assembled from when it started; None if it no longer parses.
pub fn running_plan(definition: &str, pod: &str, facts: &super::Facts) -> Option<Plan> {
    crate::spec::parse_str(definition, "running definition", pod)
        .ok()
        .map(|p| super::assemble(&p, facts))
}

/// The decision; `running` is None when the pod does not run.
pub fn decide(running: Option<Running<'_>>, wanted: Wanted<'_>) -> Changes {
    let Some(running) = running else {
        return Changes::Create {
            pod: wanted.plan.pod.clone(),
        };
    };
    let d = match running.plan {
        Some(old) => diff(old, wanted.plan),
        // Unknown or unreadable: treat everything as changed.
        None => PlanDiff {
            recreate: true,
            ..diff(wanted.plan, wanted.plan)
        },
    };
    let same_text = running.definition == wanted.definition && !running.reload_failed;
    if d.recreate {
        Changes::Recreate(d)
    } else if d.is_unchanged() && same_text {
        Changes::Unchanged(d)
    } else {
        Changes::Reload(d)
    }
}
