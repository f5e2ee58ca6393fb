//! VM tier, host side: stage the test binary and the podctl build into a
//! per-run image, boot it once (twice if some trial has a phase 2: that is
//! the reboot), and report each trial's in-guest result as its own
//! libtest-mimic trial. The guest side is in `vm_guest.rs`.

use super::harness::{TrialFn, any_will_run, trial};
use super::preflight::{self, Availability};
use super::qemu::{Link, RunImage, Stage};
use super::vm_guest::{self, RESULTS_DIR, TrialResult};
use libtest_mimic::{Arguments, Trial};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// A VM trial: `phase1` runs in the first boot; `phase2`, if any, runs after
/// a reboot (and only if phase 1 passed).
#[derive(Clone, Copy)]
pub struct VmTrial {
    pub name: &'static str,
    pub phase1: TrialFn,
    pub phase2: Option<TrialFn>,
}

impl VmTrial {
    /// A trial that needs one boot.
    pub const fn once(name: &'static str, phase1: TrialFn) -> VmTrial {
        VmTrial {
            name,
            phase1,
            phase2: None,
        }
    }

    /// A trial that prepares in phase 1 and checks after a reboot in phase 2.
    pub const fn reboot(name: &'static str, phase1: TrialFn, phase2: TrialFn) -> VmTrial {
        VmTrial {
            name,
            phase1,
            phase2: Some(phase2),
        }
    }
}

const VM_TOOLS: &[&str] = &[
    "qemu-system-x86_64",
    "debugfs",
    "mkfs.ext4",
    "debootstrap",
    "chroot",
    "sha256sum",
];

/// How long one boot (boot + trials + poweroff) may take.
fn boot_timeout() -> Duration {
    let secs = std::env::var("PODCTL_BENCH_VM_TIMEOUT")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(900);
    Duration::from_secs(secs)
}

/// Outcome of every trial by name.
type Outcomes = HashMap<String, Result<(), String>>;

/// Entry point of the `vm` test binary, on the host and in the guest.
pub fn vm_main(trials: &[VmTrial]) -> ! {
    let argv: Vec<String> = std::env::args().collect();
    if argv.get(1).map(String::as_str) == Some("--in-guest") {
        vm_guest::guest_main(trials, &argv[2..])
    }
    let args = Arguments::from_args();
    let availability = preflight::check("vm", VM_TOOLS);
    let slot: Arc<OnceLock<Result<Outcomes, String>>> = Arc::new(OnceLock::new());
    let list: Vec<Trial> = trials
        .iter()
        .map(|t| {
            let (slot, name) = (Arc::clone(&slot), t.name.to_string());
            trial(t.name, &availability, move || match slot.get() {
                Some(Ok(outcomes)) => outcomes
                    .get(&name)
                    .cloned()
                    .unwrap_or_else(|| Err("the VM reported no result for this trial".to_string())),
                Some(Err(e)) => Err(e.clone()),
                None => Err("the VM was not booted".to_string()),
            })
        })
        .collect();
    if matches!(availability, Availability::Ready) && any_will_run(&args, &list) {
        // Only the trials this run selects boot with the VM: a filter
        // shortens the run as it does for the other tiers.
        let selected: Vec<VmTrial> = trials
            .iter()
            .zip(&list)
            .filter(|(_, t)| !args.is_filtered_out(t) && !args.is_ignored(t))
            .map(|(v, _)| *v)
            .collect();
        let _ = slot.set(run_vm(&selected));
    }
    libtest_mimic::run(&args, list).exit()
}

/// Builds the run image, boots it (twice if needed) and collects outcomes.
fn run_vm(trials: &[VmTrial]) -> Result<Outcomes, String> {
    let base = super::cache::vm_base()?;
    let mut image = stage_image(&base, trials)?;
    let limit = boot_timeout();
    eprintln!("bench: booting VM (QEMU TCG, phase 1; ~30-60 s)...");
    let phase1 = image.boot(1, limit).and_then(|()| results(&image, 1));
    let needs_reboot = trials.iter().any(|t| t.phase2.is_some());
    let phase2 = if needs_reboot && phase1.is_ok() {
        eprintln!("bench: rebooting VM (phase 2)...");
        image.boot(2, limit).and_then(|()| results(&image, 2))
    } else {
        Err("phase 1 failed, so the VM was not rebooted".to_string())
    };
    let phase1 = phase1?;
    let outcomes: Outcomes = trials
        .iter()
        .map(|t| (t.name.to_string(), outcome(t, &phase1, &phase2)))
        .collect();
    if outcomes.values().any(Result::is_err) {
        image.keep();
    }
    Ok(outcomes)
}

