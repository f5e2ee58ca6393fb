//! [`OnDemand`]: a [`Manager`] that connects to systemd at its first call
//! and lets go at [`Manager::idle`] (or when dropped). A supervisor says
//! `idle()` before it blocks waiting for its pod, so a running pod costs no
//! connection: how many connections podctl holds depends on how many
//! commands and starts are under way, not on how many pods run.
//!
//! A connection costs tens of milliseconds under emulation (systemd sets a
//! bus up per connection): [`OnDemand::connect_ahead`] starts it on a thread
//! of its own while the caller does other work (parsing, validating).

use super::connect::{self, Endpoint};
use super::dbus::Client;
use super::{Error, Manager, Transient, UnitStatus};
use crate::plan::Property;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread::JoinHandle;

/// Shared by threads: each call runs on a clone of the connection, so calls
/// from two threads go to systemd side by side.
pub struct OnDemand {
    private: PathBuf,
    conn: Mutex<Option<Client>>,
    /// A connection being made ahead of the first call.
    ahead: Mutex<Option<JoinHandle<Result<Client, Error>>>>,
    /// How many times it connected (for logs and tests).
    connects: AtomicU32,
}

impl OnDemand {
    /// Talks to systemd at `private` (its private socket), or over the
    /// system bus where that is absent. Connects at the first call.
    pub fn new(private: PathBuf) -> Self {
        OnDemand {
            private,
            conn: Mutex::new(None),
            ahead: Mutex::new(None),
            connects: AtomicU32::new(0),
        }
    }

    /// [`OnDemand::new`] with [`connect::private_socket`].
    pub fn from_env() -> Self {
        Self::new(connect::private_socket())
    }

    /// Where the next connection goes.
    pub fn endpoint(&self) -> Endpoint {
        Endpoint::choose(&self.private)
    }

    /// Starts connecting on another thread, unless connected or connecting
    /// already: the next call takes that connection (or its error). Where no
    /// thread can be made, the next call connects itself.
    pub fn connect_ahead(&self) {
        // One lock at a time here; `client` takes `conn` then `ahead`.
        if lock(&self.conn).is_some() {
            return;
        }
        let mut ahead = lock(&self.ahead);
        if ahead.is_some() {
            return;
        }
        let private = self.private.clone();
        let spawned = std::thread::Builder::new()
            .name("podctl-connect".into())
            .spawn(move || connect::connect(&private));
        *ahead = spawned.ok();
    }

    pub fn is_connected(&self) -> bool {
        lock(&self.conn).is_some()
    }

    pub fn connects(&self) -> u32 {
        self.connects.load(Ordering::Relaxed)
    }

    /// The connection, made now (or taken from [`OnDemand::connect_ahead`])
    /// if there is none. The lock is held while connecting: a second thread
    /// waits for that connection instead of making its own.
    fn client(&self) -> Result<Client, Error> {
        let mut slot = lock(&self.conn);
        if let Some(c) = &*slot {
            return Ok(c.clone());
        }
        let ahead = lock(&self.ahead).take().and_then(|h| h.join().ok());
        let c = match ahead {
            Some(made) => made?,
            None => connect::connect(&self.private)?,
        };
        self.connects.fetch_add(1, Ordering::Relaxed);
        *slot = Some(c.clone());
        Ok(c)
    }

    /// Runs `f` on the connection, connecting first if there is none; a
    /// connection that broke (systemd re-executed, say) is dropped so the
    /// next call connects again.
    fn with<T>(&self, f: impl FnOnce(&Client) -> Result<T, Error>) -> Result<T, Error> {
        let client = self.client()?;
        let r = f(&client);
        if matches!(&r, Err(e) if e.is_broken_connection()) {
            lock(&self.conn).take();
        }
        r
    }
}

