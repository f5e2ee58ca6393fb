//! The processes podctl starts and waits for, behind traits so that the
//! unit tier tests the supervisor with fakes ([`fake`]):
//!
//! * [`Spawner`] starts a [`Helper`]: held ([`Held`]: waiting for its
//!   release, see [`super::held`] for the one release protocol), or at once;
//! * [`Held`] is a helper until it is released (attach it to its unit, let
//!   it go with a payload, read its report); dropped before, it is killed
//!   and reaped;
//! * [`Process`] is a child podctl waits for: a released helper (the holder,
//!   a container's relay, a probe): signal it, look whether it exited, kill
//!   and reap it.
//!
//! [`OsProcesses`] is the real thing (fork and exec, pipes, kill(2),
//! waitpid(2)).

pub mod fake;

use super::held::{HeldChild, ReportError};
use std::io;
use std::os::fd::BorrowedFd;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

/// A helper to start: a program (podctl itself or podctl-pause) and its
/// arguments; the environment is inherited unless `clear_env`.
pub struct Helper {
    pub program: PathBuf,
    pub args: Vec<String>,
    /// Only the release pipe's variable in its environment (`podctl exec`:
    /// the command's environment comes in the release payload).
    pub clear_env: bool,
    /// It leads a process group of its own, which everything it starts
    /// inherits (a probe that times out is killed with all it started).
    pub own_group: bool,
    pub stdin: Stdio,
    /// Given to it on stdin at its start instead (an anonymous file; the
    /// container helper's launch spec).
    pub input: Option<Vec<u8>>,
    /// `Report`: a pipe podctl reads ([`Held::report`]).
    pub stdout: Output,
    pub stderr: Stdio,
}

/// Where a helper's stdout goes.
pub enum Output {
    /// A pipe read by [`Held::report`] (the holder's namespace PID, a
    /// container helper's setup error).
    Report,
    To(Stdio),
}

impl Helper {
    /// `program args...`, with stdin and stdout from /dev/null and stderr
    /// inherited (the supervisor's journal stream).
    pub fn new(program: impl Into<PathBuf>, args: Vec<String>) -> Self {
        Helper {
            program: program.into(),
            args,
            clear_env: false,
            own_group: false,
            stdin: Stdio::null(),
            input: None,
            stdout: Output::To(Stdio::null()),
            stderr: Stdio::inherit(),
        }
    }

    /// The command line, as errors and the fake's records show it.
    pub fn describe(&self) -> String {
        let mut s = self.program.display().to_string();
        for a in &self.args {
            s.push(' ');
            s.push_str(a);
        }
        s
    }

    /// The [`Command`] to spawn it with (stdio moved out of `self`).
    pub(crate) fn command(self) -> io::Result<Command> {
        let mut cmd = Command::new(&self.program);
        let stdin = match &self.input {
            Some(bytes) => input_file(bytes)?,
            None => self.stdin,
        };
        cmd.args(&self.args).stdin(stdin).stderr(self.stderr);
        if self.clear_env {
            cmd.env_clear();
        }
        if self.own_group {
            cmd.process_group(0);
        }
        match self.stdout {
            Output::Report => cmd.stdout(Stdio::piped()),
            Output::To(s) => cmd.stdout(s),
        };
        Ok(cmd)
    }
}

/// `bytes` in an anonymous file, read from its start (no size limit and
/// nothing to write while the helper starts, unlike a pipe).
fn input_file(bytes: &[u8]) -> io::Result<Stdio> {
    use std::io::{Seek, Write};
    let fd = nix::sys::memfd::memfd_create(
        c"podctl-helper-input",
        nix::sys::memfd::MFdFlags::MFD_CLOEXEC,
    )?;
    let mut file = std::fs::File::from(fd);
    file.write_all(bytes)?;
    file.rewind()?;
    Ok(Stdio::from(file))
}

/// A helper started held: it waits for its release.
pub trait Held {
    fn pid(&self) -> u32;

