//! More of what a Podman or kubectl user expects of the command line, on a
//! real systemd in the container tier: an apply that recreates the pod,
//! `diff`'s exit status, `exec` without `--`.

use super::common::*;
use crate::bench::{Guest, TrialFn};

pub const TRIALS: &[(&str, TrialFn)] = &[(
    "cli_more::apply_recreates_on_hostname_change",
    apply_recreates_on_hostname_change,
)];

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
        let seen = g.ok("podctl exec crh app -- hostname")?;
        if seen != host {
            return Err(format!(
                "hostname after the apply: {seen:?}, expected {host:?}"
            ));
        }
    }
    g.ok("podctl down crh")?;
    assert_gone(g, "crh", &["sleep 7301"])
}
