//! `podctl __enter PID -- CMD...`: runs CMD in the container PID is in,
//! through the OCI runtime that started it (`RUNTIME exec`): with the
//! container's namespaces, capabilities and seccomp filter. Started by
//! `podctl exec` (and exec probes) held, released once it is in the
//! container's scope ([`super::held`]). `podctl exec`'s release body is an
//! [`ExecSpec`]: the command then runs with exactly that environment, user
//! and workdir, nothing inherited; a probe's is empty (the container's
//! own). A PID in no container started by a runtime is an error saying so:
//! a command never enters a container any other way.

use super::process::{Held, Helper, Process};
use crate::model::User;
use crate::oci::Dirs;
use crate::oci::launch::ExecInfo;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// How `podctl exec` wants the command run (sent as JSON on the go pipe).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecSpec {
    /// The complete environment (the container's, with --env on top).
    pub env: Vec<(String, String)>,
    pub workdir: String,
    pub user: Option<User>,
    /// The pod's supplemental groups (`fs_group`, `supplemental_groups`),
    /// which its processes have besides the user's own.
    #[serde(default)]
    pub groups: Vec<u32>,
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

/// Lets the helper run the command through the container's runtime: as
/// `spec` says (`podctl exec`), or with an empty body, a probe's command as
/// the container's own process runs (its user, workdir and environment).
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

pub fn main(pid: u32, command: &[String]) -> ! {
    let Err(e) = run(pid, command);
    eprintln!("podctl exec: {e}");
    std::process::exit(125)
}

fn run(pid: u32, command: &[String]) -> Result<std::convert::Infallible, String> {
    // Run by hand (no release pipe) or released with an empty body: a
    // probe's command.
    let body = super::held::wait_release().map_err(|e| crate::error_chain(&e))?;
    let spec = match body.filter(|b| !b.is_empty()) {
        Some(b) => Some(
            serde_json::from_slice::<ExecSpec>(&b).map_err(|e| format!("bad exec spec: {e}"))?,
        ),
        None => None,
    };
    let paths = crate::layout::Layout::from_env();
    // The PID is still the container's (not a process that got it since),
    // before anything is read through it.
    let pin = spec.as_ref().map_or(0, |s| s.pid_start);
    super::pin::check(&paths.host.proc, pid, pin).map_err(|e| e.to_string())?;
    let dirs = paths.oci();
    let info = runtime_of(&paths.host.proc, &dirs, pid)?;
    Err(exec_through_runtime(&dirs, &info, spec.as_ref(), command))
}

/// How to reach the runtime of the container process `pid` is in: its
/// scope names the container, whose bundle records the runtime
/// (`runtime.json`). `proc`: procfs.
fn runtime_of(proc: &Path, dirs: &Dirs, pid: u32) -> Result<ExecInfo, String> {
    let path = proc.join(format!("{pid}/cgroup"));
    let cgroup = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    ExecInfo::for_cgroup(dirs, &cgroup).ok_or_else(|| {
        format!(
            "process {pid} is in no container started by an OCI runtime (cgroup {}; \
             no runtime.json under {}): nothing can run in it",
            cgroup.trim().replace('\n', ", "),
            dirs.run.join("oci").display()
        )
    })
}

/// Replaces this helper with `RUNTIME exec`; returns why it could not. With
/// an [`ExecSpec`], the process is the container's (capabilities...) with
/// podctl exec's argv, environment, workdir and user (a non-root user keeps
/// only the container's ambient capabilities), and its terminal.
fn exec_through_runtime(
    dirs: &Dirs,
    info: &ExecInfo,
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
                let user = super::container::resolve_user(s.user.as_ref())?;
                let user = match (user, s.groups.is_empty()) {
                    (user, true) => user,
                    (user, false) => Some(
                        user.unwrap_or_else(super::container::root)
                            .with_groups(&s.groups),
                    ),
                };
                let with = crate::oci::launch::ExecAs {
                    tty: s.tty,
                    // This helper's stdin is the terminal `podctl exec` opened.
                    console_size: crate::oci::console::window_size(0),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A process in no container's scope (this test's) cannot be entered,
    /// and the error says why.
    #[test]
    fn a_process_outside_any_container_is_refused() {
        let dir = std::env::temp_dir().join(format!("podctl-enter-{}", std::process::id()));
        let dirs = Dirs {
            run: dir.join("run"),
            lib: dir.join("lib"),
            net: dir.join("run").join("net"),
        };
        let me = std::process::id();
        let e = runtime_of(Path::new("/proc"), &dirs, me).unwrap_err();
        assert!(
            e.contains(&format!(
                "process {me} is in no container started by an OCI runtime"
            )),
            "{e}"
        );
        let e = runtime_of(&dir.join("proc"), &dirs, me).unwrap_err();
        assert!(e.contains("cannot read"), "{e}");
    }
}
