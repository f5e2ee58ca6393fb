//! `podctl __enter PID -- CMD...`: joins every namespace of PID (in setns
//! order, all opened first), forks so a PID namespace applies, and runs CMD.
//! Started by `podctl exec`, which releases it (PODCTL_GO_FD) once it is in
//! the container's scope.

use super::ns;
use crate::plan::NsKind;
use std::ffi::CString;
use std::io::Read;
use std::os::fd::FromRawFd;
use std::path::Path;

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

impl Held {
    /// Lets the helper join the namespaces and run the command.
    pub fn release(mut self) -> std::io::Result<std::process::Child> {
        use std::io::Write;
        self.go.write_all(b"g")?;
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
    if let Some(fd) = std::env::var("PODCTL_GO_FD")
        .ok()
        .and_then(|v| v.parse::<i32>().ok())
    {
        // SAFETY: podctl exec passed us this inherited pipe end; we own it now.
        let mut go = unsafe { std::fs::File::from_raw_fd(fd) };
        let mut b = [0u8; 1];
        if go.read(&mut b).map_err(|e| e.to_string())? != 1 {
            return Err("podctl exec went away before releasing us".into());
        }
    }
    // A container started by an OCI runtime: its `exec` gives the command
    // the container's namespaces, user, capabilities, seccomp filter and
    // environment (joining the namespaces here would give it only the first).
    let dirs = crate::oci::Dirs::new(&super::Paths::from_env().run);
    let cgroup = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap_or_default();
    if let Some(info) = crate::oci::launch::ExecInfo::for_cgroup(&dirs, &cgroup) {
        use crate::oci::runtime::Runtime;
        use std::os::unix::process::CommandExt;
        let e = info.cli().exec_command(&info.id, command).exec();
        return Err(format!("cannot run {}: {e}", info.program.display()));
    }
    let opened = ns::open(Path::new("/proc"), pid, kinds()).map_err(|e| crate::error_chain(&e))?;
    opened.join().map_err(|e| crate::error_chain(&e))?;
    let argv: Vec<CString> = command
        .iter()
        .map(|a| CString::new(a.as_str()).map_err(|_| format!("{a:?} contains NUL")))
        .collect::<Result<_, _>>()?;
    // SAFETY: this helper is single-threaded; the child only execs.
    match unsafe { nix::unistd::fork() }.map_err(|e| format!("fork: {e}"))? {
        nix::unistd::ForkResult::Child => {
            let _ = nix::unistd::chdir("/");
            // SAFETY: single-threaded child, before exec.
            unsafe { std::env::set_var("PATH", crate::plan::DEFAULT_PATH) };
            let e = nix::unistd::execvp(&argv[0], &argv).unwrap_err();
            eprintln!("podctl exec: cannot execute {}: {e}", command[0]);
            std::process::exit(127)
        }
        nix::unistd::ForkResult::Parent { child } => loop {
            match nix::sys::wait::waitpid(child, None) {
                Ok(nix::sys::wait::WaitStatus::Exited(_, code)) => return Ok(code),
                Ok(nix::sys::wait::WaitStatus::Signaled(_, sig, _)) => return Ok(128 + sig as i32),
                Ok(_) | Err(nix::Error::EINTR) => continue,
                Err(e) => return Err(format!("waitpid: {e}")),
            }
        },
    }
}
