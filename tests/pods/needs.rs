//! Pods that need pods, on a real systemd 252: `needs` starts a pod once
//! the pods it needs are ready (their readiness probes passed), stops it
//! with them and brings it back when they come back; `wants` only orders
//! the start; a cycle and a missing need are apply errors that change
//! nothing; `down` of a needed pod is refused unless `--cascade`. In the
//! VM: after a reboot the pod starts once what it needs is ready.

use super::common::wait_pid;
use crate::rig::{Guest, TrialFn, VmTrial, wait_for};
use std::time::Duration;

pub const TRIALS: &[(&str, TrialFn)] = &[
    (
        "needs::a_pod_starts_once_what_it_needs_is_ready",
        a_pod_starts_once_what_it_needs_is_ready,
    ),
    (
        "needs::a_stop_propagates_with_needs_and_not_with_wants",
        a_stop_propagates_with_needs_and_not_with_wants,
    ),
    (
        "needs::a_cycle_and_a_missing_need_are_apply_errors",
        a_cycle_and_a_missing_need_are_apply_errors,
    ),
    (
        "needs::prune_keeps_a_pod_a_staying_pod_needs",
        prune_keeps_a_pod_a_staying_pod_needs,
    ),
    (
        "needs::start_after_down_comes_back_with_what_it_needs",
        start_after_down_comes_back_with_what_it_needs,
    ),
];

/// VM tier: two autostart pods, web needing db, come back at boot in
/// order: web's container starts only once db's readiness probe passed.
pub const VM_TRIALS: &[VmTrial] = &[VmTrial::reboot(
    "needs::at_boot_a_pod_starts_once_what_it_needs_is_ready",
    needs_before_reboot,
    needs_after_reboot,
)];

/// Writes pod files (name, text) into a fresh directory `dir`.
fn write_dir(g: &Guest, dir: &str, pods: &[(&str, String)]) -> Result<(), String> {
    g.ok(&format!("rm -rf {dir} && mkdir -p {dir}"))?;
    for (name, toml) in pods {
        g.ok(&format!(
            "cat > {dir}/{name}.toml <<'PODCTL_EOF'\n{toml}\nPODCTL_EOF"
        ))?;
    }
    Ok(())
}

/// A pod of one host-binary container running `script` then `sleep TAG`.
fn pod(name: &str, head: &str, script: &str, tag: u32) -> String {
    format!(
        "name = \"{name}\"\nnetwork = \"none\"\n{head}\n\
         [containers.app]\ncommand = [\"/bin/sh\", \"-c\", \"{script} exec sleep {tag}\"]\n\
         volumes = [\"/tmp:/tmp\"]\n"
    )
}

fn nanos(s: &str) -> Result<u128, String> {
    s.trim()
        .parse()
        .map_err(|_| format!("not a timestamp: {s:?}"))
}

fn active(g: &Guest, pod: &str) -> String {
    g.unit_property(&format!("pod@{pod}.service"), "ActiveState")
        .unwrap_or_default()
}

fn expect(cond: bool, msg: impl FnOnce() -> String) -> Result<(), String> {
    if cond { Ok(()) } else { Err(msg()) }
}

