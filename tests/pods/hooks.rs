//! Lifecycle hook trials on a real systemd in the container tier: a
//! `pre_stop` hook runs in the container before its stop signal and
//! delays it (its output in the journal); a `post_start` hook holds the
//! container's start and readiness; a failing `post_start` hook kills and
//! restarts it.

use super::common::*;
use crate::rig::{Guest, TrialFn, wait_for};
use std::time::{Duration, Instant};

pub const TRIALS: &[(&str, TrialFn)] = &[
    (
        "hooks::pre_stop_runs_before_the_stop_signal",
        pre_stop_runs_before_the_stop_signal,
    ),
    (
        "hooks::post_start_holds_start_and_readiness",
        post_start_holds_start_and_readiness,
    ),
    (
        "hooks::failing_post_start_restarts_the_container",
        failing_post_start_restarts_the_container,
    ),
];

fn nanos(g: &Guest, file: &str) -> Result<u128, String> {
    let s = g.ok(&format!("cat {file}"))?;
    s.trim()
        .parse()
        .map_err(|_| format!("{file}: not a timestamp: {s:?}"))
}

/// The `pre_stop` hook runs in the container (it sees the container's
/// /tmp volume) and the container gets SIGTERM only once the hook, which
/// sleeps 2 s, has ended.
fn pre_stop_runs_before_the_stop_signal(g: &Guest) -> Result<(), String> {
    g.ok("rm -f /tmp/hkps-hook /tmp/hkps-term")?;
    let toml = "name = \"hkps\"\n[containers.app]\n\
        command = [\"/bin/sh\", \"-c\", \"trap 'date +%s%N > /tmp/hkps-term; exit 0' TERM; sleep 4901 & wait\"]\n\
        volumes = [\"/tmp:/tmp\"]\n\
        hooks.pre_stop = { exec = [\"/bin/sh\", \"-c\", \"date +%s%N > /tmp/hkps-hook; echo hkps-draining; sleep 2\"] }\n";
    apply(g, "hkps", toml)?;
    wait_pid(g, "sleep 4901")?;
    if g.sh("test -e /tmp/hkps-hook").success() {
        return Err("the pre_stop hook ran before any stop".into());
    }
    let t = Instant::now();
    g.ok("podctl down hkps")?;
    let took = t.elapsed();
    let hook = nanos(g, "/tmp/hkps-hook").map_err(|e| format!("the hook did not run: {e}"))?;
    let term = nanos(g, "/tmp/hkps-term").map_err(|e| format!("no SIGTERM: {e}"))?;
    if term < hook {
        return Err(format!(
            "SIGTERM came {} ms before the pre_stop hook",
            (hook - term) / 1_000_000
        ));
    }
    let gap = Duration::from_nanos((term - hook) as u64);
    if gap < Duration::from_millis(1900) {
        return Err(format!(
            "SIGTERM came {gap:?} after the hook began, before its 2 s sleep ended"
        ));
    }
    if took < Duration::from_millis(1900) || took > Duration::from_secs(9) {
        return Err(format!("down took {took:?}: the hook's 2 s, then the stop"));
    }
    assert_gone(g, "hkps", &["sleep 4901"])?;
    // The hook's output is in the journal, of the container's scope.
    wait_for(
        Duration::from_secs(10),
        "the hook's output in the journal",
        || {
            Ok(
                g.sh("journalctl --no-pager -u pod-hkps.app.scope | grep -q hkps-draining")
                    .success(),
            )
        },
    )?;
    g.ok("podctl down --purge hkps")?;
    Ok(())
}

