//! More of what a Podman or kubectl user expects of the command line, on a
//! real systemd in the container tier: an apply that recreates the pod
//! (and `exec` without `--`), `diff`'s exit status, apply's check of the
//! network engine, the pod's `start_timeout`, and what a pull says when
//! the store is on overlayfs.

use super::common::*;
use crate::rig::{Guest, TrialFn};

pub const TRIALS: &[(&str, TrialFn)] = &[
    (
        "cli_more::apply_recreates_on_hostname_change",
        apply_recreates_on_hostname_change,
    ),
    ("cli_more::diff_exit_status", diff_exit_status),
    (
        "cli_more::apply_checks_the_network_engine",
        apply_checks_the_network_engine,
    ),
    (
        "cli_more::start_timeout_is_the_pods",
        start_timeout_is_the_pods,
    ),
    (
        "cli_more::store_on_overlayfs_says_what_to_do",
        store_on_overlayfs_says_what_to_do,
    ),
];

fn with_hostname(name: &str, host: &str, secs: u32) -> String {
    format!(
        "name = \"{name}\"\nhostname = \"{host}\"\n\
         [containers.app]\ncommand = [\"sleep\", \"{secs}\"]\n"
    )
}

/// A changed hostname recreates the pod: the apply succeeds, and the new
/// pod runs with the new hostname in a new sandbox. Twice, so that a
/// recreate right after a recreate is covered too.
fn apply_recreates_on_hostname_change(g: &Guest) -> Result<(), String> {
    apply(g, "crh", &with_hostname("crh", "first", 7301))?;
    let mut pid = wait_pid(g, "sleep 7301")?;
    for host in ["second", "third"] {
        let out = apply(g, "crh", &with_hostname("crh", host, 7301))?;
        if !out.contains("recreat") {
            return Err(format!("apply of a new hostname said {out:?}"));
        }
        let new = wait_pid(g, "sleep 7301")?;
        if new == pid {
            return Err(format!("the pod was not recreated: app PID still {pid}"));
        }
        pid = new;
        // exec with and without `--`, the command's options its own.
        for cmd in [
            "-- hostname",
            "hostname",
            "cat -u /proc/sys/kernel/hostname",
        ] {
            let seen = g.ok(&format!("podctl exec crh app {cmd}"))?;
            if seen != host {
                return Err(format!(
                    "`podctl exec crh app {cmd}` after the apply: {seen:?}, expected {host:?}"
                ));
            }
        }
    }
    g.ok("podctl down crh")?;
    assert_gone(g, "crh", &["sleep 7301"])
}

/// `podctl diff`'s exit status is kubectl diff's: 0 when apply would change
/// nothing, 1 when it would, 2 when the diff fails.
fn diff_exit_status(g: &Guest) -> Result<(), String> {
    let path = write_pod(g, "cdf", &with_hostname("cdf", "cdf", 7302))?;
    let expect = |cmd: &str, status: i32| {
        let out = g.sh(cmd);
        if out.status != status {
            return Err(format!(
                "`{cmd}`: exit {} (expected {status}); stdout {:?}, stderr {:?}",
                out.status, out.stdout, out.stderr
            ));
        }
        Ok(out.stdout)
    };
    let out = expect(&format!("podctl diff {path}"), 1)?;
    if out.trim() != "cdf: created" {
        return Err(format!("diff of a pod not running said {out:?}"));
    }
    g.ok(&format!("podctl apply {path}"))?;
    wait_pid(g, "sleep 7302")?;
    expect(&format!("podctl diff {path}"), 0)?;
    expect(&format!("podctl diff -o json {path}"), 0)?;
    write_pod(g, "cdf", &with_hostname("cdf", "cdf2", 7302))?;
    let out = expect(&format!("podctl diff {path}"), 1)?;
    if !out.contains("recreate") {
        return Err(format!("diff of a new hostname said {out:?}"));
    }
    expect("podctl diff /nonexistent/cdf.toml", 2)?;
    g.ok("podctl down cdf")?;
    assert_gone(g, "cdf", &["sleep 7302"])
}

