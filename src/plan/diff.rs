//! What changes between the plan a pod runs and a new one: the least that
//! makes the host match. Pure: `podctl diff` prints it, the supervisor acts
//! on it when told to reload, `podctl apply` decides between reload and
//! recreate from it.

use super::{ContainerPlan, Plan, Property, UnitPlan, Value};
use serde::Serialize;
use std::fmt;

/// Properties that can change on a running unit (SetUnitProperties).
pub const LIVE_PROPERTIES: [&str; 5] = [
    "MemoryMax",
    "CPUQuotaPerSecUSec",
    "TasksMax",
    "CPUWeight",
    "MemoryLow",
];

/// What happens to one container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", content = "properties", rename_all = "lowercase")]
pub enum Action {
    Unchanged,
    /// Only live-changeable limits differ: set them, no restart.
    Updated(Vec<Property>),
    /// Its definition changed, or it waits for one that restarts.
    Restarted,
    Created,
    Removed,
}

impl Action {
    pub fn word(&self) -> &'static str {
        match self {
            Action::Unchanged => "unchanged",
            Action::Updated(_) => "updated",
            Action::Restarted => "restarted",
            Action::Created => "created",
            Action::Removed => "removed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlanDiff {
    pub pod: String,
    /// Namespaces, hostname or the sandbox changed: the whole pod is recreated.
    pub recreate: bool,
    /// New values of the pod slice's changed limits.
    pub slice: Vec<Property>,
    /// Per container, in the new start order, then the removed ones.
    pub containers: Vec<(String, Action)>,
}

impl PlanDiff {
    pub fn is_unchanged(&self) -> bool {
        !self.recreate
            && self.slice.is_empty()
            && self.containers.iter().all(|(_, a)| *a == Action::Unchanged)
    }
}

impl fmt::Display for PlanDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.recreate {
            return write!(
                f,
                "{}: recreated (namespaces, hostname, sandbox or secrets changed)",
                self.pod
            );
        }
        if self.is_unchanged() {
            return write!(f, "{}: unchanged", self.pod);
        }
        write!(f, "{}: updated", self.pod)?;
        if !self.slice.is_empty() {
            write!(f, "\n  pod limits: updated ({})", names(&self.slice))?;
        }
        for (name, action) in &self.containers {
            write!(f, "\n  {name}: {}", action.word())?;
            if let Action::Updated(props) = action {
                write!(f, " ({})", names(props))?;
            }
        }
        Ok(())
    }
}

