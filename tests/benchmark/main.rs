//! `cargo bench --bench pods`: start/stop latency, scale and memory of
//! podctl pods against the same units made by hand with `systemd-run` (the
//! floor) and against Podman 4.3, side by side in one boot of the bench's
//! QEMU (TCG) VM (full cgroup v2, real systemd 252). Not a pass/fail test.
//!
//! Host: builds (once, cached) the `vm-bench-base` image, i.e. the test VM
//! plus `tests/benchmark/packages` (Podman, busybox-static); stages the
//! release podctl binaries, this binary and `podctl-bench.service` into a
//! per-run copy; boots it; reads the guest's JSON back with debugfs; adds
//! host timings and machine facts; prints ONE table and writes
//! `target/podctl-bench/results-DATE.{json,txt}`.
//! Guest (`--in-guest`): the measurements, in `guest.rs`.
//!
//! Native (`native.rs`, first; `-- --native` runs only it): 1,000 pods in
//! the container tier's nspawn guest, where times are real.
//!
//! Root, Debian 12, the VM tier's tools (see tests/README.md).
//! `PODCTL_BENCH_VM_TIMEOUT` (seconds, default 4800) bounds the boot.
//! For a quick look at some sections: `PODCTL_BENCH_SECTIONS=floor,images`
//! (setup always runs) and `PODCTL_BENCH_ROUNDS=N` (rounds of the timed
//! loops), `PODCTL_BENCH_PODS=N` (bridge pods of the scale section, default
//! 100, at least 20), `PODCTL_BENCH_NATIVE=0` skips the native
//! section. The full run uses the defaults.
//!
//! `PODCTL_BENCH_BASELINE=DIR` (a directory holding another build's
//! `podctl`, `podctl-supervisor` and `podctl-pause`) stages that build beside
//! this one: the podctl section then runs both, their rounds alternating
//! in the same boot, and the table compares them.

mod guest;
mod native;
mod native_pods;
mod report;
#[path = "../rig/mod.rs"]
mod rig;
#[path = "../scale/script.rs"]
mod script;

use report::Results;
use rig::qemu::{Link, RunImage, Stage};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn main() {
    if std::env::args().nth(1).as_deref() == Some("--in-guest") {
        guest::main();
    }
    // `cargo bench --bench pods -- --table FILE.json` prints a saved run's table.
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--table") {
        let Some(path) = args.get(i + 1) else {
            eprintln!("podctl-bench: --table needs a results-*.json file");
            std::process::exit(2);
        };
        match std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|t| serde_json::from_str::<Results>(&t).map_err(|e| e.to_string()))
        {
            Ok(r) => print!("{}", report::table(&r)),
            Err(e) => {
                eprintln!("podctl-bench: {path}: {e}");
                std::process::exit(1);
            }
        }
        return;
    }
    // Otherwise `cargo bench` passes --bench; `--native`: only the native section.
    let only_native = args.iter().any(|a| a == "--native");
    if let Err(e) = host(only_native) {
        eprintln!("podctl-bench: {e}");
        std::process::exit(1);
    }
}

const TOOLS: &[&str] = &[
    "qemu-system-x86_64",
    "debugfs",
    "mkfs.ext4",
    "debootstrap",
    "chroot",
    "sha256sum",
];

fn host(only_native: bool) -> Result<(), String> {
    if !nix::unistd::geteuid().is_root() {
        return Err("must run as root (it builds and boots the bench VM)".into());
    }
    let start = Instant::now();
    let facts = machine();
    let mut results = Results::default();
    if std::env::var("PODCTL_BENCH_NATIVE").as_deref() == Ok("0") {
        results
            .notes
            .push("native section skipped (PODCTL_BENCH_NATIVE=0)".into());
        return vm(results, facts, start);
    }
    // PODCTL_BENCH_NATIVE=pods or =scale: only that native part.
    let which = std::env::var("PODCTL_BENCH_NATIVE").unwrap_or_default();
    if which != "scale" {
        eprintln!(
            "podctl-bench: native pods: floor against podctl in the nspawn guest (a few minutes)"
        );
        if let Err(e) = native_pods::run(&mut results) {
            results.errors.push(format!("native pods: {e}"));
        }
    }
    if which != "pods" {
        eprintln!(
            "podctl-bench: native section: {} pods in the nspawn guest (a few minutes)",
            native::PODS
        );
        if let Err(e) = native::run(&mut results) {
            results.errors.push(format!("native: {e}"));
        }
    }
    if only_native {
        results.machine.extend(facts);
        return finish(results, start);
    }
    vm(results, facts, start)
}