/// A bridge pod on a host without netavark (here: podctl told it is
/// elsewhere) is refused by apply before anything is stored, enabled or
/// started, the message saying what to install.
fn apply_checks_the_network_engine(g: &Guest) -> Result<(), String> {
    let path = write_pod(g, "cne", &with_hostname("cne", "cne", 7303))?;
    let out = g.sh(&format!(
        "PODCTL_NETAVARK=/nonexistent/netavark podctl apply {path}"
    ));
    let said = out
        .stderr
        .contains("/nonexistent/netavark is not installed")
        && out
            .stderr
            .contains("install it with `apt-get install netavark`");
    if out.success() || !said {
        return Err(format!(
            "apply without netavark: exit {}, stderr {:?}",
            out.status, out.stderr
        ));
    }
    for left in [
        "test -e /etc/podctl/pods/cne.toml",
        "systemctl is-enabled pod@cne.service",
        "systemctl is-active pod@cne.service",
    ] {
        if g.sh(left).success() {
            return Err(format!("a refused apply left something: `{left}` succeeds"));
        }
    }
    // The same file applies where netavark is.
    g.ok(&format!("podctl apply {path}"))?;
    wait_pid(g, "sleep 7303")?;
    g.ok("podctl down cne")?;
    assert_gone(g, "cne", &["sleep 7303"])
}

/// `start_timeout` bounds the start: an init container that runs on fails
/// the start after the pod's 2 s (not the default 80 s), naming it.
fn start_timeout_is_the_pods(g: &Guest) -> Result<(), String> {
    let toml = "name = \"cst\"\nnetwork = \"none\"\nstart_timeout = \"2s\"\n\
                [containers.setup]\ninit = true\ncommand = [\"sleep\", \"7304\"]\n\
                [containers.app]\ncommand = [\"sleep\", \"7305\"]\n";
    let path = write_pod(g, "cst", toml)?;
    let plan = g.ok(&format!("podctl apply --dry-run {path}"))?;
    if !plan.contains("start timeout: 2000 ms") {
        return Err(format!("the plan does not show the start timeout:\n{plan}"));
    }
    let started = std::time::Instant::now();
    let out = g.sh_timeout(
        &format!("podctl apply {path}"),
        std::time::Duration::from_secs(60),
    );
    let took = started.elapsed();
    let said = out
        .stderr
        .contains("start timed out after 2s: init container setup still running");
    g.ok("podctl down cst")?;
    if out.success() || !said || took > std::time::Duration::from_secs(30) {
        return Err(format!(
            "apply with an init container past start_timeout: exit {} after {took:?}, stderr {:?}",
            out.status, out.stderr
        ));
    }
    assert_gone(g, "cst", &["sleep 7304", "sleep 7305"])
}

/// A store on overlayfs (here: the guest's volatile root) cannot hold a
/// layer's whiteouts: the pull fails saying so and where to put the store,
/// not with a bare "Operation not permitted".
fn store_on_overlayfs_says_what_to_do(g: &Guest) -> Result<(), String> {
    use super::image_rig as ib;
    ib::setup(g)?;
    let prep = "s=/root/img-src/ovlwh; rm -rf $s; mkdir -p $s/low/srv $s/up/srv; \
        echo o > $s/low/srv/old.txt; touch $s/up/srv/.wh.old.txt";
    ib::push_image(
        g,
        prep,
        &["/root/img-src/ovlwh/low", "/root/img-src/ovlwh/up"],
        "bench/ovlwh",
        "1",
    )?;
    let store = "/root/store-on-overlay";
    let fs = g.ok("stat -f -c %T /root")?;
    if fs != "overlayfs" {
        return Err(format!(
            "/root is on {fs}, not overlayfs: the trial shows nothing"
        ));
    }
    let out = g.sh(&format!(
        "rm -rf {store}; PODCTL_STORAGE={store} podctl pull oci:/root/images/bench-ovlwh:1"
    ));
    let said = out
        .stderr
        .contains(&format!("the image store {store} is on overlayfs"))
        && out.stderr.contains("PODCTL_STORAGE=DIR")
        && out.stderr.matches("Operation not permitted").count() == 1;
    g.ok(&format!("rm -rf {store}"))?;
    if out.success() || !said {
        return Err(format!(
            "pull into a store on overlayfs: exit {}, stderr {:?}",
            out.status, out.stderr
        ));
    }
    Ok(())
}
