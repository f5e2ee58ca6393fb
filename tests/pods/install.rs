//! `podctl install` against the guest's systemd: the units it writes load,
//! verify clean, and the auto-update timer is installed but off until
//! enabled; installing again rewrites nothing. The same checks of the
//! auto-update units serve the Debian package's trial (packaging.rs).

use crate::rig::{Guest, TrialFn};

pub const TRIALS: &[(&str, TrialFn)] = &[(
    "install::units_load_and_the_timer_waits_to_be_enabled",
    units_load_and_the_timer_waits_to_be_enabled,
)];

pub const TIMER: &str = "podctl-auto-update.timer";
pub const SERVICE: &str = "podctl-auto-update.service";

/// A unit directory in systemd's search path that the guest leaves empty
/// (`/etc/systemd/system/pod@.service` is the bench's, bound read-only, and
/// shadows the one written here).
const UNIT_DIR: &str = "/usr/local/lib/systemd/system";
const UNITS: [&str; 3] = ["pod@.service", SERVICE, TIMER];

/// `systemctl show` of `props`, as `Key=value` lines in the order asked.
fn show(g: &Guest, unit: &str, props: &[&str]) -> Result<String, String> {
    let out = g.ok(&format!("systemctl show -p {} {unit}", props.join(",")))?;
    let value = |key: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
            .unwrap_or("(none)")
    };
    let lines: Vec<String> = props.iter().map(|p| format!("{p}={}", value(p))).collect();
    Ok(lines.join("\n"))
}

/// The auto-update units as systemd has them from `dir`, `podctl` in the
/// service's ExecStart: loaded from there, the timer disabled and inactive,
/// the service static (only the timer starts it) and never started, and
/// `systemd-analyze verify` silent. Then the timer enabled and started:
/// `systemctl list-timers` lists it once, for the service, which it does not
/// start there and then. Left enabled.
pub fn auto_update_units_load(g: &Guest, dir: &str, podctl: &str) -> Result<(), String> {
    let timer = show(g, TIMER, &["LoadState", "UnitFileState", "ActiveState"])?;
    let want = "LoadState=loaded\nUnitFileState=disabled\nActiveState=inactive";
    if timer != want {
        return Err(format!("{TIMER}:\n{timer}\nexpected:\n{want}"));
    }
    let service = show(g, SERVICE, &["LoadState", "UnitFileState"])?;
    if service != "LoadState=loaded\nUnitFileState=static" {
        return Err(format!("{SERVICE}:\n{service}\nexpected loaded and static"));
    }
    // From `dir` (systemd may name it through /lib, a link to /usr/lib).
    for unit in [SERVICE, TIMER] {
        g.ok(&format!(
            "test \"$(systemctl show -P FragmentPath {unit})\" -ef {dir}/{unit}"
        ))?;
    }
    let exec = g.ok(&format!("systemctl cat {SERVICE} | grep '^ExecStart='"))?;
    if exec != format!("ExecStart={podctl} auto-update") {
        return Err(format!("{SERVICE} runs {exec:?}, not {podctl} auto-update"));
    }
    // The man page comes with the package (checked there), not with install.
    let verify = g.sh(&format!(
        "systemd-analyze verify --man=no {dir}/{SERVICE} {dir}/{TIMER} 2>&1"
    ));
    if !verify.success() || !verify.stdout.trim().is_empty() {
        return Err(format!(
            "systemd-analyze verify (exit {}):\n{}",
            verify.status, verify.stdout
        ));
    }
    never_started(g)?;

    g.ok(&format!("systemctl enable --now {TIMER}"))?;
    let timer = show(g, TIMER, &["UnitFileState", "ActiveState"])?;
    if timer != "UnitFileState=enabled\nActiveState=active" {
        return Err(format!("{TIMER} after enable --now:\n{timer}"));
    }
    let listed = g.ok("systemctl list-timers --all --no-legend --plain")?;
    let rows: Vec<&str> = listed.lines().filter(|l| l.contains(TIMER)).collect();
    if rows.len() != 1 || !rows[0].contains(SERVICE) {
        return Err(format!("{TIMER} not listed once for {SERVICE}:\n{listed}"));
    }
    let next = g.unit_property(TIMER, "NextElapseUSecRealtime")?;
    if next.is_empty() || next == "n/a" {
        return Err(format!("{TIMER} has no next run: {next:?}\n{listed}"));
    }
    // Persistent= with no earlier run does not make up for one.
    never_started(g)
}

/// The service has never been started (nothing runs `podctl auto-update`
/// before the timer elapses).
fn never_started(g: &Guest) -> Result<(), String> {
    let service = show(
        g,
        SERVICE,
        &["ActiveState", "InactiveExitTimestampMonotonic"],
    )?;
    if service != "ActiveState=inactive\nInactiveExitTimestampMonotonic=0" {
        return Err(format!("{SERVICE} has been started:\n{service}"));
    }
    Ok(())
}

/// Each unit's `mode inode` in [`UNIT_DIR`], to see a file left alone.
fn stats(g: &Guest) -> Result<String, String> {
    let files: Vec<String> = UNITS.iter().map(|u| format!("{UNIT_DIR}/{u}")).collect();
    g.ok(&format!("stat -c '%n %a %i' {}", files.join(" ")))
}

fn units_load_and_the_timer_waits_to_be_enabled(g: &Guest) -> Result<(), String> {
    let result = install_and_check(g);
    // The shared guest is left as it was, whatever happened.
    let files: Vec<String> = UNITS.iter().map(|u| format!("{UNIT_DIR}/{u}")).collect();
    let cleanup = g.ok(&format!(
        "systemctl disable --now {TIMER}; rm -f {}; systemctl daemon-reload",
        files.join(" ")
    ));
    result.and(cleanup.map(drop))
}

fn install_and_check(g: &Guest) -> Result<(), String> {
    if g.sh(&format!("ls {UNIT_DIR}/podctl-* 2>/dev/null"))
        .success()
    {
        return Err(format!("{UNIT_DIR} already has podctl's units"));
    }
    let out = g.ok(&format!("podctl install --unit-dir {UNIT_DIR}"))?;
    for unit in UNITS {
        if !out.contains(&format!("installed {UNIT_DIR}/{unit}")) {
            return Err(format!("podctl install did not write {unit}:\n{out}"));
        }
    }
    let first = stats(g)?;
    if first.lines().any(|l| !l.contains(" 644 ")) {
        return Err(format!("unit files not 0644:\n{first}"));
    }
    auto_update_units_load(g, UNIT_DIR, "/usr/local/bin/podctl")?;

    // Again: every file is up to date and stays the same file; an enabled
    // timer stays enabled and running.
    let out = g.ok(&format!("podctl install --unit-dir {UNIT_DIR}"))?;
    for unit in UNITS {
        if !out.contains(&format!("{UNIT_DIR}/{unit} is up to date")) {
            return Err(format!("second install: {unit} not up to date:\n{out}"));
        }
    }
    let second = stats(g)?;
    if second != first {
        return Err(format!(
            "second install replaced files:\nbefore:\n{first}\nafter:\n{second}"
        ));
    }
    let timer = show(g, TIMER, &["UnitFileState", "ActiveState"])?;
    if timer != "UnitFileState=enabled\nActiveState=active" {
        return Err(format!("{TIMER} after a second install:\n{timer}"));
    }
    Ok(())
}
