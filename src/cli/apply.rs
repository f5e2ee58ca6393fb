//! `podctl apply FILE|DIR [--prune] [--pull]`: reads the files, prints what the
//! apply stage ([`crate::apply`]) did.

use crate::apply::Applier;
use crate::layout::Layout;
use crate::plan::units;
use anyhow::bail;
use std::path::Path;

/// `podctl apply FILE|DIR [--prune] [--pull]`.
pub fn apply(
    paths: &Layout,
    target: &Path,
    prune: bool,
    pull: bool,
    policy: crate::kube::Unsupported,
    early: super::Early,
) -> anyhow::Result<()> {
    super::check_owner("apply")?;
    if prune && !target.is_dir() {
        bail!("--prune needs a directory: it removes the pods the directory no longer defines");
    }
    // Nothing is applied from a directory with a broken file.
    let definitions = super::read::definitions(target, policy, paths)?;
    let definitions = crate::apply::needs::in_order(definitions, paths)?;
    // What --prune removes, refused now if a pod that stays needs it.
    let pruned = if prune {
        let pods: Vec<&crate::model::Pod> = definitions.iter().map(|d| &d.pod).collect();
        crate::apply::needs::pruned(paths, &crate::apply::source_dir(target), &pods)?
    } else {
        Vec::new()
    };
    let conflicts = crate::apply::network_conflicts(paths, &definitions);
    if !conflicts.is_empty() {
        bail!("{}", conflicts.join("\n"));
    }
    // Every image stored (and each pod's pins settled) before anything is
    // stopped or changed.
    let pods: Vec<&crate::model::Pod> = definitions.iter().map(|d| &d.pod).collect();
    let pins = crate::apply::settle_images(paths, &pods, pull)?;
    let names: Vec<String> = pods.iter().map(|p| p.name.clone()).collect();
    let planned = crate::apply::assemble_all(
        definitions,
        &crate::image::facts::SystemStore {
            root: paths.images.clone(),
            pins,
        },
        &crate::ids::Allocate(paths),
    )?;
    // What the runtime would refuse later, refused now: nothing is changed or written.
    let path = std::env::var("PATH").unwrap_or_else(|_| crate::plan::DEFAULT_PATH.into());
    let mut problems = crate::apply::preflight(&planned, &path);
    problems.extend(crate::apply::idmap_support(
        &planned,
        paths,
        &crate::mount::probe_idmap,
    ));
    if !problems.is_empty() {
        bail!("{}", problems.join("\n"));
    }
    let mgr = early.connect()?;
    let applier = Applier::new(&mgr, paths);
    applier.write_needs(&planned)?;
    for p in &planned {
        let service = units::service(&p.plan.pod);
        match applier.apply(p) {
            Ok(changes) => println!("{}", changes.report()),
            Err(e) => {
                let tail = crate::apply::failure_tail(&service);
                if tail.is_empty() {
                    return Err(e);
                }
                bail!(
                    "{}\n--- {} (last lines) ---\n{tail}",
                    crate::error_chain(e.as_ref()),
                    crate::systemd::journal_command(&service)
                );
            }
        }
    }
    applier.link_needs(&planned)?;
    for name in &pruned {
        applier.down(name, true)?;
        println!("{name}: removed");
    }
    super::show::print_pods(&mgr, paths, &names)
}
