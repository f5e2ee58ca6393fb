//! `podctl start|stop|restart NAME...|--all`: the pods' `pod@NAME.service`
//! through systemd, as `systemctl` would, refusing names podctl does not
//! know (no stored definition and no loaded unit) before touching any.
//! `down` and `rm` (see [`super::down`]) pick their pods the same way.

use super::args::ControlArgs;
use crate::plan::units;
use crate::runtime::Paths;
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

/// The pods podctl knows: stored definitions and loaded `pod@*.service`
/// units (a pod whose definition was removed by hand still runs), sorted.
pub fn known_pods(mgr: &dyn Manager, paths: &Paths) -> anyhow::Result<Vec<String>> {
    let mut names = crate::apply::stored_pods(paths)?;
    for u in mgr.list_units(&["pod@*.service"])? {
        if let Some(n) = u
            .name
            .strip_prefix("pod@")
            .and_then(|n| n.strip_suffix(".service"))
        {
            names.push(n.to_string());
        }
    }
    names.sort();
    names.dedup();
    Ok(names)
}

/// The pods to act on: every known pod for `all`, else `names` (each
/// once, in the order given), all of them known; the error names every
/// unknown one.
pub fn select(
    mgr: &dyn Manager,
    paths: &Paths,
    names: &[String],
    all: bool,
) -> anyhow::Result<Vec<String>> {
    if all {
        return known_pods(mgr, paths);
    }
    let mut picked: Vec<String> = Vec::new();
    let mut unknown: Vec<String> = Vec::new();
    for name in names {
        if picked.contains(name) || unknown.contains(name) {
            continue;
        }
        let stored = paths.definition(name).exists();
        if stored || mgr.status(&units::service(name))?.is_some() {
            picked.push(name.clone());
        } else {
            unknown.push(name.clone());
        }
    }
    match unknown.as_slice() {
        [] => Ok(picked),
        [one] => bail!(
            "no pod named {one:?} (no {} and no {})",
            paths.definition(one).display(),
            units::service(one)
        ),
        many => bail!(
            "no pods named {} (no definitions in {} and no pod@ units)",
            many.iter()
                .map(|n| format!("{n:?}"))
                .collect::<Vec<_>>()
                .join(", "),
            paths.store.display()
        ),
    }
}

/// Starts, stops or restarts each pod's service, under its pod lock (as
/// `apply` and `down` take it); prints `NAME: started` (...) per pod.
/// Stops also clear a failed state, so `ps` shows the pod as stopped;
/// restarts clear it first.
/// Restarts and starts need the stored definition.
pub fn control_with(
    mgr: &dyn Manager,
    paths: &Paths,
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
            Action::Start => mgr.start_unit(&service)?,
            Action::Restart => {
                mgr.reset_failed(&service)?;
                mgr.restart_unit(&service)?;
            }
        }
        writeln!(out, "{name}: {}", action.done())?;
    }
    Ok(())
}

pub fn control(
    paths: &Paths,
    action: Action,
    args: &ControlArgs,
    early: super::Early,
) -> anyhow::Result<()> {
    super::require_root(action.command())?;
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
    paths: &Paths,
    action: Action,
    args: &ControlArgs,
) -> anyhow::Result<Vec<String>> {
    if args.all && action != Action::Stop {
        return crate::apply::stored_pods(paths);
    }
    select(mgr, paths, &args.names, args.all)
}

#[cfg(test)]
mod tests;
