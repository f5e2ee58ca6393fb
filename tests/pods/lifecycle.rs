//! Lifecycle trials on a real systemd in the container tier:
//! restart backoff, init containers, ordering on readiness, Type=notify,
//! graceful stop with timeouts and signals.

use super::common::*;
use crate::rig::{Guest, TrialFn, wait_for};
use std::time::{Duration, Instant};

pub const TRIALS: &[(&str, TrialFn)] = &[
    ("lifecycle::restart_backoff_grows", restart_backoff_grows),
    (
        "lifecycle::init_container_runs_first",
        init_container_runs_first,
    ),
    (
        "lifecycle::failing_init_blocks_app",
        failing_init_blocks_app,
    ),
    (
        "lifecycle::after_ready_waits_for_probe",
        after_ready_waits_for_probe,
    ),
    (
        "lifecycle::stop_timeout_signal_and_order",
        stop_timeout_signal_and_order,
    ),
    ("lifecycle::notify_readiness", notify_readiness),
    (
        "lifecycle::independent_containers_start_together",
        independent_containers_start_together,
    ),
];

fn nanos(s: &str) -> Result<u128, String> {
    s.trim()
        .parse()
        .map_err(|_| format!("not a timestamp: {s:?}"))
}

/// Slack for journald's receive timestamps of two events (ms).
const JOURNAL_JITTER_MS: u64 = 10;

fn restart_backoff_grows(g: &Guest) -> Result<(), String> {
    g.ok("rm -f /tmp/bo-times")?;
    let toml = "name = \"bo\"\n[containers.flaky]\n\
        command = [\"/bin/sh\", \"-c\", \"date +%s%N >> /tmp/bo-times; exit 1\"]\n\
        volumes = [\"/tmp:/tmp\"]\n\
        [containers.steady]\ncommand = [\"sleep\", \"4101\"]\n";
    apply(g, "bo", toml)?;
    wait_for(
        Duration::from_secs(20),
        "5 starts of the flaky container",
        || Ok(g.ok("wc -l < /tmp/bo-times")?.parse::<u32>().unwrap_or(0) >= 5),
    )?;
    // The backoff is the supervisor's wait between reaping an exit and
    // starting again: from each `exited` event to the next `restarted` one
    // (the runtime's start cost, which varies by a second under load, is not
    // part of it).
    let mut gaps: Vec<u64> = Vec::new();
    let mut out = String::new();
    wait_for(Duration::from_secs(10), "4 restarts in the events", || {
        out = g.ok("podctl events bo --output json")?;
        gaps = exit_to_restart_gaps(&out, "flaky")?;
        Ok(gaps.len() >= 4)
    })
    .map_err(|e| format!("{e}: gaps {gaps:?} ms\n{out}"))?;
    let gaps = &gaps[..4];
    // 100 ms, 200 ms, 400 ms, 800 ms: each gap at least its backoff and
    // longer than the one before.
    for (i, gap) in gaps.iter().enumerate() {
        let min = 100u64 << i;
        // Journal timestamps are taken on receipt: a few ms of jitter.
        if *gap + JOURNAL_JITTER_MS < min {
            return Err(format!(
                "restart gaps {gaps:?} ms: gap {i} is below the {min} ms backoff"
            ));
        }
    }
    if !gaps.windows(2).all(|w| w[1] > w[0]) {
        return Err(format!("restart gaps do not grow: {gaps:?} ms"));
    }
    // `restarts` counts a restart once its launch is done, just after the
    // `restarted` event: wait for the fourth.
    let mut st = serde_json::Value::Null;
    let _ = wait_for(Duration::from_secs(10), "4 restarts in status", || {
        st = status(g, "bo")?;
        Ok(container_field(&st, "flaky", "restarts")
            .as_u64()
            .unwrap_or(0)
            >= 4)
    });
    let restarts = container_field(&st, "flaky", "restarts")
        .as_u64()
        .unwrap_or(0);
    if restarts < 4 || container_field(&st, "flaky", "last_exit") != "exited 1" {
        return Err(format!("status of the flaky container: {st}"));
    }
    if container_field(&st, "steady", "restarts") != 0 {
        return Err(format!("the steady container restarted: {st}"));
    }
    g.ok("podctl down --purge bo")?;
    Ok(())
}

