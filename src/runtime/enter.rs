//! `podctl __enter PID -- CMD...`: joins every namespace of PID (in setns
//! order, all opened first), forks so a PID namespace applies, and runs CMD.
//! Started by `podctl exec` (and exec probes) held, released once it is in
//! the container's scope ([`super::held`]). `podctl exec`'s release body is
//! an [`ExecSpec`]: the command then runs with exactly that environment,
//! user and workdir, nothing inherited; a probe's is empty.

use super::ns;
use super::process::{Held, Helper, Process};
use crate::model::User;
use crate::plan::NsKind;
use serde::{Deserialize, Serialize};
use std::ffi::CString;
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
    /// The start time of the target PID as the supervisor recorded it
    /// ([`super::pin`]); 0: not checked.
    #[serde(default)]
    pub pid_start: u64,
}

/// `podctl __enter PID -- argv`: start it held ([`Spawner::held`](super::process::Spawner::held)),
/// move it into the container's scope (AttachProcessesToUnit), then
/// [`release`] it. Its stdio is /dev/null and stderr inherited until the
/// caller says otherwise.
pub fn helper(podctl: &Path, pid: u32, argv: &[String]) -> Helper {
    let mut args = vec!["__enter".to_string(), pid.to_string(), "--".to_string()];
    args.extend(argv.iter().cloned());
    Helper::new(podctl, args)
}

/// Lets the helper join the namespaces and run the command: as `spec` says
/// (`podctl exec`), or with an empty body, a probe's command at `/` with
/// the default PATH.
pub fn release(
    mut held: Box<dyn Held>,
    spec: Option<&ExecSpec>,
) -> std::io::Result<Box<dyn Process>> {
    let body = match spec {
        Some(s) => serde_json::to_vec(s).map_err(std::io::Error::other)?,
        None => Vec::new(),
    };
    held.go(&body)?;
    Ok(held.into_process())
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
    // Run by hand (no release pipe) or released with an empty body: a
    // probe's command.
    let body = super::held::wait_release().map_err(|e| crate::error_chain(&e))?;
    let spec = match body.filter(|b| !b.is_empty()) {
        Some(b) => Some(
            serde_json::from_slice::<ExecSpec>(&b).map_err(|e| format!("bad exec spec: {e}"))?,
        ),
        None => None,
    };
    let paths = super::Paths::from_env();
    // The PID is still the container's (not a process that got it since),
    // before anything is read through it.
    let pin = spec.as_ref().map_or(0, |s| s.pid_start);
    super::pin::check(&paths.host.proc, pid, pin).map_err(|e| e.to_string())?;
    // A container started by an OCI runtime: its `exec` gives the command
    // the container's namespaces, capabilities, seccomp filter and (unless
    // podctl exec says otherwise) user, workdir and environment; joining the
    // namespaces here would give it only the first.
    let dirs = crate::oci::Dirs::new(&paths.run);
    let cgroup =
        std::fs::read_to_string(paths.host.proc.join(format!("{pid}/cgroup"))).unwrap_or_default();
    if let Some(info) = crate::oci::launch::ExecInfo::for_cgroup(&dirs, &cgroup) {
        return Err(exec_through_runtime(&dirs, &info, spec.as_ref(), command));
    }
    let creds = match &spec {
        Some(s) => super::container::resolve_user(s.user.as_ref())?,
        None => None,
    };
    let opened = ns::open(&paths.host.proc, pid, kinds()).map_err(|e| crate::error_chain(&e))?;
    // And still after: the namespaces opened are the container's.
    super::pin::check(&paths.host.proc, pid, pin).map_err(|e| e.to_string())?;
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

/// Replaces this helper with `RUNTIME exec`; returns why it could not. With
/// an [`ExecSpec`], the process is the container's (capabilities...) with
/// podctl exec's argv, environment, workdir and user (a non-root user keeps
/// only the container's ambient capabilities), and its terminal.
fn exec_through_runtime(
    dirs: &crate::oci::Dirs,
    info: &crate::oci::launch::ExecInfo,
    spec: Option<&ExecSpec>,
    command: &[String],
) -> String {
    use std::os::unix::process::CommandExt;
    let tty = spec.is_some_and(|s| s.tty);
    let steps = || -> Result<std::process::Command, String> {
        let config = dirs.bundle(&info.id).join("config.json");
        let process = match spec {
            None => crate::oci::launch::exec_process(&config, command, None)?,
            Some(s) => {
                let creds = super::container::resolve_user(s.user.as_ref())?;
                let user = creds.as_ref().map(|c| crate::oci::HostUser {
                    uid: c.uid.as_raw(),
                    gid: c.gid.as_raw(),
                    additional_gids: c.groups.iter().map(|g| g.as_raw()).collect(),
                });
                let with = crate::oci::launch::ExecAs {
                    tty: s.tty,
                    env: &s.env,
                    workdir: &s.workdir,
                    user,
                };
                crate::oci::launch::exec_process(&config, command, Some(with))?
            }
        };
        // Handed over in memory (nothing left behind by a probe every 200 ms):
        // the runtime opens /proc/self/fd/N of the descriptor it inherits.
        let fd = nix::sys::memfd::memfd_create(c"podctl-exec", nix::sys::memfd::MFdFlags::empty())
            .map_err(|e| format!("memfd_create: {e}"))?;
        let mut file = std::fs::File::from(fd);
        std::io::Write::write_all(&mut file, process.as_bytes())
            .map_err(|e| format!("write the exec process: {e}"))?;
        let raw = std::os::fd::IntoRawFd::into_raw_fd(file);
        let process = format!("/proc/self/fd/{raw}");
        let pid_file = crate::oci::launch::exec_pid_file(dirs, &info.id, std::process::id());
        let cli = info.cli();
        Ok(if tty {
            let socket = dirs
                .bundle(&info.id)
                .join(format!("exec-{}.sock", std::process::id()));
            cli.exec_tty_command(&info.id, Path::new(&process), &pid_file, &socket)
        } else {
            cli.exec_process_command(&info.id, Path::new(&process), &pid_file)
        })
    };
    match steps() {
        Ok(cmd) if tty => {
            // The terminal is the runtime's, in the container's devpts: relay it.
            let socket = dirs
                .bundle(&info.id)
                .join(format!("exec-{}.sock", std::process::id()));
            match crate::oci::console::run(cmd, &socket) {
                Ok(code) => std::process::exit(code),
                Err(e) => e,
            }
        }
        Ok(mut cmd) => format!("cannot run {}: {}", info.program.display(), cmd.exec()),
        Err(e) => e,
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
