//! The quick start on a machine without systemd as PID 1 (run by
//! `examples/quickstart`, which builds it): boots a throwaway systemd in
//! systemd-nspawn from the test rig's cached root with the release
//! binaries bound in, runs the systemd-host demo inside it
//! (`PODCTL_PREBUILT=1 examples/quickstart`), prints its output and powers
//! the container off, also after Ctrl-C, SIGTERM or a failure.
//!
//! Usage (root): `quickstart [PODCTL PODCTL_PAUSE]`, default
//! `target/release/podctl` and `target/release/podctl-pause`.

// The parts of the rig this program needs, same files as the tests (so the
// same cached root, keyed on tests/rig/mkroot.sh). Not the rig's mod.rs:
// its VM and harness modules need the test-only CARGO_BIN_EXE_* variables.
#[allow(dead_code)]
#[path = "../tests/rig"]
mod rig {
    pub mod cache;
    pub mod guest;
    pub mod nspawn;
    pub mod procs;
}

use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, kill, sigaction};
use nix::unistd::Pid;
use rig::nspawn::{Container, podctl_binds_from};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The demo, run inside the container: the script's systemd-host path with
/// the bound binaries and unit (no build, no `podctl install`).
const DEMO: &str = "PODCTL_PREBUILT=1 /usr/local/share/podctl/examples/quickstart";

/// Set by SIGINT, SIGTERM or SIGHUP: stop what we are doing, power off.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: nix::libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

fn main() -> ExitCode {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let release = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release");
    let (podctl, pause) = match args.as_slice() {
        [] => (release.join("podctl"), release.join("podctl-pause")),
        [podctl, pause] => (podctl.clone(), pause.clone()),
        _ => {
            eprintln!("usage: quickstart [PODCTL PODCTL_PAUSE]");
            return ExitCode::from(2);
        }
    };
    let action = SigAction::new(
        SigHandler::Handler(on_signal),
        SaFlags::empty(),
        SigSet::empty(),
    );
    for signal in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
        // SAFETY: the handler only stores to an atomic (async-signal-safe).
        if let Err(e) = unsafe { sigaction(signal, &action) } {
            eprintln!("quickstart: cannot handle {signal}: {e}");
            return ExitCode::FAILURE;
        }
    }
    std::thread::spawn(stop_on_signal);
    let code = match run(&podctl, &pause) {
        Ok(code) => code,
        Err(_) if interrupted() => ExitCode::from(130),
        Err(e) => {
            eprintln!("quickstart: error: {e}");
            ExitCode::FAILURE
        }
    };
    if interrupted() {
        eprintln!("quickstart: interrupted");
    }
    match leftovers() {
        Ok(()) if interrupted() => {
            eprintln!("quickstart: stopped; no process or mount left");
            code
        }
        Ok(()) => code,
        Err(e) => {
            eprintln!("quickstart: error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Once a signal came: powers the container off at once if there is one
/// (SIGTERM to systemd-nspawn makes it shut the container down cleanly; the
/// guest commands in flight end with the container), otherwise stops the
/// root build (SIGTERM to our process group: debootstrap traps it and
/// unmounts what it mounted). systemd-nspawn has a process group of its own.
fn stop_on_signal() {
    while !interrupted() {
        std::thread::sleep(Duration::from_millis(50));
    }
    let me = std::process::id();
    let nspawn: Vec<u32> = rig::procs::children(me)
        .into_iter()
        .filter(|&pid| rig::procs::comm(pid).as_deref() == Some("systemd-nspawn"))
        .collect();
    // Only as the leader of our group (examples/quickstart starts us with
    // setsid); otherwise the terminal's Ctrl-C reached the group already.
    if nspawn.is_empty() && nix::unistd::getpgrp() == Pid::this() {
        let _ = kill(Pid::from_raw(0), Signal::SIGTERM);
    }
    for pid in nspawn {
        let _ = kill(Pid::from_raw(pid as i32), Signal::SIGTERM);
    }
    // A guest command in flight sees its child stopped as the container goes
    // down, and nsenter then stops itself until a SIGCONT that nobody sends:
    // it would never reap that child, so the container's PID namespace (and
    // systemd-nspawn, and we) would wait forever. Continue such nsenters.
    loop {
        for pid in rig::procs::children(me) {
            if rig::procs::comm(pid).as_deref() == Some("nsenter") && is_stopped(pid) {
                let _ = kill(Pid::from_raw(pid as i32), Signal::SIGCONT);
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Whether `pid` is stopped (state T in /proc/PID/stat).
fn is_stopped(pid: u32) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let state = stat
        .rfind(')')
        .and_then(|i| stat[i + 1..].split_whitespace().next());
    state == Some("T")
}

fn run(podctl: &Path, pause: &Path) -> Result<ExitCode, String> {
    let root = with_progress("preparing the container root", rig::cache::container_root)?;
    if interrupted() {
        return Ok(ExitCode::from(130));
    }
    let binds = podctl_binds_from(podctl, pause);
    let start = Instant::now();
    let container = Container::boot(&root, &binds)?;
    // From here on every path goes through `shutdown`, which powers off and
    // checks that nothing of the container is left.
    let demo = if interrupted() {
        None
    } else {
        println!("quickstart: systemd is up in the container; running the quick start there:\n");
        let out = container.guest().sh(DEMO);
        print!("{}", out.stdout);
        eprint!("{}", out.stderr);
        Some(out.status)
    };
    println!();
    println!("quickstart: powering the container off...");
    container.shutdown()?;
    println!(
        "quickstart: container gone after {:.1?} (boot, demo, poweroff); no process or mount left",
        start.elapsed()
    );
    Ok(match demo {
        _ if interrupted() => ExitCode::from(130),
        Some(0) => ExitCode::SUCCESS,
        Some(status) => {
            eprintln!("quickstart: the demo failed (exit status {status})");
            ExitCode::FAILURE
        }
        None => ExitCode::from(130),
    })
}

/// Whatever path we took (a failed boot, an interrupted build): no
/// systemd-nspawn of ours still running, no mount left under the cache.
fn leftovers() -> Result<(), String> {
    let machine = format!("--machine=podctl-bench-{}", std::process::id());
    let mut found = Vec::new();
    for _ in 0..100 {
        found = rig::procs::with_arg(&machine)
            .into_iter()
            .map(|pid| format!("process {pid} ({machine})"))
            .collect();
        // A root being built (debootstrap mounts /proc and /dev in it).
        let building = rig::cache::cache_dir().join(".tmp-container-root-");
        found.extend(rig::procs::mounts_under(&building));
        if found.is_empty() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!("left behind: {}", found.join("; ")))
}

/// Runs `work`, printing a line every 15 s while it takes long (the first
/// run debootstraps the root).
fn with_progress<T>(what: &str, work: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    let (done, wait) = mpsc::channel::<()>();
    let what = what.to_string();
    let ticker = std::thread::spawn(move || {
        let start = Instant::now();
        while let Err(mpsc::RecvTimeoutError::Timeout) = wait.recv_timeout(Duration::from_secs(15))
        {
            eprintln!("quickstart: still {what} ({:.0?})...", start.elapsed());
        }
    });
    let result = work();
    drop(done);
    let _ = ticker.join();
    result
}
