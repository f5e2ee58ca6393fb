//! Human-readable rendering of a [`Plan`](super::Plan) for `apply --dry-run`.

use super::Plan;

/// Renders the plan for a person: units, properties, dependencies, namespaces.
pub fn human(plan: &Plan) -> String {
    format!("{plan:#?}\n")
}
