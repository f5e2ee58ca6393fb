//! The OCI runtime as an effect: create, start, kill, delete, exec and state
//! of one container, behind [`Runtime`] so that callers can be tested with
//! [`Fake`]. [`Cli`] drives an OCI-CLI-compatible binary (crun, runc, ...)
//! the way conmon does: `RUNTIME [global options] create --bundle B
//! --pid-file P ID`, then `start ID`.

mod cli;
mod fake;
pub use cli::Cli;
pub use fake::Fake;

use crate::model;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// How the runtime places the container in cgroups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CgroupMode {
    /// `--cgroup-manager=cgroupfs` (runc's only manager) with
    /// `linux.cgroupsPath` a leaf of the container's delegated scope.
    Cgroupfs,
    /// crun's `--cgroup-manager=disabled`: the container stays in its
    /// caller's cgroup (the scope); for hosts whose controllers cannot be
    /// delegated (cgroup v1 or hybrid).
    Disabled,
}

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error(
        "the OCI runtime {program} is not installed (not found{where_}){hint}",
        where_ = if program.starts_with('/') { String::new() } else { " in PATH".into() },
        hint = package.map(|p| format!("; install it with `apt-get install {p}`")).unwrap_or_default()
    )]
    Missing {
        program: String,
        package: Option<&'static str>,
    },
    #[error(
        "{program} cannot keep a container in its caller's cgroup (only crun has --cgroup-manager=disabled), and this host's cgroups cannot be delegated (cgroup v2 with controllers is needed); use runtime = \"crun\""
    )]
    NoCgroupManager { program: String },
    #[error("cannot run {program} {op} {id}")]
    Spawn {
        program: String,
        op: &'static str,
        id: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{program} {op} {id} failed ({status}): {message}")]
    Failed {
        program: String,
        op: &'static str,
        id: String,
        status: String,
        message: String,
    },
}

/// What [`Runtime::create`] makes a container from.
#[derive(Debug)]
pub struct NewContainer<'a> {
    /// The bundle: `config.json` and the root filesystem.
    pub bundle: &'a Path,
    /// Where the runtime writes the init's PID (in this PID namespace).
    pub pid_file: &'a Path,
    /// The container's stdin, stdout and stderr (the runtime's own, which
    /// the container's process inherits unless it has a terminal).
    pub stdin: Stdio,
    pub stdout: Stdio,
    pub stderr: Stdio,
    /// With a terminal (`process.terminal`): the unix socket, bound by the
    /// caller, to which the runtime sends the terminal's master.
    pub console_socket: Option<&'a Path>,
}

/// One container's runtime operations. `id` is the runtime's container ID.
pub trait Runtime {
    /// Creates the container (its init waits for `start`).
    fn create(&self, id: &str, new: NewContainer<'_>) -> Result<(), RuntimeError>;
    /// Runs the container's process.
    fn start(&self, id: &str) -> Result<(), RuntimeError>;
    /// [`Runtime::create`] then [`Runtime::start`], or one `run --detach`
    /// where the runtime has it, returned while the runtime may still be at
    /// work: its process outlives the container's start by a few
    /// milliseconds natively, ~100 ms under emulation. Either way the init
    /// ends up a child of the caller only once the runtime's processes have
    /// exited (the caller is a subreaper).
    fn run_detached<'a>(
        &'a self,
        id: &str,
        new: NewContainer<'_>,
    ) -> Result<Box<dyn Detaching + 'a>, RuntimeError> {
        self.create(id, new)?;
        self.start(id)?;
        Ok(Box::new(Done))
    }
    /// Sends `signal` to the container's init.
    fn kill(&self, id: &str, signal: i32) -> Result<(), RuntimeError>;
    /// Removes what the runtime keeps of the container (`force`: even running).
    fn delete(&self, id: &str, force: bool) -> Result<(), RuntimeError>;
    /// The command that runs `argv` in the running container (its
    /// namespaces, user, capabilities, seccomp filter and environment).
    fn exec_command(&self, id: &str, argv: &[String]) -> Command;
    /// The runtime's status word (`created`, `running`, `stopped`).
    fn state(&self, id: &str) -> Result<String, RuntimeError>;
}

/// A [`Runtime::run_detached`] under way.
pub trait Detaching {
    /// `None` while the runtime runs; its outcome once it has exited.
    fn try_wait(&mut self) -> Option<Result<(), RuntimeError>>;
}

/// A runtime that has done its part already.
struct Done;

impl Detaching for Done {
    fn try_wait(&mut self) -> Option<Result<(), RuntimeError>> {
        Some(Ok(()))
    }
}

/// Where a program would be run from: an absolute path as it is, a bare
/// name looked up in `path` (a PATH value).
pub fn locate(program: &str, path: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let executable = |p: &Path| {
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if program.starts_with('/') {
        let p = PathBuf::from(program);
        return executable(&p).then_some(p);
    }
    path.split(':')
        .filter(|d| !d.is_empty())
        .map(|d| Path::new(d).join(program))
        .find(|p| executable(p))
}

/// Checks that `runtime` can be run here (before anything is changed).
pub fn check_installed(runtime: &model::Runtime, path: &str) -> Result<PathBuf, RuntimeError> {
    locate(runtime.program(), path).ok_or_else(|| RuntimeError::Missing {
        program: runtime.program().to_string(),
        package: runtime.package(),
    })
}

#[cfg(test)]
mod tests;