/// db is ready 2 s after its start (its readiness probe waits for a file);
/// web needs db. `systemctl start pod@nd-web` starts db first, and web's
/// container starts only after db's probe passed.
fn a_pod_starts_once_what_it_needs_is_ready(g: &Guest) -> Result<(), String> {
    let db = format!(
        "{}ready = {{ exec = [\"test\", \"-f\", \"/tmp/nd-db-ready\"], interval = \"100ms\" }}\n",
        pod("nd-db", "", "sleep 2; date +%s%N > /tmp/nd-db-ready;", 4801)
    );
    let web = pod(
        "nd-web",
        "needs = [\"nd-db\"]",
        "date +%s%N > /tmp/nd-web-started;",
        4802,
    );
    // web first in the directory: apply takes db first all the same.
    write_dir(g, "/root/needs-ready", &[("a-web", web), ("b-db", db)])?;
    let out = g.ok("podctl apply /root/needs-ready")?;
    let (at_db, at_web) = (out.find("nd-db: "), out.find("nd-web: "));
    expect(
        matches!((at_db, at_web), (Some(d), Some(w)) if d < w),
        || format!("apply did not take nd-db before nd-web:\n{out}"),
    )?;
    let dropin = g.ok("cat /etc/systemd/system/pod@nd-web.service.d/50-podctl-needs.conf")?;
    expect(dropin.contains("BindsTo=pod@nd-db.service"), || {
        format!("the drop-in: {dropin}")
    })?;
    let binds = g.unit_property("pod@nd-web.service", "BindsTo")?;
    expect(binds.contains("pod@nd-db.service"), || {
        format!("systemd did not read the drop-in: BindsTo={binds}")
    })?;
    // Both stopped, the files gone, then only web is started.
    g.ok("systemctl stop pod@nd-web pod@nd-db && rm -f /tmp/nd-db-ready /tmp/nd-web-started")?;
    g.ok("systemctl start pod@nd-web")?;
    expect(active(g, "nd-db") == "active", || {
        "starting nd-web did not start nd-db".into()
    })?;
    let ready_at = nanos(&g.ok("cat /tmp/nd-db-ready")?)?;
    wait_for(
        Duration::from_secs(10),
        "nd-web's container to start",
        || Ok(g.sh("test -s /tmp/nd-web-started").status == 0),
    )?;
    let web_at = nanos(&g.ok("cat /tmp/nd-web-started")?)?;
    expect(web_at >= ready_at, || {
        format!(
            "nd-web's container started {} ms before nd-db was ready",
            (ready_at - web_at) / 1_000_000
        )
    })?;
    // systemd's own record: web's start began after db's ended (ready).
    let db_ready = g.unit_property("pod@nd-db.service", "ActiveEnterTimestampMonotonic")?;
    let web_began = g.unit_property("pod@nd-web.service", "InactiveExitTimestampMonotonic")?;
    let (db_ready, web_began): (u64, u64) = (
        db_ready.parse().map_err(|_| db_ready.clone())?,
        web_began.parse().map_err(|_| web_began.clone())?,
    );
    expect(web_began >= db_ready, || {
        format!(
            "pod@nd-web left inactive at {web_began} µs, before pod@nd-db was active at {db_ready} µs"
        )
    })?;
    g.ok("podctl down --cascade --purge nd-db")?;
    expect(
        g.sh("test -e /etc/systemd/system/pod@nd-web.service.d")
            .status
            != 0,
        || "down --purge left nd-web's drop-in".into(),
    )
}

