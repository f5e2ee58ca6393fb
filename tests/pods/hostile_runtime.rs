//! Trials of what a local user or a container's own output cannot do to a
//! running pod: forge its readiness (READY=1 from a cgroup named like the
//! container's scope) or its events (PODCTL_* fields in the journal), pick
//! the syslog priority of its log lines, hang `podctl exec -u` with a FIFO
//! as /etc/passwd; and a pod whose sandbox holder is killed again and again
//! comes back each time and stops clean.

use super::common::*;
use super::image_pods::{self, APP};
use crate::rig::{Guest, TrialFn, wait_for};
use std::time::Duration;

pub const TRIALS: &[(&str, TrialFn)] = &[
    (
        "hostile_runtime::ready_from_a_same_named_cgroup_is_ignored",
        ready_from_a_same_named_cgroup_is_ignored,
    ),
    (
        "hostile_runtime::forged_journal_events_are_not_shown",
        forged_journal_events_are_not_shown,
    ),
    (
        "hostile_runtime::output_cannot_choose_its_priority",
        output_cannot_choose_its_priority,
    ),
    (
        "hostile_runtime::a_line_of_stderr_never_lands_in_one_of_stdout",
        a_line_of_stderr_never_lands_in_one_of_stdout,
    ),
    (
        "hostile_runtime::exec_user_with_a_fifo_passwd_fails_fast",
        exec_user_with_a_fifo_passwd_fails_fast,
    ),
    (
        "hostile_runtime::exec_refuses_a_pid_that_is_not_the_containers",
        exec_refuses_a_pid_that_is_not_the_containers,
    ),
    (
        "hostile_runtime::a_killed_supervisors_leftovers_are_cleared",
        a_killed_supervisors_leftovers_are_cleared,
    ),
    (
        "hostile_runtime::sandbox_loss_recovers_and_stops_clean",
        sandbox_loss_recovers_and_stops_clean,
    ),
];

