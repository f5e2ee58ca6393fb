//! Pod trials on a real systemd in a systemd-nspawn container (what needs
//! no resource controller). Each trial uses its
//! own pod name, so trials can run in parallel in one guest.

use super::common::*;
use crate::rig::{Guest, TrialFn, wait_for};
use std::time::Duration;

pub const TRIALS: &[(&str, TrialFn)] = &[
    (
        "pods::namespaces_shared_and_private",
        namespaces_shared_and_private,
    ),
    ("pods::shared_pid_namespace", shared_pid_namespace),
    ("pods::host_network", host_network),
    (
        "pods::tcp_over_localhost_and_sysv_shm",
        tcp_over_localhost_and_sysv_shm,
    ),
    ("pods::unit_tree_and_limits", unit_tree_and_limits),
    ("pods::stop_leaves_nothing", stop_leaves_nothing),
    ("pods::holder_loss_recreates_pod", holder_loss_recreates_pod),
    (
        "pods::supervisor_kill_leaves_no_orphan",
        supervisor_kill_leaves_no_orphan,
    ),
    ("pods::restart_always_after_kill", restart_always_after_kill),
    ("pods::restart_never_stays_down", restart_never_stays_down),
    ("pods::exec_and_logs", exec_and_logs),
    ("pods::errors_are_clear", errors_are_clear),
    (
        "pods::reapply_unchanged_keeps_pids",
        reapply_unchanged_keeps_pids,
    ),
];

fn two_sleepers(name: &str, a: &str, b: &str, share: &str) -> String {
    format!(
        "name = \"{name}\"\nhostname = \"{name}-host\"\nshare = {share}\n\
         [resources]\nmemory = \"512M\"\n\
         [containers.app]\ncommand = [\"sleep\", \"{a}\"]\nresources = {{ memory = \"256M\" }}\n\
         [containers.sidecar]\ncommand = [\"/bin/sleep\", \"{b}\"]\nresources = {{ memory = \"128M\" }}\n"
    )
}

fn namespaces_shared_and_private(g: &Guest) -> Result<(), String> {
    apply(
        g,
        "nsp",
        &two_sleepers("nsp", "1101", "1102", "[\"net\", \"ipc\", \"uts\"]"),
    )?;
    let app = wait_pid(g, "sleep 1101")?;
    let side = wait_pid(g, "/bin/sleep 1102")?;
    let sandbox = status(g, "nsp")?["sandbox"]["pid"]
        .as_u64()
        .ok_or("no sandbox pid")? as u32;
    for kind in ["net", "ipc", "uts"] {
        let s = ns(g, sandbox, kind)?;
        same(&format!("{kind} sandbox/app"), &s, &ns(g, app, kind)?)?;
        same(&format!("{kind} sandbox/sidecar"), &s, &ns(g, side, kind)?)?;
        differ(&format!("{kind} sandbox/host"), &s, &ns(g, 1, kind)?)?;
    }
    for kind in ["mnt", "pid", "cgroup"] {
        differ(
            &format!("{kind} app/sidecar"),
            &ns(g, app, kind)?,
            &ns(g, side, kind)?,
        )?;
        differ(
            &format!("{kind} app/host"),
            &ns(g, app, kind)?,
            &ns(g, 1, kind)?,
        )?;
    }
    let host = g.ok("podctl exec nsp app -- hostname")?;
    if host != "nsp-host" {
        return Err(format!("hostname in container: {host:?}"));
    }
    // The model pod's table, one command away: row by row, each
    // namespace marked as the kernel says above.
    let table = g.ok("podctl inspect nsp")?;
    let want = [
        // Host-root containers: the host's user namespace.
        (
            "sandbox",
            ["host", "own", "own", "own", "host", "host", "host"],
        ),
        (
            "app",
            ["host", "shared", "shared", "shared", "own", "own", "own"],
        ),
        (
            "sidecar",
            ["host", "shared", "shared", "shared", "own", "own", "own"],
        ),
    ];
    for (row, marks) in want {
        let got = super::isolation::inspect_marks(&table, row)?;
        if got != marks {
            return Err(format!(
                "inspect row {row}: {got:?}, want {marks:?} (user net ipc uts pid mnt cgroup):\n{table}"
            ));
        }
    }
    g.ok("podctl down --purge nsp")?;
    Ok(())
}

