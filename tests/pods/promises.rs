//! Trials for what the README promises about the supervisor:
//! exit statuses, reload failures, PIDs, notify credentials, probes, stop
//! at any moment.

use super::common::*;
use crate::rig::{Guest, TrialFn, wait_for};
use std::time::Duration;

pub const TRIALS: &[(&str, TrialFn)] = &[
    (
        "promises::finished_pod_exits_79_not_restarted",
        finished_pod_exits_79_not_restarted,
    ),
    (
        "promises::impossible_definition_exits_78_not_restarted",
        impossible_definition_exits_78_not_restarted,
    ),
    (
        "promises::pid_is_the_command_everywhere",
        pid_is_the_command_everywhere,
    ),
    (
        "promises::stop_during_a_hanging_start",
        stop_during_a_hanging_start,
    ),
    (
        "promises::ready_probe_runs_again_after_a_restart",
        ready_probe_runs_again_after_a_restart,
    ),
    (
        "promises::liveness_kills_and_restarts",
        liveness_kills_and_restarts,
    ),
    (
        "promises::sandbox_losses_are_counted",
        sandbox_losses_are_counted,
    ),
    (
        "promises::start_timeout_counts_from_the_sandbox",
        start_timeout_counts_from_the_sandbox,
    ),
    (
        "promises::backoff_resets_after_running_long_enough",
        backoff_resets_after_running_long_enough,
    ),
    (
        "promises::failed_relaunch_on_reload_is_reported_and_retried",
        failed_relaunch_on_reload_is_reported_and_retried,
    ),
    (
        "promises::notify_from_outside_the_scope_is_ignored",
        notify_from_outside_the_scope_is_ignored,
    ),
    (
        "promises::stop_fits_the_longest_stop_timeout",
        stop_fits_the_longest_stop_timeout,
    ),
    (
        "promises::stop_during_a_reload_stop",
        stop_during_a_reload_stop,
    ),
    (
        "promises::timed_out_probe_leaves_no_process",
        timed_out_probe_leaves_no_process,
    ),
    (
        "promises::apply_starts_a_pod_past_its_start_limit",
        apply_starts_a_pod_past_its_start_limit,
    ),
    (
        "promises::a_failed_scope_of_the_same_name_is_reset",
        a_failed_scope_of_the_same_name_is_reset,
    ),
];

/// A failed unit holding one of the pod's unit names (as a crashed run can
/// leave; here a scope that outlived its RuntimeMaxSec=) does not stop the
/// pod from starting: the name is reset and taken.
fn a_failed_scope_of_the_same_name_is_reset(g: &Guest) -> Result<(), String> {
    let unit = "pod-lf.app.scope";
    g.ok(&format!(
        "(systemd-run --scope --unit={unit} -p RuntimeMaxSec=1s sleep 30 >/dev/null 2>&1 &)"
    ))?;
    g.wait_property(unit, "ActiveState", "failed", Duration::from_secs(20))?;
    let result = apply(
        g,
        "lf",
        "name = \"lf\"\n[containers.app]\ncommand = [\"sleep\", \"4804\"]\n",
    )
    .and_then(|_| g.expect_property(unit, "ActiveState", "active"));
    g.ok(&format!(
        "podctl down --purge lf; systemctl reset-failed {unit} 2>/dev/null; true"
    ))?;
    result
}

/// Applies pod `name` whose one container (`restart = "never"`) runs the
/// shell `script`, which fails it, and waits until pod@NAME is failed;
/// returns the pod file's path and the service's name.
fn apply_until_failed(g: &Guest, name: &str, script: &str) -> Result<(String, String), String> {
    let toml = format!(
        "name = \"{name}\"\n[containers.job]\n\
         command = [\"/bin/sh\", \"-c\", \"{script}\"]\nrestart = \"never\"\n"
    );
    let path = write_pod(g, name, &toml)?;
    // The pod may finish before or after apply sees READY=1: not checked here.
    let _ = g.sh(&format!("podctl apply {path}"));
    let unit = format!("pod@{name}.service");
    g.wait_property(&unit, "ActiveState", "failed", Duration::from_secs(20))?;
    Ok((path, unit))
}

