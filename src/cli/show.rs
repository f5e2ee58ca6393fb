//! Read-only commands: `ps`, `status`, `logs`, `inspect`.
//!
//! `ps` makes one D-Bus call (ListUnitsByPatterns) whatever the number of
//! pods; per-container detail comes from the supervisors' state files and
//! memory from cgroupfs, so it stays fast with hundreds of pods.

use crate::plan::{NsKind, units};
use crate::runtime::Paths;
use crate::runtime::state::{PodState, now_secs};
use crate::systemd::{Manager, UnitStatus};
use anyhow::bail;
use serde::Serialize;
use std::fmt::Write as _;
use std::path::Path;

pub fn human_bytes(n: u64) -> String {
    const U: [&str; 5] = ["B", "K", "M", "G", "T"];
    let mut v = n as f64;
    let mut i = 0;
    while v >= 1024.0 && i < U.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{n}B")
    } else {
        format!("{v:.1}{}", U[i])
    }
}

pub fn human_age(secs: u64) -> String {
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m", secs / 60),
        3600..86400 => format!("{}h{}m", secs / 3600, secs % 3600 / 60),
        _ => format!("{}d{}h", secs / 86400, secs % 86400 / 3600),
    }
}

fn pod_name_of(service: &str) -> Option<&str> {
    service.strip_prefix("pod@")?.strip_suffix(".service")
}

/// Prints the ps table for the given pods (all pods when empty).
pub fn print_pods(mgr: &dyn Manager, paths: &Paths, only: &[String]) -> anyhow::Result<()> {
    let services = mgr.list_units(&["pod@*.service"])?;
    let root = crate::runtime::cgroup::root();
    let now = now_secs();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<16} {:<14} {:<11} {:>8} {:>8} {:>8} {:>8}",
        "POD", "CONTAINER", "STATE", "PID", "MEMORY", "RESTARTS", "UPTIME"
    );
    let mut rows: Vec<&UnitStatus> = services
        .iter()
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
            crate::runtime::cgroup::memory(&root, pod, &units::sandbox(pod))
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
                crate::runtime::cgroup::memory(&root, pod, &c.unit).map_or("-".into(), human_bytes),
                c.restarts,
                human_age(now.saturating_sub(c.since))
            );
        }
    }
    print!("{out}");
    Ok(())
}

pub fn ps() -> anyhow::Result<()> {
    super::require_root("ps")?;
    let mgr = super::connect()?;
    print_pods(&mgr, &Paths::from_env(), &[])
}

#[derive(Debug, Serialize)]
pub struct SandboxStatus {
    pub unit: String,
    pub pid: u32,
    pub state: String,
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
    /// The supervisor's view: starting, running, failed, succeeded, recreating.
    pub phase: String,
    /// Times the sandbox was lost and the pod recreated.
    pub sandbox_losses: u32,
    pub service: String,
    pub slice: String,
    pub sandbox: SandboxStatus,
    pub containers: Vec<ContainerStatus>,
}

pub fn status_with(mgr: &dyn Manager, paths: &Paths, name: &str) -> anyhow::Result<PodStatus> {
    let service = units::service(name);
    // One call for the state of every unit of the pod.
    let loaded = mgr.list_units(&[&service, &format!("pod-{name}.*")])?;
    let active = |unit: &str| {
        loaded
            .iter()
            .find(|u| u.name == unit)
            .map_or_else(|| "inactive".to_string(), |u| u.active_state.clone())
    };
    if !loaded.iter().any(|u| u.name == service) && !paths.definition(name).exists() {
        bail!(
            "no pod named {name:?} (no {} and no {service})",
            paths.definition(name).display()
        );
    }
    let state = PodState::load(&paths.run, name).unwrap_or_default();
    let sandbox_unit = units::sandbox(name);
    let containers = state
        .containers
        .iter()
        .map(|c| ContainerStatus {
            unit_state: active(&c.unit),
            name: c.name.clone(),
            unit: c.unit.clone(),
            pid: c.pid,
            monitor_pid: c.monitor_pid,
            state: c.state.clone(),
            ready: c.ready,
            restarts: c.restarts,
            last_exit: c.last_exit.clone(),
            last_error: c.last_error.clone(),
            since: c.since,
        })
        .collect();
    Ok(PodStatus {
        name: name.to_string(),
        state: active(&service),
        phase: state.phase.clone(),
        sandbox_losses: state.sandbox_losses,
        slice: units::slice(name),
        sandbox: SandboxStatus {
            state: active(&sandbox_unit),
            unit: sandbox_unit,
            pid: state.sandbox_pid,
        },
        service,
        containers,
    })
}

