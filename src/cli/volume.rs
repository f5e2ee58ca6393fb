//! `podctl volume ls|inspect|rm|prune`: named volumes
//! (`/var/lib/podctl/volumes/NAME`) and the stored pods that use them; the
//! decisions are [`crate::oci::volumes`]'.

use super::args::VolumeCommand;
use super::output::{self, Format};
use crate::oci::volumes::{self, Usage, VolumeInfo, human_size};
use crate::runtime::Paths;
use std::path::PathBuf;

/// `/var/lib/podctl/volumes` (or under `$PODCTL_LIB`).
fn dir() -> PathBuf {
    crate::oci::Dirs::new(&Paths::from_env().run).volumes()
}

pub fn run(cmd: VolumeCommand) -> anyhow::Result<()> {
    match cmd {
        VolumeCommand::Ls { output } => {
            super::require_root("volume ls")?;
            ls(output.format())
        }
        VolumeCommand::Inspect { name, output } => {
            super::require_root("volume inspect")?;
            inspect(&name, output.format())
        }
        VolumeCommand::Rm { names, force } => {
            super::require_root("volume rm")?;
            rm(&names, force)
        }
        VolumeCommand::Prune => {
            super::require_root("volume prune")?;
            prune()
        }
    }
}

fn usage() -> Usage {
    let u = Usage::load(&Paths::from_env().store);
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

fn ls(format: Format) -> anyhow::Result<()> {
    let list = volumes::list(&dir(), &usage())?;
    if output::print(format, &list)? {
        return Ok(());
    }
    println!("{:<24} {:>10}  USED BY", "NAME", "SIZE");
    for v in &list {
        println!("{:<24} {:>10}  {}", v.name, human_size(v.size), used_by(v));
    }
    Ok(())
}

fn inspect(name: &str, format: Format) -> anyhow::Result<()> {
    let v = volumes::inspect(&dir(), name, &usage())?;
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

fn rm(names: &[String], force: bool) -> anyhow::Result<()> {
    let dir = dir();
    let pods = volumes::plan_rm(names, |n| dir.join(n).is_dir(), &dir, &usage(), force)?;
    if !pods.is_empty() {
        let paths = Paths::from_env();
        let mgr = super::connect()?;
        let applier = crate::apply::Applier {
            mgr: &mgr,
            paths: &paths,
        };
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

fn prune() -> anyhow::Result<()> {
    let dir = dir();
    let unused = volumes::unused(&volumes::names(&dir)?, &usage())?;
    for name in &unused {
        volumes::remove(&dir, name)?;
        println!("volume {name}: removed");
    }
    if unused.is_empty() {
        println!("no unused volumes");
    }
    Ok(())
}
