//! [`Cli`]: the runtime as an OCI-CLI-compatible binary (crun, runc, ...),
//! run the way conmon runs it.

use super::{CgroupMode, Detaching, NewContainer, Runtime, RuntimeError};
use crate::model;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A runtime binary run as a command line tool.
#[derive(Debug, Clone)]
pub struct Cli {
    pub program: PathBuf,
    /// `--root`: where the runtime keeps its state (podctl's own, so that
    /// podctl's containers are apart from anyone else's).
    pub state_root: PathBuf,
    /// `--log`: the runtime's own messages, read back when it fails.
    pub log: PathBuf,
    pub cgroups: CgroupMode,
    /// crun takes `--cgroup-manager`; runc (and others) are cgroupfs only.
    pub is_crun: bool,
}

impl Cli {
    /// For `runtime` at `program`; refuses a runtime that cannot work in `cgroups`.
    pub fn new(
        runtime: &model::Runtime,
        program: PathBuf,
        state_root: PathBuf,
        log: PathBuf,
        cgroups: CgroupMode,
    ) -> Result<Cli, RuntimeError> {
        let is_crun = match runtime {
            model::Runtime::Crun => true,
            model::Runtime::Runc => false,
            model::Runtime::Path(p) => p.rsplit('/').next().is_some_and(|n| n.starts_with("crun")),
        };
        if cgroups == CgroupMode::Disabled && !is_crun {
            return Err(RuntimeError::NoCgroupManager {
                program: runtime.program().to_string(),
            });
        }
        Ok(Cli {
            program,
            state_root,
            log,
            cgroups,
            is_crun,
        })
    }

    fn base(&self) -> Command {
        let mut c = Command::new(&self.program);
        // The supervisor's own socket (Type=notify): crun would take it as its
        // caller's and proxy the container's notifications to it.
        c.env_remove("NOTIFY_SOCKET");
        c.arg("--root").arg(&self.state_root);
        c.arg("--log").arg(&self.log);
        if self.is_crun {
            c.arg(match self.cgroups {
                CgroupMode::Cgroupfs => "--cgroup-manager=cgroupfs",
                CgroupMode::Disabled => "--cgroup-manager=disabled",
            });
        }
        c
    }

    /// `RUNTIME exec --process FILE --pid-file P ID`: the process described
    /// in FILE, its PID written to P.
    pub fn exec_process_command(&self, id: &str, process: &Path, pid_file: &Path) -> Command {
        let mut c = self.base();
        c.arg("exec")
            .arg("--process")
            .arg(process)
            .arg("--pid-file")
            .arg(pid_file)
            .arg(id);
        c
    }

    /// As [`Cli::exec_process_command`], with a terminal the runtime makes
    /// and sends over the unix socket `console`.
    pub fn exec_tty_command(
        &self,
        id: &str,
        process: &Path,
        pid_file: &Path,
        console: &Path,
    ) -> Command {
        let mut c = self.base();
        c.arg("exec")
            .arg("--tty")
            .arg("--console-socket")
            .arg(console)
            .arg("--process")
            .arg(process)
            .arg("--pid-file")
            .arg(pid_file)
            .arg(id);
        c
    }

    fn name(&self) -> String {
        self.program.display().to_string()
    }

    /// Runs `cmd` to completion; a failure carries the runtime's message
    /// (its stderr, else the last lines of its log).
    fn run(&self, mut cmd: Command, op: &'static str, id: &str) -> Result<String, RuntimeError> {
        let out = cmd
            .stdin(Stdio::null())
            .output()
            .map_err(|source| RuntimeError::Spawn {
                program: self.name(),
                op,
                id: id.to_string(),
                source,
            })?;
        if out.status.success() {
            return Ok(String::from_utf8_lossy(&out.stdout).into_owned());
        }
        Err(self.failure(op, id, &out.status, &out.stderr))
    }

    fn failure(
        &self,
        op: &'static str,
        id: &str,
        status: &std::process::ExitStatus,
        stderr: &[u8],
    ) -> RuntimeError {
        let mut message = String::from_utf8_lossy(stderr).trim().to_string();
        if message.is_empty() {
            message = log_tail(&self.log);
        }
        RuntimeError::Failed {
            program: self.name(),
            op,
            id: id.to_string(),
            status: status.to_string(),
            message: message.replace('\n', "; "),
        }
    }
}

/// The last few lines of a runtime log, for an error message.
fn log_tail(log: &Path) -> String {
    /// Lines of the runtime's log that explain a failure.
    const TAIL: usize = 3;
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let start = lines.len().saturating_sub(TAIL);
    if lines.is_empty() {
        "(no message)".into()
    } else {
        lines[start..].join("; ")
    }
}

