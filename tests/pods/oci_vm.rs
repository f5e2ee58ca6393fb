//! OCI runtimes in the VM (pure cgroup v2, no outer seccomp filter): crun and
//! runc side by side in one pod, each confined and limited in a leaf of its
//! scope; sysctls; the hostile set; a named volume across a reboot.

use super::common::*;
use super::confined::{journal_until, script_output};
use super::security::status_field;
use crate::rig::{Guest, VmTrial, wait_for};
use std::time::Duration;

pub const TRIALS: &[VmTrial] = &[
    VmTrial::once(
        "oci::crun_and_runc_confined_and_limited",
        crun_and_runc_confined_and_limited,
    ),
    VmTrial::once(
        "oci::hostile_root_container_fails_every_attempt",
        super::confined::hostile_root_container_fails_every_attempt,
    ),
    VmTrial::once(
        "oci::non_root_user_keeps_and_gains_no_capability",
        super::confined::non_root_user_keeps_and_gains_no_capability,
    ),
    VmTrial::once("oci::sysctls_stay_in_the_pod", sysctls_stay_in_the_pod),
    VmTrial::reboot(
        "oci::named_volume_survives_reboot",
        write_named_volume,
        named_volume_after_reboot,
    ),
];

const CG: &str = "/sys/fs/cgroup/pod.slice/pod-rt.slice";

/// One pod, a crun and a runc container: both run in the `payload` leaf of
/// their scope with the scope's limits, with the default confinement
/// (seen through `podctl exec`, i.e. each runtime's exec), and a runc
/// container over its memory limit is OOM-killed. (runc is written in Go:
/// its threads count against the scope's tasks limit while it starts the
/// container, hence 64 there.)
fn crun_and_runc_confined_and_limited(g: &Guest) -> Result<(), String> {
    let toml = "name = \"rt\"\n\
        [containers.c]\ncommand = [\"sleep\", \"8101\"]\nresources = { memory = \"64M\", tasks = 16 }\n\
        [containers.r]\nruntime = \"runc\"\ncommand = [\"sleep\", \"8102\"]\nresources = { memory = \"48M\", tasks = 64 }\n\
        [containers.hog]\nruntime = \"runc\"\nrestart = \"never\"\nresources = { memory = \"32M\" }\n\
        command = [\"/bin/sh\", \"-c\", \"sleep 1; head -c 200M /dev/zero | tail > /dev/null\"]\n";
    apply(g, "rt", toml)?;
    for (ctr, sleep, rt, mem, tasks) in [
        ("c", "sleep 8101", "crun", "67108864", "16"),
        ("r", "sleep 8102", "runc", "50331648", "64"),
    ] {
        let pid = wait_pid(g, sleep)?;
        let scope = format!("{CG}/pod-rt.{ctr}.scope");
        let cg = g.ok(&format!("cat /proc/{pid}/cgroup"))?;
        if !cg.ends_with(&format!("/pod-rt.{ctr}.scope/payload")) {
            return Err(format!(
                "{ctr}: command in cgroup {cg}, want the scope's payload leaf"
            ));
        }
        let (m, t) = (
            g.ok(&format!("cat {scope}/memory.max"))?,
            g.ok(&format!("cat {scope}/pids.max"))?,
        );
        if m != mem || t != tasks {
            return Err(format!(
                "{ctr}: scope memory.max {m} pids.max {t}, want {mem} {tasks}"
            ));
        }
        let info = g.ok(&format!("cat /run/podctl/oci/rt.{ctr}/runtime.json"))?;
        if !info.contains(&format!("/{rt}\"")) {
            return Err(format!("{ctr}: started by {info}, want {rt}"));
        }
        let st = g.ok(&format!(
            "podctl exec rt {ctr} -- grep -E '^(CapEff|NoNewPrivs|Seccomp):' /proc/self/status"
        ))?;
        if status_field(&st, "CapEff")? != "00000000800405fb"
            || status_field(&st, "NoNewPrivs")? != "1"
            || status_field(&st, "Seccomp")? != "2"
        {
            return Err(format!("{ctr} ({rt}) is not confined as documented:\n{st}"));
        }
    }
    wait_for(Duration::from_secs(60), "runc hog OOM-killed", || {
        let st = status(g, "rt")?;
        Ok(container_field(&st, "hog", "state") == "failed")
    })?;
    let events = g.ok(&format!(
        "cat {CG}/pod-rt.hog.scope/memory.events 2>/dev/null || cat {CG}/memory.events"
    ))?;
    if !events
        .lines()
        .any(|l| l.starts_with("oom_kill ") && l != "oom_kill 0")
    {
        return Err(format!("no OOM kill recorded:\n{events}"));
    }
    g.ok("podctl down --purge rt")?;
    Ok(())
}

/// `sysctls`: set in the pod's network namespace, the host's value unchanged.
fn sysctls_stay_in_the_pod(g: &Guest) -> Result<(), String> {
    let host_before = g.ok("cat /proc/sys/net/ipv4/ip_unprivileged_port_start")?;
    let out = script_output(
        g,
        "sysc",
        "#app: sysctls = { \"net.ipv4.ip_unprivileged_port_start\" = 0 }",
        "echo \"port_start: $(cat /proc/sys/net/ipv4/ip_unprivileged_port_start)\"",
    )?;
    if status_field(&out, "port_start")? != "0" {
        return Err(format!("the sysctl is not set in the pod:\n{out}"));
    }
    let host_after = g.ok("cat /proc/sys/net/ipv4/ip_unprivileged_port_start")?;
    if host_after != host_before {
        return Err(format!(
            "the host's value changed: {host_before} -> {host_after}"
        ));
    }
    g.ok("podctl down --purge sysc")?;
    Ok(())
}

/// Phase 1: write into a named volume, then down.
fn write_named_volume(g: &Guest) -> Result<(), String> {
    script_output(
        g,
        "nvr",
        "#app: volumes = [\"nvr-data:/data\"]",
        "echo kept-8201 > /data/file",
    )?;
    g.ok("podctl down --purge nvr")?;
    Ok(())
}

/// Phase 2 (after a reboot): a new pod reads what was written.
fn named_volume_after_reboot(g: &Guest) -> Result<(), String> {
    apply(
        g,
        "nvr2",
        "name = \"nvr2\"\n[containers.app]\nrestart = \"never\"\nvolumes = [\"nvr-data:/data\"]\n\
         command = [\"/bin/sh\", \"-c\", \"echo \\\"read: $(cat /data/file)\\\"; echo END; exec sleep infinity\"]\n",
    )?;
    let out = journal_until(g, "nvr2", "app", "END")?;
    if !out.lines().any(|l| l == "read: kept-8201") {
        return Err(format!(
            "the named volume lost its data across the reboot:\n{out}"
        ));
    }
    g.ok("podctl down --purge nvr2")?;
    Ok(())
}
