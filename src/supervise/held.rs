//! One held child and its release protocol, the same for every helper podctl
//! starts (the holder `podctl-pause hold`, the container helper `podctl
//! __spawn`, the exec and probe helper `podctl __enter`).
//!
//! A helper is started with a pipe whose read end it inherits; the
//! descriptor's number is in its environment ([`GO_FD_ENV`]). It reads that
//! pipe to EOF before doing anything: the release message is [`GO`] followed
//! by a body (empty, or JSON: a container helper's [`super::launch::Go`],
//! `podctl exec`'s [`super::enter::ExecSpec`]); EOF with
//! nothing read means podctl went away and the helper exits. podctl sends it
//! once the helper is in its unit's cgroup. Until then, dropping the
//! [`HeldChild`] kills and reaps the process, so no error path leaves a
//! helper or a zombie behind. (`podctl-pause` reads the same message in
//! `src/bin/podctl-pause/go.rs`.)

use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd};
use std::process::{Child, ChildStdout, Command};
use std::time::{Duration, Instant};

/// The environment variable naming the release pipe's descriptor.
pub const GO_FD_ENV: &str = "PODCTL_GO_FD";
/// The first byte of every release message.
pub const GO: u8 = b'g';

/// Why a helper's report could not be read.
#[derive(Debug)]
pub enum ReportError {
    Io(std::io::Error),
    /// Nothing conclusive within the time given.
    Timeout,
    /// The interrupt descriptor became readable (a stop request).
    Interrupted,
}

/// A started helper, held until [`HeldChild::go`]; killed and reaped when
/// dropped unless taken with [`HeldChild::into_child`]. (It is the real
/// `process::Held`.)
#[derive(Debug)]
pub struct HeldChild {
    child: Option<Child>,
    go: Option<std::fs::File>,
    report: Option<ChildStdout>,
}

impl HeldChild {
    /// Starts `cmd` with the read end of a fresh release pipe.
    pub fn spawn(mut cmd: Command) -> std::io::Result<Self> {
        let (go_read, go_write) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
        // The read end must survive exec in the helper (only there: ours is
        // closed when this returns, and the write end stays close-on-exec).
        nix::fcntl::fcntl(
            &go_read,
            nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::empty()),
        )?;
        cmd.env(GO_FD_ENV, go_read.as_raw_fd().to_string());
        let mut child = cmd.spawn()?;
        drop(go_read);
        let report = child.stdout.take();
        Ok(HeldChild {
            child: Some(child),
            go: Some(std::fs::File::from(go_write)),
            report,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// Lets it go: sends [`GO`] and `body`, and closes the release pipe.
    pub fn go(&mut self, body: &[u8]) -> std::io::Result<()> {
        let mut go = self.go.take().expect("a held child is released once");
        let mut message = Vec::with_capacity(1 + body.len());
        message.push(GO);
        message.extend_from_slice(body);
        go.write_all(&message)
    }

    /// Its report pipe read to EOF: gives up after `timeout` (None: never)
    /// or as soon as `interrupt` is readable.
    pub fn report(
        &mut self,
        interrupt: Option<BorrowedFd<'_>>,
        timeout: Option<Duration>,
    ) -> Result<String, ReportError> {
        let mut pipe = self.report.take().expect("a helper with a report pipe");
        read_report(&mut pipe, interrupt, timeout)
    }

    /// Released: the child, the caller's to wait for from now on.
    pub fn into_child(mut self) -> Child {
        self.child.take().expect("a held child is taken once")
    }
}

impl Drop for HeldChild {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Reads `pipe` to EOF, polling it together with `interrupt`.
fn read_report(
    pipe: &mut ChildStdout,
    interrupt: Option<BorrowedFd<'_>>,
    timeout: Option<Duration>,
) -> Result<String, ReportError> {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    let deadline = timeout.map(|t| Instant::now() + t);
    let mut out = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        let ms = match deadline {
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(ReportError::Timeout);
                }
                PollTimeout::try_from(left.as_millis().min(60_000) as i32 + 1)
                    .unwrap_or(PollTimeout::NONE)
            }
            None => PollTimeout::NONE,
        };
        let mut fds = vec![PollFd::new(pipe.as_fd(), PollFlags::POLLIN)];
        if let Some(i) = interrupt {
            fds.push(PollFd::new(i, PollFlags::POLLIN));
        }
        match poll(&mut fds, ms) {
            Ok(_) | Err(nix::Error::EINTR) => {}
            Err(e) => return Err(ReportError::Io(e.into())),
        }
        let ready = |f: &PollFd| f.revents().is_some_and(|r| !r.is_empty());
        if ready(&fds[0]) {
            let n = pipe.read(&mut buf).map_err(ReportError::Io)?;
            if n == 0 {
                return Ok(String::from_utf8_lossy(&out).into_owned());
            }
            out.extend_from_slice(&buf[..n]);
        } else if fds.get(1).is_some_and(ready) {
            return Err(ReportError::Interrupted);
        }
    }
}

/// Why a helper was not released.
#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    #[error("reading the release pipe (fd {fd})")]
    Read {
        fd: i32,
        #[source]
        source: std::io::Error,
    },
    #[error("podctl went away before releasing this helper")]
    Abandoned,
    #[error("not a release message (it starts with {0:?})")]
    Garbled(u8),
}

/// The helper side: waits for the release message on the pipe [`GO_FD_ENV`]
/// names and returns its body; None when the variable is not set (a helper
/// run by hand). The descriptor is closed and the variable removed, so
/// nothing the helper starts inherits either.
pub fn wait_release() -> Result<Option<Vec<u8>>, ReleaseError> {
    let Some(fd) = std::env::var(GO_FD_ENV)
        .ok()
        .and_then(|v| v.parse::<i32>().ok())
    else {
        return Ok(None);
    };
    // SAFETY: podctl passed us this inherited pipe end and nothing else in
    // this process uses it; we own it now (closed when `go` drops).
    let mut go = unsafe { std::fs::File::from_raw_fd(fd) };
    // SAFETY: helpers are single-threaded; nothing reads the environment concurrently.
    unsafe { std::env::remove_var(GO_FD_ENV) };
    let mut message = Vec::new();
    go.read_to_end(&mut message)
        .map_err(|source| ReleaseError::Read { fd, source })?;
    match message.split_first() {
        None => Err(ReleaseError::Abandoned),
        Some((&GO, body)) => Ok(Some(body.to_vec())),
        Some((&other, _)) => Err(ReleaseError::Garbled(other)),
    }
}

#[cfg(test)]
mod tests;