/// nb is needed by nn and wanted by nw: stopping nb stops nn, not nw;
/// `down nb` is refused naming nn; a crash of nb's supervisor brings nn
/// back once nb is back; `down --cascade` takes nn down first.
fn a_stop_propagates_with_needs_and_not_with_wants(g: &Guest) -> Result<(), String> {
    write_dir(
        g,
        "/root/needs-stop",
        &[
            ("nb", pod("nb", "", "", 4811)),
            ("nn", pod("nn", "needs = [\"nb\"]", "", 4812)),
            ("nw", pod("nw", "wants = [\"nb\"]", "", 4813)),
        ],
    )?;
    g.ok("podctl apply /root/needs-stop")?;
    for p in ["nb", "nn", "nw"] {
        expect(active(g, p) == "active", || format!("{p} is not active"))?;
    }
    // down is refused while nn runs, and changes nothing.
    let refused = g.sh("podctl down nb");
    expect(
        refused.status != 0 && refused.stderr.contains("pod nb is needed by nn"),
        || format!("down nb was not refused naming nn: {refused:?}"),
    )?;
    expect(active(g, "nb") == "active", || {
        "a refused down stopped nb".into()
    })?;
    // A stop of nb by hand: nn goes with it, nw stays.
    g.ok("systemctl stop pod@nb")?;
    wait_for(Duration::from_secs(20), "nn to stop with nb", || {
        Ok(active(g, "nn") == "inactive")
    })?;
    expect(active(g, "nw") == "active", || {
        format!("nw (wants) is {} after nb stopped", active(g, "nw"))
    })?;
    // Starting nn starts nb again.
    g.ok("systemctl start pod@nn")?;
    expect(active(g, "nb") == "active", || {
        "nn started without nb".into()
    })?;
    // nb's supervisor crashes: systemd restarts nb, and nn with it.
    let before = wait_pid(g, "sleep 4812")?;
    let sup = wait_pid(g, "/usr/local/bin/podctl-supervisor up nb")?;
    g.ok(&format!("kill -9 {sup}"))?;
    wait_for(Duration::from_secs(60), "nb back after kill -9", || {
        Ok(active(g, "nb") == "active"
            && g.sh("pgrep -fx '/usr/local/bin/podctl-supervisor up nb'")
                .stdout
                .trim()
                .parse::<u32>()
                .is_ok_and(|p| p != sup))
    })?;
    wait_for(Duration::from_secs(30), "nn back after nb", || {
        Ok(active(g, "nn") == "active" && g.sh("pgrep -fx 'sleep 4812'").status == 0)
    })?;
    let after = wait_pid(g, "sleep 4812")?;
    expect(after != before, || {
        "nn's container was not restarted with nb: it ran on beside a crashed nb".into()
    })?;
    // --cascade: nn first, then nb; nw (wants) is not taken down.
    let out = g.ok("podctl down --cascade nb")?;
    let (at_nn, at_nb) = (out.find("nn: stopped"), out.find("nb: stopped"));
    expect(
        matches!((at_nn, at_nb), (Some(n), Some(b)) if n < b),
        || format!("down --cascade nb did not stop nn first:\n{out}"),
    )?;
    expect(active(g, "nw") == "active", || {
        "nw went down with nb".into()
    })?;
    g.ok("podctl rm nw nn nb")?;
    Ok(())
}

/// A cycle names its pods in order; a need on a pod that is nowhere names
/// it; neither stores anything.
fn a_cycle_and_a_missing_need_are_apply_errors(g: &Guest) -> Result<(), String> {
    write_dir(
        g,
        "/root/needs-cycle",
        &[
            ("cy-a", pod("cy-a", "needs = [\"cy-b\"]", "", 4821)),
            ("cy-b", pod("cy-b", "wants = [\"cy-a\"]", "", 4822)),
        ],
    )?;
    let cycle = g.sh("podctl apply /root/needs-cycle");
    expect(
        cycle.status != 0
            && cycle
                .stderr
                .contains("pods need each other in a cycle: cy-a -> cy-b -> cy-a")
            && cycle.stderr.contains("nothing was changed"),
        || format!("apply of a cycle: {cycle:?}"),
    )?;
    write_dir(
        g,
        "/root/needs-missing",
        &[("ms", pod("ms", "needs = [\"ms-nowhere\"]", "", 4823))],
    )?;
    let missing = g.sh("podctl apply /root/needs-missing");
    expect(
        missing.status != 0
            && missing.stderr.contains(
                "pod ms: needs \"ms-nowhere\", a pod that is neither stored nor in this apply",
            ),
        || format!("apply of a missing need: {missing:?}"),
    )?;
    for p in ["cy-a", "cy-b", "ms"] {
        expect(
            g.sh(&format!("test -e /etc/podctl/pods/{p}.toml")).status != 0
                && g.sh(&format!("test -e /etc/systemd/system/pod@{p}.service.d"))
                    .status
                    != 0,
            || format!("a refused apply stored {p}"),
        )?;
    }
    Ok(())
}

