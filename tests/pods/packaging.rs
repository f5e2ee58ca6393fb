//! Trials of how podctl is installed and used from a shell: SIGPIPE in containers and exec, exec's user,
//! environment and workdir, `exec -it` through a real pseudo-terminal, logs
//! of a pod that is down, events, top, and the Debian package installed
//! (its auto-update timer loaded, off until enabled), upgraded, removed and
//! purged in a second, throwaway guest.

use super::common::*;
use super::install::{SERVICE, TIMER, auto_update_units_load};
use crate::rig::nspawn::{Bind, Container};
use crate::rig::{Guest, TrialFn, VmTrial, wait_for};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const TRIALS: &[(&str, TrialFn)] = &[
    ("pkg::sigpipe_is_default", sigpipe_is_default),
    (
        "pkg::exec_uses_the_containers_user_env_workdir",
        exec_uses_the_containers_user_env_workdir,
    ),
    ("pkg::exec_it_through_a_pty", exec_it_through_a_pty),
    (
        "pkg::logs_of_a_pod_that_is_down",
        logs_of_a_pod_that_is_down,
    ),
    ("pkg::events_kill_exit_restart", events_kill_exit_restart),
    ("pkg::top_once", top_once),
    ("pkg::json_outputs", json_outputs),
    ("pkg::deb_install_remove_purge", deb_install_remove_purge),
];

/// Trials that need the VM (cgroup v2 limits enforced).
pub const VM_TRIALS: &[VmTrial] = &[VmTrial::once("pkg::events_oom", events_oom)];

/// A container killed by the kernel's OOM killer shows `exited` (signal 9)
/// and `oom` in `podctl events`.
fn events_oom(g: &Guest) -> Result<(), String> {
    let toml = "name = \"oomev\"\n[containers.hog]\n\
                command = [\"/bin/sh\", \"-c\", \"sleep 1; exec tail /dev/zero\"]\n\
                restart = \"never\"\nresources = { memory = \"32M\" }\n";
    apply(g, "oomev", toml)?;
    let mut seen = String::new();
    wait_for(Duration::from_secs(60), "exited and oom events", || {
        seen = g.ok("podctl events oomev --output json")?;
        Ok(seen.contains("\"event\":\"oom\""))
    })
    .map_err(|e| format!("{e}\nevents:\n{seen}"))?;
    if !seen.contains("\"event\":\"exited\",\"detail\":\"signal 9\"") {
        return Err(format!("no exited (signal 9) event:\n{seen}"));
    }
    g.ok("podctl down --purge oomev")?;
    Ok(())
}

/// SIGPIPE's bit in /proc/PID/status SigIgn (signal 13 is bit 12).
const SIGPIPE_BIT: u64 = 1 << 12;

/// The SigIgn mask in `status` (a /proc/PID/status text).
fn sig_ign(status: &str) -> Result<u64, String> {
    let hex = status
        .lines()
        .find_map(|l| l.strip_prefix("SigIgn:"))
        .ok_or_else(|| format!("no SigIgn line in {status:?}"))?;
    u64::from_str_radix(hex.trim(), 16).map_err(|e| format!("SigIgn {hex:?}: {e}"))
}

/// The container's command and `podctl exec`'s command get SIGPIPE's default
/// action: a writer to a closed pipe dies of it.
fn sigpipe_is_default(g: &Guest) -> Result<(), String> {
    // The command itself (no shell in between) writes its own SigIgn.
    // The container's /tmp is private: the host's is mounted to read the file.
    let toml = "name = \"sigp\"\n[containers.app]\ncommand = [\"/bin/sh\", \"-c\", \
                \"grep SigIgn /proc/self/status > /tmp/sigp-app.status; exec sleep 3301\"]\n\
                volumes = [\"/tmp:/tmp\"]\n";
    g.ok("rm -f /tmp/sigp-app.status")?;
    apply(g, "sigp", toml)?;
    wait_pid(g, "sleep 3301")?;
    let app = g.ok("cat /tmp/sigp-app.status")?;
    let exec = g.ok("podctl exec sigp app -- grep SigIgn /proc/self/status")?;
    for (what, text) in [("container command", &app), ("podctl exec", &exec)] {
        let mask = sig_ign(text)?;
        if mask & SIGPIPE_BIT != 0 {
            return Err(format!(
                "{what}: SIGPIPE is ignored (SigIgn {mask:#x}), should be default"
            ));
        }
    }
    // The behaviour itself: `yes` ends by SIGPIPE (status 141 as the shell
    // reports it), silently, rather than by a write error.
    let out = g.ok(
        "podctl exec sigp app -- sh -c 'yes 2>/tmp/sigp-yes.err | head -1 >/dev/null; \
         wc -c </tmp/sigp-yes.err'",
    )?;
    if out != "0" {
        return Err(format!(
            "yes wrote an error instead of dying of SIGPIPE: {out:?}"
        ));
    }
    g.ok("podctl down --purge sigp")?;
    Ok(())
}

