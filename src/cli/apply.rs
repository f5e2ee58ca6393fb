//! `podctl apply FILE` and `podctl down NAME`.

use crate::plan::units;
use crate::runtime::Paths;
use crate::runtime::state::write_atomic;
use crate::systemd::{Manager, UnitStatus};
use anyhow::{Context, bail};
use std::path::Path;

/// What apply did to a pod, as printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Started,
    Restarted,
    Unchanged,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Started => "started",
            Outcome::Restarted => "restarted",
            Outcome::Unchanged => "unchanged",
        }
    }
}

fn is_running(st: &Option<UnitStatus>) -> bool {
    matches!(st, Some(s) if s.active_state == "active" || s.active_state == "activating" || s.active_state == "reloading")
}

/// The last journal lines of a unit, to explain a failure where it happens.
pub fn journal_tail(unit: &str, lines: u32) -> String {
    std::process::Command::new("journalctl")
        .args([
            "--no-pager",
            "-q",
            "-o",
            "cat",
            "-n",
            &lines.to_string(),
            "-u",
            unit,
        ])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim_end().to_string())
        .unwrap_or_default()
}

/// Stores the definition and brings the pod to it, through `mgr`.
pub fn apply_with(
    mgr: &dyn Manager,
    paths: &Paths,
    file: &Path,
) -> anyhow::Result<(String, Outcome)> {
    let pod = crate::spec::load(file).map_err(|d| anyhow::anyhow!("{d}"))?;
    let text = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let stored = paths.definition(&pod.name);
    let previous = std::fs::read(&stored).ok();
    let service = units::service(&pod.name);
    if !mgr.has_unit_file(&service)? {
        bail!("{service}: pod@.service is not installed (install it with: podctl install)");
    }
    let state = mgr.status(&service)?;

    if previous.as_deref() != Some(text.as_slice()) {
        write_atomic(&stored, &text)
            .with_context(|| format!("cannot store the definition in {}", stored.display()))?;
    }
    mgr.set_enabled(&service, pod.autostart).with_context(|| {
        format!(
            "cannot {} {service} for boot",
            if pod.autostart { "enable" } else { "disable" }
        )
    })?;

    let outcome = if is_running(&state) {
        if previous.as_deref() == Some(text.as_slice()) {
            Outcome::Unchanged
        } else {
            mgr.restart_unit(&service)?;
            Outcome::Restarted
        }
    } else {
        mgr.reset_failed(&service)?;
        mgr.start_unit(&service)?;
        Outcome::Started
    };
    Ok((pod.name, outcome))
}

pub fn apply(file: &Path) -> anyhow::Result<()> {
    super::require_root("apply")?;
    let paths = Paths::from_env();
    let mgr = super::connect()?;
    match apply_with(&mgr, &paths, file) {
        Ok((name, outcome)) => {
            println!("{name}: {}", outcome.as_str());
            super::show::print_pods(&mgr, &paths, &[name])
        }
        Err(e) => {
            // Name the unit and show why it failed, where the user is looking.
            if let Ok(pod) = crate::spec::load(file) {
                let service = units::service(&pod.name);
                let tail = journal_tail(&service, 15);
                if !tail.is_empty() {
                    bail!(
                        "{}\n--- journalctl -u {service} (last lines) ---\n{tail}",
                        crate::error_chain(e.as_ref())
                    );
                }
            }
            Err(e)
        }
    }
}

/// Stops the pod and disables it at boot; `purge` also deletes its definition.
pub fn down_with(mgr: &dyn Manager, paths: &Paths, name: &str, purge: bool) -> anyhow::Result<()> {
    let service = units::service(name);
    let stored = paths.definition(name);
    if !stored.exists() && mgr.status(&service)?.is_none() {
        bail!(
            "no pod named {name:?} (no {} and no {service})",
            stored.display()
        );
    }
    mgr.stop_unit(&service)?;
    // Leftovers of a crashed supervisor, if any.
    mgr.stop_unit(&units::slice(name))?;
    mgr.reset_failed(&service)?;
    mgr.set_enabled(&service, false)?;
    if purge && stored.exists() {
        std::fs::remove_file(&stored)
            .with_context(|| format!("cannot remove {}", stored.display()))?;
    }
    Ok(())
}

pub fn down(name: &str, purge: bool) -> anyhow::Result<()> {
    super::require_root("down")?;
    let paths = Paths::from_env();
    let mgr = super::connect()?;
    down_with(&mgr, &paths, name, purge)?;
    println!(
        "{name}: {}",
        if purge {
            "removed (definition deleted)"
        } else {
            "stopped"
        }
    );
    Ok(())
}
