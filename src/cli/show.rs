//! Read-only commands: `ps`, `status`, and the rows `inspect` shows (see [`super::inspect`]).
//!
//! `ps` makes one D-Bus call (ListUnitsByPatterns) whatever the number of
//! pods; per-container detail comes from the supervisors' state files and
//! memory from cgroupfs, so it stays fast with hundreds of pods.

use super::output::{self, Format};
use super::output::{human_age, human_bytes};
use crate::layout::Layout;
use crate::plan::units;
use crate::supervise::state::{PodState, now_secs};
use crate::systemd::{Manager, UnitStatus};
use anyhow::bail;
use serde::Serialize;
use std::fmt::Write as _;

fn pod_name_of(service: &str) -> Option<&str> {
    service.strip_prefix("pod@")?.strip_suffix(".service")
}

/// Prints the ps table for the given pods (all running pods when empty).
pub fn print_pods(mgr: &dyn Manager, paths: &Layout, only: &[String]) -> anyhow::Result<()> {
    print!("{}", pods_table(mgr, paths, only, &[])?);
    Ok(())
}

/// The ps table for the given pods (all running pods when empty), and the
/// `stopped` pods (stored ones that are down: no loaded unit) as `inactive`.
pub fn pods_table(
    mgr: &dyn Manager,
    paths: &Layout,
    only: &[String],
    stopped: &[String],
) -> anyhow::Result<String> {
    // Only the pods asked for: apply's table does not list every pod's unit.
    let named: Vec<String> = only.iter().map(|p| units::service(p)).collect();
    let patterns: Vec<&str> = if named.is_empty() {
        vec!["pod@*.service"]
    } else {
        named.iter().map(String::as_str).collect()
    };
    let services = mgr.list_units(&patterns)?;
    let root = paths.host.cgroup.clone();
    let now = now_secs();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<16} {:<14} {:<11} {:>8} {:>8} {:>8} {:>8}",
        "POD", "CONTAINER", "STATE", "PID", "MEMORY", "RESTARTS", "UPTIME"
    );
    let down: Vec<UnitStatus> = stopped
        .iter()
        .map(|p| UnitStatus {
            name: units::service(p),
            active_state: "inactive".into(),
            ..Default::default()
        })
        .filter(|d| !services.iter().any(|s| s.name == d.name))
        .collect();
    let mut rows: Vec<&UnitStatus> = services
        .iter()
        .chain(&down)
        .filter(|s| pod_name_of(&s.name).is_some())
        .collect();
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    for svc in rows {
        let pod = pod_name_of(&svc.name).unwrap_or_default();
        if !only.is_empty() && !only.iter().any(|o| o == pod) {
            continue;
        }
        let state = PodState::load(&paths.run, pod);
        let _ = writeln!(
            out,
            "{:<16} {:<14} {:<11} {:>8} {:>8} {:>8} {:>8}",
            pod,
            "-",
            svc.active_state,
            state
                .as_ref()
                .map_or("-".into(), |s| s.supervisor_pid.to_string()),
            crate::supervise::cgroup::memory(&root, pod, &units::sandbox(pod))
                .map_or("-".into(), human_bytes),
            "-",
            "-"
        );
        for c in state.iter().flat_map(|s| &s.containers) {
            let _ = writeln!(
                out,
                "{:<16} {:<14} {:<11} {:>8} {:>8} {:>8} {:>8}",
                "",
                c.name,
                c.state,
                if c.pid == 0 {
                    "-".into()
                } else {
                    c.pid.to_string()
                },
                crate::supervise::cgroup::memory(&root, pod, &c.unit)
                    .map_or("-".into(), human_bytes),
                c.restarts,
                human_age(now.saturating_sub(c.since))
            );
        }
    }
    Ok(out)
}