/// `apply --prune` of a directory without db's file, while web (still in
/// it) needs db, is refused naming both and changes nothing; once web's
/// file leaves the directory too, both go, web first.
fn prune_keeps_a_pod_a_staying_pod_needs(g: &Guest) -> Result<(), String> {
    let dir = "/root/needs-prune";
    write_dir(
        g,
        dir,
        &[
            ("pr-db", pod("pr-db", "", "", 4841)),
            ("pr-web", pod("pr-web", "needs = [\"pr-db\"]", "", 4842)),
            ("pr-x", pod("pr-x", "", "", 4843)),
        ],
    )?;
    g.ok(&format!("podctl apply {dir}"))?;
    g.ok(&format!("rm {dir}/pr-db.toml"))?;
    let refused = g.sh(&format!("podctl apply --prune {dir}"));
    expect(
        refused.status != 0
            && refused
                .stderr
                .contains("--prune would remove pod pr-db, which pr-web needs")
            && refused.stderr.contains("nothing was changed"),
        || format!("apply --prune of a needed pod: {refused:?}"),
    )?;
    expect(
        active(g, "pr-db") == "active" && g.sh("test -e /etc/podctl/pods/pr-db.toml").status == 0,
        || "a refused prune took pr-db".into(),
    )?;
    g.ok(&format!("rm {dir}/pr-web.toml"))?;
    let out = g.ok(&format!("podctl apply --prune {dir}"))?;
    let (at_web, at_db) = (out.find("pr-web: removed"), out.find("pr-db: removed"));
    expect(
        matches!((at_web, at_db), (Some(w), Some(d)) if w < d),
        || format!("prune did not remove pr-web, then pr-db:\n{out}"),
    )?;
    g.ok("podctl rm pr-x").map(|_| ())
}

/// `down web` unlinks it from db; `start web` links it again, so a stop
/// and start of db takes web down and brings it back, as after apply.
fn start_after_down_comes_back_with_what_it_needs(g: &Guest) -> Result<(), String> {
    write_dir(
        g,
        "/root/needs-start",
        &[
            ("sd-db", pod("sd-db", "", "", 4851)),
            ("sd-web", pod("sd-web", "needs = [\"sd-db\"]", "", 4852)),
        ],
    )?;
    g.ok("podctl apply /root/needs-start")?;
    let link = "/etc/systemd/system/pod@sd-db.service.wants/pod@sd-web.service";
    g.ok("podctl down sd-web")?;
    expect(g.sh(&format!("test -L {link}")).status != 0, || {
        "down left sd-web's link".into()
    })?;
    g.ok("podctl start sd-web")?;
    g.ok(&format!("test -L {link}"))?;
    g.ok("systemctl stop pod@sd-db")?;
    wait_for(Duration::from_secs(20), "sd-web to stop with sd-db", || {
        Ok(active(g, "sd-web") == "inactive")
    })?;
    g.ok("systemctl start pod@sd-db")?;
    wait_for(Duration::from_secs(30), "sd-web back with sd-db", || {
        Ok(active(g, "sd-web") == "active")
    })?;
    g.ok("podctl down --cascade --purge sd-db").map(|_| ())
}

/// Where the boot trial's containers write their timestamps (on the VM's
/// disk, one file per boot: named by the boot id).
const BOOT_DIR: &str = "/var/lib/podctl-needs-boot";
const BOOT_ID: &str = "$(cat /proc/sys/kernel/random/boot_id)";

/// A pod of the boot trial: `script` then `sleep TAG`, with [`BOOT_DIR`].
fn boot_pod(name: &str, head: &str, script: &str, tag: u32) -> String {
    format!(
        "name = \"{name}\"\nnetwork = \"none\"\n{head}\n\
         [containers.app]\ncommand = [\"/bin/sh\", \"-c\", \"{script} exec sleep {tag}\"]\n\
         volumes = [\"{BOOT_DIR}:{BOOT_DIR}\"]\n"
    )
}

