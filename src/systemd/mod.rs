//! The privileged boundary to systemd: a [`Manager`] trait with a D-Bus
//! implementation ([`dbus::Client`]), a manager that connects only while
//! there is work ([`ondemand::OnDemand`], what podctl uses) and a recording
//! fake for tests ([`fake::Recorder`]).
//!
//! Connections: systemd's private socket (`/run/systemd/private`, peer to
//! peer, what `systemctl` uses as root), the system bus where that socket is
//! absent ([`connect`]). No podctl process holds one while it only waits:
//! dbus-daemon allows 256 connections per user, and a pod manager that held
//! one per pod would lock every other root client out of the bus.

pub mod absent;
pub mod connect;
pub mod dbus;
pub mod fake;
pub mod ondemand;
pub mod private;
mod timer;

use crate::plan::{Property, UnitPlan};

/// What can go wrong talking to systemd; every variant names the unit.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `endpoint` names where (systemd's private socket, the system bus),
    /// `why` the limit that refused it, when one did.
    #[error("cannot connect to systemd over {endpoint}{why}")]
    Connect {
        endpoint: String,
        why: String,
        #[source]
        source: zbus::Error,
    },
    /// A user's pods, and that user's manager is not running.
    #[error("cannot connect to your systemd user manager: {} does not exist; rootless pods run under it (`systemctl --user`): log in, or let it run without a login session: loginctl enable-linger {user}", socket.display())]
    NoUserManager {
        socket: std::path::PathBuf,
        user: String,
    },
    #[error("{method} {unit}")]
    Call {
        method: &'static str,
        unit: String,
        #[source]
        source: zbus::Error,
    },
    #[error(
        "{unit}: job {kind} ended with result '{result}' (see: {})",
        journal_command(unit)
    )]
    Job {
        unit: String,
        kind: JobKind,
        result: String,
    },
    #[error("{unit}: unexpected reply: {detail}")]
    Reply { unit: String, detail: String },
    #[error("{unit}: {what} got no answer from systemd within {after:?}")]
    Timeout {
        unit: String,
        what: String,
        after: std::time::Duration,
    },
}

/// The journal command that shows `unit`'s log: the user's journal for a
/// user's units.
pub fn journal_command(unit: &str) -> String {
    if nix::unistd::geteuid().is_root() {
        format!("journalctl -u {unit}")
    } else {
        format!("journalctl --user -u {unit}")
    }
}

impl Error {
    /// The connection itself failed (systemd re-executed, the socket
    /// closed): a new connection may succeed where this one cannot.
    pub fn is_broken_connection(&self) -> bool {
        match self {
            Error::Call { source, .. } => matches!(source, zbus::Error::InputOutput(_)),
            Error::Reply { detail, .. } => detail.contains("connection closed"),
            // systemd did not answer in time: start afresh next time.
            Error::Timeout { .. } => true,
            _ => false,
        }
    }
}

/// A transient unit to create: its planned properties plus, for scopes, the
/// PIDs to move into it.
#[derive(Debug, Clone, Copy)]
pub struct Transient<'a> {
    pub unit: &'a UnitPlan,
    pub pids: &'a [u32],
}

/// A unit's ActiveState, as systemd reports it; `Other` keeps a value this
/// podctl does not know (or "" when systemd sent none) as it came.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ActiveState {
    Active,
    Reloading,
    #[default]
    Inactive,
    Failed,
    Activating,
    Deactivating,
    Maintenance,
    Refreshing,
    Other(String),
}

impl ActiveState {
    pub fn as_str(&self) -> &str {
        match self {
            ActiveState::Active => "active",
            ActiveState::Reloading => "reloading",
            ActiveState::Inactive => "inactive",
            ActiveState::Failed => "failed",
            ActiveState::Activating => "activating",
            ActiveState::Deactivating => "deactivating",
            ActiveState::Maintenance => "maintenance",
            ActiveState::Refreshing => "refreshing",
            ActiveState::Other(s) => s,
        }
    }

    /// Running, as far as a pod's service goes (a reload keeps it running).
    pub fn is_running(&self) -> bool {
        matches!(self, ActiveState::Active | ActiveState::Reloading)
    }
}

impl From<&str> for ActiveState {
    fn from(s: &str) -> Self {
        match s {
            "active" => ActiveState::Active,
            "reloading" => ActiveState::Reloading,
            "inactive" => ActiveState::Inactive,
            "failed" => ActiveState::Failed,
            "activating" => ActiveState::Activating,
            "deactivating" => ActiveState::Deactivating,
            "maintenance" => ActiveState::Maintenance,
            "refreshing" => ActiveState::Refreshing,
            other => ActiveState::Other(other.to_string()),
        }
    }
}

impl From<String> for ActiveState {
    fn from(s: String) -> Self {
        ActiveState::from(s.as_str())
    }
}