/// A pod that failed as often as pod@'s start limit allows starts again on
/// the next apply (its failed state and start counter are reset), as an
/// operator fixing a definition expects.
fn apply_starts_a_pod_past_its_start_limit(g: &Guest) -> Result<(), String> {
    g.ok("mkdir -p /run/systemd/system/pod@sl.service.d && \
          printf '[Unit]\\nStartLimitBurst=1\\nStartLimitIntervalSec=5min\\n' \
          > /run/systemd/system/pod@sl.service.d/limit.conf && systemctl daemon-reload")?;
    let (path, unit) = apply_until_failed(g, "sl", "exit 3")?;
    let unit = unit.as_str();
    // Fixed, and applied within the start limit's interval.
    write_pod(
        g,
        "sl",
        "name = \"sl\"\n[containers.job]\ncommand = [\"sleep\", \"4803\"]\n",
    )?;
    let result = g
        .ok(&format!("podctl apply {path}"))
        .and_then(|_| g.expect_property(unit, "ActiveState", "active"));
    g.ok("podctl down --purge sl; rm -rf /run/systemd/system/pod@sl.service.d && systemctl daemon-reload")?;
    result
}

/// A pod whose only container (`restart = "never"`) exits 3 is finished:
/// pod@ ends failed with status 79 and systemd does not start it again.
fn finished_pod_exits_79_not_restarted(g: &Guest) -> Result<(), String> {
    let (_, unit) = apply_until_failed(g, "fin", "sleep 0.3; exit 3")?;
    let unit = unit.as_str();
    g.expect_property(unit, "ExecMainStatus", "79")?;
    // RestartSec=1s: a restart would have happened by now.
    std::thread::sleep(Duration::from_secs(3));
    g.expect_property(unit, "NRestarts", "0")?;
    g.expect_property(unit, "ActiveState", "failed")?;
    g.ok("podctl down --purge fin")?;
    Ok(())
}

/// What the definition makes impossible, checked before start, is exit 78
/// and not retried: a command that does not exist, a user the host lacks.
fn impossible_definition_exits_78_not_restarted(g: &Guest) -> Result<(), String> {
    for (pod, line) in [
        ("ex78c", "command = [\"no-such-command-xyz\"]"),
        (
            "ex78u",
            "command = [\"sleep\", \"4801\"]\nuser = \"no-such-user-xyz\"",
        ),
    ] {
        let path = write_pod(
            g,
            pod,
            &format!("name = \"{pod}\"\n[containers.app]\n{line}\n"),
        )?;
        if g.sh(&format!("podctl apply {path}")).success() {
            return Err(format!("apply of {pod} succeeded"));
        }
        let unit = format!("pod@{pod}.service");
        g.wait_property(&unit, "ActiveState", "failed", Duration::from_secs(20))?;
        g.expect_property(&unit, "ExecMainStatus", "78")?;
        std::thread::sleep(Duration::from_secs(2));
        g.expect_property(&unit, "NRestarts", "0")?;
        g.ok(&format!("podctl down --purge {pod}"))?;
    }
    Ok(())
}

