//! Inside `podctl __spawn`: turn this freshly exec'd, single-threaded helper
//! into a container, in this order:
//!
//! 1. block signals (the relays take them later);
//! 2. read the [`LaunchSpec`] on stdin; with an OCI runtime, prepare what
//!    needs neither the scope nor the sandbox ([`crate::oci::launch::prepare`]);
//!    then wait for the release ([`super::held`]), whose body is the
//!    sandbox's PID: from then on this process is in its own scope;
//! 3. connect stdout/stderr to journald (one stream, attributed to that scope);
//! 4. open the sandbox's namespace files, then `setns` them in order;
//! 5. unshare cgroup (now rooted at the scope), mnt and pid namespaces;
//!    make `/` a slave mount so nothing mounted here reaches the host;
//! 6. fork: the child is PID 1 of the new PID namespace, its output going
//!    into pipes; this process execs `podctl-pause relay CHILD OUT ERR`,
//!    which copies those pipes to journald (so every line, even of a
//!    short-lived command, is sent by a process in the container's scope);
//! 7. the child mounts a /proc for its PID namespace, forks the command's
//!    process, and execs `podctl-pause relay` itself: it is the container's
//!    init, forwarding signals and reaping;
//! 8. the command's process drops to the user, enters workdir and execs.

use super::launch::{Go, LaunchSpec, SetupFault};
use super::ns;
use crate::model::User;
use crate::plan::NsKind;
use nix::mount::{MsFlags, mount};
use nix::sys::signal::{SigSet, SigmaskHow, Signal, sigprocmask};
use nix::unistd::{ForkResult, Gid, Uid};
use std::ffi::CString;
use std::fs::File;
use std::io::Write;
use std::os::fd::{AsFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

mod exec;
mod oci;
pub(crate) use exec::{Creds, resolve_command, resolve_user};
use exec::{exec_command, exec_relay, journal_stream};

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

fn run(status: &mut File) -> Result<std::convert::Infallible, Failure> {
    step(
        "block signals",
        sigprocmask(SigmaskHow::SIG_BLOCK, Some(&SigSet::all()), None),
    )?;
    let paths = super::Paths::from_env();
    let spec: LaunchSpec = step(
        "read launch spec",
        serde_json::from_reader(std::io::stdin().lock()),
    )?;
    // Before the release, what needs neither the scope nor the sandbox (the
    // user and program, the bundle, an image's root): it runs while systemd
    // creates the pod's units. A failure is reported once released.
    let early = oci::early(&paths, &spec);
    let body = step("wait for the start", super::held::wait_release())?.ok_or_else(|| {
        format!(
            "no release pipe ({}): the supervisor starts this helper",
            super::held::GO_FD_ENV
        )
    })?;
    let Go { ns_pid } = step("parse the release", serde_json::from_slice(&body))?;
    let host = &paths.host;

    // In our scope now: anything journald sees from us is attributed to it.
    let ident = &spec.process.log_identifier;
    // One stream for both: journald (systemd 252) takes at most 4,096
    // streams in all; the relay marks stdout lines `<6>` and stderr lines
    // `<3>` (level prefixes on), so the container never picks a priority.
    let out = journal_stream(&host.journal_stdout, ident, &spec.unit, 6);
    let errs = out
        .as_ref()
        .map_err(|e| std::io::Error::new(e.kind(), e.to_string()))
        .and_then(|fd| fd.try_clone());
    // The container writes into pipes that this process (as its relay) copies
    // to journald: journald attributes a line to the process that sent it,
    // and a short-lived writer may be gone before its unit is looked up.
    let mut log_pipes = None;
    if let (Ok(out), Ok(errs)) = (&out, &errs) {
        step("stdout to journal", nix::unistd::dup2_stdout(out))?;
        step("stderr to journal", nix::unistd::dup2_stderr(errs))?;
        let o = step("log pipe", nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC))?;
        let e = step("log pipe", nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC))?;
        log_pipes = Some((o, e));
    } else {
        // No journald (tests on a bare host): output goes where our stderr goes.
        // fd 1 must stop being the status pipe either way, or it never closes.
        step(
            "stdout to stderr",
            nix::unistd::dup2_stdout(std::io::stderr()),
        )?;
    }
    let null = step("open /dev/null", File::open("/dev/null"))?;
    step("stdin from /dev/null", nix::unistd::dup2_stdin(&null))?;

    let (creds, exe) = match early? {
        oci::Early::Oci(prepared) => {
            return oci::run(&paths, &spec, *prepared, ns_pid, log_pipes, status);
        }
        oci::Early::Direct { creds, exe } => (creds, exe),
    };

    let opened = step(
        "open sandbox namespaces",
        ns::open(&host.proc, ns_pid, &spec.joins),
    )?;
    step("join sandbox namespaces", opened.join())?;
    step("create container namespaces", ns::unshare(&spec.creates))?;
    if spec.creates.contains(&NsKind::Mnt) {
        step(
            "make / a slave mount",
            mount(
                None::<&str>,
                "/",
                None::<&str>,
                MsFlags::MS_REC | MsFlags::MS_SLAVE,
                None::<&str>,
            ),
        )?;
        // The pod network's hosts and resolv.conf, in this namespace only
        // (written when the supervisor set the network up; a supervisor run
        // without one, as in tests, leaves the host's).
        for (src, dst) in &spec.etc_files {
            if Path::new(src).exists() && Path::new(dst).exists() {
                step(
                    "bind the pod network's /etc file",
                    mount(
                        Some(src.as_str()),
                        dst.as_str(),
                        None::<&str>,
                        MsFlags::MS_BIND,
                        None::<&str>,
                    ),
                )?;
            }
        }
    }
    let own_proc = spec.creates.contains(&NsKind::Pid) || spec.joins.contains(&NsKind::Pid);

    // SAFETY: this process is single-threaded (a fresh exec of podctl that
    // started no threads), so the child may run arbitrary code.
    match step("fork container init", unsafe { nix::unistd::fork() })? {
        ForkResult::Parent { child } => {
            let logs = match log_pipes {
                Some(((out_r, out_w), (err_r, err_w))) => {
                    drop((out_w, err_w));
                    keep_log_pipes(&out_r, &err_r)?;
                    Some((out_r, err_r))
                }
                None => None,
            };
            Ok(exec_relay(&spec.pause, child.as_raw(), logs.as_ref())?)
        }
        ForkResult::Child => {
            die_with_parent()?;
            if let Some(((out_r, out_w), (err_r, err_w))) = log_pipes {
                drop((out_r, err_r));
                step("stdout to log pipe", nix::unistd::dup2_stdout(&out_w))?;
                step("stderr to log pipe", nix::unistd::dup2_stderr(&err_w))?;
            }
            container_init(&spec, own_proc, &creds, &exe)
        }
    }
}

