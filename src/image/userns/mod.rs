//! A user's image store is written and removed from the user's namespace.
//!
//! A user's layers hold files owned by the user's subordinate IDs (as
//! Podman's rootless storage does: container ID N is host ID
//! `UserMap::host_uid(N)`), which the user cannot chown to, nor remove
//! once a directory belongs to one of them. So each unpack and each
//! removal runs in a helper, `podctl __store-userns` ([`ARG`]; this very
//! binary, exec'd: podctl is multi-threaded, a fork could not unshare),
//! that makes a user namespace of its own; podctl maps it with the user's
//! mapping through the setuid `newuidmap` and `newgidmap` (package uidmap,
//! which check it against `/etc/subuid` and `/etc/subgid`), then sends the
//! request (and the layer's bytes) on a socket. The unpacker is the same
//! code as root's, with [`Owners::Mapped`]: the layer is hostile in the
//! helper as anywhere.
//!
//! Behind [`Userns`]: [`Helper`] is the real one, [`InProcess`] does the
//! same work in this process (tests, as root: the owners are then the
//! in-namespace IDs themselves).

pub mod child;
pub mod wire;

use crate::image::unpack::{self, Budget, Owners, Stats, UnpackError};
use crate::model::UserMap;
use std::ffi::OsString;
use std::io::{self, BufRead, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use wire::{Answer, Failure, Request};

/// The hidden first argument that makes podctl (and podctl-supervisor)
/// the helper.
pub const ARG: &str = "__store-userns";

/// Where a user's store is written and removed.
pub trait Userns: std::fmt::Debug + Send + Sync {
    /// Unpacks the layer `input` into `dest` (empty) within `budget`.
    fn unpack(
        &self,
        input: &mut dyn Read,
        dest: &Path,
        budget: &Budget,
    ) -> Result<Stats, UsernsError>;
    /// Removes each of `paths` and everything under it (a missing one is
    /// not an error).
    fn remove(&self, paths: &[PathBuf]) -> Result<(), UsernsError>;
}

#[derive(Debug, thiserror::Error)]
pub enum UsernsError {
    #[error(transparent)]
    Unpack(UnpackError),
    #[error("cannot remove {}: {source}", path.display())]
    Remove { path: PathBuf, source: io::Error },
    #[error(
        "cannot start {} {ARG}, which writes the user's image store in a user namespace: {source}",
        exe.display()
    )]
    Spawn { exe: PathBuf, source: io::Error },
    #[error("{0}")]
    Map(String),
    #[error("the user-namespace helper of the image store: {0}")]
    Helper(String),
}

/// If this process was started as the helper ([`ARG`]), runs it and
/// returns its exit code: the first thing each binary's `main` calls.
pub fn child_if_asked() -> Option<ExitCode> {
    (std::env::args_os().nth(1).as_deref() == Some(ARG.as_ref())).then(child::main)
}

/// The real helper: `exe ARG` (`exe` is [`crate::layout::Layout::podctl`],
/// `/proc/self/exe`), mapped with `map`.
#[derive(Debug, Clone)]
pub struct Helper {
    pub exe: PathBuf,
    pub args: Vec<OsString>,
    pub map: UserMap,
}

impl Helper {
    pub fn new(exe: PathBuf, map: UserMap) -> Helper {
        Helper {
            exe,
            args: vec![ARG.into()],
            map,
        }
    }

    /// Starts the helper, maps its namespace, sends `req` and `data`, and
    /// reads its answer.
    fn run(&self, req: &Request, data: Option<&mut dyn Read>) -> Result<Answer, UsernsError> {
        let (mut ours, theirs) = UnixStream::pair().map_err(|e| self.spawn_err(e))?;
        let mut child = Command::new(&self.exe)
            .args(&self.args)
            .stdin(Stdio::from(std::os::fd::OwnedFd::from(theirs)))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| self.spawn_err(e))?;
        let mut out = child.stdout.take().expect("piped stdout");
        let result = (|| {
            let mut b = [0u8];
            match out.read(&mut b) {
                Ok(1) if b[0] == child::UNSHARED => {}
                _ => {
                    return Err(UsernsError::Helper(
                        "it could not make a user namespace (see its message above)".into(),
                    ));
                }
            }
            new_maps(child.id(), &self.map)?;
            let mut line = serde_json::to_vec(req)
                .map_err(|e| UsernsError::Helper(format!("request: {e}")))?;
            line.push(b'\n');
            let mut sock = NoSigpipe(&mut ours);
            // A helper that stopped reading (done, or refused the layer)
            // has its answer on stdout: a refused write is not the error.
            if sock.write_all(&line).is_ok()
                && let Some(data) = data
            {
                let _ = io::copy(data, &mut sock);
            }
            let _ = ours.shutdown(std::net::Shutdown::Write);
            let mut answer = Vec::new();
            out.take(wire::MAX_REQUEST)
                .read_to_end(&mut answer)
                .map_err(|e| UsernsError::Helper(format!("reading its answer: {e}")))?;
            serde_json::from_slice(&answer).map_err(|_| {
                UsernsError::Helper(format!(
                    "no answer ({})",
                    String::from_utf8_lossy(&answer).trim()
                ))
            })
        })();
        if result.is_err() {
            let _ = child.kill();
        }
        let status = child.wait();
        match (result, status) {
            (Ok(a), Ok(s)) if s.success() => Ok(a),
            (Ok(_), s) => Err(UsernsError::Helper(format!("it failed: {s:?}"))),
            (Err(e), _) => Err(e),
        }
    }

    fn spawn_err(&self, source: io::Error) -> UsernsError {
        UsernsError::Spawn {
            exe: self.exe.clone(),
            source,
        }
    }
}