/// `podctl ps [--all] [-o FORMAT]`.
pub fn ps(paths: &Layout, all: bool, format: Format) -> anyhow::Result<()> {
    super::check_owner("ps")?;
    // A user whose manager does not run (on a systemd host) has no pod
    // running: listed as such.
    let systemd_host = std::path::Path::new(crate::layout::SYSTEMD_SYSTEM_DIR).exists();
    let mgr: Box<dyn Manager> = match crate::owner::Owner::current() {
        Ok(crate::owner::Owner::User(u)) if systemd_host && !u.manager_socket().exists() => {
            Box::new(crate::systemd::absent::Absent {
                socket: u.manager_socket(),
                user: u.name,
            })
        }
        _ => Box::new(super::connect()?),
    };
    if format != Format::Human {
        output::print(format, &ps_json(mgr.as_ref(), paths, all)?)?;
        return Ok(());
    }
    let stored = if all {
        crate::apply::stored_pods(paths)?
    } else {
        Vec::new()
    };
    print!("{}", pods_table(mgr.as_ref(), paths, &[], &stored)?);
    Ok(())
}

/// `ps --output json`: every running pod's status (as `status --output
/// json`; with `all` also every stored pod's), sorted by name, from one
/// ListUnitsByPatterns call.
pub fn ps_json(mgr: &dyn Manager, paths: &Layout, all: bool) -> anyhow::Result<Vec<PodStatus>> {
    let loaded = mgr.list_units(&["pod@*.service", "pod-*"])?;
    let stored = if all {
        crate::apply::stored_pods(paths)?
    } else {
        Vec::new()
    };
    let mut names: Vec<&str> = loaded.iter().filter_map(|u| pod_name_of(&u.name)).collect();
    names.extend(stored.iter().map(String::as_str));
    names.sort_unstable();
    names.dedup();
    Ok(names
        .into_iter()
        .map(|name| status_from_units(&loaded, paths, name))
        .collect())
}

#[derive(Debug, Serialize)]
pub struct SandboxStatus {
    pub unit: String,
    pub pid: u32,
    pub state: String,
    /// The pod's user namespace mapping (`null`: the host's).
    pub userns: Option<crate::model::IdMap>,
}

#[derive(Debug, Serialize)]
pub struct ContainerStatus {
    pub name: String,
    pub unit: String,
    /// The container's main process (its command), as `inspect` shows it.
    pub pid: u32,
    /// Its relay in the host's PID namespace (the supervisor's child).
    pub monitor_pid: u32,
    pub state: String,
    pub unit_state: String,
    pub ready: bool,
    pub restarts: u32,
    pub last_exit: Option<String>,
    /// Why its last start failed (it is being retried).
    pub last_error: Option<String>,
    pub since: u64,
}

#[derive(Debug, Serialize)]
pub struct PodStatus {
    pub name: String,
    pub state: String,
    /// The supervisor's view: starting, running, failed, succeeded,
    /// recreating, evicted.
    pub phase: String,
    /// Why the pod ended, when it was evicted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Times the sandbox was lost and the pod recreated.
    pub sandbox_losses: u32,
    pub service: String,
    pub slice: String,
    pub sandbox: SandboxStatus,
    pub containers: Vec<ContainerStatus>,
    /// The pod's addresses and published ports (bridge networks).
    pub network: crate::net::status::NetworkStatus,
    /// Its revisions (`podctl status` only; `ps` reads none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<RevisionStatus>,
}

/// Which revision runs and which is the newest: apart only while an apply,
/// a rollback or an auto-update is carried out, or after one was killed
/// (the next apply or auto-update converges).
#[derive(Debug, Clone, Serialize)]
pub struct RevisionStatus {
    /// The revision the supervisor runs (`None`: none of the kept ones).
    pub running: Option<u64>,
    pub newest: u64,
    /// The newest is an auto-update not yet proven.
    pub pending: bool,
}

fn revision_status(paths: &Layout, name: &str) -> anyhow::Result<Option<RevisionStatus>> {
    let list = paths.revisions_of(name).list()?;
    let Some(newest) = list.last() else {
        return Ok(None);
    };
    let state = PodState::load(&paths.run, name);
    Ok(Some(RevisionStatus {
        running: super::history::running(&list, state.as_ref()),
        newest: newest.number,
        pending: newest.pending,
    }))
}