    /// Lets it go: sends the release message with `body` (see
    /// [`super::held`]) and closes the release pipe.
    fn go(&mut self, body: &[u8]) -> io::Result<()>;

    /// Its report pipe read to EOF: gives up after `timeout` (None: never)
    /// or as soon as `interrupt` is readable.
    fn report(
        &mut self,
        interrupt: Option<BorrowedFd<'_>>,
        timeout: Option<Duration>,
    ) -> Result<String, ReportError>;

    /// Released: the caller's to wait for from now on.
    fn into_process(self: Box<Self>) -> Box<dyn Process>;

    /// Moves it into `sub` (e.g. `/relay`, or "" for the unit's own cgroup)
    /// of the running `unit`. On failure the caller drops it: killed and reaped.
    fn attach(
        &self,
        mgr: &dyn crate::systemd::Manager,
        unit: &str,
        sub: &str,
    ) -> Result<(), crate::systemd::Error> {
        mgr.attach_sub(unit, sub, &[self.pid()])
    }
}

/// A child podctl waits for.
pub trait Process {
    fn pid(&self) -> u32;
    /// Its exit status if it has exited (it is reaped then), or None.
    fn try_wait(&mut self) -> io::Result<Option<ExitStatus>>;
    /// Waits for it to exit and reaps it.
    fn wait(&mut self) -> io::Result<ExitStatus>;
    /// Sends `signal` to it (a relay forwards it to the container).
    fn signal(&self, signal: nix::sys::signal::Signal) -> io::Result<()>;
    /// SIGKILL to it (nothing if it was reaped already).
    fn kill(&mut self) -> io::Result<()>;
    /// SIGKILL to its process group (it leads one: [`Helper::own_group`]),
    /// then reaps it.
    fn kill_group(&mut self) {
        let pgid = nix::unistd::Pid::from_raw(self.pid() as i32);
        let _ = nix::sys::signal::killpg(pgid, nix::sys::signal::Signal::SIGKILL);
        let _ = self.kill();
        let _ = self.wait();
    }
}

impl Process for Child {
    fn pid(&self) -> u32 {
        self.id()
    }

    fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        Child::try_wait(self)
    }

    fn wait(&mut self) -> io::Result<ExitStatus> {
        Child::wait(self)
    }

    fn signal(&self, signal: nix::sys::signal::Signal) -> io::Result<()> {
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.id() as i32), signal)
            .map_err(io::Error::from)
    }

    fn kill(&mut self) -> io::Result<()> {
        Child::kill(self)
    }
}

/// Starts helpers.
pub trait Spawner {
    /// Starts `helper` held: it waits for [`Held::go`].
    fn held(&self, helper: Helper) -> io::Result<Box<dyn Held>>;
    /// Starts `helper` running at once.
    fn spawn(&self, helper: Helper) -> io::Result<Box<dyn Process>>;
}

/// This host's processes: the real [`Spawner`].
#[derive(Debug, Clone, Copy, Default)]
pub struct OsProcesses;

impl Spawner for OsProcesses {
    fn held(&self, helper: Helper) -> io::Result<Box<dyn Held>> {
        Ok(Box::new(HeldChild::spawn(helper.command()?)?))
    }

    fn spawn(&self, helper: Helper) -> io::Result<Box<dyn Process>> {
        Ok(Box::new(helper.command()?.spawn()?))
    }
}

impl Held for HeldChild {
    fn pid(&self) -> u32 {
        HeldChild::pid(self)
    }

    fn go(&mut self, body: &[u8]) -> io::Result<()> {
        HeldChild::go(self, body)
    }

    fn report(
        &mut self,
        interrupt: Option<BorrowedFd<'_>>,
        timeout: Option<Duration>,
    ) -> Result<String, ReportError> {
        HeldChild::report(self, interrupt, timeout)
    }

    fn into_process(self: Box<Self>) -> Box<dyn Process> {
        Box::new(self.into_child())
    }
}
