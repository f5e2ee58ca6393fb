//! Pods that need pods (`needs`, `wants`), pure: the drop-in systemd reads
//! for a pod's service, the order `apply` takes pods in, and the order
//! `down` stops them in. The effects (reading the store, writing the
//! drop-in, daemon-reload) are `crate::apply::needs`'.

use super::units;
use crate::model::Pod;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

/// What one pod starts after: the names its file gives.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Deps {
    pub needs: Vec<String>,
    pub wants: Vec<String>,
}

impl Deps {
    pub fn of(pod: &Pod) -> Deps {
        Deps {
            needs: pod.needs.clone(),
            wants: pod.wants.clone(),
        }
    }

    fn all(&self) -> impl Iterator<Item = &String> {
        self.needs.iter().chain(&self.wants)
    }
}

/// Pods by name, with what each starts after.
pub type Pods = BTreeMap<String, Deps>;

/// The text of `pod@NAME.service.d/50-podctl-needs.conf`, or None for a pod
/// that needs and wants nothing (the file is then removed).
///
/// The directives, as systemd 252 carries them out (the container tier
/// checks each: `tests/pods/needs.rs`):
/// - `After=pod@DB.service`, for `needs` and `wants`: pod@.service is
///   Type=notify and its supervisor sends READY=1 once every container runs
///   and is ready, so DB's start job ends only then, and this pod's start
///   waits for it. At stop the order is reversed: this pod stops first.
/// - `BindsTo=` for `needs`: as `Requires=` (starting this pod starts DB;
///   DB's failed start fails this one's; a stop or restart of DB stops or
///   restarts this pod), and also when DB goes inactive or fails on its own
///   (a lost sandbox, a crashed supervisor): this pod never runs without it.
///   `Requires=` would leave this pod running beside a dead DB.
/// - Coming back: on systemd 252 a DB whose supervisor fails is *failed*
///   until systemd restarts it (RestartSec=), so `BindsTo=` has stopped
///   this pod by then, and the try-restart DB's restart job gives the pods
///   bound to it finds this one inactive: it would stay down. So apply also
///   links this pod into `pod@DB.service.wants/` ([`comes_back_with`], as
///   `systemctl add-wants` does): whenever DB starts (restarted after a
///   failure, started by hand, at boot) this pod starts with it, after DB
///   is ready. `down` removes the links. Not `Upholds=` (systemd 249+): it
///   would start this pod again after every `podctl stop` of it. Not
///   `PartOf=`: `BindsTo=` already carries DB's stops and restarts.
/// - `Wants=` for `wants`: starting this pod starts the other, whose stop or
///   failure does not touch this one.
pub fn dropin(pod: &Pod) -> Option<String> {
    if pod.needs.is_empty() && pod.wants.is_empty() {
        return None;
    }
    let mut out = String::from(
        "# Written by podctl apply from the pod's needs and wants; podctl rewrites it.\n[Unit]\n",
    );
    for (key, names, bind) in [
        ("needs", &pod.needs, "BindsTo"),
        ("wants", &pod.wants, "Wants"),
    ] {
        if names.is_empty() {
            continue;
        }
        let units: Vec<String> = names.iter().map(|n| units::service(n)).collect();
        let _ = writeln!(out, "# {key}: {}", names.join(", "));
        let _ = writeln!(out, "After={}", units.join(" "));
        let _ = writeln!(out, "{bind}={}", units.join(" "));
    }
    Some(out)
}

/// The links that start `pod` with each pod it needs:
/// (`pod@DB.service.wants`, `pod@NAME.service`), a directory of systemd's
/// unit directory and the link's name in it.
pub fn comes_back_with(pod: &Pod) -> Vec<(String, String)> {
    links_of(&pod.name, &pod.needs)
}

/// [`comes_back_with`] for pod `name` that needs `needs`.
pub fn links_of(name: &str, needs: &[String]) -> Vec<(String, String)> {
    needs
        .iter()
        .map(|n| (wants_dir(n), units::service(name)))
        .collect()
}

/// `pod@NAME.service.wants`: the pods started with pod NAME.
pub fn wants_dir(name: &str) -> String {
    format!("{}.wants", units::service(name))
}

/// One line for a person (`apply --dry-run`, `validate`), or None.
pub fn human(pod: &Pod) -> Option<String> {
    let mut parts = Vec::new();
    if !pod.needs.is_empty() {
        parts.push(format!("needs {}", pod.needs.join(", ")));
    }
    if !pod.wants.is_empty() {
        parts.push(format!("wants {}", pod.wants.join(", ")));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// Why pods cannot be applied as a set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderError {
    #[error(
        "pod {pod}: {key} {missing:?}, a pod that is neither stored nor in this apply (apply it first, or together)"
    )]
    Missing {
        pod: String,
        key: &'static str,
        missing: String,
    },
    #[error("pods need each other in a cycle: {}; none of them could start first", .0.join(" -> "))]
    Cycle(Vec<String>),
}

