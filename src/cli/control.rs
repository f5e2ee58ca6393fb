//! `podctl start|stop|restart NAME...|--all`: the pods' `pod@NAME.service`
//! through systemd, as `systemctl` would, refusing names podctl does not
//! know (no stored definition and no loaded unit) before touching any.
//! `down` and `rm` (see [`super::down`]) pick their pods the same way.

use super::args::ControlArgs;
use crate::layout::Layout;
use crate::plan::units;
use crate::systemd::Manager;
use anyhow::bail;

/// What to ask of systemd for each pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Start,
    Stop,
    Restart,
}

impl Action {
    fn command(self) -> &'static str {
        match self {
            Action::Start => "start",
            Action::Stop => "stop",
            Action::Restart => "restart",
        }
    }

    fn done(self) -> &'static str {
        match self {
            Action::Start => "started",
            Action::Stop => "stopped",
            Action::Restart => "restarted",
        }
    }
}

/// Starts, stops or restarts each pod's service, under its pod lock (as
/// `apply` and `down` take it); prints `NAME: started` (...) per pod.
/// Stops also clear a failed state, so `ps` shows the pod as stopped;
/// restarts clear it first.
/// Restarts and starts need the stored definition; they link the pod to
/// start with the pods it needs again, as apply does (`down` unlinked it).
pub fn control_with(
    mgr: &dyn Manager,
    paths: &Layout,
    action: Action,
    pods: &[String],
    out: &mut dyn std::io::Write,
) -> anyhow::Result<()> {
    for name in pods {
        let service = units::service(name);
        if action != Action::Stop && !paths.definition(name).exists() {
            bail!(
                "cannot {} pod {name:?}: no stored definition {} (apply its file)",
                action.command(),
                paths.definition(name).display()
            );
        }
        let _lock = crate::apply::lock_pod(paths, name)?;
        // One restart job, as `systemctl restart`: the new supervisor waits
        // for the pod's slice, which the restart reaches too, to be gone.
        // A failed pod is reset first (a start limit hit would refuse it).
        match action {
            Action::Stop => {
                mgr.stop_unit(&service)?;
                mgr.reset_failed(&service)?;
            }
            Action::Start => {
                crate::apply::needs::relink(mgr, paths, name)?;
                mgr.start_unit(&service)?
            }
            Action::Restart => {
                crate::apply::needs::relink(mgr, paths, name)?;
                mgr.reset_failed(&service)?;
                mgr.restart_unit(&service)?;
            }
        }
        writeln!(out, "{name}: {}", action.done())?;
    }
    Ok(())
}

pub fn control(
    paths: &Layout,
    action: Action,
    args: &ControlArgs,
    early: super::Early,
) -> anyhow::Result<()> {
    super::check_owner(action.command())?;
    let mgr = early.connect()?;
    let pods = targets(&mgr, paths, action, args)?;
    control_with(&mgr, paths, action, &pods, &mut std::io::stdout())
}

/// The pods an action acts on. `start --all` and `restart --all`: the
/// stored pods, for a unit systemd still has loaded for a pod that was
/// removed (`rm` stopped it, systemd has not forgotten it yet) has nothing
/// to start from; `stop --all`: every known pod.
pub fn targets(
    mgr: &dyn Manager,
    paths: &Layout,
    action: Action,
    args: &ControlArgs,
) -> anyhow::Result<Vec<String>> {
    if args.all && action != Action::Stop {
        return crate::apply::stored_pods(paths);
    }
    crate::apply::select(mgr, paths, &args.names, args.all)
}

#[cfg(test)]
mod tests;