/// A container with `ready = "notify"` that never says READY=1; a process
/// of another user, in a cgroup whose last component is the container's
/// scope name (as a user makes under their own manager), sends READY=1 to
/// the container's socket: the pod stays not ready.
fn ready_from_a_same_named_cgroup_is_ignored(g: &Guest) -> Result<(), String> {
    write_pod(
        g,
        "hrn",
        "name = \"hrn\"\n[containers.app]\ncommand = [\"/bin/sleep\", \"7101\"]\nready = \"notify\"\n",
    )?;
    g.ok("install -D -m 0644 /root/pods/hrn.toml /etc/podctl/pods/hrn.toml")?;
    g.ok("systemctl start --no-block pod@hrn.service")?;
    let pid = wait_pid(g, "/bin/sleep 7101")?;
    let socket = g.ok(&format!(
        "tr '\\0' '\\n' < /proc/{pid}/environ | sed -n 's/^NOTIFY_SOCKET=//p'"
    ))?;
    if socket.is_empty() {
        return Err(format!("no NOTIFY_SOCKET in the environment of {pid}"));
    }
    // The same name under every systemd hierarchy there is (v2 root, or
    // the hybrid host's unified and name=systemd trees).
    let forged = "forge-hrn/pod-hrn.app.scope";
    let sent = g.sh(&format!(
        "set -e; dirs=''
         for h in /sys/fs/cgroup /sys/fs/cgroup/unified /sys/fs/cgroup/systemd; do
           [ -e $h/cgroup.procs ] || continue
           mkdir -p $h/{forged}; dirs=\"$dirs $h/{forged}\"
         done
         [ -n \"$dirs\" ]
         sh -c 'for d in '\"$dirs\"'; do echo $$ > $d/cgroup.procs; done
                cat /proc/self/cgroup >&2
                NOTIFY_SOCKET={socket} exec setpriv --reuid=nobody --regid=nogroup --clear-groups \
                  systemd-notify --ready' || true"
    ));
    let _ = g.sh(
        "for h in /sys/fs/cgroup /sys/fs/cgroup/unified /sys/fs/cgroup/systemd; do \
         rmdir $h/forge-hrn/pod-hrn.app.scope $h/forge-hrn 2>/dev/null; done; true",
    );
    if !sent.success() {
        return Err(format!(
            "the forged READY=1 could not be sent: {}{}",
            sent.stdout, sent.stderr
        ));
    }
    if !sent.stderr.contains("/forge-hrn/pod-hrn.app.scope") {
        return Err(format!(
            "the sender was not in the forged cgroup: {}",
            sent.stderr
        ));
    }
    std::thread::sleep(Duration::from_millis(1500));
    let st = status(g, "hrn")?;
    let result = if container_field(&st, "app", "ready") != false {
        Err(format!(
            "ready after a READY=1 from a cgroup named like its scope: {st}"
        ))
    } else {
        g.expect_property("pod@hrn.service", "ActiveState", "activating")
    };
    g.ok("podctl down --purge hrn")?;
    result
}

/// `logger --journald` run by nobody with PODCTL_* fields reaches the
/// journal but not `podctl events`, which still shows the real ones.
fn forged_journal_events_are_not_shown(g: &Guest) -> Result<(), String> {
    apply(
        g,
        "hre",
        "name = \"hre\"\n[containers.app]\ncommand = [\"/bin/sleep\", \"7201\"]\n",
    )?;
    wait_pid(g, "/bin/sleep 7201")?;
    g.ok(
        "printf 'MESSAGE=forged\\nPODCTL_POD=hre\\nPODCTL_CONTAINER=app\\nPODCTL_EVENT=oom\\nPODCTL_DETAIL=hre-forged\\n' | \
         setpriv --reuid=nobody --regid=nogroup --clear-groups logger --journald",
    )?;
    // The forged entry is in the journal (else this proves nothing).
    wait_for(
        Duration::from_secs(10),
        "the forged entry in the journal",
        || {
            Ok(
                g.ok("journalctl --no-pager -o cat PODCTL_DETAIL=hre-forged")?
                    .contains("forged"),
            )
        },
    )?;
    let mut out = String::new();
    wait_for(
        Duration::from_secs(10),
        "the pod's own started event",
        || {
            out = g.ok("podctl events hre --output json")?;
            Ok(out.contains("\"started\""))
        },
    )?;
    let result = if out.contains("hre-forged") || out.contains("\"oom\"") {
        Err(format!("podctl events shows a forged entry:\n{out}"))
    } else {
        Ok(())
    };
    g.ok("podctl down --purge hre")?;
    result
}

/// A container's `<0>` line (emergency, which journald sends to every
/// terminal) is logged as text at info; a `<1>` on stderr at err; and so is
/// a `<0>` where journald would break a long line.
fn output_cannot_choose_its_priority(g: &Guest) -> Result<(), String> {
    apply(
        g,
        "hrp",
        "name = \"hrp\"\n[containers.app]\n\
         command = [\"/bin/sh\", \"-c\", \"echo '<0>hrp-out'; echo '<1>hrp-err' >&2; \
         head -c 49149 /dev/zero | tr '\\\\0' a; echo '<0>hrp-long'; exec sleep 7301\"]\n",
    )?;
    wait_pid(g, "sleep 7301")?;
    let entry = |text: &str| -> Result<Option<serde_json::Value>, String> {
        let out = g.ok("journalctl --no-pager --all -o json -t hrp/app")?;
        Ok(out
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .find(|v| v["MESSAGE"].as_str().is_some_and(|m| m.contains(text))))
    };
    let mut found = (None, None, None);
    wait_for(
        Duration::from_secs(10),
        "the three lines in the journal",
        || {
            found = (entry("hrp-out")?, entry("hrp-err")?, entry("hrp-long")?);
            Ok(found.0.is_some() && found.1.is_some() && found.2.is_some())
        },
    )?;
    g.ok("podctl down --purge hrp")?;
    let (out, err) = (found.0.unwrap_or_default(), found.1.unwrap_or_default());
    // A line longer than journald's LineMax (48K): its rest, which the
    // container lined up to start with `<0>`, is not read for a priority.
    let long = found.2.unwrap_or_default();
    let tail_ok = long["MESSAGE"]
        .as_str()
        .is_some_and(|m| m.ends_with("a<0>hrp-long"));
    if long["PRIORITY"] != "6" || !tail_ok {
        let m = long["MESSAGE"].as_str().unwrap_or("");
        return Err(format!(
            "the rest of a long line: PRIORITY={} MESSAGE=...{:?}",
            long["PRIORITY"],
            &m[m.len().saturating_sub(40)..]
        ));
    }
    let want = |v: &serde_json::Value, priority: &str, message: &str| {
        if v["PRIORITY"] == priority && v["MESSAGE"] == message {
            Ok(())
        } else {
            Err(format!(
                "want PRIORITY={priority} MESSAGE={message:?}, got PRIORITY={} MESSAGE={}",
                v["PRIORITY"], v["MESSAGE"]
            ))
        }
    };
    want(&out, "6", "<0>hrp-out")?;
    want(&err, "3", "<1>hrp-err")
}

/// stdout and stderr share one journald stream: a stderr line written while
/// a stdout line is open is its own entry at err, not text in the middle of
/// the stdout line (which goes on as an entry of its own, at info).
fn a_line_of_stderr_never_lands_in_one_of_stdout(g: &Guest) -> Result<(), String> {
    apply(
        g,
        "hri",
        "name = \"hri\"\n[containers.app]\n\
         command = [\"/bin/sh\", \"-c\", \"printf hri-open; sleep 0.2; echo '<1>hri-err' >&2; \
         sleep 0.2; echo hri-rest; exec sleep 7302\"]\n",
    )?;
    wait_pid(g, "sleep 7302")?;
    let mut entries = Vec::new();
    wait_for(
        Duration::from_secs(10),
        "hri's lines in the journal",
        || {
            let out = g.ok("journalctl --no-pager --all -o json -t hri/app")?;
            entries = out
                .lines()
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                .map(|v| {
                    (
                        v["PRIORITY"].as_str().unwrap_or("").to_string(),
                        v["MESSAGE"].as_str().unwrap_or("").to_string(),
                    )
                })
                .filter(|(_, m)| m.contains("hri-"))
                .collect::<Vec<_>>();
            Ok(entries.iter().any(|(_, m)| m.contains("hri-rest")))
        },
    )?;
    g.ok("podctl down --purge hri")?;
    let want: Vec<(String, String)> = [("6", "hri-open"), ("3", "<1>hri-err"), ("6", "hri-rest")]
        .map(|(p, m)| (p.to_string(), m.to_string()))
        .into();
    if entries != want {
        return Err(format!(
            "journal entries (priority, message): {entries:?}, want {want:?}"
        ));
    }
    Ok(())
}

/// An image container replaces its /etc/passwd with a FIFO: `podctl exec
/// -u NAME` (which reads it to resolve the name) fails at once, naming
/// the file, instead of blocking on it.
fn exec_user_with_a_fifo_passwd_fails_fast(g: &Guest) -> Result<(), String> {
    image_pods::setup(g)?;
    let path = write_pod(
        g,
        "hrf",
        &format!("name = \"hrf\"\nnetwork = \"none\"\n[containers.app]\nimage = \"{APP}\"\n"),
    )?;
    g.ok(&image_pods::apply_cmd(&path))?;
    wait_pid(g, "sleep 1401")?;
    g.ok("podctl exec -u 0 hrf app -- /bin/busybox rm /etc/passwd")?;
    g.ok("podctl exec -u 0 hrf app -- /bin/busybox mkfifo /etc/passwd")?;
    let t = std::time::Instant::now();
    let out = g.sh("timeout 20 podctl exec -u www hrf app -- /bin/id -u");
    let took = t.elapsed();
    g.ok("podctl down --purge hrf")?;
    if out.status == 124 || took > Duration::from_secs(10) {
        return Err(format!("podctl exec -u www hung on the FIFO ({took:?})"));
    }
    if out.success() || !out.stderr.contains("not a regular file") {
        return Err(format!(
            "want a failure naming the FIFO, got status {}: {}{}",
            out.status, out.stdout, out.stderr
        ));
    }
    Ok(())
}

/// The state file pins the container's PID by its start time: the same
/// PID with another start time (a process that got the PID after the
/// container ended) is refused by `podctl exec`, which enters nothing.
fn exec_refuses_a_pid_that_is_not_the_containers(g: &Guest) -> Result<(), String> {
    apply(
        g,
        "hrx",
        "name = \"hrx\"\n[containers.app]\ncommand = [\"/bin/sleep\", \"7501\"]\n",
    )?;
    wait_pid(g, "/bin/sleep 7501")?;
    g.ok("podctl exec hrx app -- /bin/true")?;
    let state = g.ok("cat /run/podctl/hrx.json")?;
    let v: serde_json::Value =
        serde_json::from_str(&state).map_err(|e| format!("state file: {e}: {state}"))?;
    let start = container_field(&v, "app", "pid_start")
        .as_u64()
        .unwrap_or(0);
    if start == 0 {
        g.ok("podctl down --purge hrx")?;
        return Err(format!(
            "no start time recorded for the container's PID: {state}"
        ));
    }
    // As if the PID now belonged to a process started a tick later.
    g.ok(&format!(
        "sed -E -i 's/(\"pid_start\": *){start}\\b/\\1{}/' /run/podctl/hrx.json",
        start + 1
    ))?;
    let out = g.sh("podctl exec hrx app -- /bin/echo entered");
    g.ok("podctl down --purge hrx")?;
    if out.success() || out.stdout.contains("entered") || !out.stderr.contains("reused") {
        return Err(format!(
            "podctl exec with a reused PID: status {}, {}{}",
            out.status, out.stdout, out.stderr
        ));
    }
    Ok(())
}

/// Makes systemd unable to kill container `c` of `pod`, as on hosts where
/// killing a scope fails: on a hybrid host (systemd tracks units in the
/// unified tree) its processes leave the scope's unified cgroup for one of
/// their own and stay in its v1 `name=systemd` one. systemd then sees the
/// scope empty and stops it without killing anything. On a cgroup v2 host
/// systemd's kill works: nothing to do.
fn hide_from_systemd(g: &Guest, pod: &str, c: &str) -> Result<(), String> {
    g.ok(&format!(
        "[ -e /sys/fs/cgroup/unified/cgroup.procs ] && [ -e /sys/fs/cgroup/systemd/cgroup.procs ] || exit 0
         scope=/sys/fs/cgroup/unified/pod.slice/pod-{pod}.slice/pod-{pod}.{c}.scope
         hidden=/sys/fs/cgroup/unified/hidden-{pod}
         mkdir -p $hidden
         for p in $(find $scope -name cgroup.procs -exec cat {{}} +); do
           echo $p > $hidden/cgroup.procs
         done
         [ -z \"$(find $scope -name cgroup.procs -exec cat {{}} +)\" ]
         [ -n \"$(cat $hidden/cgroup.procs)\" ]"
    ))
    .map(drop)
}

/// The pod of the sandbox-loss trials: a scratch volume, an init container
/// `seed` and containers `db` (`sleep DB`) and `app` (`/bin/sleep DB+1`) after
/// it, each in a PID namespace of its own, `db` ignoring SIGTERM.
fn stubborn_pod(name: &str, db: u32) -> String {
    format!(
        "name = \"{name}\"\nshare = [\"net\", \"ipc\", \"uts\"]\n[volumes]\nshared = {{}}\n\
         [containers.seed]\ninit = true\nvolumes = [\"shared:/shared\"]\n\
         command = [\"/bin/sh\", \"-c\", \"echo seeded > /shared/seed\"]\n\
         [containers.db]\nvolumes = [\"shared:/shared\"]\nstop_timeout = \"1s\"\n\
         command = [\"/bin/sh\", \"-c\", \"trap '' TERM; cat /shared/seed; exec sleep {db}\"]\n\
         [containers.app]\nafter = [\"db\"]\nvolumes = [\"shared:/shared\"]\n\
         command = [\"/bin/sleep\", \"{}\"]\n",
        db + 1
    )
}

/// Waits until the pod's service is active with exactly one `db` (not
/// `old_db`) and one `app` of [`stubborn_pod`].
fn back_with_new_containers(
    g: &Guest,
    pod: &str,
    db: u32,
    old_db: u32,
    what: &str,
) -> Result<(), String> {
    wait_for(
        Duration::from_secs(40),
        &format!("{what}: the pod back with new containers"),
        || {
            let active = g.unit_property(&format!("pod@{pod}.service"), "ActiveState")? == "active";
            let dbs = g.ok(&format!("pgrep -xf 'sleep {db}' || true"))?;
            let apps = g.ok(&format!("pgrep -xf '/bin/sleep {}' || true", db + 1))?;
            Ok(active
                && dbs.lines().count() == 1
                && apps.lines().count() == 1
                && dbs.trim() != old_db.to_string())
        },
    )
    .map_err(|e| {
        let ps =
            format!("ps -eo pid,cgroup:100,args | grep -e 'sleep {db}' -e {pod} | grep -v grep");
        format!("{e}\n{}", g.sh(&ps).stdout)
    })
}

/// A supervisor killed with -9 while systemd cannot kill a container's
/// processes ([`hide_from_systemd`]): the next one clears what is left of
/// the pod before it starts, and the pod runs with one of each container.
fn a_killed_supervisors_leftovers_are_cleared(g: &Guest) -> Result<(), String> {
    apply(g, "hrk", &stubborn_pod("hrk", 7601))?;
    let db = wait_pid(g, "sleep 7601")?;
    wait_pid(g, "/bin/sleep 7602")?;
    hide_from_systemd(g, "hrk", "db")?;
    let sup = g.unit_property("pod@hrk.service", "MainPID")?;
    g.ok(&format!("kill -9 {sup}"))?;
    back_with_new_containers(g, "hrk", 7601, db, "after the supervisor's kill")?;
    g.ok("podctl down --purge hrk")?;
    assert_gone(g, "hrk", &["sleep 7601", "/bin/sleep 7602"])
}

/// A pod with a scratch volume, an init container and two containers, one
/// after the other, each in a PID namespace of its own (the holder's death
/// does not end them), the first ignoring SIGTERM (its relay is killed at
/// its stop timeout, and its init and command are left), where systemd cannot kill the first container's scope
/// ([`hide_from_systemd`]): its sandbox holder killed three times, the pod
/// comes back each time with one of each container; `systemctl stop` then
/// leaves no process and no unit of it.
fn sandbox_loss_recovers_and_stops_clean(g: &Guest) -> Result<(), String> {
    apply(g, "hrl", &stubborn_pod("hrl", 7401))?;
    for round in 1..=3 {
        let db = wait_pid(g, "sleep 7401")?;
        wait_pid(g, "/bin/sleep 7402")?;
        let holder = status(g, "hrl")?["sandbox"]["pid"]
            .as_u64()
            .filter(|p| *p != 0)
            .ok_or("no sandbox pid")?;
        hide_from_systemd(g, "hrl", "db")?;
        g.ok(&format!("kill -9 {holder}"))?;
        back_with_new_containers(g, "hrl", 7401, db, &format!("round {round}"))?;
    }
    hide_from_systemd(g, "hrl", "db")?;
    g.ok("systemctl stop pod@hrl.service")?;
    assert_gone(g, "hrl", &["sleep 7401", "/bin/sleep 7402"])?;
    // Nothing left in any cgroup of the pod (relays and inits included).
    let left = g.ok(
        "find /sys/fs/cgroup -path '*pod-hrl*' -name cgroup.procs -exec cat {} + 2>/dev/null || true",
    )?;
    if !left.trim().is_empty() {
        return Err(format!(
            "processes left in the pod's cgroups after stop: {left}\n{}",
            g.sh("ps -eo pid,cgroup:80,args | grep -i hrl").stdout
        ));
    }
    g.ok("podctl down --purge hrl")?;
    Ok(())
}
