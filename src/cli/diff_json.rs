//! `podctl diff --output json`: per pod, whether it would be created,
//! recreated, changed (per container) or left alone.

use crate::plan::Property;
use crate::plan::diff::{Action, PlanDiff};
use serde::Serialize;

/// One pod of `diff --output json`.
#[derive(Debug, Serialize)]
pub struct DiffReport {
    pub pod: String,
    /// created (not running), recreate (namespaces or sandbox changed),
    /// changed (some containers or limits), unchanged.
    pub change: &'static str,
    /// The pod slice's limits that change, with their new values.
    pub slice: Vec<Property>,
    /// Per container, in the new start order, then the removed ones.
    pub containers: Vec<ContainerChange>,
}

#[derive(Debug, Serialize)]
pub struct ContainerChange {
    pub name: String,
    /// unchanged, updated (live limits only), restarted, created, removed.
    pub action: &'static str,
    /// For `updated`: the new limits.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub properties: Vec<Property>,
}

/// The report for `pod`; `diff` is None when the pod is not running.
pub fn report(pod: &str, diff: Option<&PlanDiff>) -> DiffReport {
    let Some(d) = diff else {
        return DiffReport {
            pod: pod.to_string(),
            change: "created",
            slice: Vec::new(),
            containers: Vec::new(),
        };
    };
    let change = if d.recreate {
        "recreate"
    } else if d.is_unchanged() {
        "unchanged"
    } else {
        "changed"
    };
    DiffReport {
        pod: pod.to_string(),
        change,
        slice: d.slice.clone(),
        containers: d
            .containers
            .iter()
            .map(|(name, a)| ContainerChange {
                name: name.clone(),
                action: a.word(),
                properties: match a {
                    Action::Updated(p) => p.clone(),
                    _ => Vec::new(),
                },
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(src: &str) -> crate::plan::Plan {
        crate::plan::build(&crate::spec::parse_str(src, "web.toml", "web").unwrap())
    }

    #[test]
    fn expected_json() {
        let old = plan(
            "[containers.app]\ncommand = [\"sleep\", \"1\"]\nresources = { memory = \"64M\" }\n\
             [containers.old]\ncommand = [\"true\"]\n",
        );
        let new = plan(
            "[containers.app]\ncommand = [\"sleep\", \"1\"]\nresources = { memory = \"128M\" }\n\
             [containers.new]\ncommand = [\"true\"]\n",
        );
        let d = crate::plan::diff::diff(&old, &new);
        let got = serde_json::to_value([report("web", Some(&d)), report("db", None)]).unwrap();
        let want: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/data/json/diff.json")).unwrap();
        assert_eq!(got, want, "{}", serde_json::to_string_pretty(&got).unwrap());
    }
}
