//! `podctl exec NAME CONTAINER -- CMD...`: run CMD in a container's
//! namespaces and scope. The helper (`podctl __enter`) is held on a pipe
//! until systemd has moved it into the container's scope.

use crate::runtime::Paths;
use crate::runtime::state::PodState;
use crate::systemd::Manager;
use anyhow::{Context, bail};
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
    // The container's command (what `pid` means in the state file).
    let target = c.pid;
    let mgr = super::connect()?;
    let held = crate::runtime::enter::spawn_held(
        &paths.podctl,
        target,
        command,
        std::process::Stdio::inherit,
    )
    .with_context(|| format!("cannot start {}", paths.podctl.display()))?;
    // A container with a cgroup of its own under the scope: the helper goes
    // into the scope's relay leaf (the runtime's exec then joins the container's).
    let dirs = crate::oci::Dirs::new(&paths.run);
    let sub = crate::oci::launch::ExecInfo::attach_point(&dirs, target);
    let mut child = match mgr.attach_sub(&c.unit, sub, &[held.child.id()]) {
        Ok(()) => held.release().context("cannot release the exec helper")?,
        Err(e) => {
            let mut child = held.child;
            let _ = child.kill();
            let _ = child.wait();
            return Err(e).context(format!("cannot move the exec helper into {}", c.unit));
        }
    };
    let status = child.wait().context("wait for exec helper")?;
    Ok(status.code().map_or(128, |c| c as u8))
}
