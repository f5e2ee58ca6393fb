//! Inside `podctl __spawn`: have the container's OCI runtime (crun, runc)
//! start it, in this order:
//!
//! 1. block signals (the relay takes them later);
//! 2. read the [`LaunchSpec`] on stdin and prepare what needs neither the
//!    scope nor the sandbox ([`crate::oci::launch::prepare`]: the user and
//!    program of a host-root container, the bundle, an image's root); then
//!    wait for the release ([`super::held`]), whose body is the sandbox's
//!    PID: from then on this process is in its own scope;
//! 3. connect stdout/stderr to journald (one stream, attributed to that scope);
//! 4. have the runtime create and start the container, whose stdout and
//!    stderr are pipes ([`crate::oci::launch::start`]); report the init's
//!    PID on the status pipe; exec `podctl-pause relay INIT OUT ERR`, which
//!    copies those pipes to journald (so every line, even of a short-lived
//!    command, is sent by a process in the container's scope), forwards
//!    signals and exits with the init's status.
//!
//! A failure at any step is reported on the status pipe, naming the step:
//! the runtime is the only way a container starts.

use super::launch::{Go, LaunchSpec};
use super::report::{Report, SetupFault};
use nix::sys::signal::{SigSet, SigmaskHow, sigprocmask};
use std::fs::File;
use std::io::Write;
use std::os::fd::{AsFd, FromRawFd, OwnedFd};
use std::path::Path;
use std::process::Stdio;

mod exec;
use exec::{exec_relay, journal_stream, resolve_command};
pub(crate) use exec::{resolve_user, root};

/// Runs the helper; never returns. Errors go to the status pipe (stdout).
pub fn main() -> ! {
    // The status pipe is fd 1 as inherited; keep a close-on-exec copy so it
    // closes by itself when each process of the container execs.
    let status = nix::fcntl::fcntl(
        std::io::stdout().as_fd(),
        nix::fcntl::FcntlArg::F_DUPFD_CLOEXEC(3),
    )
    .map(|fd| {
        // SAFETY: fcntl just returned this new descriptor; we own it.
        unsafe { File::from_raw_fd(fd) }
    });
    let Ok(mut status) = status else {
        std::process::exit(127);
    };
    let err = run(&mut status).unwrap_err();
    let _ = writeln!(status, "{}\t{}", err.fault.as_str(), err.message);
    std::process::exit(127)
}

/// Why setup failed: retrying helps (transient) or not (the definition).
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) fault: SetupFault,
    pub(crate) message: String,
}

/// Where only the message matters (`podctl exec`'s helper).
impl From<Failure> for String {
    fn from(f: Failure) -> String {
        f.message
    }
}

impl Failure {
    fn definition(message: String) -> Self {
        Failure {
            fault: SetupFault::Definition,
            message,
        }
    }
}

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Failure {
            fault: SetupFault::Transient,
            message,
        }
    }
}

fn step<T, E: std::error::Error>(what: &str, r: Result<T, E>) -> Result<T, String> {
    r.map_err(|e| format!("{what}: {}", crate::error_chain(&e)))
}

/// The container's output pipes, (read, write) for stdout then stderr; none
/// without journald.
type LogPipes = Option<((OwnedFd, OwnedFd), (OwnedFd, OwnedFd))>;

fn run(status: &mut File) -> Result<std::convert::Infallible, Failure> {
    step(
        "block signals",
        sigprocmask(SigmaskHow::SIG_BLOCK, Some(&SigSet::all()), None),
    )?;
    let paths = crate::layout::Layout::from_env();
    let spec: LaunchSpec = step(
        "read launch spec",
        serde_json::from_reader(std::io::stdin().lock()),
    )?;
    // Before the release, what needs neither the scope nor the sandbox (the
    // user and program, the bundle, an image's root): it runs while systemd
    // creates the pod's units. A failure is reported once released. A
    // user's pod mounts in the sandbox's namespaces: after the release.
    let rootless = spec.container.rootless.is_some();
    let early = (!rootless).then(|| prepare(&paths, &spec));
    let body = step("wait for the start", super::held::wait_release())?.ok_or_else(|| {
        format!(
            "no release pipe ({}): the supervisor starts this helper",
            super::held::GO_FD_ENV
        )
    })?;
    let Go { ns_pid } = step("parse the release", serde_json::from_slice(&body))?;
    let prepared = match early {
        Some(prepared) => prepared,
        None => {
            super::ns::enter_user_and_mounts(&paths.host.proc, ns_pid)
                .map_err(|e| format!("entering the pod's user namespace: {e}"))?;
            prepare(&paths, &spec)
        }
    };
    let log_pipes = log_to_journal(&paths.host, &spec)?;
    let null = step("open /dev/null", File::open("/dev/null"))?;
    step("stdin from /dev/null", nix::unistd::dup2_stdin(&null))?;
    start(&paths, &spec, prepared?, ns_pid, log_pipes, status)
}

