//! `podctl exec NAME CONTAINER -- CMD...`: run CMD in a container's
//! namespaces and scope. The helper (`podctl __enter`) is held on a pipe
//! until systemd has moved it into the container's scope.

use crate::runtime::Paths;
use crate::runtime::state::PodState;
use crate::systemd::Manager;
use anyhow::{Context, bail};
use std::io::Write;
use std::os::fd::AsRawFd;
use std::process::ExitCode;

pub fn exec(name: &str, container: &str, command: &[String]) -> ExitCode {
    match run(name, container, command) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("podctl: {}", crate::error_chain(e.as_ref()));
            ExitCode::from(125)
        }
    }
}

fn run(name: &str, container: &str, command: &[String]) -> anyhow::Result<u8> {
    let paths = Paths::from_env();
    let state =
        PodState::load(&paths.run, name).with_context(|| format!("pod {name:?} is not running"))?;
    let Some(c) = state.containers.iter().find(|c| c.name == container) else {
        let names: Vec<&str> = state.containers.iter().map(|c| c.name.as_str()).collect();
        bail!(
            "pod {name} has no container {container:?} (it has: {})",
            names.join(", ")
        );
    };
    if c.pid == 0 {
        bail!("container {name}/{container} is not running ({})", c.state);
    }
    let target = super::show::command_pid(c.pid);
    let mgr = super::connect()?;

    let (go_read, go_write) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).context("pipe")?;
    // The read end must survive exec in the helper.
    nix::fcntl::fcntl(
        &go_read,
        nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::empty()),
    )
    .context("fcntl")?;
    let mut child = std::process::Command::new(&paths.podctl)
        .arg("__enter")
        .arg(target.to_string())
        .arg("--")
        .args(command)
        .env("PODCTL_GO_FD", go_read.as_raw_fd().to_string())
        .spawn()
        .with_context(|| format!("cannot start {}", paths.podctl.display()))?;
    drop(go_read);
    if let Err(e) = mgr.attach(&c.unit, &[child.id()]) {
        let _ = child.kill();
        let _ = child.wait();
        return Err(e).context(format!("cannot move the exec helper into {}", c.unit));
    }
    std::fs::File::from(go_write)
        .write_all(b"g")
        .context("cannot release the exec helper")?;
    let status = child.wait().context("wait for exec helper")?;
    Ok(status.code().map_or(128, |c| c as u8))
}
