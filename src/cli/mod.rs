//! Command implementations: each returns what happened or an error that
//! names the pod, unit or path and the cause; `main` prints it once.

pub mod apply;
pub mod args;
pub mod complete;
pub mod diff_json;
pub mod down;
pub mod events;
pub mod exec;
pub mod generate;
pub mod image;
pub mod inspect;
pub mod install;
pub mod kube;
pub mod network;
pub mod pty;
pub mod show;
pub mod top;
pub mod up;
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
    Ok(crate::systemd::ondemand::OnDemand::from_env())
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