impl std::fmt::Display for ActiveState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

impl serde::Serialize for ActiveState {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// The kind of a systemd job podctl waits for (errors name it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    Start,
    Stop,
    Reload,
    Restart,
}

impl std::fmt::Display for JobKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            JobKind::Start => "start",
            JobKind::Stop => "stop",
            JobKind::Reload => "reload",
            JobKind::Restart => "restart",
        })
    }
}

/// A unit's state, as `systemctl show` would print it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct UnitStatus {
    pub name: String,
    pub active_state: ActiveState,
    pub sub_state: String,
    /// Main PID for services; 0 otherwise.
    pub main_pid: u32,
    /// Bytes, if memory accounting is on.
    pub memory_current: Option<u64>,
    /// Microseconds since the epoch when the unit last became active; 0 if never.
    pub active_enter_usec: u64,
    /// cgroup path, relative to the cgroup root.
    pub control_group: String,
}

/// The systemd manager calls podctl uses. Methods that start or stop units
/// wait for their jobs and fail with [`Error::Job`] unless the result is `done`.
pub trait Manager {
    /// Creates every unit (StartTransientUnit, mode `fail`), in order, then
    /// waits for all of their start jobs. A failed unit of the same name (a
    /// crashed run's) is reset first, so its name can be taken.
    fn start_transient(&self, units: &[Transient<'_>]) -> Result<(), Error>;
    /// Starts a unit afresh: its failed state and start-rate counter
    /// cleared (ResetFailedUnit; absent units are fine), then StartUnit (mode
    /// `replace`), both sent at once; waits for the job.
    fn start_unit(&self, name: &str) -> Result<(), Error>;
    /// Reloads a unit (ExecReload=) and waits for the job.
    fn reload_unit(&self, name: &str) -> Result<(), Error>;
    /// Restarts a unit and waits for the job.
    fn restart_unit(&self, name: &str) -> Result<(), Error>;
    /// Stops a unit and waits; a unit that does not exist is already stopped.
    fn stop_unit(&self, name: &str) -> Result<(), Error>;
    /// Sends a signal to every process of a unit (KillUnit, who=all); no job.
    fn kill_unit(&self, name: &str, signal: i32) -> Result<(), Error>;
    /// Clears a failed state so the name can be used again; absent units are fine.
    fn reset_failed(&self, name: &str) -> Result<(), Error>;
    /// The unit's state, or None if systemd has no such unit loaded.
    fn status(&self, name: &str) -> Result<Option<UnitStatus>, Error>;
    /// Loaded units matching any of the glob patterns, with name, active and
    /// sub state filled in (one call, however many units).
    fn list_units(&self, patterns: &[&str]) -> Result<Vec<UnitStatus>, Error>;
    /// Moves processes into a running unit's cgroup (AttachProcessesToUnit).
    fn attach(&self, name: &str, pids: &[u32]) -> Result<(), Error>;
    /// Moves processes into a sub-cgroup (e.g. `/relay`) of a running,
    /// delegated unit: a scope whose own cgroup has controllers enabled for
    /// its children cannot take processes itself.
    fn attach_sub(&self, name: &str, subcgroup: &str, pids: &[u32]) -> Result<(), Error>;
    /// Changes properties of a running unit at runtime (not persisted).
    fn set_properties(&self, name: &str, props: &[Property]) -> Result<(), Error>;
    /// Reloads unit files (`systemctl daemon-reload`).
    fn reload(&self) -> Result<(), Error>;
    /// The unit file's state (GetUnitFileState: "enabled", "disabled",
    /// "static"...), or None if systemd knows no such unit file.
    fn unit_file_state(&self, name: &str) -> Result<Option<String>, Error>;
    /// Enables (or disables) a unit file for boot, like `systemctl enable`.
    fn set_enabled(&self, name: &str, enabled: bool) -> Result<(), Error>;
    /// Nothing to do for a while: let go of the connection, if any (the next
    /// call connects again). Callers say so before they block waiting.
    fn idle(&self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every state systemd reports comes back as it went in (status and ps
    /// print it), and only active and reloading count as a running pod.
    #[test]
    fn active_states_round_trip() {
        for s in [
            "active",
            "reloading",
            "inactive",
            "failed",
            "activating",
            "deactivating",
            "maintenance",
            "refreshing",
            "something-new",
            "",
        ] {
            let state = ActiveState::from(s);
            assert_eq!(state.as_str(), s);
            assert_eq!(format!("{state:<14}|"), format!("{s:<14}|"));
            assert_eq!(serde_json::to_string(&state).unwrap(), format!("{s:?}"));
            assert_eq!(state.is_running(), s == "active" || s == "reloading", "{s}");
        }
        assert_eq!(ActiveState::from("failed"), ActiveState::Failed);
        assert_eq!(JobKind::Stop.to_string(), "stop");
    }
}
