//! `podctl apply FILE|DIR [--prune]`, `podctl diff FILE|DIR`, `podctl down NAME`.
//!
//! Apply is a promise: afterwards the host runs what the files say. For each
//! pod, under a per-pod lock (concurrent applies are serialized, and say so):
//! store the file atomically, set autostart, then compare the file with what
//! the supervisor *runs* (its state file, not the stored file, so an apply
//! killed after storing still converges next time) and do the least:
//! nothing; a reload (live limits, only the changed containers); a recreate
//! (namespaces or hostname changed); or a start.

use crate::plan::diff::{PlanDiff, diff};
use crate::plan::units;
use crate::runtime::Paths;
use crate::runtime::state::{PodState, write_atomic};
use crate::systemd::{Manager, UnitStatus};
use anyhow::{Context, bail};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long apply waits for a supervisor to carry out a reload.
const RELOAD_TIMEOUT: Duration = Duration::from_secs(90);

fn is_running(st: &Option<UnitStatus>) -> bool {
    matches!(st, Some(s) if s.active_state == "active" || s.active_state == "reloading")
}

/// The last journal lines of a unit, to explain a failure where it happens.
pub fn journal_tail(unit: &str, lines: u32) -> String {
    std::process::Command::new("journalctl")
        .args([
            "--no-pager",
            "-q",
            "-o",
            "cat",
            "-n",
            &lines.to_string(),
            "-u",
            unit,
        ])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim_end().to_string())
        .unwrap_or_default()
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
        .filter(|p| p.extension().is_some_and(|x| x == "toml") && p.is_file())
        .collect();
    files.sort();
    Ok(files)
}

/// An exclusive lock on one pod's apply/down, held until dropped.
pub struct PodLock(#[allow(dead_code)] nix::fcntl::Flock<File>);

/// `down --purge` removes the lock file (nothing per pod is left in
/// `/run/podctl`), so a lock is only good if its file is still the one at
/// the path once locked; otherwise lock the new file.
pub fn lock_pod(paths: &Paths, name: &str) -> anyhow::Result<PodLock> {
    use nix::fcntl::{Flock, FlockArg};
    use std::os::unix::fs::MetadataExt;
    let dir = paths.run.join("locks");
    crate::runtime::create_private_dir(&dir)
        .with_context(|| format!("cannot create {}", dir.display()))?;
    let path = dir.join(format!("{name}.lock"));
    let mut said = false;
    loop {
        let file = {
            use std::os::unix::fs::OpenOptionsExt;
            std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(false)
                .mode(crate::runtime::PRIVATE_FILE)
                .open(&path)
        }
        .with_context(|| format!("cannot open {}", path.display()))?;
        let lock = match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(l) => l,
            Err((file, _)) => {
                if !said {
                    eprintln!(
                        "{name}: another podctl is applying or stopping this pod; waiting for it to finish..."
                    );
                    said = true;
                }
                Flock::lock(file, FlockArg::LockExclusive)
                    .map_err(|(_, e)| anyhow::anyhow!("cannot lock {}: {e}", path.display()))?
            }
        };
        let same = match (lock.metadata(), std::fs::metadata(&path)) {
            (Ok(a), Ok(b)) => a.ino() == b.ino() && a.dev() == b.dev(),
            _ => false,
        };
        if same {
            return Ok(PodLock(lock));
        }
    }
}

/// What applying `new` (whose file text is `text`) would change, against
/// what the supervisor runs now: None if the pod does not run (it would be
/// created); otherwise the diff, and whether the running text is `text`.
pub fn compare(
    paths: &Paths,
    running: bool,
    new: &crate::model::Pod,
    text: &str,
) -> Option<(PlanDiff, bool)> {
    let state = PodState::load(&paths.run, &new.name).filter(|_| running)?;
    let new_plan = crate::plan::build(new);
    let d = match crate::spec::parse_str(&state.definition, "running definition", &new.name) {
        Ok(old) => diff(&crate::plan::build(&old), &new_plan),
        // Unknown or unreadable: treat everything as changed.
        Err(_) => PlanDiff {
            recreate: true,
            ..diff(&new_plan, &new_plan)
        },
    };
    // A reload that adopted `text` but could not start some container of
    // it: the same file again retries, it is not "unchanged".
    Some((d, state.definition == text && !state.reload_failed()))
}

