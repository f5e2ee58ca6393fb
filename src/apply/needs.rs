//! `needs` and `wants` carried out: the pods the store holds and what they
//! need, the order apply takes pods in, their drop-ins for systemd
//! (`dropin::Part::Needs`, one daemon-reload per apply), and which pods
//! `down` may stop. What is decided is pure, in [`crate::plan::needs`].

use super::dropin::{self, Part};
use super::{Applier, Definition, Planned};
use crate::layout::Layout;
use crate::plan::needs::{self, Deps, Pods};
use crate::plan::units;
use crate::systemd::Manager;
use anyhow::Context;

/// What each stored pod needs and wants. A stored file that no longer
/// reads (an older podctl's, edited by hand) needs nothing.
pub fn stored(paths: &Layout) -> anyhow::Result<Pods> {
    let mut out = Pods::new();
    for name in super::stored_pods(paths)? {
        let file = paths.definition(&name);
        let deps = std::fs::read_to_string(&file)
            .ok()
            // Only a file that says `needs` or `wants` can need a pod:
            // the others (most) are not parsed, as `down` reads them all.
            .filter(|text| text.contains("needs") || text.contains("wants"))
            .and_then(|text| crate::spec::parse_str(&text, &file.display().to_string(), &name).ok())
            .map(|pod| Deps::of(&pod))
            .unwrap_or_default();
        out.insert(name, deps);
    }
    Ok(out)
}

/// `definitions` in the order apply takes them: each pod after those it
/// needs or wants. A need neither stored nor applied, or a cycle, is the
/// error, before anything is changed.
pub fn in_order(definitions: Vec<Definition>, paths: &Layout) -> anyhow::Result<Vec<Definition>> {
    // Pods that need and want nothing stay in the order given, whatever
    // the store holds: it is not read (at 1,000 pods, 1,000 files an apply).
    if definitions
        .iter()
        .all(|d| d.pod.needs.is_empty() && d.pod.wants.is_empty())
    {
        return Ok(definitions);
    }
    let pods: Vec<&crate::model::Pod> = definitions.iter().map(|d| &d.pod).collect();
    let order = needs::apply_order(&pods, &stored(paths)?)
        .map_err(|e| anyhow::anyhow!("{e}\nnothing was changed"))?;
    let mut slots: Vec<Option<Definition>> = definitions.into_iter().map(Some).collect();
    Ok(order.into_iter().filter_map(|i| slots[i].take()).collect())
}

/// `apply --prune DIR`: the stored pods applied from `dir` that `applying`
/// does not define, in the order to remove them (dependents first). A pod
/// that stays stored and needs one of them, as the apply leaves it, is
/// refused, naming both, before anything is changed.
pub fn pruned(
    paths: &Layout,
    dir: &str,
    applying: &[&crate::model::Pod],
) -> anyhow::Result<Vec<String>> {
    let mut pods = stored(paths)?;
    let gone: Vec<String> = pods
        .keys()
        .filter(|name| !applying.iter().any(|p| p.name == **name))
        .filter(|name| {
            std::fs::read_to_string(super::source_path(paths, name)).is_ok_and(|s| s == dir)
        })
        .cloned()
        .collect();
    for p in applying {
        pods.insert(p.name.clone(), Deps::of(p));
    }
    needs::prune_order(&gone, &pods).map_err(|e| anyhow::anyhow!("{e}\nnothing was changed"))
}

/// `podctl start` (or `restart`) of pod `name`, stored: the links `down`
/// removed come back, as apply makes them, so that it starts again with
/// the pods it needs; so do the links of the pods that need it and run
/// (started by hand after a down). A pod that needs it and is down stays
/// down. systemd rereads them (one daemon-reload) when one changed.
pub fn relink(mgr: &dyn Manager, paths: &Layout, name: &str) -> anyhow::Result<()> {
    let pods = stored(paths)?;
    let mut changed = false;
    if let Some(deps) = pods.get(name) {
        changed |= links(paths, name, &needs::links_of(name, &deps.needs))
            .with_context(|| format!("pod {name}: cannot link it to what it needs"))?;
    }
    let dependents = needs::needed_by(&pods, name);
    if !dependents.is_empty() {
        let running = running(mgr)?;
        for d in dependents {
            if running.contains(&units::service(d)) {
                changed |= links(paths, d, &needs::links_of(d, &pods[d].needs))
                    .with_context(|| format!("pod {d}: cannot link it to what it needs"))?;
            }
        }
    }
    if changed {
        mgr.reload().context("daemon-reload")?;
    }
    Ok(())
}

/// The pods' services that run or are starting.
fn running(mgr: &dyn Manager) -> anyhow::Result<Vec<String>> {
    use crate::systemd::ActiveState::*;
    Ok(mgr
        .list_units(&[&units::service("*")])?
        .into_iter()
        // Starting counts: it is about to run.
        .filter(|u| matches!(u.active_state, Active | Reloading | Activating))
        .map(|u| u.name)
        .collect())
}

