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

/// The commands that serve root's pods only, and why a user's (rootless)
/// cannot have them; every other command serves the pods of whoever runs it.
const ROOT_ONLY: &[(&str, &str)] = &[
    (
        "network create",
        "a user's pods on a network are networked by pasta, not by podctl's bridge networks",
    ),
    (
        "network rm",
        "a user's pods are networked by pasta, not by podctl's bridge networks",
    ),
    (
        "secret",
        "systemd 252 keeps encrypted credentials for system services only",
    ),
];

/// Fails for a command that serves root's pods only when run by a user.
pub fn check_owner(command: &str) -> anyhow::Result<()> {
    if nix::unistd::geteuid().is_root() {
        return Ok(());
    }
    if let Some((_, why)) = ROOT_ONLY.iter().find(|(c, _)| *c == command) {
        anyhow::bail!(
            "podctl {command} serves root's pods only ({why}); for root's pods: sudo podctl {command} ..."
        );
    }
    // What changes or enters a user's pods needs their manager (and the
    // runtime directory logind gives with it): said first, nothing touched.
    if NEEDS_MANAGER.contains(&command)
        && let Ok(crate::owner::Owner::User(u)) = crate::owner::Owner::current()
        && !u.manager_socket().exists()
    {
        return Err(crate::systemd::Error::NoUserManager {
            socket: u.manager_socket(),
            user: u.name,
        }
        .into());
    }
    Ok(())
}

/// The commands that change or enter pods: a user's need their manager.
const NEEDS_MANAGER: &[&str] = &[
    "apply",
    "down",
    "rm",
    "start",
    "stop",
    "restart",
    "exec",
    "rollback",
    "auto-update",
];

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
/// other commands and on a host without
/// systemd: there the command says why itself.
#[derive(Default)]
pub struct Early(Option<OnDemand>);

impl Early {
    /// Starts connecting on another thread (to the system manager for root,
    /// the user's own for a user), on a systemd host.
    pub fn start() -> Self {
        if !std::path::Path::new(crate::layout::SYSTEMD_SYSTEM_DIR).exists() {
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
