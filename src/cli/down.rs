//! `podctl down NAME... [--purge]` and `podctl rm NAME...`: stop pods,
//! disable them at boot, and with `--purge` (`rm`) delete what apply
//! stored for them.

use crate::apply::Applier;
use crate::layout::Layout;

/// `podctl down NAME...|--all [--purge] [--cascade]` and `podctl rm`
/// (`purge`): every name is checked before any pod is touched; pods that
/// need others go first (`cascade`: [`crate::apply::needs::down_order`]).
pub fn down(
    paths: &Layout,
    names: &[String],
    all: bool,
    (purge, cascade): (bool, bool),
    early: super::Early,
) -> anyhow::Result<()> {
    super::check_owner(if purge { "rm" } else { "down" })?;
    let mgr = early.connect()?;
    let pods = crate::apply::select(&mgr, paths, names, all)?;
    let pods = crate::apply::needs::down_order(&mgr, paths, &pods, purge, cascade)?;
    let applier = Applier::new(&mgr, paths);
    for name in &pods {
        applier.down(name, purge)?;
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
    let host = crate::net::host::Engine::default();
    let live = crate::net::ipam::Liveness::now();
    crate::net::attach::PodNet::new(&host, paths).reclaim_stale(|o| live.alive(o))?;
    Ok(())
}