fn shared_pid_namespace(g: &Guest) -> Result<(), String> {
    apply(
        g,
        "spid",
        &two_sleepers(
            "spid",
            "1201",
            "1202",
            "[\"net\", \"ipc\", \"uts\", \"pid\"]",
        ),
    )?;
    let app = wait_pid(g, "sleep 1201")?;
    let side = wait_pid(g, "/bin/sleep 1202")?;
    let sandbox = status(g, "spid")?["sandbox"]["pid"]
        .as_u64()
        .ok_or("no sandbox pid")? as u32;
    for kind in ["net", "ipc", "uts", "pid"] {
        same(
            &format!("{kind} app/sidecar"),
            &ns(g, app, kind)?,
            &ns(g, side, kind)?,
        )?;
        same(
            &format!("{kind} sandbox/app"),
            &ns(g, sandbox, kind)?,
            &ns(g, app, kind)?,
        )?;
    }
    for kind in ["mnt", "cgroup"] {
        differ(
            &format!("{kind} app/sidecar"),
            &ns(g, app, kind)?,
            &ns(g, side, kind)?,
        )?;
    }
    // One PID namespace: app sees sidecar's process.
    let ps = g.ok("podctl exec spid app -- ps -eo args")?;
    if !ps.contains("/bin/sleep 1202") {
        return Err(format!("app does not see the sidecar's process:\n{ps}"));
    }
    g.ok("podctl down --purge spid")?;
    Ok(())
}

fn host_network(g: &Guest) -> Result<(), String> {
    let toml = "name = \"hnet\"\nshare = [\"ipc\", \"uts\"]\nhost = [\"net\"]\n\
                [containers.app]\ncommand = [\"sleep\", \"1301\"]\n";
    apply(g, "hnet", toml)?;
    let app = wait_pid(g, "sleep 1301")?;
    same("net app/host", &ns(g, app, "net")?, &ns(g, 1, "net")?)?;
    differ("uts app/host", &ns(g, app, "uts")?, &ns(g, 1, "uts")?)?;
    g.ok("podctl down --purge hnet")?;
    Ok(())
}

fn tcp_over_localhost_and_sysv_shm(g: &Guest) -> Result<(), String> {
    let toml = "name = \"net2\"\n\
        [containers.server]\ncommand = [\"python3\", \"-m\", \"http.server\", \"18080\", \"--bind\", \"127.0.0.1\"]\nworkdir = \"/etc\"\n\
        [containers.client]\ncommand = [\"sleep\", \"1401\"]\n";
    apply(g, "net2", toml)?;
    wait_pid(g, "sleep 1401")?;
    let fetch = "podctl exec net2 client -- python3 -c \"import urllib.request as u; print(u.urlopen('http://127.0.0.1:18080/hostname').status)\"";
    wait_for(
        Duration::from_secs(20),
        "HTTP from client to server over 127.0.0.1",
        || Ok(g.sh(fetch).stdout.trim() == "200"),
    )?;
    // Not reachable from outside the pod's network namespace.
    let outside = g.sh("python3 -c \"import urllib.request as u; u.urlopen('http://127.0.0.1:18080/', timeout=2)\"");
    if outside.success() {
        return Err("the pod's 127.0.0.1:18080 is reachable from the host namespace".into());
    }
    // A SysV shared-memory segment made in one container is seen in the other, not outside.
    let id = g.ok("podctl exec net2 server -- ipcmk -M 4096")?;
    let key_id = id.split(':').next_back().unwrap_or("").trim().to_string();
    let seen = g.ok("podctl exec net2 client -- ipcs -m")?;
    if key_id.is_empty() || !seen.contains(&key_id) {
        return Err(format!(
            "segment {key_id:?} not visible in the other container:\n{seen}"
        ));
    }
    let host = g.ok("ipcs -m")?;
    if host.contains(&format!(" {key_id} ")) {
        return Err(format!("segment {key_id} visible on the host:\n{host}"));
    }
    g.ok("podctl down --purge net2")?;
    Ok(())
}

