//! VM tier: trials inside a QEMU (TCG) virtual machine, for what a container
//! cannot show: cgroup v2 limits enforced, start at boot, reboots. All trials
//! run in one boot (two when a trial has a phase 2). See tests/README.md.
//! Add a trial: write `fn name(g: &Guest) -> Result<(), String>` (it runs in
//! the guest) and a line in `TRIALS`.

#[path = "pods/mod.rs"]
mod pods;
#[path = "rig/mod.rs"]
mod rig;

use rig::{Guest, VmTrial};

const TRIALS: &[VmTrial] = &[
    VmTrial::once("rig::cgroup_v2_memory_and_pids", cgroup_v2_memory_and_pids),
    VmTrial::once("rig::memory_max_is_enforced", memory_max_is_enforced),
    VmTrial::reboot(
        "rig::enabled_unit_starts_after_reboot",
        enable_unit,
        unit_started_at_boot,
    ),
];

fn main() {
    let all: Vec<VmTrial> = TRIALS
        .iter()
        .chain(pods::vm::TRIALS)
        .chain(pods::network::VM_TRIALS)
        .chain(pods::oci_vm::TRIALS)
        .chain(pods::hostile_boundary::VM_TRIALS)
        .chain(pods::packaging::VM_TRIALS)
        .chain(pods::image_pods::VM_TRIALS)
        .chain(pods::userns::VM_TRIALS)
        .chain(pods::kube_peer::VM_TRIALS)
        .chain(pods::needs::VM_TRIALS)
        .chain(pods::secrets::VM_TRIALS)
        .chain(pods::update_timer::VM_TRIALS)
        .chain(pods::rootless::VM_TRIALS)
        .cloned()
        .collect();
    rig::vm::vm_main(&all)
}

/// The unified hierarchy with the memory and pids controllers delegated to
/// system.slice's children.
fn cgroup_v2_memory_and_pids(g: &Guest) -> Result<(), String> {
    let fs = g.ok("stat -fc %T /sys/fs/cgroup")?;
    if fs != "cgroup2fs" {
        return Err(format!("/sys/fs/cgroup is {fs}, expected cgroup2fs"));
    }
    let controllers = g.ok("cat /sys/fs/cgroup/system.slice/cgroup.controllers")?;
    for want in ["memory", "pids"] {
        if !controllers.split_whitespace().any(|c| c == want) {
            return Err(format!(
                "system.slice controllers are {controllers:?}: no {want}"
            ));
        }
    }
    Ok(())
}

/// A service that allocates ~100 MiB under MemoryMax=32M is OOM-killed.
fn memory_max_is_enforced(g: &Guest) -> Result<(), String> {
    let unit = "bench-hog.service";
    // tail buffers the whole 100 MiB line (no newline) in memory.
    let run = g.sh(&format!(
        "systemd-run --wait --unit={unit} -p MemoryMax=32M -p MemorySwapMax=0 \
         sh -c 'head -c 100M /dev/zero | tail >/dev/null'"
    ));
    if run.success() {
        return Err(format!(
            "{unit} allocated 100 MiB under MemoryMax=32M and exited 0"
        ));
    }
    g.expect_property(unit, "Result", "oom-kill")?;
    g.ok(&format!("systemctl reset-failed {unit}"))?;
    Ok(())
}

/// Phase 1: enable a unit and remember this boot's id.
fn enable_unit(g: &Guest) -> Result<(), String> {
    g.ok(
        "printf '[Service]\\nType=oneshot\\nRemainAfterExit=yes\\nExecStart=/bin/true\\n\
          [Install]\\nWantedBy=multi-user.target\\n' >/etc/systemd/system/bench-boot.service",
    )?;
    g.ok("systemctl enable bench-boot.service")?;
    g.ok("cat /proc/sys/kernel/random/boot_id >/var/lib/bench-boot-id")?;
    Ok(())
}

/// Phase 2: this is a new boot and the enabled unit was started by it.
fn unit_started_at_boot(g: &Guest) -> Result<(), String> {
    let (before, now) = (
        g.ok("cat /var/lib/bench-boot-id")?,
        g.ok("cat /proc/sys/kernel/random/boot_id")?,
    );
    if before == now {
        return Err(format!("boot id {now} unchanged: the VM did not reboot"));
    }
    g.expect_property("bench-boot.service", "ActiveState", "active")
}
