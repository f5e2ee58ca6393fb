//! Declarative apply on a real systemd: the least change, prune,
//! crash safety and concurrent applies.

use super::common::*;
use crate::rig::{Guest, TrialFn, wait_for};
use std::time::Duration;

pub const TRIALS: &[(&str, TrialFn)] = &[
    (
        "reconcile::env_change_restarts_only_that_container",
        env_change_restarts_only_that_container,
    ),
    ("reconcile::memory_change_is_live", memory_change_is_live),
    (
        "reconcile::prune_removes_exactly_the_deleted_pod",
        prune_removes_exactly_the_deleted_pod,
    ),
    (
        "reconcile::killed_applies_converge",
        killed_applies_converge,
    ),
    (
        "reconcile::concurrent_applies_serialize",
        concurrent_applies_serialize,
    ),
];

/// A pod whose app runs `sleep 5{version}01` with VERSION in its environment
/// and whose sidecar runs `sleep {side}` (distinct per trial: they run in parallel).
fn pod(name: &str, version: &str, app_memory: &str) -> String {
    format!(
        "name = \"{name}\"\n\
         [containers.app]\ncommand = [\"sleep\", \"{}\"]\nenv = {{ VERSION = \"{version}\" }}\n\
         resources = {{ memory = \"{app_memory}\" }}\n\
         [containers.side]\ncommand = [\"sleep\", \"{}\"]\n",
        app_cmd(name, version),
        side_cmd(name)
    )
}

fn trial_id(name: &str) -> u32 {
    name.bytes().map(u32::from).sum::<u32>() % 90 + 10
}

fn app_cmd(name: &str, version: &str) -> String {
    format!(
        "7{}{}",
        trial_id(name),
        version.trim_end_matches(|c: char| !c.is_ascii_digit())
    )
}

fn side_cmd(name: &str) -> String {
    format!("8{}", trial_id(name))
}

/// The VERSION in the environment of the process running `cmdline`.
fn env_version(g: &Guest, cmdline: &str) -> Result<String, String> {
    let pid = pid_of(g, cmdline)?;
    g.ok(&format!(
        "tr '\\0' '\\n' < /proc/{pid}/environ | sed -n 's/^VERSION=//p'"
    ))
}

fn env_change_restarts_only_that_container(g: &Guest) -> Result<(), String> {
    apply(g, "rc1", &pod("rc1", "1", "64M"))?;
    let side = wait_pid(g, &format!("sleep {}", side_cmd("rc1")))?;
    let mut toml = pod("rc1", "1", "64M");
    toml = toml.replace("VERSION = \"1\"", "VERSION = \"1b\"");
    write_pod(g, "rc1", &toml)?;
    // Differences: exit 1, as kubectl diff.
    let diff = g.ok("podctl diff /root/pods/rc1.toml; test $? -eq 1")?;
    if !diff.contains("app: restarted") || !diff.contains("side: unchanged") {
        return Err(format!("podctl diff says:\n{diff}"));
    }
    let out = g.ok("podctl apply /root/pods/rc1.toml")?;
    if !out.contains("app: restarted") || !out.contains("side: unchanged") {
        return Err(format!("podctl apply says:\n{out}"));
    }
    if env_version(g, &format!("sleep {}", app_cmd("rc1", "1")))? != "1b" {
        return Err("the restarted app does not have the new environment".into());
    }
    if pid_of(g, &format!("sleep {}", side_cmd("rc1")))? != side {
        return Err("the unchanged sidecar was restarted".into());
    }
    g.ok("podctl down --purge rc1")?;
    Ok(())
}

fn memory_change_is_live(g: &Guest) -> Result<(), String> {
    apply(g, "rc2", &pod("rc2", "2", "64M"))?;
    let (app_c, side_c) = (
        format!("sleep {}", app_cmd("rc2", "2")),
        format!("sleep {}", side_cmd("rc2")),
    );
    let app = wait_pid(g, &app_c)?;
    let side = wait_pid(g, &side_c)?;
    let out = apply(g, "rc2", &pod("rc2", "2", "96M"))?;
    if !out.contains("app: updated (MemoryMax=100663296)") {
        return Err(format!("podctl apply says:\n{out}"));
    }
    g.expect_property("pod-rc2.app.scope", "MemoryMax", "100663296")?;
    if pid_of(g, &app_c)? != app || pid_of(g, &side_c)? != side {
        return Err("a limit change restarted a container".into());
    }
    let again = g.ok("podctl apply /root/pods/rc2.toml")?;
    if !again.contains("rc2: unchanged") {
        return Err(format!("re-apply after a live update says:\n{again}"));
    }
    g.ok("podctl down --purge rc2")?;
    Ok(())
}