fn unit_tree_and_limits(g: &Guest) -> Result<(), String> {
    apply(
        g,
        "tree",
        &two_sleepers("tree", "1501", "1502", "[\"net\", \"ipc\", \"uts\"]"),
    )?;
    g.expect_property(
        "pod-tree.slice",
        "ControlGroup",
        "/pod.slice/pod-tree.slice",
    )?;
    for (unit, mem) in [
        ("pod-tree.slice", "536870912"),
        ("pod-tree.app.scope", "268435456"),
        ("pod-tree.sidecar.scope", "134217728"),
    ] {
        g.expect_property(unit, "MemoryMax", mem)?;
        g.expect_property(unit, "ActiveState", "active")?;
    }
    for unit in [
        "pod-tree.sandbox.scope",
        "pod-tree.app.scope",
        "pod-tree.sidecar.scope",
    ] {
        g.expect_property(
            unit,
            "ControlGroup",
            &format!("/pod.slice/pod-tree.slice/{unit}"),
        )?;
    }
    let binds = g.unit_property("pod-tree.app.scope", "BindsTo")?;
    if !binds.contains("pod-tree.sandbox.scope") {
        return Err(format!("app scope BindsTo={binds}"));
    }
    let after = g.unit_property("pod-tree.sidecar.scope", "After")?;
    if !after.contains("pod-tree.sandbox.scope") {
        return Err(format!("sidecar scope After={after}"));
    }
    // Before= the service, so stopping the service lets the supervisor stop
    // the containers in order first; nothing refers to a container scope.
    let before = g.unit_property("pod-tree.sidecar.scope", "Before")?;
    if !before.contains("pod@tree.service") {
        return Err(format!("sidecar scope Before={before}"));
    }
    g.expect_property("pod-tree.sandbox.scope", "BindsTo", "pod@tree.service")?;
    g.ok("podctl down --purge tree")?;
    Ok(())
}

fn stop_leaves_nothing(g: &Guest) -> Result<(), String> {
    let procs = ["sleep 1601", "/bin/sleep 1602"];
    apply(
        g,
        "stop1",
        &two_sleepers("stop1", "1601", "1602", "[\"net\", \"ipc\", \"uts\"]"),
    )?;
    wait_pid(g, procs[0])?;
    g.ok("systemctl stop pod@stop1.service")?;
    assert_gone(g, "stop1", &procs)?;
    // Every scope went down (the containers, unrelated, stop together; the
    // lifecycle trials check the order of related ones).
    let log = g.ok(
        "journalctl --no-pager -o cat -u 'pod-stop1.*' | grep 'Deactivated successfully' || true",
    )?;
    for unit in [
        "pod-stop1.app.scope",
        "pod-stop1.sidecar.scope",
        "pod-stop1.sandbox.scope",
    ] {
        if !log.contains(unit) {
            return Err(format!("{unit} did not stop:\n{log}"));
        }
    }
    g.ok("podctl apply /root/pods/stop1.toml")?;
    wait_pid(g, procs[1])?;
    g.ok("podctl down stop1")?;
    assert_gone(g, "stop1", &procs)?;
    let enabled = g.sh("systemctl is-enabled pod@stop1.service").stdout;
    if enabled.trim() == "enabled" {
        return Err("podctl down left the pod enabled at boot".into());
    }
    g.ok("podctl down --purge stop1")?;
    Ok(())
}

fn holder_loss_recreates_pod(g: &Guest) -> Result<(), String> {
    apply(
        g,
        "hl",
        &two_sleepers("hl", "1701", "1702", "[\"net\", \"ipc\", \"uts\"]"),
    )?;
    let app = wait_pid(g, "sleep 1701")?;
    let holder = status(g, "hl")?["sandbox"]["pid"]
        .as_u64()
        .ok_or("no sandbox pid")?;
    g.ok(&format!("kill -9 {holder}"))?;
    wait_for(Duration::from_secs(20), "old containers gone", || {
        Ok(!g.sh(&format!("test -d /proc/{app}")).success())
    })?;
    let new_app = wait_pid(g, "sleep 1701")?;
    g.wait_property(
        "pod@hl.service",
        "ActiveState",
        "active",
        Duration::from_secs(20),
    )?;
    let new_holder = status(g, "hl")?["sandbox"]["pid"].as_u64().unwrap_or(0);
    if new_app == app || new_holder == holder || new_holder == 0 {
        return Err(format!(
            "pod not recreated: app {app}->{new_app}, holder {holder}->{new_holder}"
        ));
    }
    g.ok("podctl down --purge hl")?;
    Ok(())
}