pub fn status_with(mgr: &dyn Manager, paths: &Layout, name: &str) -> anyhow::Result<PodStatus> {
    let service = units::service(name);
    // One call for the state of every unit of the pod.
    let loaded = mgr.list_units(&[&service, &format!("pod-{name}.*")])?;
    if !loaded.iter().any(|u| u.name == service) && !paths.definition(name).exists() {
        bail!(
            "no pod named {name:?} (no {} and no {service})",
            paths.definition(name).display()
        );
    }
    Ok(status_from_units(&loaded, paths, name))
}

/// A pod's status from its units' states (`loaded` may hold other pods' units too).
fn status_from_units(loaded: &[UnitStatus], paths: &Layout, name: &str) -> PodStatus {
    let service = units::service(name);
    let active = |unit: &str| {
        loaded
            .iter()
            .find(|u| u.name == unit)
            .map_or_else(|| "inactive".to_string(), |u| u.active_state.to_string())
    };
    let state = PodState::load(&paths.run, name).unwrap_or_default();
    let sandbox_unit = units::sandbox(name);
    // A supervisor that failed leaves its last state file (for the
    // reasons in it): its containers no longer run, whatever it says.
    let pod_up = matches!(
        active(&service).as_str(),
        "active" | "activating" | "reloading" | "deactivating"
    );
    let containers = state
        .containers
        .iter()
        .map(|c| {
            let running = matches!(c.state.as_str(), "starting" | "running" | "stopping");
            let gone = !pod_up && running;
            ContainerStatus {
                unit_state: active(&c.unit),
                name: c.name.clone(),
                unit: c.unit.clone(),
                pid: if gone { 0 } else { c.pid },
                monitor_pid: if gone { 0 } else { c.monitor_pid },
                state: if gone {
                    "stopped".into()
                } else {
                    c.state.clone()
                },
                ready: c.ready && !gone,
                restarts: c.restarts,
                last_exit: c.last_exit.clone(),
                last_error: c.last_error.clone(),
                since: c.since,
            }
        })
        .collect();
    PodStatus {
        name: name.to_string(),
        state: active(&service),
        phase: state.phase.clone(),
        reason: state.reason.clone(),
        sandbox_losses: state.sandbox_losses,
        slice: units::slice(name),
        sandbox: SandboxStatus {
            state: active(&sandbox_unit),
            unit: sandbox_unit,
            pid: state.sandbox_pid,
            userns: state.userns,
        },
        service,
        containers,
        network: crate::net::status::of(paths, name),
        revision: None,
    }
}

pub fn status(paths: &Layout, name: &str, format: Format) -> anyhow::Result<()> {
    super::check_owner("status")?;
    let mgr = super::connect()?;
    let mut st = status_with(&mgr, paths, name)?;
    st.revision = revision_status(paths, name)?;
    if output::print(format, &st)? {
        return Ok(());
    }
    println!(
        "pod {}: {} ({}, slice {})",
        st.name, st.state, st.service, st.slice
    );
    println!(
        "  sandbox {}: {} pid {}",
        st.sandbox.unit, st.sandbox.state, st.sandbox.pid
    );
    if let Some(r) = &st.reason {
        println!("  {}: {r}", st.phase);
    }
    println!("  network: {}", st.network.human());
    if let Some(r) = &st.revision {
        let pending = if r.pending {
            ", an update not yet proven"
        } else {
            ""
        };
        match r.running {
            Some(n) if n == r.newest => println!("  revision: {n}{pending}"),
            Some(n) => println!(
                "  revision: {n} runs, {} is the newest{pending} (podctl apply or auto-update carries it out)",
                r.newest
            ),
            None => println!(
                "  revision: {} is the newest{pending}; none kept runs",
                r.newest
            ),
        }
    }
    let now = now_secs();
    for c in &st.containers {
        println!(
            "  container {} ({}): {}{} pid {} restarts {} last exit {} since {} ago",
            c.name,
            c.unit,
            c.state,
            if c.ready { " ready" } else { "" },
            c.pid,
            c.restarts,
            c.last_exit.as_deref().unwrap_or("-"),
            human_age(now.saturating_sub(c.since))
        );
        if let Some(e) = &c.last_error {
            println!("    cannot start: {e}");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
