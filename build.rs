//! Links podctl-pause as a freestanding static executable (no libc, no
//! startup files), and records the git revision for `podctl --version`.
use std::process::Command;

fn main() {
    for arg in [
        "-nostartfiles",
        "-nostdlib",
        "-static",
        "-no-pie",
        "-Wl,--build-id=none",
    ] {
        println!("cargo:rustc-link-arg-bin=podctl-pause={arg}");
    }
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rustc-env=PODCTL_GIT_REV={}", git_revision());
}

/// `abc123def456`, the commit built; PODCTL_GIT_REV from the environment when building outside a checkout.
fn git_revision() -> String {
    println!("cargo:rerun-if-env-changed=PODCTL_GIT_REV");
    if let Ok(rev) = std::env::var("PODCTL_GIT_REV") {
        return rev;
    }
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let Some(rev) = git(&["rev-parse", "--short=12", "HEAD"]) else {
        return "unknown revision".into();
    };
    // Rebuild when HEAD moves (a commit, a checkout).
    if let Some(path) = git(&["rev-parse", "--git-path", "HEAD"]) {
        println!("cargo:rerun-if-changed={path}");
    }
    if let Some(head_ref) = git(&["symbolic-ref", "-q", "HEAD"])
        && let Some(path) = git(&["rev-parse", "--git-path", &head_ref])
    {
        println!("cargo:rerun-if-changed={path}");
    }
    rev
}