fn supervisor_kill_leaves_no_orphan(g: &Guest) -> Result<(), String> {
    apply(
        g,
        "sk",
        &two_sleepers("sk", "1801", "1802", "[\"net\", \"ipc\", \"uts\"]"),
    )?;
    let app = wait_pid(g, "sleep 1801")?;
    let side = wait_pid(g, "/bin/sleep 1802")?;
    // A missing PID must fail here: /proc/0 never exists, so "gone" would
    // hold whatever happened to the holder.
    let holder = status(g, "sk")?["sandbox"]["pid"]
        .as_u64()
        .filter(|p| *p != 0)
        .ok_or("podctl status gives no sandbox pid")?;
    if !g.sh(&format!("test -d /proc/{holder}")).success() {
        return Err(format!("sandbox pid {holder} is not a running process"));
    }
    let sup = g.unit_property("pod@sk.service", "MainPID")?;
    g.ok(&format!("kill -9 {sup}"))?;
    wait_for(
        Duration::from_secs(20),
        "every old process of the pod gone",
        || {
            Ok([app as u64, side as u64, holder]
                .iter()
                .all(|p| !g.sh(&format!("test -d /proc/{p}")).success()))
        },
    )?;
    // systemd restarts the supervisor, which builds the pod anew.
    wait_pid(g, "sleep 1801")?;
    g.ok("podctl down --purge sk")?;
    assert_gone(g, "sk", &["sleep 1801", "/bin/sleep 1802"])
}

fn restart_always_after_kill(g: &Guest) -> Result<(), String> {
    apply(
        g,
        "ra",
        &two_sleepers("ra", "1901", "1902", "[\"net\", \"ipc\", \"uts\"]"),
    )?;
    let app = wait_pid(g, "sleep 1901")?;
    g.ok(&format!("kill -9 {app}"))?;
    let mut new_app = 0;
    wait_for(
        Duration::from_secs(20),
        "app restarted with a new PID",
        || {
            new_app = pid_of(g, "sleep 1901").unwrap_or(0);
            Ok(new_app != 0 && new_app != app)
        },
    )?;
    let st = status(g, "ra")?;
    if container_field(&st, "app", "restarts") != 1
        || container_field(&st, "app", "state") != "running"
    {
        return Err(format!("status after restart: {st}"));
    }
    if container_field(&st, "sidecar", "restarts") != 0 {
        return Err(format!("sidecar restarted too: {st}"));
    }
    g.ok("podctl down --purge ra")?;
    Ok(())
}

fn restart_never_stays_down(g: &Guest) -> Result<(), String> {
    let toml = "name = \"rn\"\n[containers.app]\ncommand = [\"sleep\", \"2001\"]\nrestart = \"never\"\n\
                [containers.sidecar]\ncommand = [\"sleep\", \"2002\"]\n";
    apply(g, "rn", toml)?;
    let app = wait_pid(g, "sleep 2001")?;
    g.ok(&format!("kill -9 {app}"))?;
    wait_for(Duration::from_secs(10), "app reported failed", || {
        let st = status(g, "rn")?;
        Ok(container_field(&st, "app", "state") == "failed")
    })?;
    std::thread::sleep(Duration::from_millis(500));
    if pid_of(g, "sleep 2001").is_ok() {
        return Err("a restart=never container came back".into());
    }
    let st = status(g, "rn")?;
    if container_field(&st, "app", "last_exit") != "signal 9" {
        return Err(format!("last exit should be signal 9: {st}"));
    }
    g.ok("podctl down --purge rn")?;
    Ok(())
}