/// What an answer says of a request.
fn failed(f: Failure) -> UsernsError {
    if let Some(e) = f.unpack_error() {
        return UsernsError::Unpack(e);
    }
    match f {
        Failure::Remove { path, error } => UsernsError::Remove {
            path,
            source: error.error(),
        },
        Failure::Helper(why) => UsernsError::Helper(why),
        other => UsernsError::Helper(format!("{other:?}")),
    }
}

impl Userns for Helper {
    fn unpack(
        &self,
        input: &mut dyn Read,
        dest: &Path,
        budget: &Budget,
    ) -> Result<Stats, UsernsError> {
        let req = Request::Unpack {
            dest: dest.to_path_buf(),
            budget: *budget,
            count: self.map.count,
        };
        match self.run(&req, Some(input))? {
            Answer::Unpacked(stats) => Ok(stats),
            Answer::Failed(f) => Err(failed(f)),
            Answer::Removed => Err(UsernsError::Helper("answered another request".into())),
        }
    }

    fn remove(&self, paths: &[PathBuf]) -> Result<(), UsernsError> {
        if paths.is_empty() {
            return Ok(());
        }
        let req = Request::Remove {
            paths: paths.to_vec(),
        };
        match self.run(&req, None)? {
            Answer::Removed => Ok(()),
            Answer::Failed(f) => Err(failed(f)),
            Answer::Unpacked(_) => Err(UsernsError::Helper("answered another request".into())),
        }
    }
}

/// Writes to the helper's socket without SIGPIPE (podctl's CLI restores
/// its default action: a helper gone early must not kill podctl).
struct NoSigpipe<'a>(&'a mut UnixStream);

impl Write for NoSigpipe<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        use nix::sys::socket::{MsgFlags, send};
        use std::os::fd::AsRawFd;
        Ok(send(self.0.as_raw_fd(), buf, MsgFlags::MSG_NOSIGNAL)?)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Maps `pid`'s user namespace with the user's mapping ([`crate::ids::new_maps`]).
pub fn new_maps(pid: u32, map: &UserMap) -> Result<(), UsernsError> {
    crate::ids::new_maps(pid, map).map_err(UsernsError::Map)
}

/// The helper's work done in this process, with IDs `0..=count` as they
/// are (tests as root; nothing is mapped). Counts its calls.
#[derive(Debug, Default)]
pub struct InProcess {
    pub count: u32,
    pub calls: std::sync::Mutex<Vec<String>>,
}

impl InProcess {
    pub fn new(count: u32) -> InProcess {
        InProcess {
            count,
            calls: Default::default(),
        }
    }

    pub fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }
}

impl Userns for InProcess {
    fn unpack(
        &self,
        input: &mut dyn Read,
        dest: &Path,
        budget: &Budget,
    ) -> Result<Stats, UsernsError> {
        self.calls
            .lock()
            .unwrap()
            .push(format!("unpack {}", dest.display()));
        let input: &mut dyn BufRead = &mut io::BufReader::new(input);
        let owners = Owners::Mapped { count: self.count };
        unpack::unpack_as(input, dest, budget, owners).map_err(UsernsError::Unpack)
    }

    fn remove(&self, paths: &[PathBuf]) -> Result<(), UsernsError> {
        for p in paths {
            self.calls
                .lock()
                .unwrap()
                .push(format!("remove {}", p.display()));
        }
        child::remove(paths).map_err(|(path, source)| UsernsError::Remove { path, source })
    }
}

#[cfg(test)]
mod tests;