/// The order to apply `applied` in (indices into it): every pod after the
/// pods it needs or wants, otherwise as given. `stored` is what the store
/// holds; an applied pod's own entry replaces its stored one.
pub fn apply_order(applied: &[&Pod], stored: &Pods) -> Result<Vec<usize>, OrderError> {
    let mut graph = stored.clone();
    for p in applied {
        graph.insert(p.name.clone(), Deps::of(p));
    }
    for p in applied {
        for (key, names) in [("needs", &p.needs), ("wants", &p.wants)] {
            if let Some(m) = names.iter().find(|n| !graph.contains_key(*n)) {
                return Err(OrderError::Missing {
                    pod: p.name.clone(),
                    key,
                    missing: m.clone(),
                });
            }
        }
    }
    let roots: Vec<&str> = applied.iter().map(|p| p.name.as_str()).collect();
    let order = topological(&graph, &roots)?;
    Ok(order
        .iter()
        .filter_map(|n| roots.iter().position(|r| r == n))
        .collect())
}

/// Every pod reachable from `roots` (in that order), each after what it
/// needs or wants; a cycle is the error, named from where it closes.
/// Names the graph does not hold are left out.
fn topological<'a>(graph: &'a Pods, roots: &[&'a str]) -> Result<Vec<&'a str>, OrderError> {
    #[derive(PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit<'a>(
        graph: &'a Pods,
        name: &'a str,
        marks: &mut BTreeMap<&'a str, Mark>,
        path: &mut Vec<&'a str>,
        out: &mut Vec<&'a str>,
    ) -> Result<(), OrderError> {
        match marks.get(name) {
            Some(Mark::Done) => return Ok(()),
            Some(Mark::Open) => {
                let from = path.iter().position(|p| *p == name).unwrap_or(0);
                let mut cycle: Vec<String> = path[from..].iter().map(|s| s.to_string()).collect();
                cycle.push(name.to_string());
                return Err(OrderError::Cycle(cycle));
            }
            None => {}
        }
        let Some((key, deps)) = graph.get_key_value(name) else {
            return Ok(());
        };
        let name = key.as_str();
        marks.insert(name, Mark::Open);
        path.push(name);
        for d in deps.all() {
            visit(graph, d, marks, path, out)?;
        }
        path.pop();
        marks.insert(name, Mark::Done);
        out.push(name);
        Ok(())
    }
    let mut marks = BTreeMap::new();
    let mut out = Vec::new();
    for r in roots {
        visit(graph, r, &mut marks, &mut Vec::new(), &mut out)?;
    }
    Ok(out)
}

/// The pods that need `name` (`needs`, not `wants`), sorted.
pub fn needed_by<'a>(pods: &'a Pods, name: &str) -> Vec<&'a str> {
    pods.iter()
        .filter(|(_, d)| d.needs.iter().any(|n| n == name))
        .map(|(p, _)| p.as_str())
        .collect()
}

/// The order `apply --prune` removes `pruned` in, dependents first; `pods`
/// is the store as the apply leaves it. A pod that stays and needs one of
/// them is refused, naming both: it could not start again.
pub fn prune_order(pruned: &[String], pods: &Pods) -> Result<Vec<String>, String> {
    let mut refused = Vec::new();
    for name in pruned {
        let staying: Vec<&str> = needed_by(pods, name)
            .into_iter()
            .filter(|d| !pruned.iter().any(|p| p == d))
            .collect();
        if !staying.is_empty() {
            refused.push(format!(
                "--prune would remove pod {name}, which {} needs: remove the need, or {} from the directory too",
                staying.join(", "),
                if staying.len() == 1 { "that pod" } else { "those pods" }
            ));
        }
    }
    if !refused.is_empty() {
        return Err(refused.join("\n"));
    }
    down_order(pruned, pods, &|_| true, false)
}

/// The order `down` takes `selected` in, dependents first. A pod that needs
/// one of them and `counts` (runs, or is stored, for a purge) is refused
/// with its name unless `cascade`, which takes it (and its own dependents)
/// down as well.
pub fn down_order(
    selected: &[String],
    pods: &Pods,
    counts: &dyn Fn(&str) -> bool,
    cascade: bool,
) -> Result<Vec<String>, String> {
    let mut set: BTreeSet<&str> = selected.iter().map(String::as_str).collect();
    let mut todo: Vec<&str> = set.iter().copied().collect();
    let mut refused = Vec::new();
    while let Some(name) = todo.pop() {
        let others: Vec<&str> = needed_by(pods, name)
            .into_iter()
            .filter(|d| !set.contains(d) && counts(d))
            .collect();
        if others.is_empty() {
            continue;
        }
        if cascade {
            set.extend(&others);
            todo.extend(&others);
        } else {
            refused.push(format!(
                "pod {name} is needed by {}: take them down first, or add --cascade to take them down too",
                others.join(", ")
            ));
        }
    }
    if !refused.is_empty() {
        refused.sort();
        return Err(refused.join("\n"));
    }
    // Dependencies first, then reversed: every dependent before what it needs.
    let roots: Vec<&str> = selected
        .iter()
        .map(String::as_str)
        .chain(
            set.iter()
                .copied()
                .filter(|s| !selected.iter().any(|x| x == s)),
        )
        .collect();
    let sub: Pods = pods
        .iter()
        .filter(|(n, _)| set.contains(n.as_str()))
        .map(|(n, d)| (n.clone(), d.clone()))
        .collect();
    let mut order: Vec<String> = match topological(&sub, &roots) {
        Ok(o) => o.into_iter().map(String::from).collect(),
        // Stored files edited into a cycle: as given.
        Err(_) => Vec::new(),
    };
    // Selected pods the store does not hold (a unit left running) come last.
    for r in roots {
        if !order.iter().any(|o| o == r) {
            order.insert(0, r.to_string());
        }
    }
    order.reverse();
    Ok(order)
}

#[cfg(test)]
mod tests;