/// Connects this process's stdout and stderr to journald and makes the
/// container's output pipes. In our scope now: anything journald sees from
/// us is attributed to it.
fn log_to_journal(host: &crate::layout::HostRoots, spec: &LaunchSpec) -> Result<LogPipes, Failure> {
    let ident = &spec.container.process.log_identifier;
    // One stream for both: journald (systemd 252) takes at most 4,096
    // streams in all; the relay marks stdout lines `<6>` and stderr lines
    // `<3>` (level prefixes on), so the container never picks a priority.
    let out = journal_stream(&host.journal_stdout, ident, &spec.unit(), 6);
    let errs = out
        .as_ref()
        .map_err(|e| std::io::Error::new(e.kind(), e.to_string()))
        .and_then(|fd| fd.try_clone());
    // The container writes into pipes that this process (as its relay) copies
    // to journald: journald attributes a line to the process that sent it,
    // and a short-lived writer may be gone before its unit is looked up.
    if let (Ok(out), Ok(errs)) = (&out, &errs) {
        step("stdout to journal", nix::unistd::dup2_stdout(out))?;
        step("stderr to journal", nix::unistd::dup2_stderr(errs))?;
        let o = step("log pipe", nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC))?;
        let e = step("log pipe", nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC))?;
        return Ok(Some((o, e)));
    }
    // No journald (tests on a bare host): output goes where our stderr goes.
    // fd 1 must stop being the status pipe either way, or it never closes.
    step(
        "stdout to stderr",
        nix::unistd::dup2_stdout(std::io::stderr()),
    )?;
    Ok(None)
}

/// The user and program (resolved on the host for a host-root container)
/// and the bundle, prepared for the runtime.
fn prepare(
    paths: &crate::layout::Layout,
    spec: &LaunchSpec,
) -> Result<crate::oci::launch::Prepared, Failure> {
    let c = &spec.container;
    let user = if c.image.is_some() {
        // Its user and program are the image's: looked up in its root.
        root()
    } else {
        let user = resolve_user(c.process.user.as_ref())?;
        let exe = resolve_command(&c.process.argv, &c.process.env).map_err(Failure::definition)?;
        // The container sees the host's root: the program must be there.
        let program = exe.to_string_lossy();
        if crate::oci::runtime::locate(&program, "").is_none() {
            return Err(Failure::definition(format!(
                "cannot execute {program}: not found or not executable"
            )));
        }
        user.unwrap_or_else(root)
    };
    let dirs = paths.oci();
    let path = search_path();
    crate::oci::launch::prepare(c, user, &host(paths, spec, &dirs, &path)).map_err(from_oci)
}

fn search_path() -> String {
    std::env::var("PATH").unwrap_or_else(|_| crate::plan::DEFAULT_PATH.into())
}

/// The host as the runtime's start sees it.
fn host<'a>(
    paths: &'a crate::layout::Layout,
    spec: &'a LaunchSpec,
    dirs: &'a crate::oci::Dirs,
    path: &'a str,
) -> crate::oci::launch::HostPaths<'a> {
    crate::oci::launch::HostPaths {
        dirs,
        pause: &spec.pause,
        cgroup_root: &paths.host.cgroup_mount,
        proc: &paths.host.proc,
        root: Path::new("/"),
        path,
        notify_socket: super::notify_socket(&paths.run, &spec.container.pod, &spec.container.name),
    }
}

fn from_oci(f: crate::oci::failure::Failure) -> Failure {
    use crate::oci::failure::Fault;
    Failure {
        fault: match f.fault {
            Fault::Definition => SetupFault::Definition,
            Fault::Transient => SetupFault::Transient,
        },
        message: f.message,
    }
}

