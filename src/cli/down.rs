//! `podctl down NAME... [--purge]` and `podctl rm NAME...`: stop pods,
//! disable them at boot, and with `--purge` (`rm`) delete what apply
//! stored for them.

use super::apply::{lock_pod, source_path};
use crate::plan::units;
use crate::runtime::Paths;
use crate::systemd::Manager;
use anyhow::{Context, bail};

/// Stops the pod and disables it at boot; `purge` also deletes its definition.
pub fn down_with(
    mgr: &(dyn Manager + Sync),
    paths: &Paths,
    name: &str,
    purge: bool,
) -> anyhow::Result<()> {
    let service = units::service(name);
    let stored = paths.definition(name);
    if !stored.exists() && mgr.status(&service)?.is_none() {
        bail!(
            "no pod named {name:?} (no {} and no {service})",
            stored.display()
        );
    }
    let _lock = lock_pod(paths, name)?;
    // The supervisor stops the containers and the sandbox; the slice, bound
    // to the service, goes with it (also after a crashed supervisor). Boot
    // enablement is settled on a second thread meanwhile: systemd answers
    // it while the supervisor stops the pod (~40 ms less under emulation).
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
    let (disabled, stopped) = super::side_by_side(boot, stop);
    stopped.and(disabled)?;
    if purge && stored.exists() {
        std::fs::remove_file(&stored)
            .with_context(|| format!("cannot remove {}", stored.display()))?;
        let _ = std::fs::remove_file(source_path(paths, name));
        // The files of a manifest's configMap and secret volumes (secrets).
        let _ = std::fs::remove_dir_all(crate::kube::files::pod_dir(name));
        let _ = std::fs::remove_file(crate::runtime::state::path(&paths.run, name));
        // Under the lock: a waiter finds its file unlinked and locks anew.
        let _ = std::fs::remove_file(paths.run.join("locks").join(format!("{name}.lock")));
    }
    Ok(())
}

/// `podctl down NAME...|--all [--purge]` and `podctl rm` (`purge`): every
/// name is checked before any pod is touched.
pub fn down(names: &[String], all: bool, purge: bool, early: super::Early) -> anyhow::Result<()> {
    super::require_root(if purge { "rm" } else { "down" })?;
    let paths = Paths::from_env();
    let mgr = early.connect()?;
    let pods = super::control::select(&mgr, &paths, names, all)?;
    for name in &pods {
        down_with(&mgr, &paths, name, purge)?;
        println!(
            "{name}: {}",
            if purge {
                "removed (definition deleted)"
            } else {
                "stopped"
            }
        );
    }
    // A supervisor that died without tearing its network down (kill -9,
    // and systemd gave up restarting it) leaves an entry: reclaim it now.
    let host = crate::net::host::Host::default();
    crate::net::attach::PodNet::system(&host).reclaim_stale(crate::net::ipam::Owner::alive)?;
    Ok(())
}
