//! Command implementations: each returns what happened or an error that
//! names the pod, unit or path and the cause; `main` prints it once.

pub mod apply;
pub mod args;
pub mod complete;
pub mod control;
pub mod diff;
pub mod diff_json;
pub mod down;
pub mod events;
pub mod exec;
pub mod generate;
pub mod image;
pub mod inspect;
pub mod install;
pub mod kube;
pub mod logs;
pub mod network;
pub mod output;

pub mod pty;
pub mod show;
pub mod top;
pub mod validate;
pub mod volume;

use std::process::ExitCode;

/// Prints an error chain once (`podctl: outer: inner: ...`) and maps it to exit 1.
pub fn report(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("podctl: {}", crate::error_chain(e.as_ref()));
            ExitCode::FAILURE
        }
    }
}

/// Fails unless running as root, naming the command.
pub fn require_root(command: &str) -> anyhow::Result<()> {
    if !nix::unistd::geteuid().is_root() {
        anyhow::bail!(
            "podctl {command} must run as root (pods are system units; their state and definitions are readable by root only); try: sudo podctl {command} ..."
        );
    }
    Ok(())
}

/// A manager for systemd that connects at its first call (private socket,
/// else the system bus) and lets go when dropped or idle; fails at once if
/// there is no systemd.
pub fn connect() -> anyhow::Result<crate::systemd::ondemand::OnDemand> {
    if !std::path::Path::new(crate::runtime::SYSTEMD_SYSTEM_DIR).exists() {
        anyhow::bail!(
            "systemd is not running as PID 1 on this host (no /run/systemd/system); podctl needs a systemd host (see README: Quick start)"
        );
    }
    let early = EARLY.lock().ok().and_then(|mut e| e.take());
    Ok(early.unwrap_or_else(crate::systemd::ondemand::OnDemand::from_env))
}

/// Runs `a` on a second thread while `b` runs on this one, and returns
/// both results: two calls to systemd over one connection, answered side by
/// side (each round trip costs milliseconds under emulation). Where no
/// thread can be had, `b` then `a`.
pub fn side_by_side<A: Send, B>(a: impl FnOnce() -> A + Send, b: impl FnOnce() -> B) -> (A, B) {
    let slot = std::sync::Mutex::new(Some(a));
    // Copy (it only borrows `slot`): the thread gets one, the fallback another.
    let run_a = || {
        let f = slot.lock().unwrap_or_else(|p| p.into_inner()).take();
        f.map(|f| f())
    };
    std::thread::scope(|s| {
        let handle = std::thread::Builder::new().spawn_scoped(s, run_a);
        let rb = b();
        let ra = match handle {
            // A panic aborts podctl (panic = "abort"); only tests unwind.
            Ok(h) => h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
            Err(_) => run_a(),
        };
        (ra.expect("`a` runs exactly once"), rb)
    })
}

/// The connection [`connect_early`] started, for the command's [`connect`].
static EARLY: std::sync::Mutex<Option<crate::systemd::ondemand::OnDemand>> =
    std::sync::Mutex::new(None);

/// Starts connecting to systemd before the command line is even parsed,
/// when `args` (without the program's name) name a command that always
/// talks to systemd: `apply` (not `--dry-run`), `down`, `rm`, `start`,
/// `stop` and `restart`. Parsing and
/// validating take tens of milliseconds under emulation, and so does a
/// connection; done side by side, a command waits for one of them only.
/// Nothing happens for other users than root or on a host without systemd:
/// the command says why itself.
pub fn connect_early(args: &[std::ffi::OsString]) {
    if !talks_to_systemd(args)
        || !nix::unistd::geteuid().is_root()
        || !std::path::Path::new(crate::runtime::SYSTEMD_SYSTEM_DIR).exists()
    {
        return;
    }
    let m = crate::systemd::ondemand::OnDemand::from_env();
    m.connect_ahead();
    if let Ok(mut early) = EARLY.lock() {
        *early = Some(m);
    }
}

/// Whether `args` name `apply` (not a dry run), `down`, `rm`, `start`,
/// `stop` or `restart`: a first word only, whatever the options after it.
fn talks_to_systemd(args: &[std::ffi::OsString]) -> bool {
    match args.first().and_then(|a| a.to_str()) {
        Some("down" | "rm" | "start" | "stop" | "restart") => true,
        Some("apply") => !args.iter().any(|a| a == "--dry-run"),
        _ => false,
    }
}

/// Logs to journald when running under systemd, to stderr otherwise.
pub fn init_logging() {
    crate::runtime::logging::init();
}

#[cfg(test)]
mod tests {
    use super::talks_to_systemd;
    use std::ffi::OsString;

    fn args(words: &[&str]) -> Vec<OsString> {
        words.iter().map(OsString::from).collect()
    }

    /// Only commands that always talk to systemd connect before parsing.
    #[test]
    fn early_connections_for_commands_that_change_pods_only() {
        assert!(talks_to_systemd(&args(&["down", "web"])));
        for cmd in ["rm", "start", "stop", "restart"] {
            assert!(talks_to_systemd(&args(&[cmd, "web"])), "{cmd}");
        }
        assert!(talks_to_systemd(&args(&["apply", "web.toml"])));
        assert!(talks_to_systemd(&args(&["apply", "--prune", "dir"])));
        assert!(!talks_to_systemd(&args(&[
            "apply",
            "--dry-run",
            "web.toml"
        ])));
        assert!(!talks_to_systemd(&args(&[
            "apply",
            "web.toml",
            "--dry-run"
        ])));
        assert!(!talks_to_systemd(&args(&["validate", "web.toml"])));
        assert!(!talks_to_systemd(&args(&["--help"])));
        assert!(!talks_to_systemd(&args(&[])));
    }

    /// Both run, `a` on another thread, at the same time.
    #[test]
    fn side_by_side_runs_both_at_once() {
        use std::sync::mpsc::channel;
        use std::time::Duration;
        let (to_b, from_a) = channel();
        let here = std::thread::current().id();
        // `b` hears from `a` while `b` runs: one after the other, it would not.
        let (a, heard) = super::side_by_side(
            move || {
                to_b.send(()).unwrap();
                std::thread::current().id()
            },
            || from_a.recv_timeout(Duration::from_secs(5)).is_ok(),
        );
        assert!(heard, "a did not run while b did");
        assert_ne!(a, here, "a ran on the caller's thread");
    }
}
