//! VM tier, guest side: `/opt/podctl-test/vm --in-guest --phase N`, started
//! at boot by `podctl-test.service`. Runs every trial's phase N against the
//! local systemd, writes one JSON line per trial to
//! `/var/lib/podctl-test/results-N.jsonl` (and a line to the console), and
//! returns; the unit's ExecStopPost powers the VM off.

use super::guest::Guest;
use super::harness::with_evidence;
use super::vm::VmTrial;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

/// Where the guest keeps the phase counter and results.
pub const RESULTS_DIR: &str = "/var/lib/podctl-test";

/// The unit that runs the trials at boot. It is a `Type=exec` service so
/// boot finishes while it runs (the runner waits for `running` itself).
pub const TEST_UNIT: &str = "\
[Unit]
Description=podctl VM bench trials

[Service]
Type=exec
# The subordinate IDs of userns = \"auto\" (the package's `containers` line),
# added once: the users' lines the trials' useradd wrote stay.
ExecStartPre=/bin/sh -c 'grep -qs ^containers: /etc/subuid || cat /opt/podctl-test/subid >>/etc/subuid'
ExecStartPre=/bin/sh -c 'grep -qs ^containers: /etc/subgid || cat /opt/podctl-test/subid >>/etc/subgid'
ExecStart=/bin/sh -c 'exec /opt/podctl-test/vm --in-guest --phase \"$(cat /var/lib/podctl-test/next-phase)\"'
ExecStopPost=/bin/systemctl poweroff --no-block
StandardOutput=journal+console
StandardError=journal+console
RuntimeMaxSec=1200
";

/// The names of the trials this boot runs, one a line (the host's filter).
pub const SELECTED: &str = "/opt/podctl-test/selected";

/// One trial's result in one phase.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrialResult {
    pub trial: String,
    pub phase: u32,
    pub ok: bool,
    pub message: String,
}

/// Runs phase N (`args` = `--phase N`) and exits.
pub fn guest_main(trials: &[VmTrial], args: &[String]) -> ! {
    let phase = match args {
        [flag, n] if flag == "--phase" => n.parse::<u32>().unwrap_or(0),
        _ => 0,
    };
    if !(1..=2).contains(&phase) {
        eprintln!("podctl-test: usage: vm --in-guest --phase 1|2 (got {args:?})");
        std::process::exit(2);
    }
    let guest = Guest::local();
    let state = guest.sh_timeout(
        "systemctl is-system-running --wait",
        Duration::from_secs(300),
    );
    println!(
        "podctl-test: phase {phase}: system is {}",
        state.stdout.trim()
    );
    let selected = std::fs::read_to_string(SELECTED).unwrap_or_default();
    let trials: Vec<VmTrial> = trials
        .iter()
        .filter(|t| selected.lines().any(|name| name == t.name))
        .copied()
        .collect();
    let trials = &trials[..];
    let results: Vec<TrialResult> = trials
        .iter()
        .filter_map(|t| run_trial(&guest, t, phase))
        .collect();
    if let Err(e) = save(phase, &results, trials) {
        eprintln!("podctl-test: {e}");
        std::process::exit(1);
    }
    std::process::exit(0)
}

/// Runs `t`'s function for `phase`, if it has one.
fn run_trial(guest: &Guest, t: &VmTrial, phase: u32) -> Option<TrialResult> {
    let f = if phase == 1 { t.phase1 } else { t.phase2? };
    let start = Instant::now();
    let outcome = catch_unwind(AssertUnwindSafe(|| f(guest)))
        .unwrap_or_else(|panic| Err(format!("panicked: {}", panic_text(&panic))));
    let outcome = outcome.map_err(|m| with_evidence(guest, m));
    let verdict = if outcome.is_ok() { "ok" } else { "FAILED" };
    println!(
        "podctl-test: phase {phase}: {} ... {verdict} ({:.1?})",
        t.name,
        start.elapsed()
    );
    if let Err(message) = &outcome {
        println!("{message}");
    }
    Some(TrialResult {
        trial: t.name.to_string(),
        phase,
        ok: outcome.is_ok(),
        message: outcome.err().unwrap_or_default(),
    })
}

fn panic_text(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-string panic)".to_string()
    }
}

/// Writes the results file durably and, after phase 1, arms phase 2.
fn save(phase: u32, results: &[TrialResult], trials: &[VmTrial]) -> Result<(), String> {
    let path = format!("{RESULTS_DIR}/results-{phase}.jsonl");
    let mut text = String::new();
    for r in results {
        let line = serde_json::to_string(r).map_err(|e| format!("encoding result: {e}"))?;
        text.push_str(&line);
        text.push('\n');
    }
    write_synced(&path, &text)?;
    if phase == 1 && trials.iter().any(|t| t.phase2.is_some()) {
        write_synced(&format!("{RESULTS_DIR}/next-phase"), "2\n")?;
    }
    Ok(())
}

fn write_synced(path: &str, text: &str) -> Result<(), String> {
    let mut file = std::fs::File::create(path).map_err(|e| format!("creating {path}: {e}"))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| format!("writing {path}: {e}"))
}
