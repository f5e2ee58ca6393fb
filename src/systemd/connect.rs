//! Opening a connection to systemd: its private socket first (peer-to-peer
//! D-Bus, root only, what `systemctl` uses: no dbus-daemon in between and no
//! share of dbus-daemon's per-user connection limit), the system bus where
//! that socket is absent. A refusal for a limit says which one and is retried
//! with backoff for a while, so a host at a wall is not hammered.

use super::Error;
use super::dbus::Client;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// systemd's private socket (`systemctl` connects there as root).
pub const PRIVATE_SOCKET: &str = "/run/systemd/private";
/// Overrides [`PRIVATE_SOCKET`]; a missing path makes podctl use the system bus.
pub const PRIVATE_SOCKET_ENV: &str = "PODCTL_SYSTEMD_SOCKET";
/// First wait after a connection refused for a limit; doubles up to [`RETRY_MAX`].
pub const RETRY_START: Duration = Duration::from_millis(250);
pub const RETRY_MAX: Duration = Duration::from_secs(8);
/// How long a refused connection is retried before the caller gets the error.
/// pod@.service gives a start 90 s; this leaves most of it for the start.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// Where podctl talks to systemd.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// systemd's private socket, peer to peer.
    Private(PathBuf),
    /// The system bus (dbus-daemon).
    SystemBus,
}

impl Endpoint {
    /// The private socket when it exists, the system bus otherwise.
    pub fn choose(private: &Path) -> Endpoint {
        if private.exists() {
            Endpoint::Private(private.to_path_buf())
        } else {
            Endpoint::SystemBus
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Endpoint::Private(p) => format!("its private socket {}", p.display()),
            Endpoint::SystemBus => "the system bus".into(),
        }
    }
}

/// The private socket's path: [`PRIVATE_SOCKET_ENV`], else the user
/// manager's for an ordinary user, else [`PRIVATE_SOCKET`].
pub fn private_socket() -> PathBuf {
    if let Some(path) = std::env::var_os(PRIVATE_SOCKET_ENV) {
        return path.into();
    }
    match crate::owner::Owner::current() {
        Ok(crate::owner::Owner::User(u)) => u.manager_socket(),
        _ => PRIVATE_SOCKET.into(),
    }
}

fn os_error(e: &zbus::Error) -> Option<i32> {
    match e {
        zbus::Error::InputOutput(io) => io.raw_os_error(),
        _ => None,
    }
}

fn error_name(e: &zbus::Error) -> Option<String> {
    match e {
        zbus::Error::MethodError(name, _, _) => Some(name.to_string()),
        zbus::Error::FDO(f) => match f.as_ref() {
            zbus::fdo::Error::LimitsExceeded(_) => {
                Some("org.freedesktop.DBus.Error.LimitsExceeded".into())
            }
            _ => None,
        },
        _ => None,
    }
}

/// The limit that refused a connection to `endpoint`, in words, or None
/// when the failure is not a limit (retrying would not help).
pub fn limit(endpoint: &Endpoint, e: &zbus::Error) -> Option<&'static str> {
    use nix::errno::Errno;
    if error_name(e).is_some_and(|n| n.ends_with("LimitsExceeded")) {
        return Some(
            "dbus-daemon's connection limit for the user is reached (max_connections_per_user, \
             256 by default; `busctl list` shows who holds them)",
        );
    }
    match os_error(e).map(Errno::from_raw) {
        Some(Errno::EMFILE) => {
            return Some("this process's open-file limit is reached (RLIMIT_NOFILE, LimitNOFILE=)");
        }
        Some(Errno::ENFILE) => {
            return Some("the system's open-file limit is reached (fs.file-max)");
        }
        Some(Errno::EAGAIN) => {
            return Some(
                "the socket's listen backlog is full (systemd is not accepting fast enough)",
            );
        }
        _ => {}
    }
    let closed = matches!(e, zbus::Error::Handshake(_))
        || matches!(
            os_error(e).map(Errno::from_raw),
            Some(Errno::ECONNRESET | Errno::EPIPE)
        )
        || matches!(e, zbus::Error::InputOutput(io) if io.kind() == std::io::ErrorKind::UnexpectedEof);
    match endpoint {
        Endpoint::Private(_) if closed => Some(
            "systemd closed the connection while it was being set up (systemd accepts at most \
             4096 connections on its private socket)",
        ),
        _ => None,
    }
}

