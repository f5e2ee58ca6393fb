//! What apply keeps of a pod in the store (`/etc/podctl/pods`): its
//! definition and the directory it was applied from.

use crate::layout::Layout;
use crate::plan::units;
use crate::supervise::state::write_atomic;
use crate::systemd::Manager;
use anyhow::{Context, bail};
use std::path::{Path, PathBuf};

/// Stores `text` as pod `name`'s definition and the directory of `file` as
/// its source, atomically and private; each only when it changes (or an
/// older podctl left it readable by others).
pub(super) fn keep(paths: &Layout, name: &str, text: &str, file: &Path) -> anyhow::Result<()> {
    let stored = paths.definition(name);
    if std::fs::read_to_string(&stored).ok().as_deref() != Some(text) || !is_private(&stored) {
        write_atomic(&stored, text.as_bytes())
            .with_context(|| format!("cannot store the definition in {}", stored.display()))?;
    }
    // The directory the pod was applied from: `apply --prune DIR` only ever
    // removes pods applied from DIR (like kubectl's apply sets). A pod run
    // again from its stored file (rollback, auto-update) keeps it.
    if file == stored {
        return Ok(());
    }
    let source = source_path(paths, name);
    let dir = source_dir(file);
    if std::fs::read_to_string(&source).ok().as_deref() != Some(dir.as_str())
        || !is_private(&source)
    {
        write_atomic(&source, dir.as_bytes())
            .with_context(|| format!("cannot write {}", source.display()))?;
    }
    Ok(())
}

/// Whether a stored file has no permission bits for group or others.
fn is_private(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o077 == 0)
}

/// The pod files named: a file, or every `*.toml` in a directory (sorted).
pub fn pod_files(target: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if !target.is_dir() {
        return Ok(vec![target.to_path_buf()]);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(target)
        .with_context(|| format!("cannot read directory {}", target.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml") || crate::kube::is_manifest(p))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    Ok(files)
}

/// `/etc/podctl/pods/NAME.source`: the directory a pod was applied from.
pub fn source_path(paths: &Layout, name: &str) -> PathBuf {
    paths.store.join(format!("{name}.source"))
}

/// The canonical directory of a pod file (or the directory itself).
pub fn source_dir(target: &Path) -> String {
    let dir = if target.is_dir() {
        target
    } else {
        target.parent().unwrap_or(Path::new("."))
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    std::fs::canonicalize(dir)
        .unwrap_or_else(|_| dir.to_path_buf())
        .display()
        .to_string()
}

/// Pods podctl manages: the definitions in the store.
pub fn stored_pods(paths: &Layout) -> anyhow::Result<Vec<String>> {
    let Ok(dir) = std::fs::read_dir(&paths.store) else {
        return Ok(Vec::new());
    };
    let mut names: Vec<String> = dir
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.file_name()
                .to_str()?
                .strip_suffix(".toml")
                .map(String::from)
        })
        .collect();
    names.sort();
    Ok(names)
}

/// The pods podctl knows: stored definitions and loaded `pod@*.service`
/// units (a pod whose definition was removed by hand still runs), sorted.
pub fn known_pods(mgr: &dyn Manager, paths: &Layout) -> anyhow::Result<Vec<String>> {
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
    paths: &Layout,
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