/// `pid` is the command's process, the same number in `ps`, `status --json`
/// and `inspect`; the relay is `monitor_pid`.
fn pid_is_the_command_everywhere(g: &Guest) -> Result<(), String> {
    apply(
        g,
        "pidc",
        "name = \"pidc\"\n[containers.pidapp]\ncommand = [\"sleep\", \"4901\"]\n",
    )?;
    let command = wait_pid(g, "sleep 4901")?;
    let st = status(g, "pidc")?;
    let pid = container_field(&st, "pidapp", "pid");
    if pid != command {
        return Err(format!("status pid {pid}, the command is {command}: {st}"));
    }
    let monitor = container_field(&st, "pidapp", "monitor_pid")
        .as_u64()
        .unwrap_or(0);
    let comm = g.ok(&format!("cat /proc/{monitor}/comm"))?;
    if monitor == u64::from(command) || comm != "podctl-pause" {
        return Err(format!("monitor_pid {monitor} ({comm:?}) is not the relay"));
    }
    let ps = g.ok("podctl ps")?;
    let row: Vec<&str> = ps
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|f| f.first() == Some(&"pidapp"))
        .ok_or(format!("no row for pidapp in podctl ps:\n{ps}"))?;
    if row.get(2) != Some(&command.to_string().as_str()) {
        return Err(format!("podctl ps shows {row:?}, the command is {command}"));
    }
    let inspect = g.ok("podctl inspect pidc")?;
    let irow: Vec<&str> = inspect
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|f| f.first() == Some(&"pidapp"))
        .ok_or(format!("no row for pidapp in podctl inspect:\n{inspect}"))?;
    if irow.get(1) != Some(&command.to_string().as_str()) {
        return Err(format!(
            "podctl inspect shows {irow:?}, the command is {command}"
        ));
    }
    // nsenter with that PID lands in the container's PID namespace.
    let inside = g.ok(&format!("nsenter -t {command} -p -m ps -o pid= -C sleep"))?;
    if inside.trim().parse::<u32>().map_or(true, |p| p == command) {
        return Err(format!(
            "nsenter -t {command}: the command's PID inside is {inside:?} (should differ from the host's)"
        ));
    }
    g.ok("podctl down --purge pidc")?;
    Ok(())
}

/// `systemctl stop` while the start waits for a readiness probe that never
/// passes stops the pod in time (stop_timeout 2 s + 1 s), cleanly.
fn stop_during_a_hanging_start(g: &Guest) -> Result<(), String> {
    write_pod(
        g,
        "hang",
        "name = \"hang\"\n[containers.app]\ncommand = [\"sleep\", \"5001\"]\n\
         stop_timeout = \"2s\"\nready = { exec = [\"false\"], interval = \"200ms\" }\n",
    )?;
    g.ok("install -D -m 0644 /root/pods/hang.toml /etc/podctl/pods/hang.toml")?;
    g.ok("systemctl start --no-block pod@hang.service")?;
    wait_pid(g, "sleep 5001")?;
    std::thread::sleep(Duration::from_millis(500));
    g.expect_property("pod@hang.service", "ActiveState", "activating")?;
    let t = std::time::Instant::now();
    g.ok("systemctl stop pod@hang.service")?;
    let took = t.elapsed();
    if took > Duration::from_secs(3) {
        return Err(format!("stop during the start took {took:?} (limit 3 s)"));
    }
    g.expect_property("pod@hang.service", "Result", "success")?;
    g.ok("podctl down --purge hang")?;
    assert_gone(g, "hang", &["sleep 5001"])
}

/// A container with a `ready` probe and no `live` probe is probed again
/// after it restarts (nothing else happens in the pod meanwhile): its
/// second run becomes ready 1 s after it starts, so the first attempt fails.
fn ready_probe_runs_again_after_a_restart(g: &Guest) -> Result<(), String> {
    g.ok("rm -f /tmp/rp-once /tmp/rp-up")?;
    apply(
        g,
        "rp",
        "name = \"rp\"\n[containers.app]\n\
         command = [\"/bin/sh\", \"-c\", \"if [ -f /tmp/rp-once ]; then sleep 1; touch /tmp/rp-up; exec sleep 5101; \
         else touch /tmp/rp-once /tmp/rp-up; sleep 1; rm /tmp/rp-up; exit 1; fi\"]\nvolumes = [\"/tmp:/tmp\"]\n\
         ready = { exec = [\"test\", \"-f\", \"/tmp/rp-up\"], interval = \"200ms\" }\n",
    )?;
    wait_pid(g, "sleep 5101")?;
    wait_for(
        Duration::from_secs(10),
        "app ready after its restart",
        || {
            let st = status(g, "rp")?;
            Ok(container_field(&st, "app", "restarts") == 1
                && container_field(&st, "app", "ready") == true)
        },
    )?;
    g.ok("podctl down --purge rp")?;
    Ok(())
}

