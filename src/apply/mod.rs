//! The apply stage: what `podctl apply`, `down` and `rm` do once their
//! arguments are parsed, over an injected systemd [`Manager`] and the
//! host's [`Layout`]; the CLI only prints what it returns.
//!
//! Apply is a promise: afterwards the host runs what the files say. Each
//! file is read once ([`Definition::read`]); every image is stored and its
//! facts gathered once, and each pod's plan assembled once from them
//! ([`assemble_all`]); the checks look at those plans ([`preflight`]); then,
//! per pod under its lock ([`lock_pod`]), [`Applier::apply`] stores the file
//! atomically, sets autostart, and compares the plan with the one its
//! supervisor *runs* (its state file: the text and facts it assembled its
//! plan from, so an apply killed after storing still converges) to do the
//! least: nothing; a reload (live limits, only the changed containers); a
//! recreate (namespaces or hostname changed); or a start.

mod definition;
pub mod dropin;
mod engine;
pub mod gate;
mod idmap;
mod journal;
mod lock;
pub mod needs;
mod preflight;
mod revise;
mod rootless;
mod store;
#[cfg(test)]
mod tests;
pub mod update;

pub use definition::{Definition, check_networks};
pub use idmap::idmap_support;
pub use journal::{failure_tail, journal_tail};
pub use lock::{PodLock, lock_pod};
pub use preflight::{network_conflicts, preflight};
pub use store::{known_pods, pod_files, select, source_dir, source_path, stored_pods};

use crate::image::facts::ImageSource;
use crate::layout::Layout;
use crate::plan::decide::Changes;
use crate::plan::{Facts, Plan, units};
use crate::supervise::state::{PodState, changes_against};
use crate::systemd::Manager;
use anyhow::{Context, bail};
use std::time::{Duration, Instant};

/// How long apply waits for a supervisor to carry out a reload.
const RELOAD_TIMEOUT: Duration = Duration::from_secs(90);
/// How often apply reads the state file while it waits for the reload (a
/// reload of unchanged containers takes a few milliseconds).
const RELOAD_POLL: Duration = Duration::from_millis(10);

/// A pod ready to apply: its definition, the facts about its images and
/// the plan assembled from both.
#[derive(Debug)]
pub struct Planned {
    pub definition: Definition,
    pub facts: Facts,
    pub plan: Plan,
}

/// Gathers the facts of every definition's images from `images` (once per
/// pod) and its range of IDs from `ids`, and assembles each plan (once).
/// The first image that is not stored, or range that cannot be had, is the
/// error.
pub fn assemble_all(
    definitions: Vec<Definition>,
    images: &dyn ImageSource,
    ids: &dyn crate::ids::IdSource,
) -> anyhow::Result<Vec<Planned>> {
    definitions
        .into_iter()
        .map(|definition| {
            let mut facts = images.facts(&definition.pod)?;
            let fail = |e| anyhow::anyhow!("pod {}: {e}\nnothing was changed", definition.pod.name);
            facts.ids = ids.range(&definition.pod).map_err(fail)?;
            facts.user = ids.user().map_err(fail)?;
            let plan = crate::plan::assemble(&definition.pod, &facts);
            Ok(Planned {
                definition,
                facts,
                plan,
            })
        })
        .collect()
}

/// The pins each pod will run ([`crate::image::policy::settle`]), from
/// the pins of its newest revision, pulling what the pull policies (or
/// `pull_all`) ask for: every pull done before anything changes.
pub fn settle_images(
    paths: &Layout,
    pods: &[&crate::model::Pod],
    pull_all: bool,
) -> anyhow::Result<std::collections::BTreeMap<String, crate::image::facts::Pins>> {
    let mut current = Vec::new();
    for pod in pods {
        current.push((*pod, paths.revisions_of(&pod.name).pins()?));
    }
    crate::image::policy::settle(
        paths,
        &current,
        pull_all,
        &*crate::image::progress::for_stderr(),
    )
    .map_err(|e| anyhow::anyhow!("{e}\nnothing was changed"))
}

/// For `apply --dry-run`, `diff` and `validate`: the facts as they are
/// (the images stored already, the range the pod holds), with nothing
/// pulled or allocated.
pub fn facts_as_they_are(paths: &Layout, pod: &crate::model::Pod) -> crate::plan::Facts {
    let pins = paths.revisions_of(&pod.name).pins().unwrap_or_default();
    let mut facts = crate::image::facts::if_stored(&paths.images, pod, &pins);
    let ids = crate::ids::Lookup(paths);
    facts.ids = crate::ids::IdSource::range(&ids, pod).ok().flatten();
    facts.user = crate::ids::IdSource::user(&ids).ok().flatten();
    facts
}

