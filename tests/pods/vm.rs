//! Pod trials in the QEMU VM (full cgroup v2): limits enforced by the kernel,
//! and pods coming back after a reboot.

use super::common::*;
use crate::rig::{Guest, VmTrial, wait_for};
use std::time::Duration;

pub const TRIALS: &[VmTrial] = &[
    VmTrial::once(
        "pods::memory_limits_enforced_per_container",
        memory_limits_enforced_per_container,
    ),
    VmTrial::once(
        "pods::cpu_and_tasks_limits_in_cgroupfs",
        cpu_and_tasks_limits_in_cgroupfs,
    ),
    VmTrial::reboot(
        "pods::applied_pod_runs_after_reboot",
        apply_before_reboot,
        running_after_reboot,
    ),
];

const CG: &str = "/sys/fs/cgroup/pod.slice";

fn read(g: &Guest, path: &str) -> Result<String, String> {
    g.ok(&format!("cat {path}"))
}

/// A container over its memory limit is OOM-killed; its neighbour runs on;
/// the slice's memory.max is the pod limit.
fn memory_limits_enforced_per_container(g: &Guest) -> Result<(), String> {
    let toml = "name = \"oom\"\n[resources]\nmemory = \"256M\"\n\
        [containers.hog]\ncommand = [\"/bin/sh\", \"-c\", \"sleep 1; head -c 200M /dev/zero | tail > /dev/null\"]\n\
        restart = \"never\"\nresources = { memory = \"64M\" }\n\
        [containers.calm]\ncommand = [\"sleep\", \"3101\"]\nresources = { memory = \"32M\" }\n";
    apply(g, "oom", toml)?;
    let calm = wait_pid(g, "sleep 3101")?;
    let slice = format!("{CG}/pod-oom.slice");
    let max = read(g, &format!("{slice}/memory.max"))?;
    if max != "268435456" {
        return Err(format!("pod slice memory.max = {max}, want 268435456"));
    }
    let hog_max = read(g, &format!("{slice}/pod-oom.hog.scope/memory.max"))?;
    if hog_max != "67108864" {
        return Err(format!("hog scope memory.max = {hog_max}, want 67108864"));
    }
    wait_for(
        Duration::from_secs(60),
        "hog OOM-killed and reported failed",
        || {
            let st = status(g, "oom")?;
            Ok(container_field(&st, "hog", "state") == "failed")
        },
    )?;
    let events = read(g, &format!("{slice}/pod-oom.hog.scope/memory.events"))
        .or_else(|_| read(g, &format!("{slice}/memory.events")))?;
    let kills: u64 = events
        .lines()
        .find_map(|l| l.strip_prefix("oom_kill "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    if kills == 0 {
        return Err(format!("no oom_kill in memory.events:\n{events}"));
    }
    if pid_of(g, "sleep 3101")? != calm {
        return Err("the neighbour container was disturbed".into());
    }
    g.ok("podctl down --purge oom")?;
    Ok(())
}

fn cpu_and_tasks_limits_in_cgroupfs(g: &Guest) -> Result<(), String> {
    let toml = "name = \"lim\"\n[resources]\ncpu = \"150%\"\ntasks = 64\n\
        [containers.app]\ncommand = [\"sleep\", \"3201\"]\nresources = { cpu = \"25%\", tasks = 8 }\n";
    apply(g, "lim", toml)?;
    wait_pid(g, "sleep 3201")?;
    let slice = format!("{CG}/pod-lim.slice");
    let checks = [
        (format!("{slice}/cpu.max"), "150000 100000"),
        (format!("{slice}/pids.max"), "64"),
        (format!("{slice}/pod-lim.app.scope/cpu.max"), "25000 100000"),
        (format!("{slice}/pod-lim.app.scope/pids.max"), "8"),
    ];
    for (path, want) in checks {
        let got = read(g, &path)?;
        if got != want {
            return Err(format!("{path} = {got:?}, want {want:?}"));
        }
    }
    // pids.max is enforced: forks stop at the limit with EAGAIN, counted
    // by the kernel in pids.events of the cgroup that forked: the scope, or
    // the runtime's leaf of it (`payload`) where the command runs. The forker
    // reports the errno itself, so a `podctl exec` failing for another
    // reason fails.
    let events = format!("{slice}/pod-lim.app.scope/pids.events");
    let max_events = |g: &Guest| -> Result<u64, String> {
        let text = g.ok(&format!(
            "cat {slice}/pod-lim.app.scope/pids.events {slice}/pod-lim.app.scope/*/pids.events 2>/dev/null; true"
        ))?;
        let counts: Vec<u64> = text
            .lines()
            .filter_map(|l| l.strip_prefix("max "))
            .filter_map(|n| n.trim().parse().ok())
            .collect();
        if counts.is_empty() {
            return Err(format!("no max in {events} or below: {text:?}"));
        }
        Ok(counts.iter().sum())
    };
    let before = max_events(g)?;
    let forker = "import errno, os, time\n\
                  kids = []\n\
                  for i in range(20):\n\
                  \x20   try:\n\
                  \x20       pid = os.fork()\n\
                  \x20   except OSError as e:\n\
                  \x20       print('fork', i + 1, 'failed:', errno.errorcode[e.errno], flush=True)\n\
                  \x20       break\n\
                  \x20   if pid == 0:\n\
                  \x20       time.sleep(30)\n\
                  \x20       os._exit(0)\n\
                  \x20   kids.append(pid)\n\
                  else:\n\
                  \x20   print('all 20 forks succeeded', flush=True)\n\
                  for k in kids:\n\
                  \x20   os.kill(k, 9)\n\
                  \x20   os.waitpid(k, 0)\n";
    // In /srv: a container without an image sees the host's tree, but
    // not /root, which is masked as a host secret.
    g.ok(&format!("cat > /srv/forker.py <<'EOF'\n{forker}EOF"))?;
    let out = g.sh("podctl exec lim app -- python3 /srv/forker.py 2>&1");
    // TasksMax=8 holds the container's 3 processes, the exec'd one and
    // its children: some fork among the first 8 fails, with EAGAIN.
    let failed_at: Option<u32> = out
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("fork "))
        .and_then(|rest| rest.strip_suffix(" failed: EAGAIN"))
        .and_then(|n| n.parse().ok());
    if !out.success() || !failed_at.is_some_and(|n| (1..=8).contains(&n)) {
        return Err(format!(
            "forks under TasksMax=8: want one to fail with EAGAIN within 8, got status {}: {} {}",
            out.status, out.stdout, out.stderr
        ));
    }
    let after = max_events(g)?;
    if after <= before {
        return Err(format!(
            "{events}: max {before} -> {after}, the kernel counted no refused fork"
        ));
    }
    g.ok("podctl down --purge lim")?;
    Ok(())
}

/// Phase 1: apply the shipped example (autostart by default).
fn apply_before_reboot(g: &Guest) -> Result<(), String> {
    g.ok("podctl apply /usr/local/share/podctl/examples/web.toml")?;
    g.expect_property("pod@web.service", "ActiveState", "active")?;
    let enabled = g.ok("systemctl is-enabled pod@web.service")?;
    if enabled != "enabled" {
        return Err(format!("pod@web.service is {enabled} after apply"));
    }
    g.ok("cat /proc/sys/kernel/random/boot_id > /var/lib/podctl-boot-id")?;
    Ok(())
}

/// Phase 2: a new boot, and the pod is running with every container.
fn running_after_reboot(g: &Guest) -> Result<(), String> {
    if g.ok("cat /var/lib/podctl-boot-id")? == g.ok("cat /proc/sys/kernel/random/boot_id")? {
        return Err("phase 2 ran in the same boot".into());
    }
    g.wait_property(
        "pod@web.service",
        "ActiveState",
        "active",
        Duration::from_secs(60),
    )?;
    let st = status(g, "web")?;
    let containers = st["containers"].as_array().cloned().unwrap_or_default();
    if containers.len() != 2 || containers.iter().any(|c| c["state"] != "running") {
        return Err(format!("after reboot: {st}"));
    }
    Ok(())
}