/// `podctl exec` runs as the container's user, in its workdir, with its
/// environment and nothing of the caller's; --user, --workdir, --env override.
fn exec_uses_the_containers_user_env_workdir(g: &Guest) -> Result<(), String> {
    let toml = "name = \"exenv\"\n[containers.app]\ncommand = [\"sleep\", \"3302\"]\n\
                user = \"nobody\"\nworkdir = \"/tmp\"\nenv = { GREETING = \"hello\" }\n";
    apply(g, "exenv", toml)?;
    wait_pid(g, "sleep 3302")?;
    let out = g.ok(
        "CALLER_VAR=leak PODCTL_STORE=/etc/podctl/pods PODCTL_LEAK=1 NOTIFY_SOCKET=/run/x \
         podctl exec exenv app -- sh -c 'id -un; pwd; env'",
    )?;
    let mut lines = out.lines();
    let (user, dir) = (lines.next(), lines.next());
    if user != Some("nobody") || dir != Some("/tmp") {
        return Err(format!(
            "exec ran as {user:?} in {dir:?}, expected nobody in /tmp:\n{out}"
        ));
    }
    let env: Vec<&str> = lines.collect();
    for want in ["GREETING=hello", "container=podctl"] {
        if !env.contains(&want) {
            return Err(format!("exec's environment lacks {want}:\n{out}"));
        }
    }
    // sh adds PWD (and dash nothing else); everything else is the
    // container's. The OCI runtime gives HOME from the user's passwd entry
    // (to the container's command as well): nobody's, never the caller's.
    for line in &env {
        let key = line.split('=').next().unwrap_or_default();
        if key.starts_with("PODCTL_")
            || ["NOTIFY_SOCKET", "CALLER_VAR", "INVOCATION_ID", "TERM"].contains(&key)
            || (key == "HOME" && *line != "HOME=/nonexistent")
        {
            return Err(format!("exec's environment has {line:?}:\n{out}"));
        }
    }
    let out = g.ok(
        "podctl exec --user 0:0 --workdir / --env GREETING=bye -e EXTRA=1 exenv app -- \
         sh -c 'id -u; pwd; echo $GREETING $EXTRA'",
    )?;
    if out != "0\n/\nbye 1" {
        return Err(format!(
            "overrides: got {out:?}, expected \"0\\n/\\nbye 1\""
        ));
    }
    g.ok("podctl down --purge exenv")?;
    Ok(())
}

/// `podctl exec -it` through a real pseudo-terminal (`script` gives podctl
/// one): the shell prompts, runs what is typed, Ctrl-C interrupts the
/// command in the container (not podctl), the window size follows, and the
/// exit status is the shell's.
fn exec_it_through_a_pty(g: &Guest) -> Result<(), String> {
    let toml = "name = \"ptty\"\n[containers.app]\ncommand = [\"sleep\", \"3303\"]\n";
    apply(g, "ptty", toml)?;
    wait_pid(g, "sleep 3303")?;
    // Typed slowly enough that each line meets the shell where a person's would.
    let session = "(sleep 1; printf 'echo typed-$((6*7))\\n'; sleep 0.5; \
                   printf 'tty; sleep 30\\n'; sleep 1; printf '\\003'; sleep 0.5; \
                   printf 'echo after-interrupt\\n'; sleep 0.5; printf 'exit 3\\n'; sleep 2) \
                   | script -qec 'stty cols 123 rows 45; podctl exec -it ptty app -- sh -c \"stty size; exec sh -i\"' /dev/null; \
                   echo \"status=$?\"";
    let started = std::time::Instant::now();
    let out = g.sh_timeout(session, Duration::from_secs(60));
    let text = out.stdout.replace('\r', "");
    let checks = [
        ("the window size", "45 123"),
        ("a prompt", "# "),
        ("the command's output", "typed-42"),
        ("a terminal of its own", "/dev/pts/"),
        ("the shell after Ctrl-C", "after-interrupt"),
        ("the command's exit status", "status=3"),
    ];
    for (what, want) in checks {
        if !text.contains(want) {
            return Err(format!(
                "exec -it: no {what} ({want:?}) in:\n{text}\nstderr: {}",
                out.stderr
            ));
        }
    }
    if started.elapsed() > Duration::from_secs(25) {
        return Err(format!(
            "Ctrl-C did not interrupt `sleep 30` in the container ({:?}):\n{text}",
            started.elapsed()
        ));
    }
    g.ok("podctl down --purge ptty")?;
    Ok(())
}