/// `retries` liveness failures in a row kill the container, which restarts.
fn liveness_kills_and_restarts(g: &Guest) -> Result<(), String> {
    g.ok("touch /tmp/lv-ok")?;
    apply(
        g,
        "lv",
        "name = \"lv\"\n[containers.app]\ncommand = [\"sleep\", \"5201\"]\nvolumes = [\"/tmp:/tmp\"]\n\
         live = { exec = [\"test\", \"-f\", \"/tmp/lv-ok\"], interval = \"200ms\", retries = 2 }\n",
    )?;
    let first = wait_pid(g, "sleep 5201")?;
    std::thread::sleep(Duration::from_secs(1));
    if container_field(&status(g, "lv")?, "app", "restarts") != 0 {
        return Err("restarted while its liveness probe passed".into());
    }
    g.ok("rm -f /tmp/lv-ok")?;
    wait_for(
        Duration::from_secs(10),
        "app killed by its liveness probe",
        || {
            let st = status(g, "lv")?;
            Ok(container_field(&st, "app", "last_exit") == "signal 9")
        },
    )?;
    g.ok("touch /tmp/lv-ok")?;
    let second = wait_pid(g, "sleep 5201")?;
    if second == first {
        return Err(format!("still the same process {first}"));
    }
    wait_for(Duration::from_secs(10), "app restarted", || {
        let st = status(g, "lv")?;
        Ok(container_field(&st, "app", "restarts")
            .as_u64()
            .unwrap_or(0)
            >= 1
            && container_field(&st, "app", "state") == "running")
    })?;
    g.ok("podctl down --purge lv")?;
    Ok(())
}

/// Each loss of the sandbox holder is counted in `sandbox_losses`, across
/// the recreations it causes.
fn sandbox_losses_are_counted(g: &Guest) -> Result<(), String> {
    apply(
        g,
        "sl",
        "name = \"sl\"\n[containers.app]\ncommand = [\"sleep\", \"5301\"]\n",
    )?;
    for n in 1..=2u64 {
        wait_pid(g, "sleep 5301")?;
        let holder = status(g, "sl")?["sandbox"]["pid"]
            .as_u64()
            .filter(|p| *p != 0)
            .ok_or("no sandbox pid")?;
        let sup = g.unit_property("pod@sl.service", "MainPID")?;
        g.ok(&format!("kill -9 {holder}"))?;
        // A new supervisor, with the pod running again.
        wait_for(Duration::from_secs(20), "pod recreated", || {
            Ok(g.unit_property("pod@sl.service", "MainPID")? != sup
                && g.unit_property("pod@sl.service", "ActiveState")? == "active")
        })?;
        let st = status(g, "sl")?;
        if st["sandbox_losses"] != n {
            return Err(format!("after {n} losses: {st}"));
        }
    }
    g.ok("podctl down --purge sl")?;
    Ok(())
}