fn init_container_runs_first(g: &Guest) -> Result<(), String> {
    g.ok("rm -f /tmp/init-made-it")?;
    let toml = "name = \"ini\"\n\
        [containers.app]\ncommand = [\"/bin/sh\", \"-c\", \"cat /tmp/init-made-it && exec sleep 4201\"]\nrestart = \"never\"\nvolumes = [\"/tmp:/tmp\"]\n\
        [containers.setup]\ninit = true\ncommand = [\"/bin/sh\", \"-c\", \"sleep 0.5; echo made > /tmp/init-made-it\"]\nvolumes = [\"/tmp:/tmp\"]\n";
    apply(g, "ini", toml)?;
    // The app reads the file the init container wrote, although it comes first in the file.
    wait_pid(g, "sleep 4201")?;
    let st = status(g, "ini")?;
    if container_field(&st, "setup", "state") != "completed"
        || container_field(&st, "setup", "last_exit") != "exited 0"
    {
        return Err(format!("init container state: {st}"));
    }
    wait_for(
        Duration::from_secs(10),
        "the app's output of the init container's file",
        || Ok(g.sh("podctl logs ini app").stdout.contains("made")),
    )
    .map_err(|e| {
        let fields = g.sh("journalctl -o verbose --no-pager SYSLOG_IDENTIFIER=ini/app | grep -E 'MESSAGE|_SYSTEMD|_PID'; podctl logs ini app");
        format!("{e}\nentries of ini/app:\n{}", fields.stdout)
    })?;
    g.ok("podctl down --purge ini")?;
    Ok(())
}

fn failing_init_blocks_app(g: &Guest) -> Result<(), String> {
    let toml = "name = \"inf\"\n\
        [containers.setup]\ninit = true\ncommand = [\"/bin/sh\", \"-c\", \"echo cannot-migrate >&2; exit 3\"]\n\
        [containers.app]\ncommand = [\"sleep\", \"4301\"]\n";
    let path = write_pod(g, "inf", toml)?;
    let out = g.sh(&format!("podctl apply {path}"));
    if out.success() {
        return Err("apply succeeded although the init container failed".into());
    }
    for want in [
        "init container setup failed (exited 3)",
        "podctl logs inf setup",
    ] {
        if !out.stderr.contains(want) {
            return Err(format!(
                "apply's error should say {want:?}:\n{}",
                out.stderr
            ));
        }
    }
    let st = status(g, "inf")?;
    if container_field(&st, "setup", "state") != "failed"
        || container_field(&st, "setup", "last_exit") != "exited 3"
    {
        return Err(format!("status should show why: {st}"));
    }
    if pid_of(g, "sleep 4301").is_ok() {
        return Err("the app started although the init container failed".into());
    }
    // journald reads its streams asynchronously: give it a moment.
    let logged = g.ok(
        "for i in $(seq 50); do podctl logs inf setup | grep -q cannot-migrate && echo yes && break; sleep 0.1; done",
    )?;
    if !logged.contains("yes") {
        let all = g.sh("journalctl --no-pager -o verbose | grep -B20 cannot-migrate | tail -40");
        return Err(format!(
            "the init container's output is not in its logs; the journal has:\n{}",
            all.stdout
        ));
    }
    g.ok("podctl down --purge inf")?;
    assert_gone(g, "inf", &["sleep 4301"])
}