/// Carries out applies and downs through `mgr`, on the host `paths` name.
pub struct Applier<'a> {
    pub mgr: &'a (dyn Manager + Sync),
    pub paths: &'a Layout,
    /// What a revision it records says made it.
    pub cause: crate::revision::Cause,
    /// Its revisions are updates still to be proven.
    pub pending: bool,
}

impl<'a> Applier<'a> {
    /// An applier whose revisions say `podctl apply` made them.
    pub fn new(mgr: &'a (dyn Manager + Sync), paths: &'a Layout) -> Self {
        Applier {
            mgr,
            paths,
            cause: crate::revision::Cause::Apply,
            pending: false,
        }
    }

    /// Applies one planned pod; returns what was decided, once done.
    pub fn apply(&self, p: &Planned) -> anyhow::Result<Changes> {
        let (mgr, paths) = (self.mgr, self.paths);
        let (pod, text) = (&p.definition.pod, &p.definition.text);
        let name = &pod.name;
        let _lock = lock_pod(paths, name)?;
        // A manifest's Secrets first, as `kubectl apply` makes them: then
        // every secret the pod uses is there.
        let replaced = crate::secret::store_values(
            &crate::secret::Store {
                paths,
                enc: &crate::secret::SystemdCreds,
            },
            &p.definition.secrets,
        )?;
        crate::secret::check_stored(paths, &p.plan)?;
        let service = units::service(name);
        // Two questions for systemd at once: is pod@.service installed and
        // enabled, and does the pod run (one ListUnitsByPatterns).
        let (file_state, loaded) = side_by_side(
            || mgr.unit_file_state(&service),
            || mgr.list_units(&[&service]),
        );
        let Some(file_state) = file_state? else {
            bail!("{service}: pod@.service is not installed (install it with: podctl install)");
        };
        let running = loaded?
            .iter()
            .any(|u| u.name == service && u.active_state.is_running());
        // Checked: written under the pod's lock, after every check passed.
        for v in &p.definition.files {
            crate::kube::write::write(&paths.kube_files, v)
                .with_context(|| format!("pod {name}: cannot write {}", v.dir.display()))?;
        }
        store::keep(paths, name, text, &p.definition.file)?;
        // The pins the supervisor will read: recorded before it is asked.
        paths.revisions_of(name).record(
            text,
            &crate::image::facts::pins_of(&p.facts),
            self.cause.clone(),
            self.pending,
            pod.updates.history,
        )?;
        if crate::secret::dropin::write(paths, &p.plan)? {
            mgr.reload()?;
        }
        // Enabling writes symlinks: only when it changes something.
        if pod.autostart != (file_state == "enabled") {
            mgr.set_enabled(&service, pod.autostart).with_context(|| {
                format!(
                    "cannot {} {service} for boot",
                    if pod.autostart { "enable" } else { "disable" }
                )
            })?;
        }
        let mut changes = changes_against(&paths.run, running, (&p.plan, &p.facts), text);
        let uses = p.plan.secret_names();
        if replaced.iter().any(|n| uses.contains(n)) {
            changes = changes.with_new_secret_values();
        }
        match &changes {
            // A pod that failed before starts afresh (start_unit resets it).
            Changes::Create { .. } => mgr.start_unit(&service)?,
            Changes::Unchanged(_) => {}
            Changes::Recreate(_) => mgr.restart_unit(&service)?,
            Changes::Reload(_) => {
                let before = PodState::load(&paths.run, name).map_or(0, |s| s.last_reload_id());
                mgr.reload_unit(&service)?;
                wait_reloaded(paths, name, text, before)?;
            }
        }
        self.restart_users(name, &replaced)?;
        Ok(changes)
    }

    /// Restarts the other running pods that use a secret whose value
    /// `pod`'s apply replaced: systemd hands a pod its secrets when its
    /// service starts.
    fn restart_users(&self, pod: &str, replaced: &[String]) -> anyhow::Result<()> {
        let mut others: Vec<String> = replaced
            .iter()
            .flat_map(|n| crate::secret::used_by(self.paths, n))
            .filter(|p| p != pod)
            .collect();
        others.sort();
        others.dedup();
        for other in others {
            let service = units::service(&other);
            let running = self.mgr.list_units(&[&service])?;
            if running
                .iter()
                .any(|u| u.name == service && u.active_state.is_running())
            {
                self.mgr.restart_unit(&service).with_context(|| {
                    format!("pod {other}: cannot restart it for its new secret values")
                })?;
            }
        }
        Ok(())
    }