/// The relay must inherit the read ends of the container's output pipes.
fn keep_log_pipes(out: &OwnedFd, err: &OwnedFd) -> Result<(), String> {
    for fd in [out, err] {
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

/// PID 1 of the container (when it has its own PID namespace).
fn container_init(
    spec: &LaunchSpec,
    own_proc: bool,
    creds: &Creds,
    exe: &CString,
) -> Result<std::convert::Infallible, Failure> {
    if own_proc && spec.creates.contains(&NsKind::Mnt) {
        step(
            "mount /proc for the container's PID namespace",
            mount(
                Some("proc"),
                "/proc",
                Some("proc"),
                MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
                None::<&str>,
            ),
        )?;
    }
    // SAFETY: still single-threaded (we are a fork of a single-threaded process).
    match step("fork command", unsafe { nix::unistd::fork() })? {
        ForkResult::Parent { child } => Ok(exec_relay(&spec.pause, child.as_raw(), None)?),
        ForkResult::Child => exec_command(spec, creds, exe),
    }
}

/// If the helper above us dies (even by SIGKILL), so do we: as PID 1 of the
/// container's PID namespace our death takes every process in it along.
fn die_with_parent() -> Result<(), String> {
    let parent = nix::unistd::getppid();
    step(
        "set parent-death signal",
        nix::sys::prctl::set_pdeathsig(Signal::SIGKILL),
    )?;
    if nix::unistd::getppid() != parent {
        return Err("the container helper died during setup".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests;