/// Phase 1: db (ready 2 s after its start) and web (needs db), applied and
/// enabled; web is linked to start with db.
fn needs_before_reboot(g: &Guest) -> Result<(), String> {
    g.ok(&format!("rm -rf {BOOT_DIR} && mkdir -p {BOOT_DIR}"))?;
    let db = format!(
        "{}ready = {{ exec = [\"/bin/sh\", \"-c\", \"test -f {BOOT_DIR}/db-ready-{BOOT_ID}\"], interval = \"100ms\" }}\n",
        boot_pod(
            "nb-db",
            "",
            &format!("sleep 2; date +%s%N > {BOOT_DIR}/db-ready-{BOOT_ID};"),
            4831
        )
    );
    let web = boot_pod(
        "nb-web",
        "needs = [\"nb-db\"]",
        &format!("date +%s%N > {BOOT_DIR}/web-started-{BOOT_ID};"),
        4832,
    );
    write_dir(g, "/root/needs-boot", &[("a-web", web), ("b-db", db)])?;
    g.ok("podctl apply /root/needs-boot")?;
    for p in ["nb-db", "nb-web"] {
        expect(active(g, p) == "active", || format!("{p} is not active"))?;
        let enabled = g.ok(&format!("systemctl is-enabled pod@{p}.service"))?;
        expect(enabled == "enabled", || {
            format!("pod@{p}.service is {enabled} after apply")
        })?;
    }
    g.ok("test -L /etc/systemd/system/pod@nb-db.service.wants/pod@nb-web.service")?;
    g.ok(&format!(
        "cat /proc/sys/kernel/random/boot_id > {BOOT_DIR}/boot-1"
    ))
    .map(|_| ())
}

/// Phase 2: a new boot started both, web's container after db was ready
/// (the containers' clocks, and systemd's record of the two units).
fn needs_after_reboot(g: &Guest) -> Result<(), String> {
    let now = g.ok("cat /proc/sys/kernel/random/boot_id")?;
    if g.ok(&format!("cat {BOOT_DIR}/boot-1"))? == now {
        return Err("phase 2 ran in the same boot".into());
    }
    for p in ["nb-db", "nb-web"] {
        g.wait_property(
            &format!("pod@{p}.service"),
            "ActiveState",
            "active",
            Duration::from_secs(90),
        )?;
    }
    let web_file = format!("{BOOT_DIR}/web-started-{now}");
    wait_for(
        Duration::from_secs(20),
        "nb-web's container to start",
        || Ok(g.sh(&format!("test -s {web_file}")).status == 0),
    )?;
    let ready_at = nanos(&g.ok(&format!("cat {BOOT_DIR}/db-ready-{now}"))?)?;
    let web_at = nanos(&g.ok(&format!("cat {web_file}"))?)?;
    expect(web_at >= ready_at, || {
        format!(
            "at boot nb-web's container started {} ms before nb-db was ready",
            (ready_at - web_at) / 1_000_000
        )
    })?;
    let db_ready = g.unit_property("pod@nb-db.service", "ActiveEnterTimestampMonotonic")?;
    let web_began = g.unit_property("pod@nb-web.service", "InactiveExitTimestampMonotonic")?;
    let (db_ready, web_began): (u64, u64) = (
        db_ready.parse().map_err(|_| db_ready.clone())?,
        web_began.parse().map_err(|_| web_began.clone())?,
    );
    expect(web_began >= db_ready, || {
        format!(
            "at boot pod@nb-web left inactive at {web_began} µs, before pod@nb-db was active at {db_ready} µs"
        )
    })?;
    g.ok("podctl down --cascade --purge nb-db")?;
    g.ok(&format!("rm -rf {BOOT_DIR}")).map(|_| ())
}
