//! Command implementations: each returns what happened or an error that
//! names the pod, unit or path and the cause; [`run`] enters the one the
//! command line names and prints its error once.

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
pub mod preflight;
pub mod pty;
mod run;
pub mod show;
pub mod top;
pub mod up;
pub mod validate;
pub mod volume;

use crate::systemd::ondemand::OnDemand;
use std::process::ExitCode;

pub use run::run;

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
pub fn connect() -> anyhow::Result<OnDemand> {
    Early::default().connect()
}

/// A connection to systemd that [`run`] starts right after parsing, for a
/// command that always talks to systemd (`apply` but a dry run, `down`,
/// `rm`, `start`, `stop`, `restart`). Reading and validating pod files take
/// tens of milliseconds under emulation, and so does a connection; done
/// side by side, the command waits for one of them only. Empty for the
/// other commands, for other users than root and on a host without
/// systemd: there the command says why itself.
#[derive(Default)]
pub struct Early(Option<OnDemand>);

impl Early {
    /// Starts connecting on another thread, where podctl runs as root on a
    /// systemd host.
    pub fn start() -> Self {
        if !nix::unistd::geteuid().is_root()
            || !std::path::Path::new(crate::runtime::SYSTEMD_SYSTEM_DIR).exists()
        {
            return Early(None);
        }
        let m = OnDemand::from_env();
        m.connect_ahead();
        Early(Some(m))
    }

    /// [`connect`], with the connection started ahead if there is one.
    pub fn connect(self) -> anyhow::Result<OnDemand> {
        if !std::path::Path::new(crate::runtime::SYSTEMD_SYSTEM_DIR).exists() {
            anyhow::bail!(
                "systemd is not running as PID 1 on this host (no /run/systemd/system); podctl needs a systemd host (see README: Quick start)"
            );
        }
        Ok(self.0.unwrap_or_else(OnDemand::from_env))
    }
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

/// Logs to journald when running under systemd, to stderr otherwise.
pub fn init_logging() {
    use tracing::Level;
    use tracing_subscriber::filter::Targets;
    use tracing_subscriber::prelude::*;
    // podctl at info; its libraries (zbus) only when something is wrong.
    let filter = Targets::new()
        .with_default(Level::WARN)
        .with_target("podctl", Level::INFO);
    let under_systemd =
        std::env::var_os("JOURNAL_STREAM").is_some() || std::env::var_os("INVOCATION_ID").is_some();
    if under_systemd && let Ok(layer) = tracing_journald::layer() {
        // One identifier for the command and the supervisor (podctl-runtime).
        let layer = layer.with_syslog_identifier("podctl".into());
        let _ = tracing_subscriber::registry()
            .with(layer.with_filter(filter))
            .try_init();
        return;
    }
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time();
    let _ = tracing_subscriber::registry()
        .with(layer.with_filter(filter))
        .try_init();
}

#[cfg(test)]
mod tests {
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