/// `podctl logs` with journalctl's filters, for a pod that is down.
fn logs_of_a_pod_that_is_down(g: &Guest) -> Result<(), String> {
    let toml = "name = \"lgdown\"\n[containers.app]\ncommand = [\"/bin/sh\", \"-c\", \
                \"echo line-one; echo line-two; exec sleep 3304\"]\n";
    apply(g, "lgdown", toml)?;
    wait_pid(g, "sleep 3304")?;
    wait_for(Duration::from_secs(10), "both lines in the journal", || {
        Ok(g.sh("podctl logs lgdown app -o cat")
            .stdout
            .contains("line-two"))
    })?;
    g.ok("podctl down lgdown")?;
    g.wait_property(
        "pod@lgdown.service",
        "ActiveState",
        "inactive",
        Duration::from_secs(20),
    )?;
    let all = g.ok("podctl logs lgdown -o cat")?;
    let app = g.ok("podctl logs lgdown app --output cat")?;
    let last = g.ok("podctl logs lgdown app -o cat -n 1")?;
    let none = g
        .sh("podctl logs lgdown app -o cat --until '2000-01-01'")
        .stdout;
    let since = g.ok("podctl logs lgdown app -o cat --since -1h --until +1h")?;
    let json = g.ok("podctl logs lgdown app -o json -n 1")?;
    if !all.contains("line-one") || app.lines().collect::<Vec<_>>() != ["line-one", "line-two"] {
        return Err(format!("logs of the down pod:\n{all}\n--- app:\n{app}"));
    }
    if last != "line-two" || none.contains("line-") || !since.contains("line-one") {
        return Err(format!(
            "-n 1: {last:?}; --until 2000: {none:?}; --since -1h: {since:?}"
        ));
    }
    let entry: serde_json::Value =
        serde_json::from_str(&json).map_err(|e| format!("-o json: {e}: {json}"))?;
    if entry["MESSAGE"] != "line-two" {
        return Err(format!("-o json: {json}"));
    }
    g.ok("podctl down --purge lgdown")?;
    Ok(())
}

/// `podctl events --output json`: a container killed with kill -9 shows
/// exited (signal 9), then restarted and started again, in order, with
/// timestamps; `journalctl PODCTL_POD=` finds the same entries.
fn events_kill_exit_restart(g: &Guest) -> Result<(), String> {
    let toml = "name = \"evt\"\n[containers.app]\ncommand = [\"sleep\", \"3305\"]\n";
    apply(g, "evt", toml)?;
    let first = wait_pid(g, "sleep 3305")?;
    g.ok(&format!("kill -9 {first}"))?;
    wait_for(Duration::from_secs(20), "the restarted container", || {
        Ok(pid_of(g, "sleep 3305").is_ok_and(|p| p != first))
    })?;
    let mut events = Vec::new();
    wait_for(Duration::from_secs(10), "four events", || {
        let out = g.ok("podctl events evt --output json")?;
        events = out
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).map_err(|e| format!("{e}: {l}")))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(events.len() >= 4)
    })?;
    let seq: Vec<String> = events
        .iter()
        .map(|e| format!("{}/{} {}", e["pod"], e["container"], e["event"]).replace('"', ""))
        .collect();
    let want = [
        "evt/app started",
        "evt/app exited",
        "evt/app restarted",
        "evt/app started",
    ];
    if seq[..4] != want {
        return Err(format!("events: {seq:?}, expected {want:?} first"));
    }
    if events[1]["detail"] != "signal 9" {
        return Err(format!("exit detail: {}", events[1]));
    }
    let stamps: Vec<u64> = events
        .iter()
        .filter_map(|e| e["timestamp_usec"].as_u64())
        .collect();
    let times_ok = stamps.len() == events.len()
        && stamps.windows(2).all(|w| w[0] <= w[1])
        && events
            .iter()
            .all(|e| e["time"].as_str().is_some_and(|t| t.ends_with('Z')));
    if !times_ok {
        return Err(format!("timestamps not in order: {events:?}"));
    }
    let journal = g.ok("journalctl --no-pager -o cat PODCTL_POD=evt PODCTL_EVENT=exited")?;
    if !journal.contains("container evt/app exited: signal 9") {
        return Err(format!("journalctl PODCTL_POD=evt: {journal:?}"));
    }
    g.ok("podctl down --purge evt")?;
    Ok(())
}

