//! The auto-update timer across a reboot, in the VM: `podctl install` puts
//! podctl-auto-update.service and .timer in /etc/systemd/system, the timer
//! is enabled (with a drop-in that makes it fire soon after boot as well as
//! daily), an autostarted pod runs v1 of an image whose tag then names v2.
//! After the reboot, with no one starting anything, the timer starts the
//! service, which moves the pod to v2: the service succeeds, the pod runs
//! v2's digest (its process and its newest revision, caused by
//! `auto-update`), and the service was started by the timer's trigger.
//!
//! The bench's registries live in a network namespace made at each boot
//! and are gone after a reboot (image_pods' reboot trial counts on that).
//! This trial has a registry of its own: a unit enabled at boot, on the
//! VM's own loopback (`localhost:5004`, TLS with the bench's CA in
//! /etc/containers/certs.d), where the service as installed finds it with
//! no environment or registries.conf of its own.

use super::common::{pid_of, wait_pid, write_pod};
use super::image_pods;
use super::image_rig::DIR;
use super::install::{SERVICE, TIMER};
use crate::rig::{Guest, VmTrial, wait_for};
use serde_json::Value;
use std::time::Duration;

pub const VM_TRIALS: &[VmTrial] = &[VmTrial::reboot(
    "update_timer::the_timer_updates_a_pod_after_a_reboot",
    before_reboot,
    after_reboot,
)];

const POD: &str = "updt";
const PORT: u16 = 5004;
const REF: &str = "localhost:5004/bench/updt:1";
/// Where `podctl install` puts the units by default.
const UNITS: &str = "/etc/systemd/system";
const DROPIN: &str = "/etc/systemd/system/podctl-auto-update.timer.d/boot.conf";
/// Seconds after boot the drop-in has the timer fire: late enough that the
/// autostarted pod is up under TCG (auto-update leaves a pod that is not
/// running alone).
const BOOT_DELAY: u64 = 90;
/// How long phase 2 waits for the service to have run.
const WAIT: Duration = Duration::from_secs(240);
const REGISTRY_UNIT: &str = "podctl-bench-updt-registry.service";
/// The registry's configuration, certificate and key (copies of the
/// bench's, made once, so a later run of registry.sh changes nothing here).
const REG_DIR: &str = "/etc/podctl-bench/updt";
/// busybox, as `image_pods::setup` lays it out: every version's lower layer.
const BASE: &str = "/root/img-src/pods/base";
/// v1's and v2's digests (phase 1), and the first boot's id.
const NOTE: &str = "/var/lib/podctl-updt-note";

fn expect(cond: bool, msg: impl FnOnce() -> String) -> Result<(), String> {
    if cond { Ok(()) } else { Err(msg()) }
}

/// What version N runs: `sleep 186N`.
fn cmdline(version: u32) -> String {
    format!("sleep {}", 1860 + version)
}

fn pod_file() -> String {
    format!(
        "name = \"{POD}\"\nnetwork = \"none\"\nautostart = true\n\
         auto_update = \"registry\"\nupdate_deadline = \"3s\"\n\
         [containers.app]\nimage = \"{REF}\"\n"
    )
}

/// `sha256:` and 12 hex digits, as `podctl auto-update` prints a digest.
fn short(digest: &str) -> &str {
    digest.get(..19).unwrap_or(digest)
}

/// The registry: a unit enabled at boot, ready (listening) before
/// podctl-auto-update.service starts.
fn registry(g: &Guest) -> Result<(), String> {
    g.ok(&format!(
        "set -e
         mkdir -p {REG_DIR} /etc/containers/certs.d/localhost:{PORT} /var/lib/podctl-reg/updt
         cp /etc/podctl-bench/ca.crt /etc/podctl-bench/server.crt /etc/podctl-bench/server.key {REG_DIR}/
         cp {REG_DIR}/ca.crt /etc/containers/certs.d/localhost:{PORT}/ca.crt
         cat > {REG_DIR}/registry.yml <<'EOF'
version: 0.1
log: {{level: warn}}
storage: {{filesystem: {{rootdirectory: /var/lib/podctl-reg/updt}}}}
http:
  addr: 127.0.0.1:{PORT}
  tls: {{certificate: {REG_DIR}/server.crt, key: {REG_DIR}/server.key}}
EOF
         cat > {UNITS}/{REGISTRY_UNIT} <<'EOF'
[Unit]
Description=Registry of the auto-update timer trial
Before={SERVICE}

[Service]
ExecStart=/usr/bin/docker-registry serve {REG_DIR}/registry.yml
ExecStartPost=/bin/bash -c 'for i in $$(seq 300); do (exec 3<>/dev/tcp/127.0.0.1/{PORT}) 2>/dev/null && exit 0; sleep 0.1; done; exit 1'

[Install]
WantedBy=multi-user.target
EOF
         systemctl daemon-reload
         systemctl enable --now {REGISTRY_UNIT}"
    ))
    .map(drop)
}