/// The runtime makes the container, whose stdout and stderr are the log
/// pipes (or, with `tty`, a terminal whose master the relay reads); this
/// process becomes the relay of its init.
fn start(
    paths: &crate::layout::Layout,
    spec: &LaunchSpec,
    prepared: crate::oci::launch::Prepared,
    ns_pid: u32,
    log_pipes: LogPipes,
    status: &mut File,
) -> Result<std::convert::Infallible, Failure> {
    let process = &spec.container.process;
    let (stdio, logs) = match log_pipes {
        // With a terminal the pipes carry only the runtime's own messages.
        Some((_, (err_r, err_w))) if process.tty => {
            let out_w = step("log pipe", err_w.try_clone())?;
            (
                (Stdio::from(out_w), Stdio::from(err_w)),
                Some((None, err_r)),
            )
        }
        Some(((out_r, out_w), (err_r, err_w))) => (
            (Stdio::from(out_w), Stdio::from(err_w)),
            Some((Some(out_r), err_r)),
        ),
        None => (
            (
                Stdio::from(step(
                    "dup stderr",
                    std::io::stderr().as_fd().try_clone_to_owned(),
                )?),
                Stdio::inherit(),
            ),
            None,
        ),
    };
    let dirs = paths.oci();
    let path = search_path();
    let host = host(paths, spec, &dirs, &path);
    // A terminal: the runtime sends its master to a socket in the bundle.
    let socket = dirs.bundle(&spec.container.id()).join("console.sock");
    let listener = match process.tty {
        true => Some(crate::oci::console::listen(&socket)?),
        false => None,
    };
    // `stdin`: a pipe whose write end the relay holds and never writes to,
    // so that the container's reads wait (as `podman run -i -d` leaves
    // them) rather than end at once on /dev/null.
    let (stdin, held_stdin) = match process.stdin && !process.tty {
        true => {
            let (r, w) = step(
                "stdin pipe",
                nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC),
            )?;
            (Stdio::from(r), Some(w))
        }
        false => (Stdio::null(), None),
    };
    let io = crate::oci::launch::Io {
        stdin,
        stdout: stdio.0,
        stderr: stdio.1,
        console: listener.as_ref().map(|l| (socket.as_path(), l)),
    };
    // `io` moves into the runtime and is closed here after it: only the
    // container holds the write ends, so the relay sees EOF.
    // The pod network's /etc files exist once the supervisor set the network
    // up; a supervisor run without one (as in tests) leaves the host's.
    let mut c = spec.container.clone();
    let net_files = dirs.net_files(&c.pod);
    c.etc_files
        .retain(|f| f.host_path(&net_files).exists() && Path::new(&f.target).exists());
    let started = crate::oci::launch::start(&c, &spec.secrets, prepared, ns_pid, &host, io)
        .map_err(from_oci)?;
    if listener.is_some() {
        let _ = std::fs::remove_file(&socket);
    }
    // What the relay reads: the terminal's master in place of stdout.
    let relayed = match (started.console, logs) {
        (Some(master), Some((_, err_r))) => Some((master, err_r)),
        (Some(master), None) => {
            // No journald: nothing but the terminal to read (a pipe at EOF
            // stands for stderr).
            let (r, _) = step("log pipe", nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC))?;
            Some((master, r))
        }
        (None, Some((Some(out_r), err_r))) => Some((out_r, err_r)),
        (None, _) => None,
    };
    if let Some((out, err)) = &relayed {
        keep_for_relay(&[out, err])?;
    }
    if let Some(w) = &held_stdin {
        keep_for_relay(&[w])?;
    }
    // The init may still be the runtime's process's child for a moment (it
    // is reparented to the relay, a subreaper, when that exits): the
    // supervisor learns its PID from here, not from the relay's children.
    step(
        "report the start",
        std::io::Write::write_all(status, Report::started(started.init).as_bytes()),
    )?;
    Ok(exec_relay(
        &spec.pause,
        started.init as i32,
        relayed.as_ref(),
    )?)
}

/// The relay must inherit the read ends of the container's output (and
/// the write end of its stdin pipe, which it holds open).
fn keep_for_relay(fds: &[&OwnedFd]) -> Result<(), String> {
    for fd in fds {
        step(
            "keep log pipe",
            nix::fcntl::fcntl(
                fd,
                nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::empty()),
            ),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