impl Cli {
    /// `create` or `run --detach` of a new container from its bundle, started.
    fn new_container(
        &self,
        op: &'static str,
        flags: &[&str],
        id: &str,
        new: NewContainer<'_>,
    ) -> Result<Running<'_>, RuntimeError> {
        let _ = std::fs::remove_file(&self.log);
        let mut cmd = self.base();
        cmd.arg(op).args(flags);
        if let Some(socket) = new.console_socket {
            cmd.arg("--console-socket").arg(socket);
        }
        // No session keyring of its own: keyctl is denied in the container
        // (seccomp) anyway, and some hosts (systemd-nspawn) deny it to podctl.
        cmd.arg("--no-new-keyring")
            .arg("--bundle")
            .arg(new.bundle)
            .arg("--pid-file")
            .arg(new.pid_file)
            .arg(id)
            .stdin(new.stdin)
            .stdout(new.stdout)
            .stderr(new.stderr);
        let spawn = |source| RuntimeError::Spawn {
            program: self.name(),
            op,
            id: id.to_string(),
            source,
        };
        let child = cmd.spawn().map_err(spawn)?;
        Ok(Running {
            cli: self,
            op,
            id: id.to_string(),
            child,
        })
    }
}

/// A runtime process making a container.
struct Running<'a> {
    cli: &'a Cli,
    op: &'static str,
    id: String,
    child: std::process::Child,
}

impl Running<'_> {
    fn outcome(
        &self,
        status: std::io::Result<std::process::ExitStatus>,
    ) -> Result<(), RuntimeError> {
        match status {
            Ok(st) if st.success() => Ok(()),
            // stderr went to the container's log pipe: the message is in the log.
            Ok(st) => Err(self.cli.failure(self.op, &self.id, &st, b"")),
            Err(source) => Err(RuntimeError::Spawn {
                program: self.cli.name(),
                op: self.op,
                id: self.id.clone(),
                source,
            }),
        }
    }

    fn wait(mut self) -> Result<(), RuntimeError> {
        let status = self.child.wait();
        self.outcome(status)
    }
}

/// Dropped while the runtime runs, its process is left to the caller, a
/// subreaper that reaps it (the container's relay).
impl Detaching for Running<'_> {
    fn try_wait(&mut self) -> Option<Result<(), RuntimeError>> {
        match self.child.try_wait() {
            Ok(None) => None,
            Ok(Some(st)) => Some(self.outcome(Ok(st))),
            Err(e) => Some(self.outcome(Err(e))),
        }
    }
}

impl Runtime for Cli {
    fn create(&self, id: &str, new: NewContainer<'_>) -> Result<(), RuntimeError> {
        self.new_container("create", &[], id, new)?.wait()
    }

    /// `run --detach`: one runtime process where `create` + `start` are two
    /// (each costs tens of milliseconds natively, a second or more under
    /// emulation). The init is a child of the runtime's own process; once
    /// that exits, the init is reparented to the caller, a subreaper (the
    /// relay, which reaps that process too).
    fn run_detached<'a>(
        &'a self,
        id: &str,
        new: NewContainer<'_>,
    ) -> Result<Box<dyn Detaching + 'a>, RuntimeError> {
        Ok(Box::new(self.new_container(
            "run",
            &["--detach"],
            id,
            new,
        )?))
    }
    fn start(&self, id: &str) -> Result<(), RuntimeError> {
        let mut c = self.base();
        c.args(["start", id]);
        self.run(c, "start", id).map(drop)
    }

    fn kill(&self, id: &str, signal: i32) -> Result<(), RuntimeError> {
        let mut c = self.base();
        c.args(["kill", id, &signal.to_string()]);
        self.run(c, "kill", id).map(drop)
    }

    fn delete(&self, id: &str, force: bool) -> Result<(), RuntimeError> {
        // crun and runc keep a container's state in ROOT/ID: nothing to delete
        // without it (and one runtime process fewer per container start).
        if !self.state_root.join(id).exists() {
            return Ok(());
        }
        let mut c = self.base();
        c.arg("delete");
        if force {
            c.arg("--force");
        }
        c.arg(id);
        self.run(c, "delete", id).map(drop)
    }

    fn exec_command(&self, id: &str, argv: &[String]) -> Command {
        let mut c = self.base();
        c.args(["exec", id]).args(argv);
        c
    }

    fn state(&self, id: &str) -> Result<String, RuntimeError> {
        let mut c = self.base();
        c.args(["state", id]);
        let out = self.run(c, "state", id)?;
        let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_default();
        Ok(v["status"].as_str().unwrap_or("unknown").to_string())
    }
}
