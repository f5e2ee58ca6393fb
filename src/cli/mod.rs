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
pub mod history;
pub mod image;
pub mod inspect;
pub mod install;
pub mod kube;
pub mod logs;
pub mod network;
pub mod output;

pub mod pty;
mod pulls;
pub mod read;
mod run;
pub mod secret;
pub mod show;
pub mod top;
pub mod update;
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
            || !std::path::Path::new(crate::layout::SYSTEMD_SYSTEM_DIR).exists()
        {
            return Early(None);
        }
        let m = OnDemand::from_env();
        m.connect_ahead();
        Early(Some(m))
    }

    /// [`connect`], with the connection started ahead if there is one.
    pub fn connect(self) -> anyhow::Result<OnDemand> {
        if !std::path::Path::new(crate::layout::SYSTEMD_SYSTEM_DIR).exists() {
            anyhow::bail!(
                "systemd is not running as PID 1 on this host (no /run/systemd/system); podctl needs a systemd host (see README: Quick start)"
            );
        }
        Ok(self.0.unwrap_or_else(OnDemand::from_env))
    }
}

/// Logs to journald when running under systemd, to stderr otherwise.
pub fn init_logging() {
    crate::supervise::logging::init();
}