    /// Stops the pod and disables it at boot; `purge` also deletes its
    /// definition and everything apply stored for it.
    pub fn down(&self, name: &str, purge: bool) -> anyhow::Result<()> {
        let (mgr, paths) = (self.mgr, self.paths);
        let service = units::service(name);
        let stored = paths.definition(name);
        if !stored.exists() && mgr.status(&service)?.is_none() {
            bail!(
                "no pod named {name:?} (no {} and no {service})",
                stored.display()
            );
        }
        let _lock = lock_pod(paths, name)?;
        // The supervisor stops the containers and the sandbox; the slice,
        // bound to the service, goes with it (also after a crashed
        // supervisor). Boot enablement is settled on a second thread
        // meanwhile: systemd answers it while the supervisor stops the pod.
        let stop = || -> anyhow::Result<()> {
            mgr.stop_unit(&service)?;
            mgr.reset_failed(&service)?;
            Ok(())
        };
        let boot = || -> anyhow::Result<()> {
            if mgr.unit_file_state(&service)?.as_deref() == Some("enabled") {
                mgr.set_enabled(&service, false)?;
            }
            Ok(())
        };
        let (disabled, stopped) = side_by_side(boot, stop);
        stopped.and(disabled)?;
        self.forget_needs(name, purge)?;
        if purge && stored.exists() {
            std::fs::remove_file(&stored)
                .with_context(|| format!("cannot remove {}", stored.display()))?;
            let _ = std::fs::remove_file(source_path(paths, name));
            // The files of a manifest's configMap volumes.
            let _ = std::fs::remove_dir_all(crate::kube::files::pod_dir(&paths.kube_files, name));
            let _ = std::fs::remove_file(crate::supervise::state::path(&paths.run, name));
            crate::secret::dropin::remove(paths, name)?;
            paths.revisions_of(name).remove_all()?;
            // Its range of IDs is free for the next pod (its files are gone).
            crate::ids::release(paths, name)?;
            // Under the lock: a waiter finds its file unlinked and locks anew.
            let _ = std::fs::remove_file(paths.run.join("locks").join(format!("{name}.lock")));
        }
        Ok(())
    }
}

/// Waits until the supervisor has done a reload newer than `before` (a
/// reload id) and runs `text`, or says why it could not.
fn wait_reloaded(paths: &Layout, name: &str, text: &str, before: u64) -> anyhow::Result<()> {
    let deadline = Instant::now() + RELOAD_TIMEOUT;
    loop {
        if let Some(st) = PodState::load(&paths.run, name)
            && let Some(r) = st
                .last_reload
                .filter(|r| r.id > before && r.definition == text)
        {
            if let Some(e) = r.error {
                bail!("{name}: the supervisor could not apply the new definition: {e}");
            }
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!(
                "{name}: the supervisor did not take the new definition within {RELOAD_TIMEOUT:?} (see: {})",
                crate::systemd::journal_command(&format!("pod@{name}.service"))
            );
        }
        std::thread::sleep(RELOAD_POLL);
    }
}

/// Runs `a` on a second thread while `b` runs on this one, and returns
/// both results: two calls to systemd over one connection, answered side by
/// side (each round trip costs milliseconds under emulation). Where no
/// thread can be made, `a` runs after `b`.
pub fn side_by_side<A: Send, B>(a: impl FnOnce() -> A + Send, b: impl FnOnce() -> B) -> (A, B) {
    let slot = std::sync::Mutex::new(Some(a));
    // Copy (it only borrows `slot`): the thread gets one, the fallback another.
    let run_a = || {
        let f = slot.lock().unwrap_or_else(|p| p.into_inner()).take();
        f.map(|f| f())
    };
    std::thread::scope(|s| {
        let handle = std::thread::Builder::new().spawn_scoped(s, run_a);
        let rb = b();
        let ra = match handle {
            // A panic aborts podctl (panic = "abort"); only tests unwind.
            Ok(h) => h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
            Err(_) => run_a(),
        };
        (ra.expect("`a` runs exactly once"), rb)
    })
}