/// A poisoned lock (a thread panicked mid-call; podctl aborts on panic, so
/// only in tests) still guards a usable Option.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Manager for OnDemand {
    fn start_transient(&self, units: &[Transient<'_>]) -> Result<(), Error> {
        self.with(|c| c.start_transient(units))
    }
    fn start_unit(&self, name: &str) -> Result<(), Error> {
        self.with(|c| c.start_unit(name))
    }
    fn reload_unit(&self, name: &str) -> Result<(), Error> {
        self.with(|c| c.reload_unit(name))
    }
    fn restart_unit(&self, name: &str) -> Result<(), Error> {
        self.with(|c| c.restart_unit(name))
    }
    fn stop_unit(&self, name: &str) -> Result<(), Error> {
        self.with(|c| c.stop_unit(name))
    }
    fn kill_unit(&self, name: &str, signal: i32) -> Result<(), Error> {
        self.with(|c| c.kill_unit(name, signal))
    }
    fn reset_failed(&self, name: &str) -> Result<(), Error> {
        self.with(|c| c.reset_failed(name))
    }
    fn status(&self, name: &str) -> Result<Option<UnitStatus>, Error> {
        self.with(|c| c.status(name))
    }
    fn list_units(&self, patterns: &[&str]) -> Result<Vec<UnitStatus>, Error> {
        self.with(|c| c.list_units(patterns))
    }
    fn attach(&self, name: &str, pids: &[u32]) -> Result<(), Error> {
        self.with(|c| c.attach(name, pids))
    }
    fn attach_sub(&self, name: &str, subcgroup: &str, pids: &[u32]) -> Result<(), Error> {
        self.with(|c| c.attach_sub(name, subcgroup, pids))
    }
    fn set_properties(&self, name: &str, props: &[Property]) -> Result<(), Error> {
        self.with(|c| c.set_properties(name, props))
    }
    fn reload(&self) -> Result<(), Error> {
        self.with(|c| c.reload())
    }
    fn unit_file_state(&self, name: &str) -> Result<Option<String>, Error> {
        self.with(|c| c.unit_file_state(name))
    }
    fn set_enabled(&self, name: &str, enabled: bool) -> Result<(), Error> {
        self.with(|c| c.set_enabled(name, enabled))
    }
    fn idle(&self) {
        drop(lock(&self.conn).take());
        // A connection made ahead and never used goes too (its thread is
        // waited for: it ends within the connect's own patience).
        let ahead = lock(&self.ahead).take();
        if let Some(h) = ahead {
            drop(h.join());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connects_only_when_called_and_says_where() {
        let dir = std::env::temp_dir().join(format!("podctl-ondemand-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("private");
        // Not a socket: every call fails, naming the endpoint.
        std::fs::write(&path, "").unwrap();
        let m = OnDemand::new(path.clone());
        assert_eq!(m.endpoint(), Endpoint::Private(path.clone()));
        assert!(!m.is_connected(), "connected before any call");
        let err = m.status("pod@web.service").unwrap_err().to_string();
        assert!(err.contains(&path.display().to_string()), "{err}");
        assert!(!m.is_connected());
        assert_eq!(m.connects(), 0);
        m.idle();
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// `connect_ahead` connects before any call, on its own thread; the
    /// next call (or `idle`) takes what it made.
    #[test]
    fn connects_ahead_of_the_first_call() {
        use std::io::{BufRead, BufReader, Write};
        use std::time::{Duration, Instant};
        let dir = std::env::temp_dir().join(format!("podctl-ahead-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("private");
        let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
        listener.set_nonblocking(true).unwrap();
        let m = OnDemand::new(path.clone());
        m.connect_ahead();
        // No call made: systemd's side (this listener) sees the connection.
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut stream = loop {
            match listener.accept() {
                Ok((s, _)) => break s,
                Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
                Err(e) => panic!("no connection ahead of a call: {e}"),
            }
        };
        stream.set_nonblocking(false).unwrap();
        let mut auth = String::new();
        BufReader::new(&stream).read_line(&mut auth).unwrap();
        assert!(auth.contains("AUTH EXTERNAL"), "{auth:?}");
        stream
            .write_all(b"OK 0123456789abcdef0123456789abcdef\r\n")
            .unwrap();
        m.idle();
        assert!(!m.is_connected());
        assert_eq!(m.connects(), 0, "idle took the connection made ahead");

        // A connection ahead that fails: the first call reports its error.
        drop(listener);
        std::fs::remove_file(&path).unwrap();
        std::fs::write(&path, "").unwrap();
        m.connect_ahead();
        let err = m.status("pod@web.service").unwrap_err().to_string();
        assert!(err.contains(&path.display().to_string()), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