async fn open(endpoint: &Endpoint) -> Result<Client, Error> {
    let conn = match endpoint {
        Endpoint::Private(path) => super::private::connect(path).await,
        Endpoint::SystemBus => zbus::Connection::system().await,
    };
    let conn = conn.map_err(|source| Error::Connect {
        endpoint: endpoint.describe(),
        why: String::new(),
        source,
    })?;
    Client::new(conn).await
}

/// Connects to systemd at `private` (or the system bus where it is absent),
/// retrying a refusal for a limit with backoff for up to [`PATIENCE`].
pub fn connect(private: &Path) -> Result<Client, Error> {
    // A user's manager has no bus to fall back to (the system bus is the
    // system manager's: not the user's units).
    if !nix::unistd::geteuid().is_root() && !private.exists() {
        return Err(Error::NoUserManager {
            socket: private.to_path_buf(),
            user: crate::owner::Owner::current()
                .ok()
                .and_then(|o| o.user().map(|u| u.name.clone()))
                .unwrap_or_else(|| "$USER".into()),
        });
    }
    let endpoint = Endpoint::choose(private);
    let start = Instant::now();
    let mut delay = RETRY_START;
    loop {
        let err = match zbus::block_on(open(&endpoint)) {
            Ok(client) => return Ok(client),
            Err(Error::Connect { source, .. }) => source,
            Err(other) => return Err(other),
        };
        let why = limit(&endpoint, &err);
        if let Some(why) = why
            && start.elapsed() + delay <= PATIENCE
        {
            tracing::warn!(
                "cannot connect to systemd over {}: {why}; retrying in {delay:?}",
                endpoint.describe()
            );
            std::thread::sleep(delay);
            delay = (delay * 2).min(RETRY_MAX);
            continue;
        }
        return Err(Error::Connect {
            endpoint: endpoint.describe(),
            why: match why {
                Some(w) => format!(": {w}; gave up after {:?}", start.elapsed()),
                None if endpoint == Endpoint::SystemBus => {
                    " (is systemd PID 1 and dbus running?)".into()
                }
                None => String::new(),
            },
            source: err,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn io(errno: nix::errno::Errno) -> zbus::Error {
        zbus::Error::InputOutput(Arc::new(std::io::Error::from_raw_os_error(errno as i32)))
    }

    #[test]
    fn the_private_socket_when_present_else_the_bus() {
        let dir = std::env::temp_dir().join(format!("podctl-connect-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let sock = dir.join("private");
        assert_eq!(Endpoint::choose(&sock), Endpoint::SystemBus);
        std::fs::write(&sock, "").unwrap();
        assert_eq!(Endpoint::choose(&sock), Endpoint::Private(sock.clone()));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn limits_are_named() {
        let private = Endpoint::Private(PRIVATE_SOCKET.into());
        let bus_full = zbus::Error::FDO(Box::new(zbus::fdo::Error::LimitsExceeded(
            "The maximum number of active connections for UID 0 has been reached".into(),
        )));
        let why = limit(&Endpoint::SystemBus, &bus_full).unwrap();
        assert!(why.contains("max_connections_per_user"), "{why}");
        let why = limit(&private, &io(nix::errno::Errno::EMFILE)).unwrap();
        assert!(why.contains("RLIMIT_NOFILE"), "{why}");
        let why = limit(&private, &zbus::Error::Handshake("EOF".into())).unwrap();
        assert!(why.contains("4096"), "{why}");
        // Not limits: retrying would not help.
        assert_eq!(limit(&private, &io(nix::errno::Errno::ENOENT)), None);
        assert_eq!(
            limit(&Endpoint::SystemBus, &io(nix::errno::Errno::EACCES)),
            None
        );
    }

    #[test]
    fn an_absent_endpoint_fails_at_once_naming_it() {
        // A path that is not a socket: connect fails, not a limit, no retry.
        let dir = std::env::temp_dir().join(format!("podctl-connect-x-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("private");
        std::fs::write(&path, "").unwrap();
        let start = Instant::now();
        let err = connect(&path).err().expect("not a socket");
        assert!(
            start.elapsed() < RETRY_START,
            "retried: {:?}",
            start.elapsed()
        );
        let text = err.to_string();
        assert!(text.contains(&path.display().to_string()), "{text}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