/// `podctl top --once`: a row per container with what its cgroup says.
fn top_once(g: &Guest) -> Result<(), String> {
    let toml = "name = \"topp\"\n[containers.busy]\ncommand = [\"sh\", \"-c\", \
                \"while :; do :; done\"]\n[containers.idle]\ncommand = [\"sleep\", \"3306\"]\n";
    apply(g, "topp", toml)?;
    wait_pid(g, "sleep 3306")?;
    let out = g.ok("podctl top topp --once --interval 1")?;
    let row = |name: &str| -> Result<Vec<String>, String> {
        out.lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .map(|l| l.split_whitespace().map(str::to_string).collect())
            .ok_or_else(|| format!("no row for {name} in:\n{out}"))
    };
    let (busy, idle) = (row("busy")?, row("idle")?);
    // CONTAINER STATE CPU% MEMORY TASKS READ WRITE
    let cpu = |r: &[String]| r[2].parse::<f64>().unwrap_or(-1.0);
    let tasks = |r: &[String]| r[4].parse::<u64>().unwrap_or(0);
    if cpu(&busy) < 20.0 || cpu(&idle) > 5.0 || cpu(&idle) < 0.0 {
        return Err(format!("CPU%: busy {busy:?}, idle {idle:?}\n{out}"));
    }
    // relay, init relay, command: three tasks at least in each scope.
    if tasks(&busy) < 3 || tasks(&idle) < 3 {
        return Err(format!("tasks: busy {busy:?}, idle {idle:?}\n{out}"));
    }
    g.ok("podctl down --purge topp")?;
    Ok(())
}

/// The JSON outputs parse and carry the documented fields.
fn json_outputs(g: &Guest) -> Result<(), String> {
    let toml = "name = \"jsn\"\n[containers.app]\ncommand = [\"sleep\", \"3307\"]\n";
    let path = write_pod(g, "jsn", toml)?;
    g.ok(&format!("podctl apply {path}"))?;
    let app = wait_pid(g, "sleep 3307")?;
    let parse = |cmd: &str| -> Result<serde_json::Value, String> {
        let out = g.ok(cmd)?;
        serde_json::from_str(&out).map_err(|e| format!("{cmd}: {e}: {out}"))
    };
    let ps = parse("podctl ps --output json")?;
    let pod = ps
        .as_array()
        .and_then(|a| a.iter().find(|p| p["name"] == "jsn"))
        .ok_or_else(|| format!("ps --output json has no jsn: {ps}"))?;
    let status = parse("podctl status jsn --output json")?;
    if pod["containers"][0]["pid"] != status["containers"][0]["pid"] || status["state"] != "active"
    {
        return Err(format!("ps and status disagree:\n{pod}\n{status}"));
    }
    let inspect = parse("podctl inspect jsn --output json")?;
    let row = &inspect[1];
    if row["process"] != "app"
        || row["pid"] != app
        || row["namespaces"]["net"]["sharing"] != "shared"
    {
        return Err(format!("inspect --output json: {inspect}"));
    }
    let diff = parse(&format!("podctl diff {path} --output json"))?;
    if diff[0]["pod"] != "jsn" || diff[0]["change"] != "unchanged" {
        return Err(format!("diff --output json: {diff}"));
    }
    g.ok("printf '[containers.a]\\ncomand = [\"x\"]\\n' > /root/pods/jsn-bad.toml")?;
    let out = g.sh("podctl validate --output json /root/pods/jsn-bad.toml");
    let v: serde_json::Value =
        serde_json::from_str(&out.stdout).map_err(|e| format!("validate json: {e}: {out:?}"))?;
    let unknown = v[0]["errors"]
        .as_array()
        .and_then(|errs| errs.iter().find(|e| e["key"] == "containers.a.comand"));
    let located = unknown.is_some_and(|e| {
        e["file"] == "/root/pods/jsn-bad.toml" && e["line"] == 2 && e["column"] == 1
    });
    if out.status != 1 || v[0]["valid"] != false || !located {
        return Err(format!(
            "validate --output json (status {}): {v}",
            out.status
        ));
    }
    g.ok("podctl down --purge jsn")?;
    Ok(())
}