/// The VM sections; `results` holds the native section's.
fn vm(native: Results, facts: BTreeMap<String, String>, start: Instant) -> Result<(), String> {
    let missing: Vec<&str> = TOOLS
        .iter()
        .copied()
        .filter(|t| !rig::preflight::on_path(t))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "missing tools: {} (apt-get install qemu-system-x86 e2fsprogs debootstrap; \
             sbin directories must be on PATH)",
            missing.join(", ")
        ));
    }
    let base = rig::cache::vm_bench_base()?;
    let mut image = stage(&base)?;
    let secs = std::env::var("PODCTL_BENCH_VM_TIMEOUT")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(4800);
    eprintln!(
        "podctl-bench: booting the VM (QEMU TCG); the benchmark takes ~40-60 min; console: {}",
        image.serial_log(1).display()
    );
    let booted = image.boot(1, Duration::from_secs(secs));
    let text = image.read(guest::RESULTS)?;
    let mut results: Results = match (&booted, text) {
        (_, Some(text)) => serde_json::from_str(&text)
            .map_err(|e| format!("bad {} from the guest: {e}", guest::RESULTS))?,
        (Err(e), None) => return Err(e.clone()),
        (Ok(()), None) => {
            image.keep();
            return Err(image.failure(1, "the guest wrote no results"));
        }
    };
    if let Err(e) = booted {
        results.errors.push(format!("VM boot: {e}"));
    }
    if !results.errors.is_empty() || std::env::var_os("PODCTL_BENCH_KEEP").is_some() {
        image.keep();
    }
    host_files(&mut results)?;
    results.machine.extend(facts);
    results.machine.extend(native.machine);
    results.series.extend(native.series);
    results.values.extend(native.values);
    results.notes.extend(native.notes);
    results.errors.extend(native.errors);
    finish(results, start)
}

/// Prints the table and writes the results.
fn finish(mut results: Results, start: Instant) -> Result<(), String> {
    results.value("wall_clock.s", start.elapsed().as_secs_f64());
    let table = report::table(&results);
    print!("{table}");
    let (json, txt) = write_out(&results, &table)?;
    eprintln!(
        "podctl-bench: raw results {}, table {} ({:.0?} in all)",
        json.display(),
        txt.display(),
        start.elapsed()
    );
    Ok(())
}