fn exec_and_logs(g: &Guest) -> Result<(), String> {
    let toml = "name = \"lg\"\n[containers.app]\ncommand = [\"/bin/sh\", \"-c\", \"echo hello-from-app; echo oops-on-stderr >&2; exec sleep 2101\"]\n";
    apply(g, "lg", toml)?;
    wait_pid(g, "sleep 2101")?;
    wait_for(Duration::from_secs(10), "app output in podctl logs", || {
        Ok(g.sh("podctl logs lg app").stdout.contains("hello-from-app"))
    })?;
    // Attributed to the container's own scope, under its identifier.
    let entries = g.ok(
        "journalctl --no-pager -o cat _SYSTEMD_UNIT=pod-lg.app.scope SYSLOG_IDENTIFIER=lg/app",
    )?;
    if !entries.contains("hello-from-app") || !entries.contains("oops-on-stderr") {
        return Err(format!(
            "journal entries of pod-lg.app.scope as lg/app:\n{entries}"
        ));
    }
    // exec runs in the container's scope and PID namespace: the exec'd
    // process itself, seen from the host (cgroup v1 or v2 alike), and from
    // inside (at the root of the container's cgroup namespace, the scope).
    let pid1 = g.ok("podctl exec lg app -- cat /proc/1/cmdline | tr '\\0' ' '")?;
    if !pid1.contains("podctl-pause") {
        return Err(format!(
            "PID 1 in the container should be its init, is {pid1:?}"
        ));
    }
    g.ok("podctl exec lg app -- sleep 2102 >/dev/null 2>&1 &")?;
    let exec_pid = wait_pid(g, "sleep 2102")?;
    let cgroups = g.ok(&format!("cat /proc/{exec_pid}/cgroup"))?;
    let scope = "/pod.slice/pod-lg.slice/pod-lg.app.scope";
    // `ID:CONTROLLERS:PATH`: the systemd (v1) or unified (v2) hierarchy.
    let in_scope = cgroups.lines().any(|l| {
        let mut f = l.splitn(3, ':');
        let (_, ctl, path) = (f.next(), f.next().unwrap_or(""), f.next().unwrap_or(""));
        (ctl.is_empty() || ctl == "name=systemd") && path == scope
    });
    if !in_scope {
        return Err(format!(
            "the exec'd process {exec_pid} is not in {scope}:\n{cgroups}"
        ));
    }
    let app = pid_of(g, "sleep 2101")?;
    for kind in ["pid", "mnt", "cgroup", "net"] {
        same(
            &format!("{kind} exec'd process/app"),
            &ns(g, exec_pid, kind)?,
            &ns(g, app, kind)?,
        )?;
    }
    let inside = g.ok("podctl exec lg app -- cat /proc/self/cgroup")?;
    if !inside
        .lines()
        .any(|l| l.ends_with("::/") || l.ends_with(":name=systemd:/"))
    {
        return Err(format!(
            "inside, the exec'd process is not at its cgroup namespace's root:\n{inside}"
        ));
    }
    g.ok(&format!("kill {exec_pid}"))?;
    let code = g.sh("podctl exec lg app -- sh -c 'exit 7'").status;
    if code != 7 {
        return Err(format!("exec exit status {code}, expected 7"));
    }
    g.ok("podctl down --purge lg")?;
    Ok(())
}

fn errors_are_clear(g: &Guest) -> Result<(), String> {
    write_pod(
        g,
        "bad",
        "[containers.app]\ncommand = [\"sleep\", \"1\"]\nresources = { memory = \"512Q\" }\n",
    )?;
    let out = g.sh("podctl apply /root/pods/bad.toml");
    if out.success()
        || !out.stderr.contains("bad.toml:3:")
        || !out.stderr.contains("\"512Q\" is not a size")
    {
        return Err(format!(
            "apply of an invalid file: status {} stderr {}",
            out.status, out.stderr
        ));
    }
    let out = g.sh("podctl status nosuchpod");
    if out.success() || !out.stderr.contains("no pod named \"nosuchpod\"") {
        return Err(format!(
            "status of an unknown pod: {} {}",
            out.status, out.stderr
        ));
    }
    let out = g.sh("podctl down nosuchpod");
    if out.success() || out.stderr.lines().count() != 1 {
        return Err(format!(
            "down of an unknown pod: {} {}",
            out.status, out.stderr
        ));
    }
    // A command that does not exist fails the start, names it, and leaves nothing.
    write_pod(
        g,
        "nocmd",
        "[containers.app]\ncommand = [\"/no/such/binary\"]\n",
    )?;
    let out = g.sh("podctl apply /root/pods/nocmd.toml");
    if out.success() || !out.stderr.contains("/no/such/binary") {
        return Err(format!(
            "apply of a missing command: {} {}",
            out.status, out.stderr
        ));
    }
    g.sh("podctl down --purge nocmd");
    assert_gone(g, "nocmd", &[])
}

fn reapply_unchanged_keeps_pids(g: &Guest) -> Result<(), String> {
    let toml = two_sleepers("ru", "2201", "2202", "[\"net\", \"ipc\", \"uts\"]");
    apply(g, "ru", &toml)?;
    let app = wait_pid(g, "sleep 2201")?;
    let out = g.ok("podctl apply /root/pods/ru.toml")?;
    if !out.contains("ru: unchanged") {
        return Err(format!("second apply said: {out}"));
    }
    if pid_of(g, "sleep 2201")? != app {
        return Err("an unchanged re-apply restarted the container".into());
    }
    g.ok("podctl down --purge ru")?;
    Ok(())
}