/// The digest the registry serves for [`REF`].
fn digest(g: &Guest) -> Result<String, String> {
    g.ok(&format!(
        "f=$(mktemp) && skopeo inspect --raw docker://{REF} > $f && sha256sum < $f | cut -d' ' -f1 && rm $f"
    ))
    .map(|h| format!("sha256:{h}"))
}

/// Builds version N (busybox, `/version`, runs [`cmdline`]) and pushes it
/// as [`REF`]; the digest the registry serves.
fn push(g: &Guest, version: u32) -> Result<String, String> {
    let (src, out) = (
        format!("/root/img-src/updt-v{version}"),
        format!("/root/images/updt-v{version}"),
    );
    let config = format!(
        r#"{{"Entrypoint":["/bin/sh","-c"],"Cmd":["exec {}"],"Env":["PATH=/bin"]}}"#,
        cmdline(version)
    );
    g.ok(&format!(
        "set -e; rm -rf {src} {out}; mkdir -p {src}; echo {version} > {src}/version
         IMAGE_CONFIG='{config}' bash {DIR}/mkimage.sh {out} 1 /bin/sh {BASE} {src} >/dev/null
         skopeo copy -q oci:{out}:1 docker://{REF}"
    ))?;
    digest(g)
}

/// `systemctl show` of `props` as `Key=value` lines, in the order asked.
fn show(g: &Guest, unit: &str, props: &[&str]) -> Result<String, String> {
    let mut lines = Vec::new();
    for p in props {
        lines.push(format!("{p}={}", g.unit_property(unit, p)?));
    }
    Ok(lines.join("\n"))
}

/// `podctl install` writes the service and timer into [`UNITS`], the
/// service running this podctl; the timer is off.
fn install(g: &Guest) -> Result<(), String> {
    let out = g.ok("podctl install")?;
    for unit in [SERVICE, TIMER] {
        expect(out.contains(&format!("installed {UNITS}/{unit}")), || {
            format!("podctl install did not write {unit}:\n{out}")
        })?;
        g.ok(&format!(
            "test \"$(systemctl show -P FragmentPath {unit})\" = {UNITS}/{unit}"
        ))?;
    }
    let exec = g.ok(&format!("systemctl cat {SERVICE} | grep '^ExecStart='"))?;
    expect(
        exec == "ExecStart=/usr/local/bin/podctl auto-update",
        || format!("{SERVICE} runs {exec:?}"),
    )?;
    let timer = show(g, TIMER, &["UnitFileState", "ActiveState"])?;
    expect(
        timer == "UnitFileState=disabled\nActiveState=inactive",
        || format!("{TIMER} after install:\n{timer}"),
    )
}

/// The drop-in and `systemctl enable` (not started: the timer runs from
/// the next boot on), and the service not run in this boot.
fn enable_timer(g: &Guest) -> Result<(), String> {
    g.ok(&format!(
        "mkdir -p {UNITS}/{TIMER}.d && printf '[Timer]\\nOnBootSec={BOOT_DELAY}s\\n\
         RandomizedDelaySec=0\\nAccuracySec=1s\\n' > {DROPIN} && systemctl daemon-reload"
    ))?;
    g.ok(&format!("systemctl enable {TIMER}"))?;
    let timer = show(g, TIMER, &["UnitFileState", "ActiveState"])?;
    expect(
        timer == "UnitFileState=enabled\nActiveState=inactive",
        || format!("{TIMER} after enable:\n{timer}"),
    )?;
    let text = g.ok(&format!("systemctl cat {TIMER}"))?;
    expect(
        text.contains("OnCalendar=daily") && text.contains(&format!("OnBootSec={BOOT_DELAY}s")),
        || format!("{TIMER} as systemd has it:\n{text}"),
    )?;
    g.expect_property(SERVICE, "InactiveExitTimestampMonotonic", "0")
}

/// Phase 1: the registry, v1 applied, v2 pushed, the units installed and
/// the timer enabled.
fn before_reboot(g: &Guest) -> Result<(), String> {
    // The bench's CA and busybox layer.
    image_pods::setup(g)?;
    registry(g)?;
    let v1 = push(g, 1)?;
    install(g)?;
    let path = write_pod(g, POD, &pod_file())?;
    g.ok(&format!("podctl apply {path}"))?;
    wait_pid(g, &cmdline(1))?;
    let v2 = push(g, 2)?;
    expect(v1 != v2, || format!("v1 and v2 are both {v1}"))?;
    // The move is there to be found (the registry only asked).
    let dry = g.ok(&format!("podctl auto-update --dry-run {POD}"))?;
    expect(
        dry.contains(&format!("{} -> {}: would update", short(&v1), short(&v2))),
        || format!("auto-update --dry-run {POD}:\n{dry}"),
    )?;
    enable_timer(g)?;
    g.ok(&format!(
        "printf '%s\\n' {v1} {v2} \"$(cat /proc/sys/kernel/random/boot_id)\" > {NOTE}"
    ))
    .map(drop)
}

/// `systemctl show -P PROP UNIT` as a number (0 when unset).
fn number(g: &Guest, unit: &str, prop: &str) -> Result<u64, String> {
    let v = g.unit_property(unit, prop)?;
    v.parse()
        .map_err(|e| format!("{unit} {prop}={v:?}: not a number: {e}"))
}