/// Builds the .deb from this test build (packaging/build-deb --bin-dir).
fn build_deb(out: &Path) -> Result<PathBuf, String> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_podctl"))
        .parent()
        .ok_or("no bin dir")?;
    let o = std::process::Command::new(repo.join("packaging/build-deb"))
        .arg("--bin-dir")
        .arg(bin_dir)
        .arg("--out")
        .arg(out)
        .output()
        .map_err(|e| format!("packaging/build-deb: {e}"))?;
    if !o.status.success() {
        return Err(format!(
            "packaging/build-deb failed: {}\n{}",
            o.status,
            String::from_utf8_lossy(&o.stderr)
        ));
    }
    Ok(PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
}

/// lintian reports no error and no warning (overrides, each with its
/// reason, are in packaging/debian/lintian-overrides); its information tags
/// are not counted.
fn lintian_accepts(deb: &Path) -> Result<(), String> {
    let o = std::process::Command::new("lintian")
        .arg("--fail-on")
        .arg("error,warning")
        .arg(deb)
        .output()
        .map_err(|e| format!("lintian (apt-get install lintian): {e}"))?;
    let out = String::from_utf8_lossy(&o.stdout);
    let tags: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("E: ") || l.starts_with("W: "))
        .collect();
    if !o.status.success() || !tags.is_empty() {
        return Err(format!(
            "lintian {}: {}\n{out}{}",
            deb.display(),
            o.status,
            String::from_utf8_lossy(&o.stderr)
        ));
    }
    Ok(())
}

/// Every man page in the package renders with `man -l`, without warnings;
/// the command pages have their examples, and the schema is shipped.
fn man_pages_render(deb: &Path, dir: &Path) -> Result<(), String> {
    let x = dir.join("x");
    let o = std::process::Command::new("dpkg-deb")
        .arg("-x")
        .arg(deb)
        .arg(&x)
        .output()
        .map_err(|e| format!("dpkg-deb -x: {e}"))?;
    if !o.status.success() {
        return Err(format!(
            "dpkg-deb -x: {}",
            String::from_utf8_lossy(&o.stderr)
        ));
    }
    let mut pages = Vec::new();
    for section in ["man5", "man8"] {
        let d = x.join("usr/share/man").join(section);
        for e in std::fs::read_dir(&d).map_err(|e| format!("{}: {e}", d.display()))? {
            pages.push(e.map_err(|e| e.to_string())?.path());
        }
    }
    pages.sort();
    for want in [
        "podctl.pod.5.gz",
        "podctl.8.gz",
        "podctl-exec.8.gz",
        "podctl-logs.8.gz",
        "podctl-network-create.8.gz",
        "podctl-volume-rm.8.gz",
        "podctl-kube-generate.8.gz",
        "podctl-auto-update.8.gz",
        "podctl-supervisor.8.gz",
    ] {
        if !pages.iter().any(|p| p.ends_with(want)) {
            return Err(format!("no {want} in {pages:?}"));
        }
    }
    for page in &pages {
        let o = std::process::Command::new("man")
            .args(["--warnings", "-l"])
            .arg(page)
            .env("MANWIDTH", "80")
            .output()
            .map_err(|e| format!("man -l {}: {e} (install man-db)", page.display()))?;
        let text = String::from_utf8_lossy(&o.stdout);
        let warnings = String::from_utf8_lossy(&o.stderr);
        if !o.status.success() || !text.contains("NAME") || !warnings.trim().is_empty() {
            return Err(format!(
                "man -l {}: {}\n{warnings}\n{text}",
                page.display(),
                o.status
            ));
        }
        // The generated command pages (not the two written by hand).
        let name = page.file_name().map(|n| n.to_string_lossy().into_owned());
        let generated = name.as_deref().is_some_and(|n| {
            n.ends_with(".8.gz")
                && !n.starts_with("podctl-supervisor")
                && !n.starts_with("podctl-pause")
        });
        if generated
            && !["EXAMPLES", "EXIT STATUS", "SEE ALSO"]
                .iter()
                .all(|s| text.contains(s))
        {
            return Err(format!(
                "{}: no EXAMPLES, EXIT STATUS or SEE ALSO\n{text}",
                page.display()
            ));
        }
    }
    let schema = x.join("usr/share/podctl/pod.schema.json");
    let json: serde_json::Value = std::fs::read(&schema)
        .map_err(|e| e.to_string())
        .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
        .map_err(|e| format!("{}: {e}", schema.display()))?;
    if json["properties"]["containers"].is_null() {
        return Err(format!("{}: not the pod file's schema", schema.display()));
    }
    Ok(())
}

