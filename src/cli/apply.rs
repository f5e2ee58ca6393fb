//! `podctl apply FILE|DIR [--prune]`, `podctl diff FILE|DIR` (`podctl down`: [`super::down`]).
//!
//! Apply is a promise: afterwards the host runs what the files say. For each
//! pod, under a per-pod lock (concurrent applies are serialized, and say so):
//! store the file atomically, set autostart, then compare the file with what
//! the supervisor *runs* (its state file, not the stored file, so an apply
//! killed after storing still converges next time) and do the least:
//! nothing; a reload (live limits, only the changed containers); a recreate
//! (namespaces or hostname changed); or a start.

use crate::plan::decide::Changes;
use crate::plan::units;
use crate::runtime::Paths;
use crate::runtime::state::{PodState, changes_against, write_atomic};
use crate::systemd::Manager;
use anyhow::{Context, bail};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long apply waits for a supervisor to carry out a reload.
const RELOAD_TIMEOUT: Duration = Duration::from_secs(90);
/// How often apply reads the state file while it waits for the reload (a
/// reload of unchanged containers takes a few milliseconds).
const RELOAD_POLL: Duration = Duration::from_millis(10);

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

/// How long apply waits for the journal to hold a failed start's messages.
const JOURNAL_SETTLE: std::time::Duration = std::time::Duration::from_secs(2);

/// The journal's last lines of a unit whose start failed. journald reads
/// the supervisor's stderr and systemd's own messages from different
/// sockets, in no set order: this waits (at most [`JOURNAL_SETTLE`]) until
/// systemd's word on the main process is there, then gives what the
/// supervisor wrote a moment more to arrive.
fn failure_tail(unit: &str) -> String {
    const LINES: u32 = 15;
    let settled = |t: &str| t.contains("Main process exited") || t.contains("Failed with result");
    let deadline = std::time::Instant::now() + JOURNAL_SETTLE;
    let mut tail = journal_tail(unit, LINES);
    while !settled(&tail) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
        tail = journal_tail(unit, LINES);
    }
    if settled(&tail) {
        std::thread::sleep(std::time::Duration::from_millis(100));
        tail = journal_tail(unit, LINES);
    }
    tail
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

/// Applies one pod, read and validated from `file` (and its manifest's
/// volume `files`), through `mgr`; returns what was done, as printed.
pub fn apply_pod(
    mgr: &(dyn Manager + Sync),
    paths: &Paths,
    (file, files): (&Path, &[crate::kube::files::VolumeFiles]),
    pod: crate::model::Pod,
    text: String,
) -> anyhow::Result<String> {
    let name = pod.name.clone();
    let _lock = lock_pod(paths, &name)?;
    let service = units::service(&name);
    // Two questions for systemd at once: is pod@.service installed and
    // enabled, and does the pod run (one ListUnitsByPatterns).
    let (file_state, loaded) = super::side_by_side(
        || mgr.unit_file_state(&service),
        || mgr.list_units(&[&service]),
    );
    let Some(file_state) = file_state? else {
        bail!("{service}: pod@.service is not installed (install it with: podctl install)");
    };
    let running = loaded?
        .iter()
        .any(|u| u.name == service && u.active_state.is_running());
    super::kube::write_files(&name, files)?; // checked: written under the pod's lock
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

    let wanted = crate::plan::build(&pod);
    let changes = changes_against(&paths.run, running, &wanted, &text);
    match &changes {
        // A pod that failed before starts afresh (start_unit resets it).
        Changes::Create { .. } => mgr.start_unit(&service)?,
        Changes::Unchanged(_) => {}
        Changes::Recreate(_) => mgr.restart_unit(&service)?,
        Changes::Reload(_) => {
            let before = PodState::load(&paths.run, &name).map_or(0, |s| s.last_reload_id());
            mgr.reload_unit(&service)?;
            wait_reloaded(paths, &name, &text, before)?;
        }
    }
    Ok(changes.report())
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
        std::thread::sleep(RELOAD_POLL);
    }
}