/// Applies one pod, read and validated from `file`, through `mgr`; returns
/// what was done, as printed.
pub fn apply_pod(
    mgr: &dyn Manager,
    paths: &Paths,
    file: &Path,
    pod: crate::model::Pod,
    text: String,
) -> anyhow::Result<String> {
    let name = pod.name.clone();
    let _lock = lock_pod(paths, &name)?;
    let service = units::service(&name);
    let Some(file_state) = mgr.unit_file_state(&service)? else {
        bail!("{service}: pod@.service is not installed (install it with: podctl install)");
    };
    let stored = paths.definition(&name);
    // Rewritten also when an older podctl left it readable by others.
    if std::fs::read_to_string(&stored).ok().as_deref() != Some(text.as_str())
        || !is_private(&stored)
    {
        write_atomic(&stored, text.as_bytes())
            .with_context(|| format!("cannot store the definition in {}", stored.display()))?;
    }
    // The directory the pod was applied from: `apply --prune DIR` only ever
    // removes pods applied from DIR (like kubectl's apply sets).
    let source = source_path(paths, &name);
    let dir = source_dir(file);
    if std::fs::read_to_string(&source).ok().as_deref() != Some(dir.as_str())
        || !is_private(&source)
    {
        write_atomic(&source, dir.as_bytes())
            .with_context(|| format!("cannot write {}", source.display()))?;
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

    let running = is_running(&mgr.status(&service)?);
    match compare(paths, running, &pod, &text) {
        None => {
            mgr.reset_failed(&service)?;
            mgr.start_unit(&service)?;
            Ok(format!("{name}: created"))
        }
        Some((d, same_text)) if d.is_unchanged() && same_text => Ok(d.to_string()),
        Some((d, _)) if d.recreate => {
            mgr.restart_unit(&service)?;
            Ok(d.to_string())
        }
        Some((d, _)) => {
            let before = PodState::load(&paths.run, &name).map_or(0, |s| s.last_reload_id());
            mgr.reload_unit(&service)?;
            wait_reloaded(paths, &name, &text, before)?;
            if d.is_unchanged() {
                // Same file as a reload that failed: it was retried.
                return Ok(format!(
                    "{name}: updated (started what the last apply could not)"
                ));
            }
            Ok(d.to_string())
        }
    }
}

/// Waits until the supervisor has done a reload newer than `before` (a
/// reload id) and runs `text`, or says why it could not.
fn wait_reloaded(paths: &Paths, name: &str, text: &str, before: u64) -> anyhow::Result<()> {
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
                "{name}: the supervisor did not take the new definition within {RELOAD_TIMEOUT:?} (see: journalctl -u pod@{name}.service)"
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// `podctl apply FILE|DIR [--prune]`.
pub fn apply(target: &Path, prune: bool) -> anyhow::Result<()> {
    super::require_root("apply")?;
    let paths = Paths::from_env();
    let files = pod_files(target)?;
    if prune && !target.is_dir() {
        bail!("--prune needs a directory: it removes the pods the directory no longer defines");
    }
    // Validate everything first: nothing is applied from a directory with a broken file.
    let mut loaded = Vec::with_capacity(files.len());
    let mut errors = Vec::new();
    for f in &files {
        match crate::spec::load_with_text(f) {
            Ok((pod, text)) => loaded.push((f, pod, text)),
            Err(d) => errors.push(d.to_string()),
        }
    }
    if !errors.is_empty() {
        bail!("{}", errors.join("\n"));
    }
    // What the runtime would refuse later, refused now: nothing is changed.
    let path = std::env::var("PATH").unwrap_or_else(|_| crate::plan::DEFAULT_PATH.into());
    for (_, pod, _) in &loaded {
        errors.extend(crate::oci::preflight(&crate::plan::build(pod), &path));
    }
    if !errors.is_empty() {
        bail!("{}", errors.join("\n"));
    }
    // Every image stored before anything is stopped or changed.
    let all: Vec<&crate::model::Pod> = loaded.iter().map(|(_, p, _)| p).collect();
    crate::image::run::ensure_images(&all, &*crate::image::progress::for_stderr())
        .map_err(|e| anyhow::anyhow!("{e}\nnothing was changed"))?;
    let pods: Vec<String> = loaded.iter().map(|(_, p, _)| p.name.clone()).collect();
    let mgr = super::connect()?;
    for (f, pod, text) in loaded {
        let service = units::service(&pod.name);
        match apply_pod(&mgr, &paths, f, pod, text) {
            Ok(what) => println!("{what}"),
            Err(e) => {
                let tail = journal_tail(&service, 15);
                if tail.is_empty() {
                    return Err(e);
                }
                bail!(
                    "{}\n--- journalctl -u {service} (last lines) ---\n{tail}",
                    crate::error_chain(e.as_ref())
                );
            }
        }
    }
    if prune {
        let dir = source_dir(target);
        for name in stored_pods(&paths)? {
            let from_here =
                std::fs::read_to_string(source_path(&paths, &name)).is_ok_and(|s| s == dir);
            if from_here && !pods.contains(&name) {
                down_with(&mgr, &paths, &name, true)?;
                println!("{name}: removed");
            }
        }
    }
    super::show::print_pods(&mgr, &paths, &pods)
}

/// `/etc/podctl/pods/NAME.source`: the directory a pod was applied from.
fn source_path(paths: &Paths, name: &str) -> PathBuf {
    paths.store.join(format!("{name}.source"))
}

/// The canonical directory of a pod file (or the directory itself).
fn source_dir(target: &Path) -> String {
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
pub fn stored_pods(paths: &Paths) -> anyhow::Result<Vec<String>> {
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

/// `podctl diff FILE|DIR`: what apply would do, doing nothing.
pub fn diff_cmd(target: &Path, json: bool) -> anyhow::Result<()> {
    let paths = Paths::from_env();
    let mut reports = Vec::new();
    for f in pod_files(target)? {
        let (pod, text) = crate::spec::load_with_text(&f)?;
        let running = PodState::load(&paths.run, &pod.name).is_some();
        let d = compare(&paths, running, &pod, &text).map(|(d, _)| d);
        if json {
            reports.push(super::diff_json::report(&pod.name, d.as_ref()));
            continue;
        }
        match d {
            None => println!("{}: created", pod.name),
            Some(d) => println!("{d}"),
        }
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
    }
    Ok(())
}

/// Stops the pod and disables it at boot; `purge` also deletes its definition.
pub fn down_with(mgr: &dyn Manager, paths: &Paths, name: &str, purge: bool) -> anyhow::Result<()> {
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
    // to the service, goes with it (also after a crashed supervisor).
    mgr.stop_unit(&service)?;
    mgr.reset_failed(&service)?;
    if mgr.unit_file_state(&service)?.as_deref() == Some("enabled") {
        mgr.set_enabled(&service, false)?;
    }
    if purge && stored.exists() {
        std::fs::remove_file(&stored)
            .with_context(|| format!("cannot remove {}", stored.display()))?;
        let _ = std::fs::remove_file(source_path(paths, name));
        let _ = std::fs::remove_file(crate::runtime::state::path(&paths.run, name));
        // Under the lock: a waiter finds its file unlinked and locks anew.
        let _ = std::fs::remove_file(paths.run.join("locks").join(format!("{name}.lock")));
    }
    Ok(())
}

pub fn down(name: &str, purge: bool) -> anyhow::Result<()> {
    super::require_root("down")?;
    let paths = Paths::from_env();
    let mgr = super::connect()?;
    down_with(&mgr, &paths, name, purge)?;
    // A supervisor that died without tearing its network down (kill -9,
    // and systemd gave up restarting it) leaves an entry: reclaim it now.
    let host = crate::net::host::Host::default();
    crate::net::attach::PodNet::system(&host).reclaim_stale(crate::net::ipam::Owner::alive)?;
    println!(
        "{name}: {}",
        if purge {
            "removed (definition deleted)"
        } else {
            "stopped"
        }
    );
    Ok(())
}