/// The restart backoff starts over once a container ran long enough (the
/// 60 s window, shortened to 2 s with PODCTL_BACKOFF_RESET_SECS on this unit).
fn backoff_resets_after_running_long_enough(g: &Guest) -> Result<(), String> {
    g.ok(
        "rm -f /tmp/br-times && mkdir -p /run/systemd/system/pod@br.service.d && \
          printf '[Service]\\nEnvironment=PODCTL_BACKOFF_RESET_SECS=2\\n' \
          > /run/systemd/system/pod@br.service.d/reset.conf && systemctl daemon-reload",
    )?;
    apply(
        g,
        "br",
        "name = \"br\"\n[containers.app]\n\
         command = [\"/bin/sh\", \"-c\", \"date +%s%N >> /tmp/br-times; sleep 2.5; exit 1\"]\nvolumes = [\"/tmp:/tmp\"]\n",
    )?;
    wait_for(Duration::from_secs(45), "7 starts", || {
        Ok(g.ok("wc -l < /tmp/br-times")?.parse::<u32>().unwrap_or(0) >= 7)
    })?;
    let times: Vec<u128> = g
        .ok("head -7 /tmp/br-times")?
        .lines()
        .map(|l| l.trim().parse().map_err(|_| format!("not a time: {l:?}")))
        .collect::<Result<_, _>>()?;
    let gaps: Vec<u128> = times
        .windows(2)
        .map(|w| (w[1] - w[0]) / 1_000_000)
        .collect();
    // Without the reset: 2.5 s + 100, 200, 400, 800, 1600, 3200 ms; with it,
    // + 100 ms each time. The margin is wide for a loaded machine, where a
    // start can take most of a second longer than the one before.
    let (first, last) = (gaps[0], gaps[gaps.len() - 1]);
    let result = if last > first + 1500 {
        Err(format!("the backoff grew: gaps {gaps:?} ms"))
    } else {
        Ok(())
    };
    g.ok("podctl down --purge br; rm -rf /run/systemd/system/pod@br.service.d && systemctl daemon-reload")?;
    result
}

/// A reload whose relaunch fails: apply fails naming the container and the
/// cause, status shows it, the container is retried with backoff, and
/// applying the same file again tries again instead of saying "unchanged".
fn failed_relaunch_on_reload_is_reported_and_retried(g: &Guest) -> Result<(), String> {
    let good = "name = \"rf\"\n[containers.keep]\ncommand = [\"sleep\", \"5501\"]\n\
        [containers.app]\ncommand = [\"sleep\", \"5502\"]\n";
    apply(g, "rf", good)?;
    wait_pid(g, "sleep 5502")?;
    let bad = good.replace("[\"sleep\", \"5502\"]", "[\"no-such-cmd-rf\"]");
    let path = write_pod(g, "rf", &bad)?;
    for attempt in ["first", "second"] {
        let out = g.sh(&format!("podctl apply {path}"));
        let text = format!("{}{}", out.stdout, out.stderr);
        if out.success() || !text.contains("app") || !text.contains("no-such-cmd-rf") {
            return Err(format!(
                "{attempt} apply of a file whose relaunch fails: success={} output:\n{text}",
                out.success()
            ));
        }
    }
    let st = status(g, "rf")?;
    let error = container_field(&st, "app", "last_error");
    if !error.as_str().is_some_and(|e| e.contains("no-such-cmd-rf")) {
        return Err(format!("status does not show the failure: {st}"));
    }
    // Retried with its backoff meanwhile: restarts grows.
    wait_for(Duration::from_secs(10), "app retried", || {
        let st = status(g, "rf")?;
        Ok(container_field(&st, "app", "restarts").as_u64().unwrap_or(0) >= 1
            || g.sh("journalctl -u pod@rf.service | grep -c 'starting container app' | grep -qv '^[01]$'").success())
    })?;
    // The good file again: app runs, the untouched container was kept.
    let keep = pid_of(g, "sleep 5501")?;
    apply(g, "rf", good)?;
    wait_pid(g, "sleep 5502")?;
    if pid_of(g, "sleep 5501")? != keep {
        return Err("the unchanged container was restarted".into());
    }
    g.ok("podctl down --purge rf")?;
    Ok(())
}

