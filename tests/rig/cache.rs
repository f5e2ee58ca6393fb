//! Cached build products (root filesystems, the VM base image) under
//! `/var/cache/podctl-bench` or `$PODCTL_BENCH_CACHE`.
//!
//! Each entry is a directory `NAME-KEY`, KEY being a hash of its recipe, so a
//! changed recipe builds a new entry and a later run reuses it. Entries are
//! built under a temporary name and renamed into place while holding an
//! exclusive lock on `CACHE/.lock`, so two test binaries never build at once
//! and a half-built entry is never used.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// The build script for roots and images; its hash is part of every key.
pub fn mkroot_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/rig/mkroot.sh")
}

/// Where cached entries live.
pub fn cache_dir() -> PathBuf {
    std::env::var_os("PODCTL_BENCH_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/cache/podctl-bench"))
}

/// The first 16 hex digits of the sha256 of `parts` (joined by NUL).
pub fn recipe_key(parts: &[&[u8]]) -> Result<String, String> {
    let mut child = Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run sha256sum: {e}"))?;
    {
        let mut stdin = child.stdin.take().ok_or("sha256sum: no stdin")?;
        for part in parts {
            stdin
                .write_all(part)
                .and_then(|()| stdin.write_all(b"\0"))
                .map_err(|e| format!("writing to sha256sum: {e}"))?;
        }
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("sha256sum: {e}"))?;
    let hex = String::from_utf8_lossy(&out.stdout);
    match hex.get(..16) {
        Some(key) if out.status.success() => Ok(key.to_string()),
        _ => Err(format!("sha256sum failed: {}", out.status)),
    }
}

/// The key of an entry built by `mkroot.sh` with `args`.
pub fn mkroot_key(args: &[&str]) -> Result<String, String> {
    let script = mkroot_script();
    let text = fs::read(&script).map_err(|e| format!("reading {}: {e}", script.display()))?;
    let mut parts: Vec<&[u8]> = vec![&text];
    parts.extend(args.iter().map(|a| a.as_bytes()));
    recipe_key(&parts)
}

/// Returns `CACHE/NAME-KEY`, first building it with `build(tmp_dir, log)` if
/// it does not exist. `what` and `estimate` go into the progress line.
pub fn cached<F>(
    name: &str,
    key: &str,
    what: &str,
    estimate: &str,
    build: F,
) -> Result<PathBuf, String>
where
    F: FnOnce(&Path, &Path) -> Result<(), String>,
{
    let dir = cache_dir();
    let entry = dir.join(format!("{name}-{key}"));
    if entry.is_dir() {
        return Ok(entry);
    }
    fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let _lock = lock(&dir)?;
    if entry.is_dir() {
        return Ok(entry); // another test binary built it while we waited
    }
    let tmp = dir.join(format!(".tmp-{name}-{key}"));
    remove_dir(&tmp)?;
    let log = dir.join(format!("{name}-{key}.log"));
    eprintln!(
        "bench: building {what} (first run, {estimate})... log: {}",
        log.display()
    );
    let start = Instant::now();
    build(&tmp, &log).map_err(|e| format!("building {what} in {}: {e}", tmp.display()))?;
    fs::rename(&tmp, &entry)
        .map_err(|e| format!("renaming {} to {}: {e}", tmp.display(), entry.display()))?;
    eprintln!("bench: built {what} in {:.0?}", start.elapsed());
    prune(&dir, name, &entry);
    Ok(entry)
}

/// Exclusive lock on `dir/.lock`, released when the file is dropped.
fn lock(dir: &Path) -> Result<File, String> {
    let path = dir.join(".lock");
    let file = File::create(&path).map_err(|e| format!("creating {}: {e}", path.display()))?;
    file.lock()
        .map_err(|e| format!("locking {}: {e}", path.display()))?;
    Ok(file)
}

