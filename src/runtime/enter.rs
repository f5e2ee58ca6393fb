//! `podctl __enter PID -- CMD...`: joins every namespace of PID (in setns
//! order, all opened first), forks so a PID namespace applies, and runs CMD.
//! Started by `podctl exec` (and exec probes), which releases it through the
//! pipe PODCTL_GO_FD names once it is in the container's scope. `podctl exec`
//! sends an [`ExecSpec`] on that pipe: the command then runs with exactly
//! that environment, user and workdir, nothing inherited.

use super::ns;
use crate::model::User;
use crate::plan::NsKind;
use serde::{Deserialize, Serialize};
use std::ffi::CString;
use std::io::Read;
use std::os::fd::FromRawFd;
use std::path::Path;

/// How `podctl exec` wants the command run (sent as JSON on the go pipe).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecSpec {
    /// The complete environment (the container's, with --env on top).
    pub env: Vec<(String, String)>,
    pub workdir: String,
    pub user: Option<User>,
    /// stdin is a terminal to make the command's controlling terminal.
    pub tty: bool,
}

/// The release byte of a plain release (no [`ExecSpec`]).
const GO: &[u8] = b"g";

/// A `podctl __enter` helper, started and held until [`Held::release`].
pub struct Held {
    pub child: std::process::Child,
    go: std::fs::File,
}

/// Starts `podctl __enter PID -- argv`, held on a pipe so that the caller can
/// move it into the container's scope first (AttachProcessesToUnit).
pub fn spawn_held(
    podctl: &Path,
    pid: u32,
    argv: &[String],
    stdio: impl Fn() -> std::process::Stdio,
) -> std::io::Result<Held> {
    spawn_held_in(podctl, pid, argv, stdio, false)
}

/// As [`spawn_held`]; with `own_group`, the helper leads a process group of
/// its own that everything it starts inherits, so that all of it can be
/// killed at once (a probe that timed out).
pub fn spawn_held_in(
    podctl: &Path,
    pid: u32,
    argv: &[String],
    stdio: impl Fn() -> std::process::Stdio,
    own_group: bool,
) -> std::io::Result<Held> {
    use std::os::fd::AsRawFd;
    use std::os::unix::process::CommandExt;
    let (go_read, go_write) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
    // The read end must survive exec in the helper.
    nix::fcntl::fcntl(
        &go_read,
        nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::empty()),
    )?;
    let mut cmd = std::process::Command::new(podctl);
    if own_group {
        cmd.process_group(0);
    }
    let child = cmd
        .arg("__enter")
        .arg(pid.to_string())
        .arg("--")
        .args(argv)
        .env("PODCTL_GO_FD", go_read.as_raw_fd().to_string())
        .stdin(stdio())
        .stdout(stdio())
        .stderr(stdio())
        .spawn()?;
    Ok(Held {
        child,
        go: std::fs::File::from(go_write),
    })
}

/// Which of the helper's standard streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    In,
    Out,
    Err,
}

/// As [`spawn_held`], for `podctl exec`: the helper gets no environment but
/// the go pipe's number (the command's comes in the [`ExecSpec`]).
pub fn spawn_held_clean(
    podctl: &Path,
    pid: u32,
    argv: &[String],
    stdio: impl Fn(Stream) -> std::process::Stdio,
) -> std::io::Result<Held> {
    use std::os::fd::AsRawFd;
    let (go_read, go_write) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
    nix::fcntl::fcntl(
        &go_read,
        nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::empty()),
    )?;
    let child = std::process::Command::new(podctl)
        .arg("__enter")
        .arg(pid.to_string())
        .arg("--")
        .args(argv)
        .env_clear()
        .env("PODCTL_GO_FD", go_read.as_raw_fd().to_string())
        .stdin(stdio(Stream::In))
        .stdout(stdio(Stream::Out))
        .stderr(stdio(Stream::Err))
        .spawn()?;
    Ok(Held {
        child,
        go: std::fs::File::from(go_write),
    })
}

impl Held {
    /// Lets the helper join the namespaces and run the command.
    pub fn release(mut self) -> std::io::Result<std::process::Child> {
        use std::io::Write;
        self.go.write_all(GO)?;
        Ok(self.child)
    }

    /// Lets the helper run the command as `spec` says.
    pub fn release_with(mut self, spec: &ExecSpec) -> std::io::Result<std::process::Child> {
        use std::io::Write;
        let data = serde_json::to_vec(spec).map_err(std::io::Error::other)?;
        self.go.write_all(&data)?;
        Ok(self.child)
    }
}

/// Every namespace of the target but its user namespace (podctl makes none).
fn kinds() -> &'static [NsKind] {
    &crate::plan::SETNS_ORDER[1..]
}

pub fn main(pid: u32, command: &[String]) -> ! {
    match run(pid, command) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("podctl exec: {e}");
            std::process::exit(125)
        }
    }
}

