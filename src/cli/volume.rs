//! `podctl volume ls|inspect|rm|prune`: named volumes
//! (`/var/lib/podctl/volumes/NAME`) and the stored pods that use them; the
//! decisions are [`crate::oci::volumes`]'.

use super::args::VolumeCommand;
use super::output::{self, Format};
use crate::layout::Layout;
use crate::oci::volumes::{self, Usage, VolumeInfo, human_size};
use std::path::PathBuf;

/// `/var/lib/podctl/volumes` (or under `$PODCTL_LIB`).
fn dir(paths: &Layout) -> PathBuf {
    paths.oci().volumes()
}

pub fn run(paths: &Layout, cmd: VolumeCommand) -> anyhow::Result<()> {
    match cmd {
        VolumeCommand::Ls { output } => {
            super::check_owner("volume ls")?;
            ls(paths, output.format())
        }
        VolumeCommand::Inspect { name, output } => {
            super::check_owner("volume inspect")?;
            inspect(paths, &name, output.format())
        }
        VolumeCommand::Rm { names, force } => {
            super::check_owner("volume rm")?;
            rm(paths, &names, force)
        }
        VolumeCommand::Prune => {
            super::check_owner("volume prune")?;
            prune(paths)
        }
    }
}

fn usage(paths: &Layout) -> Usage {
    let u = Usage::load(&paths.store);
    for (_, file, reason) in &u.unreadable {
        eprintln!("podctl: warning: {}: {reason}", file.display());
    }
    u
}

fn used_by(v: &VolumeInfo) -> String {
    if v.used_by.is_empty() {
        "-".into()
    } else {
        v.used_by.join(",")
    }
}

fn ls(paths: &Layout, format: Format) -> anyhow::Result<()> {
    let list = volumes::list(&dir(paths), &usage(paths))?;
    if output::print(format, &list)? {
        return Ok(());
    }
    println!("{:<24} {:>10}  USED BY", "NAME", "SIZE");
    for v in &list {
        println!("{:<24} {:>10}  {}", v.name, human_size(v.size), used_by(v));
    }
    Ok(())
}

fn inspect(paths: &Layout, name: &str, format: Format) -> anyhow::Result<()> {
    let v = volumes::inspect(&dir(paths), name, &usage(paths))?;
    if output::print(format, &v)? {
        return Ok(());
    }
    println!("volume {}  {}", v.name, v.path.display());
    println!("  size: {} ({} bytes)", human_size(v.size), v.size);
    println!(
        "  used by: {}",
        if v.used_by.is_empty() {
            "no stored pod".into()
        } else {
            v.used_by.join(", ")
        }
    );
    Ok(())
}

fn rm(paths: &Layout, names: &[String], force: bool) -> anyhow::Result<()> {
    let dir = dir(paths);
    let pods = volumes::plan_rm(names, |n| dir.join(n).is_dir(), &dir, &usage(paths), force)?;
    if !pods.is_empty() {
        let mgr = super::connect()?;
        let applier = crate::apply::Applier::new(&mgr, paths);
        for pod in &pods {
            applier.down(pod, true)?;
            println!("{pod}: removed (definition deleted)");
        }
    }
    for name in names {
        volumes::remove(&dir, name)?;
        println!("volume {name}: removed");
    }
    Ok(())
}

fn prune(paths: &Layout) -> anyhow::Result<()> {
    let dir = dir(paths);
    let unused = volumes::unused(&volumes::names(&dir)?, &usage(paths))?;
    for name in &unused {
        volumes::remove(&dir, name)?;
        println!("volume {name}: removed");
    }
    if unused.is_empty() {
        println!("no unused volumes");
    }
    Ok(())
}