fn prune_removes_exactly_the_deleted_pod(g: &Guest) -> Result<(), String> {
    g.ok("rm -rf /root/prune && mkdir -p /root/prune")?;
    for (name, n) in [("pa", "5301"), ("pb", "5302"), ("pc", "5303")] {
        g.ok(&format!(
            "printf 'name = \"{name}\"\\n[containers.c]\\ncommand = [\"sleep\", \"{n}\"]\\n' > /root/prune/{name}.toml"
        ))?;
    }
    // Units podctl did not make are never touched, nor pods applied from
    // elsewhere (other trials run in parallel with this one).
    g.ok("systemd-run --unit=not-a-pod.service sleep 5399")?;
    apply(
        g,
        "pelse",
        "[containers.c]\ncommand = [\"sleep\", \"5398\"]\n",
    )?;
    g.ok("podctl apply /root/prune")?;
    for n in ["5301", "5302", "5303"] {
        wait_pid(g, &format!("sleep {n}"))?;
    }
    g.ok("rm /root/prune/pb.toml")?;
    let out = g.ok("podctl apply --prune /root/prune")?;
    if !out.contains("pb: removed") || out.contains("pa: removed") || out.contains("pc: removed") {
        return Err(format!("apply --prune says:\n{out}"));
    }
    assert_gone(g, "pb", &["sleep 5302"])?;
    pid_of(g, "sleep 5301")?;
    pid_of(g, "sleep 5303")?;
    g.expect_property("not-a-pod.service", "ActiveState", "active")?;
    pid_of(g, "sleep 5398")?;
    g.ok("systemctl stop not-a-pod.service; podctl down --purge pa; podctl down --purge pc; podctl down --purge pelse")?;
    Ok(())
}

/// No unit of pod `name` but the four expected ones, and every process of
/// the pod is of `version` (see [`no_older_version_left`]).
fn matches_file(g: &Guest, name: &str, version: &str) -> Result<(), String> {
    g.wait_property(
        &format!("pod@{name}.service"),
        "ActiveState",
        "active",
        Duration::from_secs(30),
    )?;
    let units = g.ok(&format!(
        "systemctl list-units --all --no-legend --plain 'pod-{name}*' | awk '{{print $1}}' | sort"
    ))?;
    let want = [
        format!("pod-{name}.app.scope"),
        format!("pod-{name}.sandbox.scope"),
        format!("pod-{name}.side.scope"),
        format!("pod-{name}.slice"),
    ];
    let got: Vec<&str> = units.lines().collect();
    if got != want.iter().map(String::as_str).collect::<Vec<_>>() {
        return Err(format!("units of {name}: {got:?}"));
    }
    wait_for(
        Duration::from_secs(20),
        "the pod running the last version",
        || {
            Ok(env_version(g, &format!("sleep {}", app_cmd(name, version)))
                .is_ok_and(|v| v == version))
        },
    )?;
    no_older_version_left(g, name, version)
}