impl Applier<'_> {
    /// Writes the needs drop-in of every planned pod (removes it from a pod
    /// that needs nothing any more) and, when one changed, has systemd read
    /// them (one daemon-reload) before any pod is started.
    pub fn write_needs(&self, planned: &[Planned]) -> anyhow::Result<()> {
        let mut changed = false;
        for p in planned {
            let pod = &p.definition.pod;
            let text = needs::dropin(pod);
            changed |= dropin::write(self.paths, &pod.name, Part::Needs, text.as_deref())
                .with_context(|| format!("pod {}: cannot write its drop-in", pod.name))?;
            // Links to pods it no longer needs go now; new ones come after
            // the starts ([`Applier::link_needs`]).
            let keep: Vec<_> = needs::comes_back_with(pod)
                .into_iter()
                .filter(|(dir, file)| {
                    self.paths
                        .units
                        .join(dir)
                        .join(file)
                        .symlink_metadata()
                        .is_ok()
                })
                .collect();
            changed |= links(self.paths, &pod.name, &keep)
                .with_context(|| format!("pod {}: cannot unlink it", pod.name))?;
        }
        if changed {
            self.mgr.reload().context("daemon-reload")?;
        }
        Ok(())
    }

    /// Once every pod is applied: links each into what it needs, so that it
    /// starts whenever they do. Not before the starts: the start of a needed
    /// pod would start its dependents with it, before apply stored them.
    pub fn link_needs(&self, planned: &[Planned]) -> anyhow::Result<()> {
        let mut changed = false;
        for p in planned {
            let pod = &p.definition.pod;
            changed |= links(self.paths, &pod.name, &needs::comes_back_with(pod))
                .with_context(|| format!("pod {}: cannot link it to what it needs", pod.name))?;
        }
        if changed {
            self.mgr.reload().context("daemon-reload")?;
        }
        Ok(())
    }

    /// After a down: `name` no longer starts with the pods it needs; after
    /// a purge, podctl's drop-ins of `name` go too. systemd rereads them.
    pub(super) fn forget_needs(&self, name: &str, purge: bool) -> anyhow::Result<()> {
        let mut changed = links(self.paths, name, &[])?;
        if purge {
            changed |= dropin::remove_all(self.paths, name)?;
        }
        if changed {
            self.mgr.reload().context("daemon-reload")?;
        }
        Ok(())
    }
}

/// Makes the links of pod `name` in other pods' `.wants` directories be
/// exactly `wanted` ([`needs::comes_back_with`]); returns whether any
/// changed. Only links named `pod@NAME.service` in `pod@*.service.wants`
/// are touched, and an emptied directory goes.
fn links(paths: &Layout, name: &str, wanted: &[(String, String)]) -> anyhow::Result<bool> {
    let own = units::service(name);
    let mut changed = false;
    // Links this pod has: in any pod's .wants directory.
    let dirs = std::fs::read_dir(&paths.units)
        .into_iter()
        .flatten()
        .flatten();
    for entry in dirs {
        let dir = entry.file_name().to_string_lossy().into_owned();
        let is_pods = dir.starts_with("pod@") && dir.ends_with(".service.wants");
        let link = entry.path().join(&own);
        if !is_pods || wanted.iter().any(|(d, _)| *d == dir) || link.symlink_metadata().is_err() {
            continue;
        }
        std::fs::remove_file(&link).with_context(|| format!("cannot remove {}", link.display()))?;
        let _ = std::fs::remove_dir(entry.path());
        changed = true;
    }
    for (dir, file) in wanted {
        let link = paths.units.join(dir).join(file);
        if link.symlink_metadata().is_ok() {
            continue;
        }
        std::fs::create_dir_all(paths.units.join(dir))
            .with_context(|| format!("cannot create {}", paths.units.join(dir).display()))?;
        std::os::unix::fs::symlink(template(paths), &link)
            .with_context(|| format!("cannot link {}", link.display()))?;
        changed = true;
    }
    Ok(changed)
}

/// The unit file the links point at, as `systemctl add-wants` makes them:
/// `pod@.service` where it is installed (systemd reads the dependency from
/// the link's name).
fn template(paths: &Layout) -> std::path::PathBuf {
    let installed = [
        paths.units.clone(),
        "/usr/lib/systemd/system".into(),
        "/lib/systemd/system".into(),
    ];
    installed
        .iter()
        .map(|d| d.join("pod@.service"))
        .find(|f| f.exists())
        .unwrap_or_else(|| paths.units.join("pod@.service"))
}

/// The pods `down` takes, dependents first: `selected`, and with `cascade`
/// every pod that needs one of them. Without it, a pod needed by a running
/// pod (for `purge`: by any stored pod, which could not start without it)
/// is refused, naming them.
pub fn down_order(
    mgr: &dyn Manager,
    paths: &Layout,
    selected: &[String],
    purge: bool,
    cascade: bool,
) -> anyhow::Result<Vec<String>> {
    let pods = stored(paths)?;
    if selected
        .iter()
        .all(|s| needs::needed_by(&pods, s).is_empty())
    {
        return Ok(selected.to_vec());
    }
    let running = running(mgr)?;
    let counts = |pod: &str| purge || running.contains(&units::service(pod));
    needs::down_order(selected, &pods, &counts, cascade).map_err(|e| anyhow::anyhow!("{e}"))
}

#[cfg(test)]
mod tests;