/// `podctl apply FILE|DIR [--prune]`.
pub fn apply(
    target: &Path,
    prune: bool,
    policy: crate::kube::Unsupported,
    early: super::Early,
) -> anyhow::Result<()> {
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
        match super::kube::load_all(f, policy) {
            Ok(l) => loaded.push(((f, l.pod, l.text), l.files)),
            Err(d) => errors.push(d.to_string()),
        }
    }
    if !errors.is_empty() {
        bail!("{}", errors.join("\n"));
    }
    let (loaded, volume_files): (Vec<_>, Vec<_>) = loaded.into_iter().unzip();
    // What the runtime would refuse later, refused now: nothing is changed or written.
    let path = std::env::var("PATH").unwrap_or_else(|_| crate::plan::DEFAULT_PATH.into());
    for ((_, pod, _), vf) in loaded.iter().zip(&volume_files) {
        let checked = super::kube::checked_plan(pod, vf);
        errors.extend(crate::oci::preflight(&checked, &path));
    }
    errors.extend(network_conflicts(&loaded));
    if !errors.is_empty() {
        bail!("{}", errors.join("\n"));
    }
    // Every image stored before anything is stopped or changed.
    let all: Vec<&crate::model::Pod> = loaded.iter().map(|(_, p, _)| p).collect();
    crate::image::run::ensure_images(&all, &*crate::image::progress::for_stderr())
        .map_err(|e| anyhow::anyhow!("{e}\nnothing was changed"))?;
    let pods: Vec<String> = loaded.iter().map(|(_, p, _)| p.name.clone()).collect();
    let mgr = early.connect()?;
    for ((f, pod, text), vf) in loaded.into_iter().zip(volume_files) {
        let service = units::service(&pod.name);
        match apply_pod(&mgr, &paths, (f, &vf), pod, text) {
            Ok(what) => println!("{what}"),
            Err(e) => {
                let tail = failure_tail(&service);
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
                super::down::down_with(&mgr, &paths, &name, true)?;
                println!("{name}: removed");
            }
        }
    }
    super::show::print_pods(&mgr, &paths, &pods)
}

/// A network engine that is not installed, published ports that another
/// pod (running, or earlier in this apply) or a host program holds, and
/// networks without a free address: refused
/// before anything of any pod is stored, enabled or started. The supervisor
/// checks again when it reserves (another apply may come in between).
fn network_conflicts(loaded: &[(&PathBuf, crate::model::Pod, String)]) -> Vec<String> {
    let host = crate::net::host::Host::default();
    let pn = crate::net::attach::PodNet::system(&host);
    let mut problems = Vec::new();
    // Networks that do not load are the conflict check's to report.
    let defs = pn.networks().unwrap_or_default();
    let path = std::env::var("PATH").unwrap_or_else(|_| crate::plan::DEFAULT_PATH.into());
    let mut earlier: Vec<(&str, &crate::net::ports::PortMapping)> = Vec::new();
    for (_, pod, _) in loaded {
        let net = &pod.network;
        if net.mode != crate::model::NetworkMode::Bridge {
            continue;
        }
        problems.extend(super::preflight::network_engine(pod, &host, &defs, &path));
        let in_batch = net.ports.iter().find_map(|mine| {
            earlier
                .iter()
                .find(|(_, theirs)| theirs.clashes_with(mine))
                .map(|(other, _)| {
                    format!(
                        "pod {}: port {mine} is also published by pod {other}, applied before it",
                        pod.name
                    )
                })
        });
        match in_batch {
            Some(p) => problems.push(p),
            None => {
                if let Err(e) = pn.check(&pod.name, net, crate::net::ipam::Owner::alive) {
                    problems.push(crate::error_chain(&e));
                }
            }
        }
        earlier.extend(net.ports.iter().map(|m| (pod.name.as_str(), m)));
    }
    problems
}

/// `/etc/podctl/pods/NAME.source`: the directory a pod was applied from.
pub(super) fn source_path(paths: &Paths, name: &str) -> PathBuf {
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
