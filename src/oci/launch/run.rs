//! Steps 5 and 6 of a container's start: the runtime's `run --detach`,
//! then the init's PID once it has forked the container's command.

use crate::model::defaults::INIT_PATH;
use crate::oci::failure::{Failure, Fault, definition, transient};
use crate::oci::runtime::{NewContainer, Runtime, RuntimeError};
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

/// The container's standard streams as the runtime is given them.
pub struct Io<'a> {
    pub stdin: Stdio,
    pub stdout: Stdio,
    pub stderr: Stdio,
    /// A terminal: the console socket (its path, bound to this listener)
    /// the runtime sends the terminal's master to.
    pub console: Option<(&'a Path, &'a UnixListener)>,
}

impl Io<'_> {
    /// No terminal, every stream /dev/null.
    pub fn null() -> Self {
        Io {
            stdin: Stdio::null(),
            stdout: Stdio::null(),
            stderr: Stdio::null(),
            console: None,
        }
    }
}

/// A container the runtime started: its init, and its terminal's master
/// when it has one.
#[derive(Debug)]
pub struct Started {
    pub init: u32,
    pub console: Option<OwnedFd>,
}

/// Step 5 and 6 against any [`Runtime`]; `proc` is procfs, where the
/// init's progress is seen.
pub fn run(
    rt: &dyn Runtime,
    id: &str,
    bundle: &Path,
    proc: &Path,
    io: Io<'_>,
) -> Result<Started, Failure> {
    let pid_file = bundle.join("init.pid");
    let _ = rt.delete(id, true);
    // A PID left from an earlier run must not be taken for this one's.
    let _ = std::fs::remove_file(&pid_file);
    let new = NewContainer {
        bundle,
        pid_file: &pid_file,
        stdin: io.stdin,
        stdout: io.stdout,
        stderr: io.stderr,
        console_socket: io.console.map(|(path, _)| path),
    };
    let listener = io.console.map(|(_, l)| l);
    let mut master: Option<OwnedFd> = None;
    let mut running = match rt.run_detached(id, new) {
        Ok(r) => r,
        Err(e) => {
            let _ = rt.delete(id, true);
            return Err(runtime_failure(e));
        }
    };
    // The container runs once its init has forked the command; the
    // runtime's process may still be finishing then (its exit, ~100 ms
    // under emulation, is not waited for: the relay this process becomes
    // reaps it).
    loop {
        if let Some(l) = listener
            && master.is_none()
        {
            master = crate::oci::console::try_receive(l).map_err(terminal_failure)?;
        }
        match running.try_wait() {
            Some(Ok(())) => break,
            Some(Err(e)) => {
                drop(running);
                let _ = rt.delete(id, true);
                return Err(runtime_failure(e));
            }
            None => {}
        }
        if let Some(init) = read_pid(&pid_file)
            && (listener.is_none() || master.is_some())
            && command_forked(proc, init)
        {
            return Ok(Started {
                init,
                console: master,
            });
        }
        std::thread::sleep(STARTED_POLL);
    }
    let text = std::fs::read_to_string(&pid_file).map_err(|e| transient("read the pid file", e))?;
    let init: u32 = text.trim().parse().map_err(|_| Failure {
        fault: Fault::Transient,
        message: format!("{}: not a PID: {text:?}", pid_file.display()),
    })?;
    wait_for_command(proc, init);
    // A runtime that made a terminal sent it before it exited.
    if let Some(l) = listener
        && master.is_none()
    {
        master = crate::oci::console::try_receive(l).map_err(terminal_failure)?;
        if master.is_none() {
            return Err(Failure {
                fault: Fault::Transient,
                message: "the runtime sent no terminal to the console socket".into(),
            });
        }
    }
    Ok(Started {
        init,
        console: master,
    })
}

/// The console socket failed: retrying may help.
fn terminal_failure(message: String) -> Failure {
    Failure {
        fault: Fault::Transient,
        message: format!("the container's terminal: {message}"),
    }
}

/// How often [`run`] looks for the command while the runtime runs.
const STARTED_POLL: Duration = Duration::from_millis(2);

/// How long the init may take to fork the command after `start`.
const COMMAND_FORK_TIMEOUT: Duration = Duration::from_secs(2);

/// The PID in a pid file the runtime has written in full.
fn read_pid(pid_file: &Path) -> Option<u32> {
    std::fs::read_to_string(pid_file).ok()?.trim().parse().ok()
}

/// `init` is podctl-pause (the runtime has executed the container's
/// process, not only made it) and has forked the command.
fn command_forked(proc: &Path, init: u32) -> bool {
    let comm = std::fs::read_to_string(proc.join(format!("{init}/comm"))).unwrap_or_default();
    comm.trim_end() == init_comm() && has_children(proc, init) == Some(true)
}

/// The command name of the container's init (the file name of
/// [`INIT_PATH`], as the kernel keeps it: 15 bytes at most).
fn init_comm() -> &'static str {
    let name = INIT_PATH.rsplit('/').next().unwrap_or_default();
    &name[..name.len().min(15)]
}

/// Whether `pid` has children; `None` once it is gone.
fn has_children(proc: &Path, pid: u32) -> Option<bool> {
    let children = proc.join(format!("{pid}/task/{pid}/children"));
    std::fs::read_to_string(children)
        .ok()
        .map(|c| !c.trim().is_empty())
}

/// Waits until the init has forked the command (or ended, or the timeout):
/// from then on the container's PID is the command's, as users mean it.
fn wait_for_command(proc: &Path, init: u32) {
    let deadline = std::time::Instant::now() + COMMAND_FORK_TIMEOUT;
    while std::time::Instant::now() < deadline {
        match has_children(proc, init) {
            Some(false) => std::thread::sleep(Duration::from_millis(2)),
            _ => return,
        }
    }
}

/// A runtime that refuses a container refuses it again: the config or the
/// host is at fault, not the moment.
fn runtime_failure(e: RuntimeError) -> Failure {
    match e {
        RuntimeError::Spawn { .. } => transient("runtime", e),
        _ => definition(e),
    }
}
