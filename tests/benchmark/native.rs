//! Native section: scale in the nspawn guest, where times are
//! real (no TCG): 1,000 one-container pods (`sleep`, `network = "none"`)
//! applied one after another, `podctl ps` at 100 / 500 / 1,000 pods, per-pod
//! PSS of podctl's processes, the connections to systemd and the bus podctl
//! holds, then all of them down; then the same 1,000 pods on the default
//! bridge network (`native.bridge.*`: apply, ps, down; nothing of the network
//! left after). Loops run in the guest (one `nsenter` per loop), timed there.
//! `cargo bench --bench pods -- --native` runs only this section.

use super::report::Results;
use super::rig::Guest;
use super::rig::nspawn::{Container, podctl_binds_from};
use super::script;
use std::path::Path;

/// Pods applied.
pub const PODS: usize = 1000;
/// Pod counts at which `podctl ps` is timed, and how often each time.
pub const PS_AT: [usize; 3] = [100, 500, 1000];
const PS_ROUNDS: usize = 5;

/// Boots the container tier's guest with the release build and measures.
pub fn run(r: &mut Results) -> Result<(), String> {
    let root = super::rig::cache::container_root()?;
    let binds = podctl_binds_from(
        Path::new(env!("CARGO_BIN_EXE_podctl")),
        Path::new(env!("CARGO_BIN_EXE_podctl-pause")),
    );
    let container = Container::boot(&root, &binds)?;
    let result = measure(&container.guest(), r);
    let down = container.shutdown();
    result.and(down)
}

fn measure(g: &Guest, r: &mut Results) -> Result<(), String> {
    let version = g.ok("systemctl --version | head -1")?;
    r.machine.insert("native.systemd".into(), version);
    script::write_pods(g, PODS)?;
    let applies = apply_all(g, r, 's', "native", |r, at| pss(g, r, at))?;
    apply_rows(r, "native", &applies);
    let held = script::held(g)?;
    r.value(
        "native.conns.podctl",
        held.iter().map(|h| h.podctl as f64).sum(),
    );
    r.value("native.conns.all", held.iter().map(|h| h.all as f64).sum());
    let maps = g.ok(script::SUPERVISOR_MAPS_SCRIPT)?;
    r.notes.push(format!(
        "native, one supervisor at {PODS} pods, KiB (PSS, private dirty) by mapping: {}",
        maps.lines().collect::<Vec<_>>().join("; ")
    ));
    let figures = g.ok(script::FIGURES_SCRIPT)?;
    r.notes.push(format!(
        "native, {PODS} pods: {}",
        figures.lines().collect::<Vec<_>>().join("; ")
    ));
    for t in script::timed_loop(g, "down", 1, PODS, "podctl down --purge s$i")? {
        r.push("native.down", t);
    }
    // What the first pass left is reported after the bridge pods are
    // measured too (their names differ).
    let first = left(g, script::LEFT_SCRIPT, "every pod");
    let bridged = bridge(g, r);
    first.and(bridged)
}

/// What `script` finds left once the pods went down, given systemd a
/// moment to unload the units it collects after the last down returned.
fn left(g: &Guest, script: &str, what: &str) -> Result<(), String> {
    let mut found = String::new();
    for _ in 0..20 {
        found = g.ok(script)?;
        if found.is_empty() {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
    Err(format!("left after {what} went down:\n{found}"))
}

/// The same pods on the default bridge network: a veth on `podctl0`, an
/// address, a name in aardvark-dns each.
fn bridge(g: &Guest, r: &mut Results) -> Result<(), String> {
    script::write_bridge_pods(g, PODS)?;
    let applies = apply_all(g, r, 'b', "native.bridge", |_, _| Ok(()))?;
    apply_rows(r, "native.bridge", &applies);
    let figures = g.ok(script::BRIDGE_FIGURES_SCRIPT)?;
    r.notes.push(format!(
        "native, {PODS} bridge pods: {}",
        figures.lines().collect::<Vec<_>>().join("; ")
    ));
    for t in script::timed_loop(g, "down", 1, PODS, "podctl down --purge b$i")? {
        r.push("native.bridge.down", t);
    }
    left(
        g,
        &format!("{}; {}", script::LEFT_SCRIPT, script::BRIDGE_LEFT_SCRIPT),
        "every bridge pod",
    )
}

/// Applies pods `{prefix}0001..` one after another up to [`PODS`], timing
/// `podctl ps` (keys `{key}.ps.N`) at each of [`PS_AT`] and calling `at`
/// there; the apply times in ms.
fn apply_all(
    g: &Guest,
    r: &mut Results,
    prefix: char,
    key: &str,
    mut at_count: impl FnMut(&mut Results, usize) -> Result<(), String>,
) -> Result<Vec<f64>, String> {
    let mut applies = Vec::with_capacity(PODS);
    let mut done = 0;
    for at in PS_AT {
        let apply = format!("podctl apply /root/scale/{prefix}$i.toml");
        applies.extend(script::timed_loop(g, "apply", done + 1, at, &apply)?);
        done = at;
        eprintln!("podctl-bench: native: {at} pods ({key}) applied");
        for _ in 0..PS_ROUNDS {
            let (ms, out) = script::timed(g, "podctl ps")?;
            let rows = out.lines().filter(|l| l.starts_with(prefix)).count();
            if rows != at {
                return Err(format!("podctl ps listed {rows} pods, expected {at}"));
            }
            r.push(&format!("{key}.ps.{at}"), ms);
        }
        at_count(r, at)?;
    }
    Ok(applies)
}

/// `{key}.apply.first` / `.middle` / `.last` (ten applies each) and
/// `{key}.apply` (all of them).
fn apply_rows(r: &mut Results, key: &str, applies: &[f64]) {
    for (row, from) in [("first", 0), ("middle", PODS / 2 - 10), ("last", PODS - 10)] {
        for t in &applies[from..from + 10] {
            r.push(&format!("{key}.apply.{row}"), *t);
        }
    }
    for t in applies {
        r.push(&format!("{key}.apply"), *t);
    }
}

/// PSS (`/proc/PID/smaps_rollup`) of the supervisors, holders and relays
/// with `pods` running: shared pages are divided among the processes
/// sharing them, so this is what one more pod costs with this many running.
/// Keys `native.pss.{pods}.{per_pod,supervisor,holder,relay}` (bytes).
fn pss(g: &Guest, r: &mut Results, pods: usize) -> Result<(), String> {
    let p = script::pss(g)?;
    if p.supervisor.count < pods as f64 || p.holder.count < pods as f64 {
        return Err(format!("PSS with {pods} pods: {p:?}"));
    }
    let key = |what: &str| format!("native.pss.{pods}.{what}");
    r.value(&key("per_pod"), p.per_pod(pods) * 1024.0);
    r.value(&key("supervisor"), p.supervisor.each() * 1024.0);
    r.value(&key("holder"), p.holder.each() * 1024.0);
    r.value(&key("relay"), p.relay.each() * 1024.0);
    Ok(())
}