/// Removes entries `NAME-*` other than `keep` (older recipes).
fn prune(dir: &Path, name: &str, keep: &Path) {
    let Ok(read) = fs::read_dir(dir) else { return };
    let prefix = format!("{name}-");
    for item in read.flatten() {
        let path = item.path();
        let file_name = item.file_name().to_string_lossy().into_owned();
        if path != keep && path.is_dir() && file_name.starts_with(&prefix) {
            eprintln!("bench: removing stale cache entry {}", path.display());
            if let Err(e) = remove_dir(&path) {
                eprintln!("bench: warning: {e}");
            }
        }
    }
}

fn remove_dir(path: &Path) -> Result<(), String> {
    match fs::remove_dir_all(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(format!("removing {}: {e}", path.display()))
        }
        _ => Ok(()),
    }
}

/// Runs `cmd` with stdout and stderr appended to `log`; on failure the error
/// names the command and carries the last lines of the log.
pub fn run_logged(cmd: &mut Command, log: &Path) -> Result<(), String> {
    let file = File::options()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|e| format!("opening {}: {e}", log.display()))?;
    let err_file = file
        .try_clone()
        .map_err(|e| format!("opening {}: {e}", log.display()))?;
    let status = cmd
        .stdin(Stdio::null())
        .stdout(file)
        .stderr(err_file)
        .status()
        .map_err(|e| format!("cannot start {:?}: {e}", cmd.get_program()))?;
    if status.success() {
        return Ok(());
    }
    Err(format!(
        "{cmd:?} failed ({status}); last lines of {}:\n{}",
        log.display(),
        tail(log, 30)
    ))
}

/// The last `n` lines of the file at `path` (empty if unreadable).
pub fn tail(path: &Path, n: usize) -> String {
    let text = fs::read(path).unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// The debootstrapped root that containers boot (read-only, `--volatile=overlay`).
pub fn container_root() -> Result<PathBuf, String> {
    let key = mkroot_key(&["container"])?;
    cached(
        "container-root",
        &key,
        "container root",
        "~1 min",
        |tmp, log| {
            let mut cmd = Command::new("bash");
            cmd.arg(mkroot_script()).arg("container").arg(tmp);
            run_logged(&mut cmd, log)
        },
    )
}

/// The directory holding the VM's `base.img`, `vmlinuz` and `initrd.img`.
pub fn vm_base() -> Result<PathBuf, String> {
    let root = container_root()?;
    let root_arg = root.display().to_string();
    let key = mkroot_key(&["vm", &root_arg])?;
    cached("vm-base", &key, "VM base image", "~1 min", |tmp, log| {
        let mut cmd = Command::new("bash");
        cmd.arg(mkroot_script()).args(["vm", &root_arg]).arg(tmp);
        run_logged(&mut cmd, log)
    })
}

/// The benchmark's VM image (`cargo bench --bench pods`): the `vm` recipe
/// applied to the container root plus the packages of
/// `tests/benchmark/packages` (Podman, busybox-static). Keyed on mkroot.sh,
/// the benchmark's script and package list, so the test entries keep theirs.
pub fn vm_bench_base() -> Result<PathBuf, String> {
    let root = container_root()?;
    let root_arg = root.display().to_string();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/benchmark");
    let script = dir.join("mkroot-bench.sh");
    let read = |p: &Path| fs::read(p).map_err(|e| format!("reading {}: {e}", p.display()));
    let (mkroot, bench, packages) = (
        read(&mkroot_script())?,
        read(&script)?,
        read(&dir.join("packages"))?,
    );
    let key = recipe_key(&[&mkroot, &bench, &packages, root_arg.as_bytes()])?;
    cached(
        "vm-bench-base",
        &key,
        "benchmark VM image (Podman)",
        "~2 min",
        |tmp, log| {
            let mut cmd = Command::new("bash");
            cmd.arg(&script).arg(&root_arg).arg(tmp);
            run_logged(&mut cmd, log)
        },
    )
}