/// While its `post_start` hook (3 s) runs, the container is `starting`
/// and not ready, and `web`, which waits for it to be started, is held;
/// once the hook has passed it is running and ready, and web starts.
fn post_start_holds_start_and_readiness(g: &Guest) -> Result<(), String> {
    g.ok("rm -f /tmp/hkpo-hook /tmp/hkpo-web")?;
    let toml = "name = \"hkpo\"\n[containers.app]\ncommand = [\"sleep\", \"4902\"]\n\
        volumes = [\"/tmp:/tmp\"]\n\
        hooks.post_start = { exec = [\"/bin/sh\", \"-c\", \"date +%s%N > /tmp/hkpo-hook; sleep 3\"] }\n\
        [containers.web]\ncommand = [\"/bin/sh\", \"-c\", \"date +%s%N > /tmp/hkpo-web; exec sleep 4903\"]\n\
        volumes = [\"/tmp:/tmp\"]\nafter = [\"app\"]\n";
    let path = write_pod(g, "hkpo", toml)?;
    g.ok(&format!("(podctl apply {path} >/dev/null 2>&1 &)"))?;
    wait_pid(g, "sleep 4902")?;
    wait_for(Duration::from_secs(10), "the hook to start", || {
        Ok(g.sh("test -s /tmp/hkpo-hook").success())
    })?;
    let hook = nanos(g, "/tmp/hkpo-hook")?;
    let st = status(g, "hkpo")?;
    let now = nanos_now(g)?;
    // Seen while the hook still runs (it sleeps 3 s).
    if now >= hook + 2_800_000_000 {
        return Err(format!(
            "status came {} ms after the hook began: too late to see it run",
            (now - hook) / 1_000_000
        ));
    }
    if container_field(&st, "app", "state") != "starting"
        || container_field(&st, "app", "ready") != false
    {
        return Err(format!("app while its post_start hook runs: {st}"));
    }
    if container_field(&st, "web", "state") != "waiting" {
        return Err(format!("web started before app's hook ended: {st}"));
    }
    let mut ready_at = 0;
    wait_for(Duration::from_secs(15), "app ready", || {
        let st = status(g, "hkpo")?;
        ready_at = nanos_now(g)?;
        Ok(container_field(&st, "app", "ready") == true)
    })?;
    if ready_at < hook + 2_900_000_000 {
        return Err(format!(
            "app ready {} ms after its 3 s hook began",
            (ready_at - hook) / 1_000_000
        ));
    }
    wait_for(Duration::from_secs(10), "web to start", || {
        Ok(g.sh("test -s /tmp/hkpo-web").success())
    })?;
    let web = nanos(g, "/tmp/hkpo-web")?;
    if web < hook + 2_900_000_000 {
        return Err(format!(
            "web started {} ms after app's 3 s hook began",
            (web.saturating_sub(hook)) / 1_000_000
        ));
    }
    let st = status(g, "hkpo")?;
    if container_field(&st, "app", "state") != "running" {
        return Err(format!("app after its hook: {st}"));
    }
    g.ok("podctl down --purge hkpo")?;
    Ok(())
}

/// A `post_start` hook that exits 1 kills the container, which restarts
/// (restart = "always"): the restart count grows and the events say why.
fn failing_post_start_restarts_the_container(g: &Guest) -> Result<(), String> {
    let toml = "name = \"hkpf\"\n[containers.app]\ncommand = [\"sleep\", \"4904\"]\n\
        hooks.post_start = { exec = [\"/bin/sh\", \"-c\", \"exit 1\"] }\n";
    let path = write_pod(g, "hkpf", toml)?;
    // Never ready: apply waits for the start timeout, holding the pod's
    // lock (down waits for it): it is ended once the trial has seen enough.
    g.ok(&format!(
        "(podctl apply {path} >/dev/null 2>&1 & echo $! > /tmp/hkpf-apply.pid)"
    ))?;
    let mut st = serde_json::Value::Null;
    wait_for(Duration::from_secs(30), "2 restarts of app", || {
        st = status(g, "hkpf").unwrap_or_default();
        Ok(container_field(&st, "app", "restarts")
            .as_u64()
            .unwrap_or(0)
            >= 2)
    })
    .map_err(|e| format!("{e}: {st}"))?;
    if container_field(&st, "app", "ready") == true {
        return Err(format!("app ready although its hook fails: {st}"));
    }
    let mut events = String::new();
    wait_for(
        Duration::from_secs(10),
        "hook-failed and restarted events",
        || {
            events = g.ok("podctl events hkpf --output json")?;
            Ok(events.contains("\"hook-failed\"") && events.contains("\"restarted\""))
        },
    )
    .map_err(|e| format!("{e}:\n{events}"))?;
    if !events.contains("post_start hook exited 1") {
        return Err(format!("the hook-failed event does not say why:\n{events}"));
    }
    g.ok("kill $(cat /tmp/hkpf-apply.pid); rm -f /tmp/hkpf-apply.pid")?;
    g.ok("podctl down --purge hkpf")?;
    assert_gone(g, "hkpf", &["sleep 4904"])
}

fn nanos_now(g: &Guest) -> Result<u128, String> {
    g.ok("date +%s%N")?
        .trim()
        .parse()
        .map_err(|e| format!("date: {e}"))
}
