//! `podctl auto-update [--dry-run] [POD...]`: every pod's containers with
//! `auto_update = "registry"` moved to their tag's new digest, gated by
//! readiness and rolled back by themselves ([`crate::apply::update`]).
//! Every pull is done before any pod restarts; a pod whose registry cannot
//! be reached is left as it is, and so is a pod that does not run (stopped
//! with `podctl down`, its file kept): an update never starts a pod.

use crate::apply::Applier;
use crate::apply::update::{Change, Checked, Outcome, check};
use crate::image::facts::Pin;
use crate::image::{HostConfig, Store};
use crate::layout::Layout;
use crate::systemd::Manager;
use std::process::ExitCode;
use std::time::Duration;

pub fn auto_update(
    paths: &Layout,
    names: &[String],
    dry_run: bool,
    early: super::Early,
) -> ExitCode {
    match run(paths, names, dry_run, early) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("podctl: {}", crate::error_chain(e.as_ref()));
            ExitCode::FAILURE
        }
    }
}

/// Whether every pod was updated or found current.
fn run(
    paths: &Layout,
    names: &[String],
    dry_run: bool,
    early: super::Early,
) -> anyhow::Result<bool> {
    super::check_owner("auto-update")?;
    let pods = if names.is_empty() {
        crate::apply::stored_pods(paths)?
    } else {
        for n in names {
            if !paths.definition(n).exists() {
                anyhow::bail!("no pod named {n:?} (no {})", paths.definition(n).display());
            }
        }
        names.to_vec()
    };
    let mgr = if dry_run {
        None
    } else {
        Some(early.connect()?)
    };
    let applier = mgr.as_ref().map(|m| Applier::new(m, paths));
    let pods = match &mgr {
        Some(m) => {
            let (up, stopped) = running_pods(m, &pods)?;
            for pod in stopped {
                println!("{pod}: not running: left as it is");
            }
            up
        }
        // Asked nothing of systemd: the pods whose supervisor publishes a state.
        None => pods
            .into_iter()
            .filter(|p| crate::supervise::state::path(&paths.run, p).exists())
            .collect(),
    };
    let mut ok = true;
    // A run killed before: each pod at its newest revision, an update it
    // left unproven gated again.
    if let Some(a) = &applier {
        for pod in &pods {
            match converge(a, pod) {
                Ok(Some(o)) => ok &= report(pod, &[], &o),
                Ok(None) => {}
                Err(e) => {
                    ok = false;
                    println!("{pod}: error: {}", crate::error_chain(e.as_ref()));
                }
            }
        }
    }
    // Every pull first.
    let host = HostConfig::system();
    let store = if dry_run {
        None
    } else {
        Some(Store::of(paths)?)
    };
    let mut resolve = |reference: &str| -> Result<Pin, String> {
        let fail = |e: crate::image::resolve::ImageError| crate::error_chain(&e);
        match &store {
            None => {
                let r = crate::image::remote::current(&host, reference).map_err(fail)?;
                Ok(Pin {
                    name: r.name,
                    digest: r.digest.to_string(),
                })
            }
            Some(store) => {
                let progress = crate::image::progress::for_stderr();
                crate::image::resolve::pull_image(store, &host, reference, &*progress)
                    .map_err(fail)?;
                let (name, digest) = crate::image::resolve::find(store, &host, reference)
                    .map_err(fail)?
                    .ok_or_else(|| format!("image {reference} is not stored after its pull"))?;
                Ok(Pin {
                    name,
                    digest: digest.to_string(),
                })
            }
        }
    };
    let mut checked: Vec<Checked> = Vec::new();
    for pod in &pods {
        match check(paths, pod, &mut resolve) {
            Ok(c) => checked.push(c),
            Err(e) => {
                ok = false;
                println!(
                    "{pod}: error: {} (nothing was changed)",
                    crate::error_chain(e.as_ref())
                );
            }
        }
    }
    for c in &checked {
        for r in &c.current {
            println!("{}: {r}: current", c.pod);
        }
        for s in &c.skipped {
            println!(
                "{}: {}: skipped (an update to it was rolled back)",
                c.pod,
                line(s)
            );
        }
        let Some(a) = &applier else {
            for ch in &c.changes {
                println!("{}: {}: would update", c.pod, line(ch));
            }
            continue;
        };
        let outcome = deadline(paths, &c.pod).and_then(|d| a.update(c, d));
        match outcome {
            Ok(o) => ok &= report(&c.pod, &c.changes, &o),
            Err(e) => {
                ok = false;
                println!("{}: error: {}", c.pod, crate::error_chain(e.as_ref()));
            }
        }
    }
    Ok(ok)
}