fn run(pid: u32, command: &[String]) -> Result<i32, String> {
    let mut spec = None;
    if let Some(fd) = std::env::var("PODCTL_GO_FD")
        .ok()
        .and_then(|v| v.parse::<i32>().ok())
    {
        // SAFETY: podctl exec passed us this inherited pipe end; we own it now.
        let mut go = unsafe { std::fs::File::from_raw_fd(fd) };
        let mut msg = Vec::new();
        go.read_to_end(&mut msg).map_err(|e| e.to_string())?;
        if msg.is_empty() {
            return Err("podctl exec went away before releasing us".into());
        }
        if msg != GO {
            spec = Some(
                serde_json::from_slice::<ExecSpec>(&msg)
                    .map_err(|e| format!("bad exec spec: {e}"))?,
            );
        }
        // SAFETY: single-threaded helper; nothing reads the environment concurrently.
        unsafe { std::env::remove_var("PODCTL_GO_FD") };
    }
    let creds = match &spec {
        Some(s) => super::container::resolve_user(s.user.as_ref())?,
        None => None,
    };
    let opened = ns::open(Path::new("/proc"), pid, kinds()).map_err(|e| crate::error_chain(&e))?;
    opened.join().map_err(|e| crate::error_chain(&e))?;
    let argv: Vec<CString> = command
        .iter()
        .map(|a| CString::new(a.as_str()).map_err(|_| format!("{a:?} contains NUL")))
        .collect::<Result<_, _>>()?;
    // SAFETY: this helper is single-threaded; the child only execs.
    match unsafe { nix::unistd::fork() }.map_err(|e| format!("fork: {e}"))? {
        nix::unistd::ForkResult::Child => {
            let e = match &spec {
                Some(s) => exec_as(s, &creds, command, &argv),
                None => exec_plain(&argv),
            };
            eprintln!("podctl exec: {}: {e}", command[0]);
            std::process::exit(127)
        }
        nix::unistd::ForkResult::Parent { child } => {
            if spec.as_ref().is_some_and(|s| s.tty) {
                // The command owns the terminal (and its signals) now.
                ignore_terminal_signals();
            }
            loop {
                match nix::sys::wait::waitpid(child, None) {
                    Ok(nix::sys::wait::WaitStatus::Exited(_, code)) => return Ok(code),
                    Ok(nix::sys::wait::WaitStatus::Signaled(_, sig, _)) => {
                        return Ok(128 + sig as i32);
                    }
                    Ok(_) | Err(nix::Error::EINTR) => continue,
                    Err(e) => return Err(format!("waitpid: {e}")),
                }
            }
        }
    }
}

/// A probe's command: at `/`, with the default PATH.
fn exec_plain(argv: &[CString]) -> String {
    let _ = nix::unistd::chdir("/");
    let _ = super::container::default_sigpipe();
    // SAFETY: single-threaded child, before exec.
    unsafe { std::env::set_var("PATH", crate::plan::DEFAULT_PATH) };
    match nix::unistd::execvp(&argv[0], argv) {
        Err(e) => format!("cannot execute: {e}"),
        Ok(never) => match never {},
    }
}

/// `podctl exec`'s command: its terminal, user, workdir and environment, then exec.
fn exec_as(
    spec: &ExecSpec,
    creds: &super::container::Creds,
    command: &[String],
    argv: &[CString],
) -> String {
    let steps = || -> Result<std::convert::Infallible, String> {
        if spec.tty {
            nix::unistd::setsid().map_err(|e| format!("setsid: {e}"))?;
            // SAFETY: fd 0 is the terminal podctl exec opened for us; TIOCSCTTY takes an int.
            if unsafe { nix::libc::ioctl(0, nix::libc::TIOCSCTTY, 0) } != 0 {
                return Err(format!(
                    "cannot make stdin the controlling terminal: {}",
                    std::io::Error::last_os_error()
                ));
            }
        }
        let exe = super::container::resolve_command(command, &spec.env)?;
        if let Some(c) = creds {
            nix::unistd::setgroups(&c.groups).map_err(|e| format!("setgroups: {e}"))?;
            nix::unistd::setgid(c.gid).map_err(|e| format!("setgid: {e}"))?;
            nix::unistd::setuid(c.uid).map_err(|e| format!("setuid: {e}"))?;
        }
        nix::unistd::chdir(spec.workdir.as_str())
            .map_err(|e| format!("chdir {}: {e}", spec.workdir))?;
        super::container::default_sigpipe().map_err(|e| format!("restore SIGPIPE: {e}"))?;
        let env: Vec<CString> = spec
            .env
            .iter()
            .map(|(k, v)| super::container::cstring(&format!("{k}={v}")))
            .collect::<Result<_, _>>()?;
        Err(match nix::unistd::execve(&exe, argv, &env) {
            Err(e) => format!("cannot execute {}: {e}", exe.to_string_lossy()),
            Ok(never) => match never {},
        })
    };
    match steps() {
        Err(e) => e,
        Ok(never) => match never {},
    }
}

/// The waiting helper must outlive a Ctrl-C or hang-up meant for the command.
fn ignore_terminal_signals() {
    use nix::sys::signal::{SigHandler, Signal, signal};
    for sig in [Signal::SIGINT, Signal::SIGQUIT, Signal::SIGHUP] {
        // SAFETY: SIG_IGN installs no handler code.
        let _ = unsafe { signal(sig, SigHandler::SigIgn) };
    }
}