/// A trial's outcome from its phase results.
fn outcome(
    t: &VmTrial,
    phase1: &[TrialResult],
    phase2: &Result<Vec<TrialResult>, String>,
) -> Result<(), String> {
    let find = |rs: &[TrialResult]| rs.iter().find(|r| r.trial == t.name).cloned();
    match find(phase1) {
        None => return Err("phase 1 reported no result for this trial".to_string()),
        Some(r) if !r.ok => return Err(format!("phase 1 (first boot): {}", r.message)),
        Some(_) => {}
    }
    if t.phase2.is_none() {
        return Ok(());
    }
    match phase2.as_ref().map(|rs| find(rs)) {
        Err(e) => Err(format!("phase 2 (after reboot) did not run: {e}")),
        Ok(None) => Err("phase 2 (after reboot) reported no result for this trial".to_string()),
        Ok(Some(r)) if !r.ok => Err(format!("phase 2 (after reboot): {}", r.message)),
        Ok(Some(_)) => Ok(()),
    }
}

/// Reads boot `n`'s results file back from the image.
fn results(image: &RunImage, n: u32) -> Result<Vec<TrialResult>, String> {
    let path = format!("{RESULTS_DIR}/results-{n}.jsonl");
    let text = image
        .read(&path)?
        .ok_or_else(|| image.failure(n, &format!("boot {n} wrote no {path}")))?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).map_err(|e| format!("bad line in {path}: {e}: {l}")))
        .collect()
}

/// The per-run image: the podctl build, this test binary and its unit.
fn stage_image(base: &Path, trials: &[VmTrial]) -> Result<RunImage, String> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let exe = std::env::current_exe().map_err(|e| format!("finding the test binary: {e}"))?;
    let tmp = std::env::temp_dir().join(format!("podctl-bench-stage-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).map_err(|e| format!("creating {}: {e}", tmp.display()))?;
    let unit = tmp.join("podctl-test.service");
    let next = tmp.join("next-phase");
    write(&unit, vm_guest::TEST_UNIT)?;
    write(&next, "1\n")?;
    let selected = tmp.join("selected");
    let names: Vec<&str> = trials.iter().map(|t| t.name).collect();
    write(&selected, &(names.join("\n") + "\n"))?;
    let mut dirs = Vec::new();
    let mut files = vec![
        stage(env!("CARGO_BIN_EXE_podctl"), "/usr/local/bin/podctl"),
        stage(
            env!("CARGO_BIN_EXE_podctl-supervisor"),
            "/usr/local/bin/podctl-supervisor",
        ),
        stage(
            env!("CARGO_BIN_EXE_podctl-pause"),
            "/usr/local/bin/podctl-pause",
        ),
        stage(&exe, "/opt/podctl-test/vm"),
        stage(&unit, "/etc/systemd/system/podctl-test.service"),
        stage(&next, &format!("{RESULTS_DIR}/next-phase")),
        stage(&selected, vm_guest::SELECTED),
    ];
    // The subordinate IDs of userns = "auto", copied into /etc by the test unit.
    files.push(stage(
        repo.join("tests/rig/subid"),
        "/opt/podctl-test/subid",
    ));
    let pod_unit = repo.join("units/pod@.service");
    if pod_unit.exists() {
        files.push(stage(&pod_unit, "/etc/systemd/system/pod@.service"));
    }
    stage_tree(
        &repo.join("examples"),
        "/usr/local/share/podctl/examples",
        &mut dirs,
        &mut files,
    )?;
    let links = [Link {
        guest: "/etc/systemd/system/multi-user.target.wants/podctl-test.service".into(),
        target: "/etc/systemd/system/podctl-test.service".into(),
    }];
    let image = RunImage::create(base, &dirs, &files, &links);
    let _ = std::fs::remove_dir_all(&tmp);
    image
}

fn stage(host: impl AsRef<Path>, guest: &str) -> Stage {
    Stage {
        host: host.as_ref().to_path_buf(),
        guest: guest.to_string(),
    }
}

/// Adds the files under host directory `dir` (recursively) at `guest`.
fn stage_tree(
    dir: &Path,
    guest: &str,
    dirs: &mut Vec<String>,
    files: &mut Vec<Stage>,
) -> Result<(), String> {
    let Ok(read) = std::fs::read_dir(dir) else {
        return Ok(()); // no examples yet
    };
    for entry in read {
        let entry = entry.map_err(|e| format!("reading {}: {e}", dir.display()))?;
        let path = entry.path();
        let target = format!("{guest}/{}", entry.file_name().to_string_lossy());
        if path.is_dir() {
            dirs.push(target.clone());
            stage_tree(&path, &target, dirs, files)?;
        } else {
            files.push(stage(&path, &target));
        }
    }
    Ok(())
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("writing {}: {e}", path.display()))
}