/// READY=1 on a container's NOTIFY_SOCKET from a process outside its scope
/// does not make it ready; its own `systemd-notify --ready` does.
fn notify_from_outside_the_scope_is_ignored(g: &Guest) -> Result<(), String> {
    write_pod(
        g,
        "nfy",
        "name = \"nfy\"\n[containers.app]\n\
         command = [\"/bin/sh\", \"-c\", \"sleep 3; systemd-notify --ready; exec sleep 5601\"]\n\
         ready = \"notify\"\n",
    )?;
    g.ok("install -D -m 0644 /root/pods/nfy.toml /etc/podctl/pods/nfy.toml")?;
    g.ok("systemctl start --no-block pod@nfy.service")?;
    let mut pid = 0;
    wait_for(Duration::from_secs(10), "app started", || {
        pid = status(g, "nfy")
            .map(|st| container_field(&st, "app", "pid").as_u64().unwrap_or(0))
            .unwrap_or(0);
        Ok(pid != 0)
    })?;
    let socket = g.ok(&format!(
        "tr '\\0' '\\n' < /proc/{pid}/environ | sed -n 's/^NOTIFY_SOCKET=//p'"
    ))?;
    if socket.is_empty() {
        return Err(format!("no NOTIFY_SOCKET in the environment of {pid}"));
    }
    // This shell is not in the container's scope.
    g.ok(&format!("NOTIFY_SOCKET={socket} systemd-notify --ready"))?;
    std::thread::sleep(Duration::from_millis(800));
    let st = status(g, "nfy")?;
    if container_field(&st, "app", "ready") != false {
        return Err(format!(
            "ready after a READY=1 from outside its scope: {st}"
        ));
    }
    g.expect_property("pod@nfy.service", "ActiveState", "activating")?;
    // Its own READY=1 (after 3 s) counts.
    g.wait_property(
        "pod@nfy.service",
        "ActiveState",
        "active",
        Duration::from_secs(15),
    )?;
    g.ok("podctl down --purge nfy")?;
    Ok(())
}

/// Two stop waves of containers that ignore SIGTERM, 2 s each: the whole
/// stop takes the longest stop_timeout (2 s, + 1 s), not their sum, and the
/// later wave is still stopped after the earlier one.
fn stop_fits_the_longest_stop_timeout(g: &Guest) -> Result<(), String> {
    apply(
        g,
        "sb",
        "name = \"sb\"\n\
         [containers.first]\ncommand = [\"/bin/sh\", \"-c\", \"trap '' TERM; exec sleep 5701\"]\n\
         stop_timeout = \"2s\"\n\
         [containers.second]\ncommand = [\"/bin/sh\", \"-c\", \"trap '' TERM; exec sleep 5702\"]\n\
         stop_timeout = \"2s\"\nafter = [\"first\"]\n",
    )?;
    let first = wait_pid(g, "sleep 5701")?;
    let second = wait_pid(g, "sleep 5702")?;
    let t = std::time::Instant::now();
    g.ok("systemctl stop pod@sb.service")?;
    let took = t.elapsed();
    if took < Duration::from_millis(1900) || took > Duration::from_secs(3) {
        return Err(format!(
            "stop of two 2 s waves took {took:?} (want the longest stop_timeout, 2 s, + at most 1 s)"
        ));
    }
    for p in [first, second] {
        if g.sh(&format!("test -d /proc/{p}")).success() {
            return Err(format!("process {p} survived the stop"));
        }
    }
    g.ok("podctl down --purge sb")?;
    Ok(())
}