/// The per-run image: release podctl, this binary, the units.
fn stage(base: &Path) -> Result<RunImage, String> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let exe = std::env::current_exe().map_err(|e| format!("finding this binary: {e}"))?;
    let tmp = std::env::temp_dir().join(format!("podctl-bench-stage-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).map_err(|e| format!("creating {}: {e}", tmp.display()))?;
    let unit = tmp.join("podctl-bench.service");
    std::fs::write(&unit, guest::UNIT).map_err(|e| format!("writing {}: {e}", unit.display()))?;
    // What the guest runs: sections and rounds (empty: all, defaults).
    let conf = tmp.join("bench.conf");
    let var = |k: &str| std::env::var(k).unwrap_or_default();
    let baseline = std::env::var_os("PODCTL_BENCH_BASELINE").map(PathBuf::from);
    let text = format!(
        "sections={}\nrounds={}\npods={}\nbaseline={}\n",
        var("PODCTL_BENCH_SECTIONS"),
        var("PODCTL_BENCH_ROUNDS"),
        var("PODCTL_BENCH_PODS"),
        u8::from(baseline.is_some()),
    );
    std::fs::write(&conf, text).map_err(|e| format!("writing {}: {e}", conf.display()))?;
    let stage = |host: &Path, guest: &str| Stage {
        host: host.to_path_buf(),
        guest: guest.to_string(),
    };
    // Cargo builds the bin targets with the bench profile (= release) for a
    // benchmark and tells it where they are.
    let files = [
        stage(
            Path::new(env!("CARGO_BIN_EXE_podctl")),
            "/usr/local/bin/podctl",
        ),
        stage(
            Path::new(env!("CARGO_BIN_EXE_podctl-supervisor")),
            "/usr/local/bin/podctl-supervisor",
        ),
        stage(
            Path::new(env!("CARGO_BIN_EXE_podctl-pause")),
            "/usr/local/bin/podctl-pause",
        ),
        stage(&exe, "/opt/podctl-test/pods"),
        stage(&repo.join("tests/rig/subid"), "/opt/podctl-test/subid"),
        stage(
            &repo.join("units/pod@.service"),
            "/etc/systemd/system/pod@.service",
        ),
        stage(&unit, "/etc/systemd/system/podctl-bench.service"),
        stage(&conf, guest::CONF),
    ];
    // Both builds, each in a directory of its own: the guest points
    // /usr/local/bin at one or the other between rounds.
    let mut files: Vec<Stage> = files.into_iter().collect();
    let mut dirs = Vec::new();
    if let Some(dir) = &baseline {
        dirs = vec![
            guest::THIS_BUILD.to_string(),
            guest::BASELINE_BUILD.to_string(),
        ];
        for bin in guest::BINARIES {
            let this = files
                .iter()
                .find(|f| f.guest == format!("/usr/local/bin/{bin}"))
                .map(|f| f.host.clone())
                .expect("every binary is staged");
            let mut other = dir.join(bin);
            // An older build names the supervisor's binary podctl-runtime
            // (same arguments): staged under this build's name.
            if bin == "podctl-supervisor" && !other.is_file() {
                other = dir.join("podctl-runtime");
            }
            if !other.is_file() {
                return Err(format!(
                    "PODCTL_BENCH_BASELINE: no {} (the directory of a build: cargo build --release)",
                    other.display()
                ));
            }
            files.push(stage(&this, &format!("{}/{bin}", guest::THIS_BUILD)));
            files.push(stage(&other, &format!("{}/{bin}", guest::BASELINE_BUILD)));
        }
    }
    let links = [Link {
        guest: "/etc/systemd/system/multi-user.target.wants/podctl-bench.service".into(),
        target: "/etc/systemd/system/podctl-bench.service".into(),
    }];
    let image = RunImage::create(base, &dirs, &files, &links);
    let _ = std::fs::remove_dir_all(&tmp);
    image
}

/// `podctl validate` and `apply --dry-run` of a 100-container file, on the host.
fn host_files(r: &mut Results) -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!("podctl-bench-files-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let file = dir.join("big.toml");
    std::fs::write(&file, guest::big_pod_file(100)).map_err(|e| e.to_string())?;
    let podctl = env!("CARGO_BIN_EXE_podctl");
    for _ in 0..20 {
        for (series, args) in [
            ("validate.host", &["validate"][..]),
            ("dryrun.host", &["apply", "--dry-run"][..]),
        ] {
            let start = Instant::now();
            let out = Command::new(podctl)
                .args(args)
                .arg(&file)
                .output()
                .map_err(|e| format!("running {podctl}: {e}"))?;
            let ms = start.elapsed().as_secs_f64() * 1000.0;
            if !out.status.success() {
                return Err(format!(
                    "podctl {} failed: {}",
                    args.join(" "),
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
            r.push(series, ms);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn sh(cmd: &str) -> String {
    Command::new("sh")
        .args(["-c", cmd])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

/// Host facts; the podctl revision is HEAD, `+dirty` when src/, units/ or
/// Cargo.toml have uncommitted changes (they are in the build).
fn machine() -> BTreeMap<String, String> {
    let facts = [
        ("date", "date -u '+%Y-%m-%d %H:%M UTC'"),
        (
            "host.cpu",
            "sed -n 's/^model name\\s*: //p' /proc/cpuinfo | head -1",
        ),
        ("host.cores", "nproc"),
        ("host.kernel", "uname -r"),
        ("host.os", ". /etc/os-release && echo \"$PRETTY_NAME\""),
        ("host.qemu", "qemu-system-x86_64 --version | head -1"),
    ];
    let mut m: BTreeMap<String, String> = facts
        .iter()
        .map(|(k, cmd)| (k.to_string(), sh(cmd)))
        .collect();
    let repo = env!("CARGO_MANIFEST_DIR");
    let rev = sh(&format!(
        "cd '{repo}' && git rev-parse --short HEAD 2>/dev/null && \
         git status --porcelain --untracked-files=no -- src units Cargo.toml | grep -q . && echo +dirty"
    ));
    m.insert(
        "host.podctl".into(),
        format!("{} {}", env!("CARGO_PKG_VERSION"), rev.replace('\n', "")),
    );
    if let Some(dir) = std::env::var_os("PODCTL_BENCH_BASELINE") {
        let dir = Path::new(&dir).display().to_string();
        let rev = sh(&format!(
            "cd '{dir}' && git rev-parse --short HEAD 2>/dev/null"
        ));
        let rev = if rev.is_empty() {
            "revision unknown".into()
        } else {
            rev
        };
        m.insert("host.baseline".into(), format!("{rev} ({dir})"));
    }
    m
}

/// `target/podctl-bench/results-DATE.{json,txt}`.
fn write_out(r: &Results, table: &str) -> Result<(PathBuf, PathBuf), String> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    let dir = target.join("podctl-bench");
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let stamp = sh("date -u +%Y%m%d-%H%M%S");
    let json = dir.join(format!("results-{stamp}.json"));
    let txt = dir.join(format!("results-{stamp}.txt"));
    let text = serde_json::to_string_pretty(r).map_err(|e| e.to_string())?;
    std::fs::write(&json, text).map_err(|e| format!("writing {}: {e}", json.display()))?;
    std::fs::write(&txt, table).map_err(|e| format!("writing {}: {e}", txt.display()))?;
    Ok((json, txt))
}
