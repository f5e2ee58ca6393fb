//! Scale tier: 1,000 one-container pods on one real systemd 252,
//! booted in a systemd-nspawn container of its own (this binary's guest, so
//! the container tier's parallel trials neither disturb it nor are disturbed;
//! cargo runs test binaries one after another).
//!
//! Applied one after another (one guest shell loop, timed per pod in the
//! guest); apply time stays flat; at full count the host's bus still serves
//! other root clients (`busctl list`, `systemctl list-units`), podctl holds
//! (almost) no connection to systemd or the bus, `podctl ps` and `status
//! --json` answer, and the fallback to the system bus works; then every pod
//! goes down and nothing is left. `PODCTL_SCALE_PODS=N` runs it with N pods.

#[path = "rig/mod.rs"]
mod rig;
#[path = "scale/script.rs"]
mod script;

use rig::{Guest, TrialFn};
use script::{LEFT_SCRIPT, median, name, timed, timed_loop, write_pods};
use std::time::Instant;

const TRIALS: &[(&str, TrialFn)] = &[("scale::thousand_pods", thousand_pods)];

/// Pods in the trial.
const PODS: usize = 1000;
/// Connections to systemd (private socket or system bus) podctl processes
/// may hold with no podctl command running: none is needed; the slack is for
/// a supervisor restarting a container at that instant.
const MAX_HELD: usize = 2;
/// Apply time is flat: the last ten's median may be at most this many times
/// the first ten's, plus [`FLAT_SLACK_MS`] (a shared 2-core machine is noisy).
const FLAT_FACTOR: f64 = 3.0;
const FLAT_SLACK_MS: f64 = 50.0;
/// How long systemd may take to collect the last stopped units.
const SETTLE: std::time::Duration = std::time::Duration::from_secs(30);
/// journald streams that are not podctl's (other services of the guest).
const STREAMS_SLACK: usize = 50;
/// A supervisor's private dirty memory outside its own binary's mappings
/// (heap, stacks, malloc arenas, the shared libraries' relocated data), KiB.
/// The binary's own relocated data depends on the build (this trial runs
/// the debug build), this does not much: ~300 KiB in a release build, ~920
/// when pod@.service ran the full `podctl` (libssl/libcrypto loaded for the
/// registry client, an arena per thread, clap's command tree on the stack).
const MAX_SUPERVISOR_PRIVATE_KIB: f64 = 512.0;

fn main() {
    rig::harness::container_main(TRIALS)
}