fn names(props: &[Property]) -> String {
    props
        .iter()
        .map(|p| match &p.value {
            Value::U64(u64::MAX) => format!("{}=infinity", p.name),
            Value::U64(v) => format!("{}={v}", p.name),
            other => format!("{}={other:?}", p.name),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The live limits of `new` that differ from `old`; a limit that is gone
/// becomes infinity.
pub fn limit_changes(old: &UnitPlan, new: &UnitPlan) -> Vec<Property> {
    LIVE_PROPERTIES
        .iter()
        .filter_map(|&name| {
            let (a, b) = (old.property(name), new.property(name));
            (a != b).then(|| Property {
                name,
                value: b.cloned().unwrap_or(Value::U64(u64::MAX)),
            })
        })
        .collect()
}

/// `unit` without its live limits: what must match for a live update.
fn fixed_part(c: &ContainerPlan) -> ContainerPlan {
    let mut c = c.clone();
    c.unit
        .properties
        .retain(|p| !LIVE_PROPERTIES.contains(&p.name));
    c
}

pub fn diff(old: &Plan, new: &Plan) -> PlanDiff {
    let mut out = PlanDiff {
        pod: new.pod.clone(),
        recreate: old.sandbox != new.sandbox
            || old.userns != new.userns
            || old.service != new.service
            || old.network != new.network
            // systemd gives a service its credentials when it starts.
            || old.secret_names() != new.secret_names(),
        slice: limit_changes(&old.slice, &new.slice),
        containers: Vec::new(),
    };
    let mut restarted: Vec<String> = Vec::new();
    for c in &new.containers {
        let action = match old.containers.iter().find(|o| o.name == c.name) {
            None => Action::Created,
            Some(o) if fixed_part(o) != fixed_part(c) => Action::Restarted,
            // Waiting for a container that restarts means restarting after it.
            Some(_) if c.after.iter().any(|(t, _)| restarted.contains(t)) => Action::Restarted,
            Some(o) => {
                let props = limit_changes(&o.unit, &c.unit);
                if props.is_empty() {
                    Action::Unchanged
                } else {
                    Action::Updated(props)
                }
            }
        };
        if action == Action::Restarted {
            restarted.push(c.name.clone());
        }
        out.containers.push((c.name.clone(), action));
    }
    for o in &old.containers {
        if !new.containers.iter().any(|c| c.name == o.name) {
            out.containers.push((o.name.clone(), Action::Removed));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::build;

    fn pod(text: &str) -> Plan {
        build(&crate::spec::parse_str(text, "t.toml", "web").expect("valid"))
    }

    const BASE: &str = "[resources]\nmemory = \"512M\"\n[containers.db]\ncommand = [\"sleep\", \"1\"]\n\
        [containers.app]\ncommand = [\"sleep\", \"2\"]\nafter = [\"db\"]\nresources = { memory = \"128M\" }\n\
        [containers.side]\ncommand = [\"sleep\", \"3\"]\n";

    #[test]
    fn same_file_is_unchanged() {
        let d = diff(&pod(BASE), &pod(BASE));
        assert!(d.is_unchanged(), "{d}");
        assert_eq!(d.to_string(), "web: unchanged");
    }

    #[test]
    fn memory_change_is_a_live_update() {
        let d = diff(&pod(BASE), &pod(&BASE.replace("128M", "256M")));
        assert!(!d.recreate);
        assert_eq!(
            d.containers[1],
            (
                "app".into(),
                Action::Updated(vec![Property {
                    name: "MemoryMax",
                    value: Value::U64(256 << 20)
                }])
            )
        );
        assert_eq!(d.containers[0].1, Action::Unchanged);
        let d = diff(
            &pod(BASE),
            &pod(&BASE.replace("memory = \"512M\"", "memory = \"1G\"")),
        );
        assert_eq!(
            d.slice,
            vec![Property {
                name: "MemoryMax",
                value: Value::U64(1 << 30)
            }]
        );
    }

    #[test]
    fn removed_limit_becomes_infinity() {
        let d = diff(
            &pod(BASE),
            &pod(&BASE.replace("\nresources = { memory = \"128M\" }", "")),
        );
        assert_eq!(
            d.containers[1].1,
            Action::Updated(vec![Property {
                name: "MemoryMax",
                value: Value::U64(u64::MAX)
            }])
        );
    }

    #[test]
    fn changed_container_restarts_with_its_dependents_only() {
        let d = diff(
            &pod(BASE),
            &pod(&BASE.replace("\"sleep\", \"1\"", "\"sleep\", \"10\"")),
        );
        let actions: Vec<&str> = d.containers.iter().map(|(_, a)| a.word()).collect();
        assert_eq!(actions, ["restarted", "restarted", "unchanged"]);
        let d = diff(
            &pod(BASE),
            &pod(&BASE.replace("\"sleep\", \"3\"", "\"sleep\", \"30\"")),
        );
        let actions: Vec<&str> = d.containers.iter().map(|(_, a)| a.word()).collect();
        assert_eq!(actions, ["unchanged", "unchanged", "restarted"]);
    }

    #[test]
    fn env_change_restarts() {
        let d = diff(
            &pod(BASE),
            &pod(&BASE.replace(
                "[containers.side]\n",
                "[containers.side]\nenv = { A = \"1\" }\n",
            )),
        );
        assert_eq!(d.containers[2].1, Action::Restarted);
    }

    #[test]
    fn added_and_removed_containers() {
        let more = format!("{BASE}[containers.extra]\ncommand = [\"sleep\", \"4\"]\n");
        let d = diff(&pod(BASE), &pod(&more));
        assert_eq!(
            d.containers.last().unwrap(),
            &("extra".into(), Action::Created)
        );
        let d = diff(&pod(&more), &pod(BASE));
        assert_eq!(
            d.containers.last().unwrap(),
            &("extra".into(), Action::Removed)
        );
    }

    #[test]
    fn pod_level_changes_recreate() {
        let d = diff(&pod(BASE), &pod(&format!("hostname = \"other\"\n{BASE}")));
        assert!(d.recreate);
        let d = diff(
            &pod(BASE),
            &pod(&format!(
                "share = [\"net\", \"ipc\", \"uts\", \"pid\"]\n{BASE}"
            )),
        );
        assert!(d.recreate);
        assert!(d.to_string().contains("recreated"));
    }

    /// Another range of IDs is another user namespace: the holder makes it.
    #[test]
    fn another_range_recreates() {
        let image = "[containers.app]\nimage = \"app:1\"\n";
        let range = |uid: u32| {
            pod(&format!(
                "userns = {{ uid = {uid}, size = 65536 }}\n{image}"
            ))
        };
        assert!(!diff(&range(300_000), &range(300_000)).recreate);
        assert!(diff(&range(300_000), &range(400_000)).recreate);
        assert!(
            diff(
                &range(300_000),
                &pod(&format!("userns = \"host\"\n{image}"))
            )
            .recreate
        );
    }

    #[test]
    fn a_changed_set_of_secrets_recreates_the_pod() {
        let with =
            |s: &str| BASE.replace("[\"sleep\", \"3\"]\n", &format!("[\"sleep\", \"3\"]\n{s}"));
        let one = with("secrets = [\"a\"]\n");
        assert!(diff(&pod(BASE), &pod(&one)).recreate, "a secret added");
        assert!(diff(&pod(&one), &pod(BASE)).recreate, "a secret removed");
        let env = with("env = { A = { secret = \"a\" } }\n");
        assert!(!diff(&pod(&one), &pod(&env)).recreate, "the same set");
        assert!(
            diff(
                &pod(&env),
                &pod(&with("env = { A = { secret = \"b\" } }\n"))
            )
            .recreate
        );
    }
}