/// `systemctl stop` while a reload waits for a changed container to stop
/// (it ignores SIGTERM): the pod is down within its longest stop_timeout
/// (4 s) + 1 s of the request, not after the reload's stop plus a whole stop.
fn stop_during_a_reload_stop(g: &Guest) -> Result<(), String> {
    let pod = |a: &str| {
        format!(
            "name = \"rs\"\n\
             [containers.a]\ncommand = [\"/bin/sh\", \"-c\", \"trap '' TERM; exec sleep {a}\"]\nstop_timeout = \"4s\"\n\
             [containers.b]\ncommand = [\"/bin/sh\", \"-c\", \"trap '' TERM; exec sleep 5802\"]\nstop_timeout = \"4s\"\n"
        )
    };
    apply(g, "rs", &pod("5801"))?;
    wait_pid(g, "sleep 5801")?;
    wait_pid(g, "sleep 5802")?;
    let path = write_pod(g, "rs", &pod("5811"))?;
    // The reload stops `a` (4 s, it ignores SIGTERM); apply waits meanwhile.
    g.ok(&format!("(podctl apply {path} >/dev/null 2>&1 &)"))?;
    wait_for(Duration::from_secs(10), "the reload stopping a", || {
        Ok(g.sh("journalctl -u pod@rs.service | grep -q 'reload: '")
            .success())
    })?;
    std::thread::sleep(Duration::from_millis(500));
    let t = std::time::Instant::now();
    g.ok("systemctl stop pod@rs.service")?;
    let took = t.elapsed();
    if took > Duration::from_secs(5) {
        return Err(format!(
            "stop during a reload's stop took {took:?} (limit: longest stop_timeout 4 s + 1 s)"
        ));
    }
    g.ok("podctl down --purge rs")?;
    assert_gone(g, "rs", &["sleep 5801", "sleep 5802", "sleep 5811"])
}

/// An exec probe that times out is killed with everything it started: after
/// ten attempts that each leave a background child, at most the one of the
/// attempt in flight is there.
fn timed_out_probe_leaves_no_process(g: &Guest) -> Result<(), String> {
    apply(
        g,
        "pl",
        "name = \"pl\"\n[containers.app]\ncommand = [\"sleep\", \"5903\"]\n\
         live = { exec = [\"/bin/sh\", \"-c\", \"sleep 5901 & exec sleep 5902\"], \
         interval = \"300ms\", timeout = \"200ms\", retries = 1000 }\n",
    )?;
    wait_pid(g, "sleep 5903")?;
    std::thread::sleep(Duration::from_secs(4));
    let count = |c: &str| -> Result<u32, String> {
        Ok(g.ok(&format!("pgrep -xf '{c}' | wc -l"))?
            .parse()
            .unwrap_or(99))
    };
    let (bg, fg) = (count("sleep 5901")?, count("sleep 5902")?);
    g.ok("podctl down --purge pl")?;
    if bg > 1 || fg > 1 {
        return Err(format!(
            "timed-out probes left {bg} background and {fg} foreground processes"
        ));
    }
    Ok(())
}

/// pod@.service's TimeoutStartSec covers making the units, the holder and
/// the network (netavark at boot under emulation takes most of 90 s); once
/// they are up the supervisor extends it to its own start deadline. Here the
/// unit allows 3 s and an init container takes 5 s: the pod still starts.
fn start_timeout_counts_from_the_sandbox(g: &Guest) -> Result<(), String> {
    g.ok("mkdir -p /run/systemd/system/pod@sts.service.d && \
          printf '[Service]\\nTimeoutStartSec=3s\\n' \
          > /run/systemd/system/pod@sts.service.d/short.conf && systemctl daemon-reload")?;
    let toml = "name = \"sts\"\nnetwork = \"none\"\n\
        [containers.setup]\ninit = true\ncommand = [\"/bin/sleep\", \"5\"]\n\
        [containers.app]\ncommand = [\"sleep\", \"4702\"]\n";
    let path = write_pod(g, "sts", toml)?;
    let out = g.sh(&format!("podctl apply {path}"));
    let result = if out.success() && pid_of(g, "sleep 4702").is_ok() {
        Ok(())
    } else {
        Err(format!(
            "the pod did not start past a 3 s TimeoutStartSec:\n{}{}\n{}",
            out.stdout,
            out.stderr,
            g.sh("systemctl status --no-pager pod@sts.service").stdout
        ))
    };
    g.ok("podctl down --purge sts; rm -rf /run/systemd/system/pod@sts.service.d && systemctl daemon-reload")?;
    result
}
