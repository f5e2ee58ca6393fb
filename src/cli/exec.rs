//! `podctl exec [-i] [-t] [-u USER] [-e K=V]... [-w DIR] NAME CONTAINER -- CMD...`:
//! run CMD in a container's namespaces and scope, as the container's user
//! with its environment and workdir (as `docker exec`), the options on top.
//! Nothing of the caller's environment reaches the command. The helper
//! (`podctl __enter`) is held on a pipe until systemd has moved it into the
//! container's scope; the pipe then carries the [`ExecSpec`].

use crate::layout::Layout;
use crate::plan::ProcessPlan;
use crate::supervise::enter::ExecSpec;
use crate::supervise::process::{Output, Spawner};
use crate::supervise::state::PodState;
use crate::systemd::Manager;
use anyhow::{Context, bail};
use std::process::{ExitCode, Stdio};

/// What the command line asked for.
#[derive(Debug, Clone, Default)]
pub struct ExecRequest {
    pub pod: String,
    pub container: String,
    pub command: Vec<String>,
    pub interactive: bool,
    pub tty: bool,
    pub user: Option<String>,
    /// `KEY=VALUE`, applied in order over the container's environment.
    pub env: Vec<String>,
    pub workdir: Option<String>,
}

/// Exit status when podctl itself fails (as `docker exec`: 125).
const EXIT_PODCTL_FAILED: u8 = 125;

pub fn exec(paths: &Layout, req: &ExecRequest) -> ExitCode {
    match run(paths, req) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("podctl: {}", crate::error_chain(e.as_ref()));
            ExitCode::from(EXIT_PODCTL_FAILED)
        }
    }
}

/// The container's process as its pod file defines it (the definition the
/// supervisor runs, else the stored one).
pub fn container_process(
    paths: &Layout,
    state: &PodState,
    container: &str,
) -> anyhow::Result<ProcessPlan> {
    let pod = &state.pod;
    let stored = paths.definition(pod);
    let text = if state.definition.is_empty() {
        std::fs::read_to_string(&stored)
            .with_context(|| format!("cannot read {}", stored.display()))?
    } else {
        state.definition.clone()
    };
    let model = crate::spec::parse_str(&text, &stored.display().to_string(), pod)
        .with_context(|| format!("the definition of pod {pod} does not parse"))?;
    // An image container's env, user and workdir are its image's defaults,
    // as the supervisor assembled them (or, before it saved them, the store's).
    let facts = if state.facts.is_empty() {
        let pins = paths.revisions_of(pod).pins().unwrap_or_default();
        crate::image::facts::if_stored(&paths.images, &model, &pins)
    } else {
        state.facts.clone()
    };
    let plan = crate::plan::assemble(&model, &facts);
    plan.containers
        .into_iter()
        .find(|c| c.name == container)
        .map(|c| c.process)
        .with_context(|| format!("pod {pod}'s definition has no container {container:?}"))
}

/// The command's environment, user and workdir: the container's, with the
/// request's overrides. Pure.
pub fn exec_spec(base: &ProcessPlan, req: &ExecRequest) -> anyhow::Result<ExecSpec> {
    let mut env = base.env.clone();
    for kv in &req.env {
        let Some((k, v)) = kv.split_once('=') else {
            bail!("--env {kv:?}: expected KEY=VALUE");
        };
        if k.is_empty() || k.contains('\0') {
            bail!("--env {kv:?}: bad variable name");
        }
        env.retain(|(ek, _)| ek != k);
        env.push((k.to_string(), v.to_string()));
    }
    env.sort();
    let user = match &req.user {
        Some(u) => Some(
            crate::spec::names::parse_user(u)
                .with_context(|| format!("--user {u:?}: expected a name, uid or uid:gid"))?,
        ),
        None => base.user.clone(),
    };
    Ok(ExecSpec {
        env,
        workdir: req.workdir.clone().unwrap_or_else(|| base.workdir.clone()),
        user,
        groups: base.groups.clone(),
        tty: req.tty,
        pid_start: 0,
    })
}

/// In an image container (its bundle's root is an overlay), a user name is
/// the image's: looked up in its /etc/passwd and /etc/group, as at start.
fn image_user_to_ids(bundle: &std::path::Path, spec: &mut ExecSpec) -> anyhow::Result<()> {
    use crate::image::overlay::Mounter;
    let rootfs = bundle.join("rootfs");
    if matches!(spec.user, Some(crate::model::User::Name(_)))
        && crate::mount::SystemMounts.is_mounted(&rootfs)
    {
        let ids = crate::image::users::resolve(&rootfs, spec.user.as_ref())
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        spec.user = Some(crate::model::User::Id {
            uid: ids.uid,
            gid: Some(ids.gid),
        });
    }
    Ok(())
}

