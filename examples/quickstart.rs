//! The quick start on a machine without systemd as PID 1 (run by
//! `examples/quickstart`, which builds it): boots a throwaway systemd in
//! systemd-nspawn from the test bench's cached root with the release
//! binaries bound in, runs the systemd-host demo inside it
//! (`PODCTL_PREBUILT=1 examples/quickstart`), prints its output and powers
//! the container off, also after Ctrl-C, SIGTERM or a failure.
//!
//! Usage (root): `quickstart [PODCTL PODCTL_PAUSE]`, default
//! `target/release/podctl` and `target/release/podctl-pause`.

// The parts of the bench this program needs, same files as the tests (so the
// same cached root, keyed on tests/bench/mkroot.sh). Not the bench's mod.rs:
// its VM and harness modules need the test-only CARGO_BIN_EXE_* variables.
#[allow(dead_code)]
#[path = "../tests/bench"]
mod bench {
    pub mod cache;
    pub mod guest;
    pub mod nspawn;
    pub mod procs;
}

use bench::nspawn::{Container, podctl_binds_from};
use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};
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
    // The handler only sets a flag: every guest command in flight gets the
    // terminal's SIGINT too and ends, and the container is then powered off
    // below. (systemd-nspawn runs in its own process group.)
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
    match run(&podctl, &pause) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("quickstart: error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(podctl: &Path, pause: &Path) -> Result<ExitCode, String> {
    let root = with_progress("preparing the container root", bench::cache::container_root)?;
    if interrupted() {
        return Ok(stopped());
    }
    let binds = podctl_binds_from(podctl, pause);
    let start = Instant::now();
    let container = Container::boot(&root, &binds)?;
    // From here on every path goes through `finish`, which powers off.
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
    let shutdown = container.shutdown();
    let elapsed = start.elapsed();
    shutdown?;
    println!(
        "quickstart: container gone (booted, demoed and powered off in {elapsed:.1?}); \
         no process or mount left"
    );
    Ok(match demo {
        _ if interrupted() => stopped(),
        Some(0) => ExitCode::SUCCESS,
        Some(status) => {
            eprintln!("quickstart: the demo failed (exit status {status})");
            ExitCode::FAILURE
        }
        None => stopped(),
    })
}

fn stopped() -> ExitCode {
    eprintln!("quickstart: interrupted");
    ExitCode::from(130)
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