/// The package on a clean bench root, in a guest of its own (purge must not
/// touch the shared guest's pods): install, apply the example with no other
/// step, Tab completion, remove (pods keep running, definitions stay),
/// purge (definitions go).
fn deb_install_remove_purge(_shared: &Guest) -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!("podctl-deb-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let deb = build_deb(&dir)?;
    man_pages_render(&deb, &dir)?;
    lintian_accepts(&deb)?;
    let root = crate::rig::cache::container_root()?;
    let binds = [Bind {
        host: deb.parent().ok_or("deb dir")?.to_path_buf(),
        guest: "/srv/podctl-deb",
    }];
    let name = format!("podctl-deb-{}", std::process::id());
    let container = Container::boot_named(&root, &binds, &name)?;
    let g = container.guest();
    let result = deb_trial(&g).map_err(|e| crate::rig::harness::with_evidence(&g, e));
    let down = container.shutdown();
    let _ = std::fs::remove_dir_all(&dir);
    result.and(down)
}

fn deb_trial(g: &Guest) -> Result<(), String> {
    if g.sh("command -v podctl").success() {
        return Err("the clean root already has a podctl".into());
    }
    // The guest has no network: its Depends are in the root already, its
    // Recommends (uidmap and passt, for users' pods) cannot be fetched.
    g.ok("DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends /srv/podctl-deb/podctl_*.deb")?;
    let mode = g.ok("stat -c '%a %U' /etc/podctl/pods")?;
    let unit = g.ok("systemctl cat pod@.service")?;
    let which = g.ok("command -v podctl")?;
    if mode != "700 root" || which != "/usr/bin/podctl" {
        return Err(format!("/etc/podctl/pods is {mode:?}; podctl is {which:?}"));
    }
    g.ok("dpkg -L podctl | grep -qx /usr/lib/systemd/system/pod@.service")?;
    // Users' managers find theirs (rootless pods).
    g.ok(
        "dpkg -L podctl | grep -qx /usr/lib/systemd/user/pod@.service && \
          dpkg -L podctl | grep -qx /usr/lib/systemd/user/podctl-auto-update.timer && \
          grep -qx 'ExecStart=/usr/bin/podctl auto-update' /usr/lib/systemd/user/podctl-auto-update.service && \
          grep -qx 'ExecStart=/usr/bin/podctl-supervisor up %i' /usr/lib/systemd/user/pod@.service",
    )?;
    for want in [
        "ExecStart=/usr/bin/podctl-supervisor up %i",
        "Documentation=man:podctl(8) man:podctl.pod(5)",
    ] {
        if !unit.contains(want) {
            return Err(format!("installed unit lacks {want:?}:\n{unit}"));
        }
    }
    // The auto-update service and timer: shipped, loaded, the timer off
    // until enabled (then enabled and running for the rest of the trial).
    for unit in [SERVICE, TIMER] {
        g.ok(&format!(
            "dpkg -L podctl | grep -qx /usr/lib/systemd/system/{unit}"
        ))?;
    }
    auto_update_units_load(g, "/usr/lib/systemd/system", "/usr/bin/podctl")?;
    // No other step: no `podctl install`, no daemon-reload by hand.
    g.ok("podctl apply /usr/share/doc/podctl/examples/web.toml")?;
    g.wait_property(
        "pod@web.service",
        "ActiveState",
        "active",
        Duration::from_secs(30),
    )?;
    let main_pid = g.unit_property("pod@web.service", "MainPID")?;
    let server = wait_pid(g, "python3 -m http.server 8080 --bind 127.0.0.1")?;

    // Tab completion, as bash-completion loads it.
    let complete = |words: &str, cword: usize| {
        g.ok(&format!(
            "bash -c 'source /usr/share/bash-completion/completions/podctl; complete -p podctl; \
             COMP_WORDS=({words}); COMP_CWORD={cword}; \
             _clap_complete_podctl podctl \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; \
             printf \"%s\\n\" \"${{COMPREPLY[@]}}\"'"
        ))
    };
    let pods = complete("podctl status \"\"", 2)?;
    let containers = complete("podctl exec web \"\"", 3)?;
    let partial = complete("podctl logs w", 2)?;
    let has = |text: &str, w: &str| text.lines().any(|l| l.trim() == w);
    if !pods.contains("complete -") || !has(&pods, "web") {
        return Err(format!("completion of `podctl status <Tab>`:\n{pods}"));
    }
    if !has(&containers, "app") || !has(&containers, "sidecar") || !has(&partial, "web") {
        return Err(format!(
            "completion of `podctl exec web <Tab>`:\n{containers}\n`podctl logs w<Tab>`:\n{partial}"
        ));
    }

    // An upgrade (the same package again) keeps an enabled timer enabled
    // and running, and pods running (checked after remove, below).
    g.ok("DEBIAN_FRONTEND=noninteractive dpkg -i /srv/podctl-deb/podctl_*.deb")?;
    let timer = g.ok(&format!(
        "systemctl is-enabled {TIMER}; systemctl is-active {TIMER}"
    ))?;
    if timer != "enabled\nactive" {
        return Err(format!("{TIMER} after an upgrade: {timer:?}"));
    }

    // What purge must take away is there: the boot links, the state.
    g.ok("test -L /etc/systemd/system/multi-user.target.wants/pod@web.service && test -e /run/podctl/web.json")?;
    g.ok(&format!(
        "test -L /etc/systemd/system/timers.target.wants/{TIMER} && \
         test -e /var/lib/systemd/deb-systemd-helper-enabled/{TIMER}.dsh-also"
    ))?;
    g.ok("DEBIAN_FRONTEND=noninteractive apt-get remove -y -q podctl")?;
    // The timer stopped with its binary gone; enabled it stays, as the pods'
    // boot links do, until purge.
    g.expect_property(TIMER, "ActiveState", "inactive")?;
    g.ok(&format!(
        "test -L /etc/systemd/system/timers.target.wants/{TIMER}"
    ))?;
    if g.sh("test -e /usr/bin/podctl").success() {
        return Err("/usr/bin/podctl is still there after remove".into());
    }
    g.ok("test -f /etc/podctl/pods/web.toml")?;
    g.expect_property("pod@web.service", "ActiveState", "active")?;
    g.expect_property("pod@web.service", "MainPID", &main_pid)?;
    if pid_of(g, "python3 -m http.server 8080 --bind 127.0.0.1")? != server {
        return Err("remove restarted or stopped the pod's web server".into());
    }

    g.ok("DEBIAN_FRONTEND=noninteractive apt-get purge -y -q podctl")?;
    // Nothing of podctl's is left: files, boot links, units, processes.
    let left = g.sh(
        "ls -d /etc/podctl /var/lib/podctl /run/podctl /run/podctl-notify \
           /etc/systemd/system/*.wants/pod@* /etc/systemd/system/*.wants/podctl-* 2>/dev/null; \
         find /var/lib/systemd/deb-systemd-helper-enabled -name '*podctl*'; \
         systemctl list-units --all --no-legend --plain 'pod*' | grep -v ' inactive ' ; \
         pgrep -a -x 'podctl|podctl-supervis|podctl-pause'; pgrep -a -f '^python3 -m http.server 8080'",
    );
    if !left.stdout.trim().is_empty() {
        return Err(format!("purge left:\n{}", left.stdout));
    }
    Ok(())
}