pub fn status(name: &str, json: bool) -> anyhow::Result<()> {
    super::require_root("status")?;
    let mgr = super::connect()?;
    let st = status_with(&mgr, &Paths::from_env(), name)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&st)?);
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

pub fn logs(name: &str, container: Option<&str>, follow: bool) -> anyhow::Result<()> {
    use std::os::unix::process::CommandExt;
    let mut cmd = std::process::Command::new("journalctl");
    cmd.arg("--no-pager");
    match container {
        Some(c) => cmd.args(["-u", &units::container(name, c)]),
        None => cmd.args([
            "-u",
            &units::service(name),
            "-u",
            &format!("pod-{name}.*.scope"),
        ]),
    };
    if follow {
        cmd.arg("-f");
    }
    let err = cmd.exec();
    bail!("cannot run journalctl: {err}")
}

const INSPECT_KINDS: [NsKind; 6] = [
    NsKind::Net,
    NsKind::Ipc,
    NsKind::Uts,
    NsKind::Pid,
    NsKind::Mnt,
    NsKind::Cgroup,
];

/// One row of `inspect`: a process and the inode of each namespace.
pub fn inspect_rows(paths: &Paths, name: &str) -> anyhow::Result<Vec<(String, u32, Vec<u64>)>> {
    let Some(state) = PodState::load(&paths.run, name) else {
        bail!(
            "pod {name:?} is not running (no {})",
            crate::runtime::state::path(&paths.run, name).display()
        );
    };
    let proc_root = Path::new("/proc");
    let inodes = |pid: u32| -> Vec<u64> {
        INSPECT_KINDS
            .iter()
            .map(|k| crate::runtime::ns::inode(proc_root, pid, *k).unwrap_or(0))
            .collect()
    };
    let mut rows = vec![(
        "sandbox".to_string(),
        state.sandbox_pid,
        inodes(state.sandbox_pid),
    )];
    for c in state.containers.iter().filter(|c| c.pid != 0) {
        rows.push((c.name.clone(), c.pid, inodes(c.pid)));
    }
    Ok(rows)
}

pub fn inspect(name: &str) -> anyhow::Result<()> {
    super::require_root("inspect")?;
    let rows = inspect_rows(&Paths::from_env(), name)?;
    let host: Vec<u64> = INSPECT_KINDS
        .iter()
        .map(|k| crate::runtime::ns::inode(Path::new("/proc"), 1, *k).unwrap_or(0))
        .collect();
    let sandbox = rows[0].2.clone();
    print!("{:<12} {:>8}", "PROCESS", "PID");
    for k in INSPECT_KINDS {
        print!(" {:>18}", k.proc_name());
    }
    println!();
    for (proc_name, pid, inodes) in &rows {
        print!("{proc_name:<12} {pid:>8}");
        for (i, ino) in inodes.iter().enumerate() {
            let mark = if *ino == host[i] {
                "host"
            } else if proc_name != "sandbox" && *ino == sandbox[i] {
                "shared"
            } else {
                "own"
            };
            print!(" {:>18}", format!("{ino} {mark}"));
        }
        println!();
    }
    println!(
        "(shared = same namespace as the sandbox; own = private to the process; host = the host's)"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(human_bytes(512), "512B");
        assert_eq!(human_bytes(3 << 20), "3.0M");
        assert_eq!(human_age(59), "59s");
        assert_eq!(human_age(3600 * 25), "1d1h");
        assert_eq!(pod_name_of("pod@my-web.service"), Some("my-web"));
        assert_eq!(pod_name_of("pod-web.slice"), None);
    }
}