/// `pods` split into those whose service runs and the others.
fn running_pods(mgr: &dyn Manager, pods: &[String]) -> anyhow::Result<(Vec<String>, Vec<String>)> {
    let services: Vec<String> = pods
        .iter()
        .map(|p| crate::plan::units::service(p))
        .collect();
    if services.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let patterns: Vec<&str> = services.iter().map(String::as_str).collect();
    let units = mgr.list_units(&patterns)?;
    Ok(pods.iter().cloned().partition(|p| {
        let service = crate::plan::units::service(p);
        units
            .iter()
            .any(|u| u.name == service && u.active_state.is_running())
    }))
}

/// A pod whose supervisor does not run its newest revision is applied it
/// again; an unproven update is gated again.
fn converge(a: &Applier, pod: &str) -> anyhow::Result<Option<Outcome>> {
    let d = deadline(a.paths, pod)?;
    if let Some(o) = a.resume(pod, d)? {
        return Ok(Some(o));
    }
    let list = a.paths.revisions_of(pod).list()?;
    let Some(newest) = list.last() else {
        return Ok(None);
    };
    let state = crate::supervise::state::PodState::load(&a.paths.run, pod);
    if state.is_some() && super::history::running(&list, state.as_ref()) != Some(newest.number) {
        a.apply_pinned(pod, &newest.text, &newest.images)?;
    }
    Ok(None)
}

/// How long an update of `pod` has to hold: its `update_deadline`, else
/// its `start_timeout`.
fn deadline(paths: &Layout, pod: &str) -> anyhow::Result<Duration> {
    let stored = paths.definition(pod);
    let text = std::fs::read_to_string(&stored)?;
    let p = crate::spec::parse_str(&text, &stored.display().to_string(), pod)?;
    Ok(Duration::from_millis(
        p.updates.deadline_ms.unwrap_or(p.start_timeout_ms),
    ))
}

/// `app localhost:5000/app:1 sha256:aaaa -> sha256:bbbb`.
fn line(c: &Change) -> String {
    let short = |d: &str| d.get(..19).unwrap_or(d).to_string();
    let from = if c.from.is_empty() {
        "-".into()
    } else {
        short(&c.from)
    };
    format!(
        "{} {} {from} -> {}",
        c.containers.join(","),
        c.reference,
        short(&c.to.digest)
    )
}

/// Prints what became of a pod's update; whether it was kept.
fn report(pod: &str, changes: &[Change], o: &Outcome) -> bool {
    let what = if changes.is_empty() {
        "the update left unproven".to_string()
    } else {
        changes.iter().map(line).collect::<Vec<_>>().join("; ")
    };
    match o {
        Outcome::Current => true,
        Outcome::Updated { revision } => {
            println!("{pod}: {what}: updated (revision {revision})");
            true
        }
        Outcome::RolledBack { why, to } => {
            println!("{pod}: {what}: rolled back to revision {to}: {why}");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::systemd::UnitStatus;

    /// Only pods whose service is active (or reloading) are updated: one
    /// stopped, failed or never started is left as it is.
    #[test]
    fn only_running_pods_are_updated() {
        let mgr = crate::systemd::fake::Recorder::new();
        for (pod, state) in [
            ("web", "active"),
            ("db", "reloading"),
            ("old", "inactive"),
            ("bad", "failed"),
        ] {
            let name = crate::plan::units::service(pod);
            let unit = UnitStatus {
                name: name.clone(),
                active_state: state.into(),
                ..Default::default()
            };
            mgr.units.borrow_mut().insert(name, unit);
        }
        let pods: Vec<String> = ["bad", "db", "gone", "old", "web"].map(String::from).into();
        let (up, stopped) = running_pods(&mgr, &pods).unwrap();
        assert_eq!(up, ["db", "web"]);
        assert_eq!(stopped, ["bad", "gone", "old"]);
        assert_eq!(running_pods(&mgr, &[]).unwrap(), (vec![], vec![]));
    }
}
