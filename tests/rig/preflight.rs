//! Whether a tier can run here, and what to do when it cannot: with
//! `PODCTL_BENCH=required` (tests/run, CI) that is a failure; otherwise every
//! trial is reported as ignored with a line saying why. Never a silent pass.

use std::path::Path;

/// What a tier does on this machine.
#[derive(Debug, Clone)]
pub enum Availability {
    /// Everything the tier needs is here.
    Ready,
    /// Report every trial as ignored, for this reason.
    Skip(String),
    /// Fail every trial with this message (the bench is required).
    Fail(String),
}

/// `PODCTL_BENCH`: `required` (missing prerequisites fail), `off` (skip the
/// real-systemd tiers), anything else / unset (run if possible, else skip).
pub fn mode() -> String {
    std::env::var("PODCTL_BENCH").unwrap_or_default()
}

/// Decides whether `tier` can run given the host `tools` it needs, and
/// prints a `bench:` line when it cannot.
pub fn check(tier: &str, tools: &[&str]) -> Availability {
    let problem = if mode() == "off" {
        Some("PODCTL_BENCH=off".to_string())
    } else {
        find_problem(tools)
    };
    let Some(why) = problem else {
        return Availability::Ready;
    };
    if mode() == "required" {
        let msg = format!(
            "{tier} tier cannot run: {why} (PODCTL_BENCH=required: the real-systemd bench \
             must run; see tests/README.md)"
        );
        eprintln!("bench: {msg}");
        Availability::Fail(msg)
    } else {
        eprintln!("bench: skipping {tier} tier: {why}");
        Availability::Skip(why)
    }
}

fn find_problem(tools: &[&str]) -> Option<String> {
    if !cfg!(target_os = "linux") {
        return Some("not Linux (the bench needs systemd-nspawn and QEMU on Linux)".into());
    }
    if !nix::unistd::geteuid().is_root() {
        return Some("not root (run tests/run as root)".into());
    }
    let missing: Vec<&str> = tools.iter().copied().filter(|t| !on_path(t)).collect();
    if !missing.is_empty() {
        return Some(format!(
            "missing tools: {} (Debian: apt-get install systemd-container debootstrap \
             qemu-system-x86 e2fsprogs; see .ci/run)",
            missing.join(", ")
        ));
    }
    None
}

/// Whether `tool` is an executable file in some directory of PATH (tests/run
/// puts the sbin directories on PATH).
pub fn on_path(tool: &str) -> bool {
    let path = std::env::var("PATH").unwrap_or_default();
    path.split(':')
        .any(|dir| is_executable(&Path::new(dir).join(tool)))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}
