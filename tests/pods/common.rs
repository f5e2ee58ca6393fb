//! Helpers shared by the pod trials of the container and VM tiers: write a
//! pod file in the guest, apply it, find processes, read their namespaces.

use crate::rig::{Guest, wait_for};
use std::time::Duration;

/// Writes `toml` to /root/pods/NAME.toml in the guest and returns the path.
pub fn write_pod(g: &Guest, name: &str, toml: &str) -> Result<String, String> {
    let path = format!("/root/pods/{name}.toml");
    g.ok(&format!(
        "mkdir -p /root/pods && cat > {path} <<'PODCTL_EOF'\n{toml}\nPODCTL_EOF"
    ))?;
    Ok(path)
}

/// `podctl apply` of a new pod file; returns podctl's output.
pub fn apply(g: &Guest, name: &str, toml: &str) -> Result<String, String> {
    let path = write_pod(g, name, toml)?;
    g.ok(&format!("podctl apply {path}"))
}

/// The single process whose full command line is exactly `cmdline`.
pub fn pid_of(g: &Guest, cmdline: &str) -> Result<u32, String> {
    let out = g.ok(&format!("pgrep -xf '{cmdline}' || true"))?;
    let pids: Vec<u32> = out
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect();
    match pids.as_slice() {
        [one] => Ok(*one),
        _ => Err(format!(
            "expected exactly one process {cmdline:?}, found {pids:?}"
        )),
    }
}

/// Waits until exactly one process runs `cmdline` and returns its PID.
pub fn wait_pid(g: &Guest, cmdline: &str) -> Result<u32, String> {
    let mut pid = 0;
    wait_for(
        Duration::from_secs(20),
        &format!("process {cmdline:?}"),
        || {
            Ok(match pid_of(g, cmdline) {
                Ok(p) => {
                    pid = p;
                    true
                }
                Err(_) => false,
            })
        },
    )?;
    Ok(pid)
}

/// `readlink /proc/PID/ns/KIND`, e.g. `net:[4026532185]`.
pub fn ns(g: &Guest, pid: u32, kind: &str) -> Result<String, String> {
    g.ok(&format!("readlink /proc/{pid}/ns/{kind}"))
}

/// `podctl status NAME --json`, parsed.
pub fn status(g: &Guest, name: &str) -> Result<serde_json::Value, String> {
    let out = g.ok(&format!("podctl status {name} --json"))?;
    serde_json::from_str(&out).map_err(|e| format!("podctl status {name} --json: {e}: {out}"))
}

/// A container's field from `podctl status --json`.
pub fn container_field(st: &serde_json::Value, container: &str, field: &str) -> serde_json::Value {
    st["containers"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["name"] == container))
        .map(|c| c[field].clone())
        .unwrap_or(serde_json::Value::Null)
}

/// Nothing of pod NAME is left: no unit loaded, no process in its cgroups,
/// none of `cmdlines` running.
pub fn assert_gone(g: &Guest, name: &str, cmdlines: &[&str]) -> Result<(), String> {
    wait_for(Duration::from_secs(20), &format!("pod {name} gone"), || {
        let units = g.ok(&format!(
            "systemctl list-units --all --no-legend --plain 'pod@{name}.service' 'pod-{name}.*' 'pod-{name}.slice' | grep -v '^pod@{name}.service *not-found' || true"
        ))?;
        let active_units = units
            .lines()
            .filter(|l| !l.contains(" inactive ") && !l.trim().is_empty())
            .count();
        let mut procs = 0;
        for c in cmdlines {
            procs += g.ok(&format!("pgrep -xf '{c}' | wc -l"))?.parse::<u32>().unwrap_or(1);
        }
        Ok(active_units == 0 && procs == 0)
    })
    .map_err(|e| format!("{e}\nunits: {}", g.sh(&format!("systemctl list-units --all 'pod*{name}*'")).stdout))
}

/// Asserts `a == b` with a message naming what was compared.
pub fn same(what: &str, a: &str, b: &str) -> Result<(), String> {
    if a == b {
        Ok(())
    } else {
        Err(format!("{what}: {a} != {b} (should be shared)"))
    }
}

/// Asserts `a != b`.
pub fn differ(what: &str, a: &str, b: &str) -> Result<(), String> {
    if a != b {
        Ok(())
    } else {
        Err(format!("{what}: both {a} (should be separate)"))
    }
}