/// Every process of pod `name` (in its slice or its supervisor's service)
/// belongs to `version`: one supervisor, one holder, two relays and the
/// command per container, and no process with another VERSION in its
/// environment; nor is any app of another version running anywhere.
fn no_older_version_left(g: &Guest, name: &str, version: &str) -> Result<(), String> {
    let listing = g.ok(&format!(
        "for d in /proc/[0-9]*; do \
           cg=$(cat $d/cgroup 2>/dev/null) || continue; \
           case \"$cg\" in *'/pod-{name}.slice/'*|*'/pod@{name}.service'*) ;; *) continue;; esac; \
           v=$(tr '\\0' '\\n' < $d/environ 2>/dev/null | sed -n 's/^VERSION=//p'); \
           c=$(tr '\\0' ' ' < $d/cmdline 2>/dev/null); \
           [ -n \"$c\" ] && echo \"${{d#/proc/}}|$v|$c\"; \
         done; true"
    ))?;
    let (app, side) = (
        format!("sleep {}", app_cmd(name, version)),
        format!("sleep {}", side_cmd(name)),
    );
    let mut counts = [0usize; 5]; // supervisor, holder, relays and inits, app, side
    for line in listing.lines() {
        let mut f = line.splitn(3, '|');
        let (pid, v, cmd) = (
            f.next().unwrap_or(""),
            f.next().unwrap_or(""),
            f.next().unwrap_or("").trim(),
        );
        if !v.is_empty() && v != version {
            return Err(format!(
                "process {pid} ({cmd}) of version {v} is left, want only {version}:\n{listing}"
            ));
        }
        let slot = if cmd.ends_with(&format!(" up {name}")) {
            0
        } else if cmd.contains("podctl-pause hold") {
            1
        } else if cmd.contains("podctl-pause relay") || cmd.contains("podctl-pause init") {
            2
        } else if cmd == app {
            3
        } else if cmd == side {
            4
        } else {
            return Err(format!(
                "unexpected process {pid} ({cmd}) in pod {name} at version {version}:\n{listing}"
            ));
        };
        counts[slot] += 1;
    }
    if counts != [1, 1, 4, 1, 1] {
        return Err(format!(
            "pod {name} at version {version}: supervisor, holder, relays, app, side = {counts:?}, \
             want [1, 1, 4, 1, 1]:\n{listing}"
        ));
    }
    // An app of any version that escaped the pod's cgroups.
    let apps = g.ok(&format!(
        "pgrep -af '^sleep 7{}[0-9]*$' || true",
        trial_id(name)
    ))?;
    if apps.lines().count() != 1 || !apps.ends_with(&app) {
        return Err(format!(
            "app processes of pod {name}, want only {app:?}:\n{apps}"
        ));
    }
    Ok(())
}

fn killed_applies_converge(g: &Guest) -> Result<(), String> {
    // 20 rounds: an apply of the next version killed at a random moment
    // (0-400 ms: from validation to waiting for READY), then a normal apply.
    for round in 0..20u32 {
        let version = format!("{}", 6 + round % 3);
        write_pod(g, "kl", &pod("kl", &version, "64M"))?;
        let delay_ms = (round * 37 + 11) % 400;
        g.sh(&format!(
            "podctl apply /root/pods/kl.toml >/dev/null 2>&1 & p=$!; sleep 0.{delay_ms:03}; kill -9 $p; wait $p"
        ));
        g.ok("podctl apply /root/pods/kl.toml")
            .map_err(|e| format!("round {round} (killed after {delay_ms} ms): {e}"))?;
        matches_file(g, "kl", &version)
            .map_err(|e| format!("round {round} (killed after {delay_ms} ms): {e}"))?;
    }
    g.ok("podctl down --purge kl")?;
    assert_gone(g, "kl", &[&format!("sleep {}", side_cmd("kl"))])
}

/// Like [`pod`], but the app ignores SIGTERM and takes its 1 s stop timeout:
/// an apply that restarts it holds the pod's lock for a second.
fn slow_pod(name: &str, version: &str) -> String {
    pod(name, version, "64M")
        .replace(
            &format!("command = [\"sleep\", \"{}\"]", app_cmd(name, version)),
            &format!(
                "command = [\"/bin/sh\", \"-c\", \"trap '' TERM; exec sleep {}\"]\nstop_timeout = \"1s\"",
                app_cmd(name, version)
            ),
        )
}

fn concurrent_applies_serialize(g: &Guest) -> Result<(), String> {
    g.ok("mkdir -p /root/cc")?;
    g.ok(&format!(
        "cat > /root/cc/a.toml <<'EOF'\n{}\nEOF",
        slow_pod("cc", "3")
    ))?;
    g.ok(&format!(
        "cat > /root/cc/b.toml <<'EOF'\n{}\nEOF",
        slow_pod("cc", "4")
    ))?;
    apply(g, "cc", &slow_pod("cc", "1"))?;
    wait_pid(g, &format!("sleep {}", app_cmd("cc", "1")))?;
    let out = g.ok("podctl apply /root/cc/a.toml > /tmp/cc-a 2>&1 & podctl apply /root/cc/b.toml > /tmp/cc-b 2>&1; wait; cat /tmp/cc-a /tmp/cc-b")?;
    if !out.contains("waiting for it to finish") {
        return Err(format!("concurrent applies did not say they wait:\n{out}"));
    }
    // Whichever ran last is what runs, whole: its file is stored and its
    // version is in the container.
    let stored = g.ok("sed -n 's/.*VERSION = \"\\(.\\)\".*/\\1/p' /etc/podctl/pods/cc.toml")?;
    matches_file(g, "cc", &stored)?;
    g.ok("podctl down --purge cc")?;
    Ok(())
}
