//! Container tier: trials against one real systemd booted in a
//! systemd-nspawn container (see tests/README.md). Add a trial by writing a
//! `fn name(g: &Guest) -> Result<(), String>` and a line in `TRIALS`.

#[path = "pods/mod.rs"]
mod pods;
#[path = "rig/mod.rs"]
mod rig;

use rig::{Guest, TrialFn};
use std::time::Duration;

const TRIALS: &[(&str, TrialFn)] = &[
    (
        "rig::systemd_is_pid1_and_bus_answers",
        systemd_is_pid1_and_bus_answers,
    ),
    (
        "rig::transient_scope_in_slice_binds_to",
        transient_scope_in_slice_binds_to,
    ),
    (
        "rig::podctl_is_bound_into_guest",
        podctl_is_bound_into_guest,
    ),
];

fn main() {
    let all: Vec<(&str, TrialFn)> = TRIALS
        .iter()
        .chain(pods::container::TRIALS)
        .chain(pods::isolation::TRIALS)
        .chain(pods::lifecycle::TRIALS)
        .chain(pods::hooks::TRIALS)
        .chain(pods::network::TRIALS)
        .chain(pods::promises::TRIALS)
        .chain(pods::hostile_runtime::TRIALS)
        .chain(pods::reconcile::TRIALS)
        .chain(pods::quickstart::TRIALS)
        .chain(pods::security::TRIALS)
        .chain(pods::confined::TRIALS)
        .chain(pods::hostile_boundary::TRIALS)
        .chain(pods::volumes::TRIALS)
        .chain(pods::packaging::TRIALS)
        .chain(pods::install::TRIALS)
        .chain(pods::images::TRIALS)
        .chain(pods::kube::TRIALS)
        .chain(pods::hostile_manifest::TRIALS)
        .chain(pods::kube_docs::TRIALS)
        .chain(pods::kube_projected::TRIALS)
        .chain(pods::kube_stdio::TRIALS)
        .chain(pods::kube_dir::TRIALS)
        .chain(pods::kube_groups::TRIALS)
        .chain(pods::image_pods::TRIALS)
        .chain(pods::image_offline::TRIALS)
        .chain(pods::cli::TRIALS)
        .chain(pods::hostile_image::TRIALS)
        .chain(pods::cli_more::TRIALS)
        .chain(pods::userns::TRIALS)
        .chain(pods::secrets::TRIALS)
        .chain(pods::needs::TRIALS)
        .chain(pods::updates::TRIALS)
        .chain(pods::updates_pull::TRIALS)
        .chain(pods::updates_rollback::TRIALS)
        .chain(pods::updates_kill::TRIALS)
        .copied()
        .collect();
    rig::harness::container_main(&all)
}

/// systemd is PID 1 and answers on the system bus.
fn systemd_is_pid1_and_bus_answers(g: &Guest) -> Result<(), String> {
    let comm = g.ok("cat /proc/1/comm")?;
    if comm != "systemd" {
        return Err(format!("PID 1 is {comm:?}, expected systemd"));
    }
    g.ok(
        "busctl call org.freedesktop.systemd1 /org/freedesktop/systemd1 \
          org.freedesktop.DBus.Peer Ping",
    )?;
    let version = g.unit_property("-.slice", "Id")?;
    if version != "-.slice" {
        return Err(format!("systemctl show -.slice gave Id={version:?}"));
    }
    Ok(())
}

/// A transient scope in a transient slice, bound to a service, stops with it.
fn transient_scope_in_slice_binds_to(g: &Guest) -> Result<(), String> {
    let (anchor, scope, slice) = ("bench-anchor.service", "bench-bound.scope", "bench-t.slice");
    g.ok(&format!("systemd-run --unit={anchor} --collect sleep 300"))?;
    // The scope's process is systemd-run itself: background it, output closed.
    g.ok(&format!(
        "systemd-run --scope --unit={scope} --slice={slice} -p BindsTo={anchor} \
         -p After={anchor} sleep 300 >/dev/null 2>&1 &"
    ))?;
    g.wait_property(scope, "ActiveState", "active", Duration::from_secs(10))?;
    g.expect_property(scope, "Slice", slice)?;
    g.expect_property(slice, "ActiveState", "active")?;
    let binds = g.unit_property(scope, "BindsTo")?;
    if !binds.split_whitespace().any(|u| u == anchor) {
        return Err(format!(
            "{scope}: BindsTo is {binds:?}, expected to contain {anchor}"
        ));
    }
    g.ok(&format!("systemctl stop {anchor}"))?;
    g.wait_property(scope, "ActiveState", "inactive", Duration::from_secs(10))
}

/// The podctl build is bind-mounted into the guest and runs there.
fn podctl_is_bound_into_guest(g: &Guest) -> Result<(), String> {
    g.ok("/usr/local/bin/podctl --help")?;
    g.ok("test -x /usr/local/bin/podctl-pause")?;
    g.ok("test -x /usr/local/bin/podctl-supervisor")?;
    g.ok("test -d /usr/local/share/podctl/examples")?;
    Ok(())
}