fn after_ready_waits_for_probe(g: &Guest) -> Result<(), String> {
    g.ok("rm -f /tmp/db-ready /tmp/app-started")?;
    let toml = "name = \"ord\"\n\
        [containers.app]\ncommand = [\"/bin/sh\", \"-c\", \"date +%s%N > /tmp/app-started; exec sleep 4401\"]\nvolumes = [\"/tmp:/tmp\"]\n\
        after = { db = \"ready\" }\n\
        [containers.db]\ncommand = [\"/bin/sh\", \"-c\", \"sleep 2; date +%s%N > /tmp/db-ready; exec sleep 4402\"]\nvolumes = [\"/tmp:/tmp\"]\n\
        ready = { exec = [\"test\", \"-f\", \"/tmp/db-ready\"], interval = \"100ms\" }\n";
    write_pod(g, "ord", toml)?;
    // Type=notify: systemctl start returns only once every container is ready.
    let t = Instant::now();
    // The file is removed before each start, not by the container: its
    // first probe may run before the container's first command.
    // app-started goes too: a container counts as started once its init has
    // forked the command, so the shell may write the file only after start
    // returned; the first start's file must not be read for this one.
    g.ok(
        "podctl apply /root/pods/ord.toml >/dev/null && systemctl stop pod@ord \
          && rm -f /tmp/db-ready /tmp/app-started && systemctl start pod@ord",
    )?;
    let took = t.elapsed();
    let ready_at = nanos(&g.ok("cat /tmp/db-ready")?)?;
    wait_for(
        Duration::from_secs(10),
        "app to write /tmp/app-started",
        || Ok(g.sh("test -s /tmp/app-started").status == 0),
    )?;
    let app_at = nanos(&g.ok("cat /tmp/app-started")?)?;
    if app_at < ready_at {
        return Err(format!(
            "app started {} ms before db was ready",
            (ready_at - app_at) / 1_000_000
        ));
    }
    if took < Duration::from_secs(4) {
        return Err(format!(
            "apply + start returned after {took:?}: before the 2 s readiness twice"
        ));
    }
    let st = status(g, "ord")?;
    for c in ["db", "app"] {
        if container_field(&st, c, "ready") != true {
            return Err(format!("{c} not ready after start returned: {st}"));
        }
    }
    g.ok("podctl down --purge ord")?;
    Ok(())
}

fn stop_timeout_signal_and_order(g: &Guest) -> Result<(), String> {
    g.ok("rm -f /tmp/st-graceful /tmp/st-int")?;
    let toml = "name = \"st\"\n\
        [containers.stubborn]\ncommand = [\"/bin/sh\", \"-c\", \"trap '' TERM; exec sleep 4501\"]\nstop_timeout = \"2s\"\n\
        [containers.graceful]\ncommand = [\"/bin/sh\", \"-c\", \"trap 'date +%s%N > /tmp/st-graceful; exit 0' TERM; sleep 4502 & wait\"]\nvolumes = [\"/tmp:/tmp\"]\n\
        after = [\"stubborn\"]\n\
        [containers.interrupt]\ncommand = [\"/bin/sh\", \"-c\", \"trap 'date +%s%N > /tmp/st-int; exit 0' INT; sleep 4503 & wait\"]\nvolumes = [\"/tmp:/tmp\"]\n\
        stop_signal = \"SIGINT\"\nafter = [\"graceful\"]\n";
    apply(g, "st", toml)?;
    wait_pid(g, "sleep 4501")?;
    wait_pid(g, "sleep 4503")?;
    let t = Instant::now();
    g.ok("podctl down st")?;
    let took = t.elapsed();
    if took < Duration::from_millis(1900) || took > Duration::from_secs(6) {
        return Err(format!(
            "stop took {took:?}; the stubborn container should cost its 2 s stop_timeout"
        ));
    }
    // Each handled its own stop signal, in reverse dependency order:
    // interrupt (waits for graceful) first, then graceful (waits for stubborn).
    let int_at = nanos(
        &g.ok("cat /tmp/st-int")
            .map_err(|e| format!("stop_signal = SIGINT was not delivered: {e}"))?,
    )?;
    let term_at = nanos(
        &g.ok("cat /tmp/st-graceful")
            .map_err(|e| format!("SIGTERM was not delivered: {e}"))?,
    )?;
    if int_at > term_at {
        return Err(format!(
            "graceful stopped {} ms before interrupt, which waits for it",
            (int_at - term_at) / 1_000_000
        ));
    }
    assert_gone(g, "st", &["sleep 4501", "sleep 4502", "sleep 4503"])?;
    g.ok("podctl down --purge st")?;
    Ok(())
}