fn run(paths: &Layout, req: &ExecRequest) -> anyhow::Result<u8> {
    super::check_owner("exec")?;
    let (name, container) = (req.pod.as_str(), req.container.as_str());
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
    let mut spec = exec_spec(&container_process(paths, &state, container)?, req)?;
    // The container's command (what `pid` means in the state file), pinned
    // by its start time: the helper checks it again around opening the
    // namespaces.
    let target = c.pid;
    spec.pid_start = c.pid_start;
    crate::supervise::pin::check(&paths.host.proc, target, c.pid_start)
        .with_context(|| format!("container {name}/{container} cannot be entered"))?;
    let dirs = paths.oci();
    image_user_to_ids(&dirs.bundle(&format!("{name}.{container}")), &mut spec)?;
    let mgr = super::connect()?;
    let terminal = if req.tty {
        Some(super::pty::Terminal::open().context("cannot open a pseudo-terminal")?)
    } else {
        None
    };
    let stdio = |stdin: bool| -> Stdio {
        match &terminal {
            Some(t) => t.slave_stdio(),
            None if stdin && !req.interactive => Stdio::null(),
            None => Stdio::inherit(),
        }
    };
    // No environment but the release pipe's: the command's comes in the ExecSpec.
    let mut helper = crate::supervise::enter::helper(&paths.podctl, target, &req.command);
    helper.clear_env = true;
    helper.stdin = stdio(true);
    helper.stdout = Output::To(stdio(false));
    helper.stderr = stdio(false);
    let held = crate::supervise::process::OsProcesses
        .held(helper)
        .with_context(|| format!("cannot start {}", paths.podctl.display()))?;
    // A container with a cgroup of its own under the scope: the helper goes
    // into the scope's relay leaf (the runtime's exec then joins the container's).
    let sub = crate::oci::launch::ExecInfo::attach_point(&dirs, target);
    // Not attached: the held helper is dropped, killed and reaped.
    held.attach(&mgr, &c.unit, sub)
        .with_context(|| format!("cannot move the exec helper into {}", c.unit))?;
    let mut child = crate::supervise::enter::release(held, Some(&spec))
        .context("cannot release the exec helper")?;
    // Nothing more to ask systemd: no connection held while the command runs.
    mgr.idle();
    if let Some(t) = terminal {
        t.relay(req.interactive)
            .context("relaying the command's terminal")?;
    }
    let status = child.wait().context("wait for exec helper")?;
    Ok(status.code().map_or(128, |c| c as u8))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> ProcessPlan {
        let src = "[containers.app]\ncommand = [\"sleep\", \"1\"]\nuser = \"nobody\"\n\
                   workdir = \"/srv\"\nenv = { GREETING = \"hi\", LEVEL = \"1\" }\n";
        let pod = crate::spec::parse_str(src, "p.toml", "p").unwrap();
        crate::plan::build(&pod).containers.remove(0).process
    }

    #[test]
    fn the_containers_user_env_and_workdir_by_default() {
        let req = ExecRequest {
            command: vec!["env".into()],
            ..Default::default()
        };
        let spec = exec_spec(&base(), &req).unwrap();
        assert_eq!(spec.user, Some(crate::model::User::Name("nobody".into())));
        assert_eq!(spec.workdir, "/srv");
        let keys: Vec<&str> = spec.env.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["GREETING", "LEVEL", "PATH", "container"]);
        assert!(!spec.tty);
    }

    #[test]
    fn options_override() {
        let req = ExecRequest {
            user: Some("0:0".into()),
            env: vec!["LEVEL=2".into(), "EXTRA=a=b".into()],
            workdir: Some("/tmp".into()),
            tty: true,
            ..Default::default()
        };
        let spec = exec_spec(&base(), &req).unwrap();
        assert_eq!(
            spec.user,
            Some(crate::model::User::Id {
                uid: 0,
                gid: Some(0)
            })
        );
        assert_eq!(spec.workdir, "/tmp");
        assert!(spec.env.contains(&("LEVEL".into(), "2".into())));
        assert!(spec.env.contains(&("EXTRA".into(), "a=b".into())));
        assert!(!spec.env.contains(&("LEVEL".into(), "1".into())));
        assert!(spec.tty);
        let bad = ExecRequest {
            env: vec!["NOEQUALS".into()],
            ..Default::default()
        };
        assert!(exec_spec(&base(), &bad).is_err());
        let bad = ExecRequest {
            user: Some("bad user".into()),
            ..Default::default()
        };
        assert!(exec_spec(&base(), &bad).is_err());
    }
}
