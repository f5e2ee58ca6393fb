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
    let pods: Vec<&crate::model::Pod> = definitions.iter().map(|d| &d.pod).collect();
    let order = needs::apply_order(&pods, &stored(paths)?)
        .map_err(|e| anyhow::anyhow!("{e}\nnothing was changed"))?;
    let mut slots: Vec<Option<Definition>> = definitions.into_iter().map(Some).collect();
    Ok(order.into_iter().filter_map(|i| slots[i].take()).collect())
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
        }
        if changed {
            self.mgr.reload().context("daemon-reload")?;
        }
        Ok(())
    }

    /// After a purge: podctl's drop-ins of `name` go, and systemd forgets them.
    pub(super) fn forget_dropins(&self, name: &str) -> anyhow::Result<()> {
        if dropin::remove_all(self.paths, name)? {
            self.mgr.reload().context("daemon-reload")?;
        }
        Ok(())
    }
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
    if selected.iter().all(|s| needs::needed_by(&pods, s).is_empty()) {
        return Ok(selected.to_vec());
    }
    let running: Vec<String> = mgr
        .list_units(&[&units::service("*")])?
        .into_iter()
        // Starting counts: it is about to run.
        .filter(|u| {
            use crate::systemd::ActiveState::*;
            matches!(u.active_state, Active | Reloading | Activating)
        })
        .map(|u| u.name)
        .collect();
    let counts = |pod: &str| purge || running.contains(&units::service(pod));
    needs::down_order(selected, &pods, &counts, cascade).map_err(|e| anyhow::anyhow!("{e}"))
}

#[cfg(test)]
mod tests;