fn pods() -> usize {
    std::env::var("PODCTL_SCALE_PODS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(PODS)
}

fn thousand_pods(g: &Guest) -> Result<(), String> {
    let n = pods();
    let started = Instant::now();
    write_pods(g, n)?;
    let apply = timed_loop(g, "apply", 1, n, "podctl apply /root/scale/s$i.toml")?;
    let first = median(&apply[..10.min(apply.len())]);
    let last = median(&apply[apply.len().saturating_sub(10)..]);
    eprintln!(
        "scale: {n} pods applied in {:.1?}; apply per pod, median: first ten {first:.1} ms, \
         last ten {last:.1} ms",
        started.elapsed()
    );

    // The host's bus and systemd still serve other root clients.
    g.ok("busctl list --no-pager >/dev/null")?;
    let units = g.ok("systemctl list-units --no-pager --no-legend --plain 'pod@*' | wc -l")?;
    if units.parse::<usize>().unwrap_or(0) < n {
        return Err(format!(
            "systemctl list-units shows {units} pod@ units, expected {n}"
        ));
    }
    // podctl holds (almost) no connection while pods just run.
    let conns = script::held(g)?;
    eprintln!("scale: connections: {conns:?}");
    let mine: usize = conns.iter().map(|c| c.podctl).sum();
    if mine > MAX_HELD {
        return Err(format!(
            "podctl processes hold {mine} connections to systemd or the bus with {n} pods \
             running (at most {MAX_HELD}): {conns:?}"
        ));
    }
    // ps and status answer; the system bus is the way where the private
    // socket is absent.
    let (ps_ms, ps) = timed(g, "podctl ps")?;
    let rows = ps.lines().filter(|l| l.starts_with('s')).count();
    if rows != n {
        return Err(format!("podctl ps lists {rows} pods, expected {n}"));
    }
    let probe = name(n.div_ceil(2));
    for env in ["", "PODCTL_SYSTEMD_SOCKET=/run/no-such-socket "] {
        let status = g.ok(&format!("{env}podctl status {probe} --json"))?;
        let v: serde_json::Value = serde_json::from_str(&status)
            .map_err(|e| format!("{env}podctl status {probe} --json: {e}: {status}"))?;
        if v["name"] != probe.as_str() || v["containers"][0]["state"] != "running" {
            return Err(format!("{env}podctl status {probe} --json: {status}"));
        }
    }
    eprintln!(
        "scale: podctl ps with {n} pods: {ps_ms:.1} ms\n{}",
        g.ok(script::FIGURES_SCRIPT)?
    );
    supervisor_memory(g, n)?;
    // journald takes at most 4,096 streams: one per supervisor and one per
    // container, not more.
    let streams: usize = g
        .ok("ls /run/systemd/journal/streams | wc -l")?
        .parse()
        .unwrap_or(usize::MAX);
    if streams > 2 * n + STREAMS_SLACK {
        return Err(format!(
            "{streams} journald streams with {n} one-container pods (at most 2 per pod + \
             {STREAMS_SLACK})"
        ));
    }

    let down = timed_loop(g, "down", 1, n, "podctl down --purge s$i")?;
    eprintln!(
        "scale: down per pod, median {:.1} ms; whole trial {:.1?}",
        median(&down),
        started.elapsed()
    );
    // systemd collects stopped units asynchronously: give it a moment.
    let mut left = g.ok(LEFT_SCRIPT)?;
    let settle = Instant::now();
    while !left.is_empty() && settle.elapsed() < SETTLE {
        std::thread::sleep(std::time::Duration::from_secs(1));
        left = g.ok(LEFT_SCRIPT)?;
    }
    if !left.is_empty() {
        return Err(format!(
            "left {:?} after every pod went down:\n{left}",
            settle.elapsed()
        ));
    }
    stderr_keeps_its_priority(g)?;
    if last > FLAT_FACTOR * first + FLAT_SLACK_MS {
        return Err(format!(
            "apply time grows with the number of pods: median of pods 1-10 {first:.1} ms, of \
             the last ten {last:.1} ms (bound {FLAT_FACTOR} x first + {FLAT_SLACK_MS} ms)"
        ));
    }
    Ok(())
}

/// A container's stdout and stderr share one journald stream; stderr lines
/// still have priority 3 (err), stdout lines 6 (info).
fn stderr_keeps_its_priority(g: &Guest) -> Result<(), String> {
    g.ok(
        "printf 'name = \"logs\"\n[containers.app]\ncommand = [\"/bin/sh\", \"-c\", \"echo out-line; \
         echo err-line >&2; exec sleep infinity\"]\n' > /root/scale/logs.toml && \
         podctl apply /root/scale/logs.toml",
    )?;
    let journal = "journalctl --no-pager -o cat SYSLOG_IDENTIFIER=logs/app";
    rig::wait_for(
        std::time::Duration::from_secs(10),
        "both lines in the journal",
        || {
            let all = g.ok(journal)?;
            Ok(all.contains("out-line") && all.contains("err-line"))
        },
    )?;
    let errs = g.ok(&format!("{journal} -p err"))?;
    g.ok("podctl down --purge logs")?;
    if errs.trim() != "err-line" {
        return Err(format!(
            "journal entries of priority err or higher: {errs:?}, expected only the stderr line"
        ));
    }
    Ok(())
}

/// PSS per pod and per process kind, and one supervisor's memory by mapping;
/// its private memory outside its own binary is bounded (see
/// [`MAX_SUPERVISOR_PRIVATE_KIB`]) and it loads no TLS library.
fn supervisor_memory(g: &Guest, n: usize) -> Result<(), String> {
    let p = script::pss(g)?;
    if p.supervisor.count < n as f64 {
        return Err(format!(
            "{} supervisors found with {n} pods running: {p:?}",
            p.supervisor.count
        ));
    }
    eprintln!(
        "scale: PSS with {n} pods (this build): {:.0} KiB per pod (supervisor + holder + \
         relays); each supervisor {:.0}, holder {:.0}, relay {:.0}, init {:.0} KiB",
        p.per_pod(n),
        p.supervisor.each(),
        p.holder.each(),
        p.relay.each(),
        p.init.each()
    );
    let maps = g.ok(script::SUPERVISOR_MAPS_SCRIPT)?;
    eprintln!("scale: one supervisor by mapping (PSS, private dirty KiB):\n{maps}");
    let mut outside = 0.0;
    for line in maps.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if let [category, _pss, dirty] = f[..]
            && !category.starts_with("binary-")
        {
            outside += dirty.parse::<f64>().unwrap_or(0.0);
        }
    }
    if outside > MAX_SUPERVISOR_PRIVATE_KIB {
        return Err(format!(
            "a supervisor has {outside} KiB private dirty memory outside its binary (at most \
             {MAX_SUPERVISOR_PRIVATE_KIB}):\n{maps}"
        ));
    }
    let tls = g.ok(
        "p=$(pgrep -n -x 'podctl|podctl-supervis') || { echo 'no supervisor runs' >&2; exit 1; }; \
         grep -l -E 'libssl|libcrypto' /proc/$p/maps || true",
    )?;
    if !tls.is_empty() {
        return Err("a supervisor has libssl/libcrypto mapped (the registry client's TLS)".into());
    }
    Ok(())
}