/// `ready = "notify"`: the container's own READY=1 (sd_notify) marks it ready.
fn notify_readiness(g: &Guest) -> Result<(), String> {
    g.ok("rm -f /tmp/nt-ready /tmp/nt-app")?;
    let toml = "name = \"nt\"\n\
        [containers.db]\ncommand = [\"/bin/sh\", \"-c\", \"sleep 1; date +%s%N > /tmp/nt-ready; systemd-notify --ready; exec sleep 4701\"]\nvolumes = [\"/tmp:/tmp\"]\n\
        ready = \"notify\"\n\
        [containers.app]\ncommand = [\"/bin/sh\", \"-c\", \"date +%s%N > /tmp/nt-app; exec sleep 4702\"]\nvolumes = [\"/tmp:/tmp\"]\n\
        after = { db = \"ready\" }\n";
    let t = Instant::now();
    apply(g, "nt", toml)?;
    if t.elapsed() < Duration::from_millis(900) {
        return Err(format!(
            "apply returned after {:?}, before the container said READY=1",
            t.elapsed()
        ));
    }
    // app has no readiness check: it counts as ready once its command runs,
    // which may be a moment before the shell has written its file.
    wait_for(Duration::from_secs(5), "/tmp/nt-app written", || {
        Ok(g.sh("test -s /tmp/nt-app").success())
    })?;
    let ready_at = nanos(&g.ok("cat /tmp/nt-ready")?)?;
    let app_at = nanos(&g.ok("cat /tmp/nt-app")?)?;
    if app_at < ready_at {
        return Err("app started before db sent READY=1".into());
    }
    let st = status(g, "nt")?;
    if container_field(&st, "db", "ready") != true {
        return Err(format!("db not ready: {st}"));
    }
    g.ok("podctl down --purge nt")?;
    Ok(())
}

/// From `podctl events --output json`: for `container`, the milliseconds from
/// each `exited` event to the `restarted` event that follows it.
fn exit_to_restart_gaps(events: &str, container: &str) -> Result<Vec<u64>, String> {
    let mut exited_at = None;
    let mut gaps = Vec::new();
    for line in events.lines() {
        let e: serde_json::Value =
            serde_json::from_str(line).map_err(|err| format!("{err}: {line}"))?;
        if e["container"] != container {
            continue;
        }
        let at = e["timestamp_usec"]
            .as_u64()
            .ok_or_else(|| format!("event without timestamp_usec: {line}"))?;
        match e["event"].as_str() {
            Some("exited") => exited_at = Some(at),
            Some("restarted") => {
                if let Some(x) = exited_at.take() {
                    gaps.push(at.saturating_sub(x) / 1000);
                }
            }
            _ => {}
        }
    }
    Ok(gaps)
}

/// A runtime that takes 3 s per new container (`run`, or `create`): crun
/// behind a wrapper that logs when each (its last argument is the container
/// id) begins and ends.
const SLOW_RUNTIME: &str = r#"#!/bin/sh
for id; do :; done
case " $* " in
*" create "*|*" run "*)
    echo "begin $id $(date +%s%N)" >> /tmp/slowrt.log
    sleep 3
    /usr/bin/crun "$@"; rc=$?
    echo "end $id $(date +%s%N)" >> /tmp/slowrt.log
    exit $rc;;
esac
exec /usr/bin/crun "$@""#;

/// Containers that wait for nothing are created by their runtimes side by
/// side, not one after the other: with [`SLOW_RUNTIME`] the two creates
/// overlap.
fn independent_containers_start_together(g: &Guest) -> Result<(), String> {
    g.ok(&format!(
        "mkdir -p /opt/slowrt && rm -f /tmp/slowrt.log && \
         cat > /opt/slowrt/crun <<'PODCTL_EOF'\n{SLOW_RUNTIME}\nPODCTL_EOF\n\
         chmod 755 /opt/slowrt/crun"
    ))?;
    apply(
        g,
        "tog",
        "name = \"tog\"\nnetwork = \"none\"\nruntime = \"/opt/slowrt/crun\"\n\
         [containers.a]\ncommand = [\"sleep\", \"4801\"]\n\
         [containers.b]\ncommand = [\"sleep\", \"4802\"]\n",
    )?;
    let log = g.ok("cat /tmp/slowrt.log")?;
    g.ok("podctl down --purge tog")?;
    let at = |what: &str, id: &str| -> Result<u128, String> {
        log.lines()
            .find(|l| l.starts_with(&format!("{what} {id} ")))
            .and_then(|l| l.rsplit(' ').next())
            .ok_or_else(|| format!("no {what} of {id} in the runtime's log:\n{log}"))
            .and_then(nanos)
    };
    let (a0, a1) = (at("begin", "tog.a")?, at("end", "tog.a")?);
    let (b0, b1) = (at("begin", "tog.b")?, at("end", "tog.b")?);
    if a0.max(b0) >= a1.min(b1) {
        return Err(format!("the two creates did not overlap:\n{log}"));
    }
    Ok(())
}