/// The timer's last trigger in microseconds after boot (`systemctl show`
/// prints this one as a time span: asked over D-Bus).
fn last_trigger(g: &Guest) -> Result<u64, String> {
    let out = g.ok("busctl get-property org.freedesktop.systemd1 \
         /org/freedesktop/systemd1/unit/podctl_2dauto_2dupdate_2etimer \
         org.freedesktop.systemd1.Timer LastTriggerUSecMonotonic")?;
    out.strip_prefix("t ")
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("{TIMER} LastTriggerUSecMonotonic: {out:?}"))
}

/// Phase 2: a new boot; the timer ran the service, which updated the pod.
fn after_reboot(g: &Guest) -> Result<(), String> {
    let note = g.ok(&format!("cat {NOTE}"))?;
    let [v1, v2, boot]: [&str; 3] = note
        .lines()
        .collect::<Vec<_>>()
        .try_into()
        .map_err(|l| format!("{NOTE}: {l:?}"))?;
    expect(boot != g.ok("cat /proc/sys/kernel/random/boot_id")?, || {
        "phase 2 ran in the same boot".into()
    })?;
    // Nothing here starts anything: wait for the timer's run to end.
    wait_for(WAIT, &format!("{SERVICE} to have run"), || {
        Ok(number(g, SERVICE, "ExecMainExitTimestampMonotonic")? != 0)
    })
    .map_err(|e| {
        let seen = show(
            g,
            TIMER,
            &["UnitFileState", "ActiveState", "LastTriggerUSecMonotonic"],
        )
        .unwrap_or_else(|e| e);
        let up = g.ok("cat /proc/uptime").unwrap_or_default();
        format!("{e}\n{TIMER}:\n{seen}\nuptime: {up}")
    })?;
    let log = g.ok(&format!("journalctl -b --no-pager -o cat -u {SERVICE}"))?;
    let ran = show(
        g,
        SERVICE,
        &[
            "Result",
            "ExecMainStatus",
            "ExecMainStartTimestampMonotonic",
        ],
    )?;
    expect(
        ran.starts_with("Result=success\nExecMainStatus=0\n"),
        || format!("{SERVICE} did not succeed:\n{ran}\n{log}"),
    )?;
    // Started by the timer: its trigger, BOOT_DELAY s or more after boot,
    // came before the service's start.
    let trigger = last_trigger(g)?;
    let start = number(g, SERVICE, "ExecMainStartTimestampMonotonic")?;
    expect(
        trigger >= BOOT_DELAY * 1_000_000 && start >= trigger,
        || {
            format!(
                "{TIMER} triggered at {trigger} us after boot, {SERVICE} started at {start} us \
                 (the drop-in says {BOOT_DELAY} s)"
            )
        },
    )?;
    let pod_up = number(
        g,
        &format!("pod@{POD}.service"),
        "ActiveEnterTimestampMonotonic",
    )?;
    let line = format!(
        "{POD}: app {REF} {} -> {}: updated (revision 2)",
        short(v1),
        short(v2)
    );
    expect(log.contains(&line), || {
        format!(
            "{SERVICE}'s output lacks {line:?} (it started at {start} us after boot, \
             pod@{POD}.service became active at {pod_up} us):\n{log}"
        )
    })?;
    // The registry came back with the boot and still names v2.
    let now = digest(g)?;
    expect(now == v2, || format!("{REF} names {now}, v2 was {v2}"))?;
    // The pod runs v2: its process, and its newest revision.
    g.expect_property(&format!("pod@{POD}.service"), "ActiveState", "active")?;
    wait_pid(g, &cmdline(2))?;
    expect(pid_of(g, &cmdline(1)).is_err(), || {
        format!("{} still runs", cmdline(1))
    })?;
    let out = g.ok(&format!("podctl history {POD} -o json"))?;
    let history: Vec<Value> =
        serde_json::from_str(&out).map_err(|e| format!("podctl history -o json: {e}: {out}"))?;
    let summary: Vec<String> = history
        .iter()
        .map(|r| {
            format!(
                "{} {} running={} pending={} {}",
                r["revision"],
                r["cause"]["kind"],
                r["running"],
                r["pending"],
                r["images"][REF]["digest"]
            )
        })
        .collect();
    let want = [
        format!("1 \"apply\" running=false pending=false \"{v1}\""),
        format!("2 \"auto-update\" running=true pending=false \"{v2}\""),
    ];
    expect(summary == want, || {
        format!(
            "podctl history {POD}:\n{}\nexpected:\n{}",
            summary.join("\n"),
            want.join("\n")
        )
    })?;
    cleanup(g)
}

fn cleanup(g: &Guest) -> Result<(), String> {
    g.ok(&format!(
        "podctl down --purge {POD} && systemctl disable --now {TIMER} {REGISTRY_UNIT} && \
         rm -f {DROPIN} && systemctl daemon-reload"
    ))
    .map(drop)
}
