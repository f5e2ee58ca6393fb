//! What the benchmark measured (shared by the guest, which fills it, and the
//! host, which adds its own figures), its statistics and the printed table.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Raw results: every sample, so the JSON file can be re-analysed.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Results {
    /// Facts about the machine(s): `host.*` and `guest.*`.
    pub machine: BTreeMap<String, String>,
    /// Timing samples in milliseconds, by series name.
    pub series: BTreeMap<String, Vec<f64>>,
    /// Single figures: bytes (`*.bytes`, `*.kib`) or counts.
    pub values: BTreeMap<String, f64>,
    /// How things were measured, and deviations from the plan.
    pub notes: Vec<String>,
    /// What failed (a failed section leaves its rows empty).
    pub errors: Vec<String>,
    /// Sections that ran to the end.
    pub done: Vec<String>,
}

impl Results {
    pub fn push(&mut self, series: &str, ms: f64) {
        self.series.entry(series.to_string()).or_default().push(ms);
    }

    pub fn value(&mut self, key: &str, v: f64) {
        self.values.insert(key.to_string(), v);
    }

    fn stats(&self, series: &str) -> Option<Stats> {
        Stats::of(self.series.get(series)?)
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Stats {
    pub n: usize,
    pub p50: f64,
    pub p90: f64,
    pub p95: f64,
}

impl Stats {
    /// Nearest-rank percentiles.
    pub fn of(samples: &[f64]) -> Option<Stats> {
        if samples.is_empty() {
            return None;
        }
        let mut v = samples.to_vec();
        v.sort_by(f64::total_cmp);
        let rank = |p: f64| v[((p * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1];
        Some(Stats {
            n: v.len(),
            p50: rank(0.50),
            p90: rank(0.90),
            p95: rank(0.95),
        })
    }
}

fn ms(v: f64) -> String {
    if v >= 10_000.0 {
        format!("{:.1} s", v / 1000.0)
    } else if v >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

fn mib(bytes: f64) -> String {
    if bytes < 1024.0 * 1024.0 {
        format!("{:.0} KiB", bytes / 1024.0)
    } else {
        format!("{:.2} MiB", bytes / (1024.0 * 1024.0))
    }
}

fn row(out: &mut String, r: &Results, label: &str, key: &str, base: Option<f64>) {
    let Some(s) = r.stats(key) else {
        let _ = writeln!(out, "{label:<60} {:>4} {:>9}", 0, "(no data)");
        return;
    };
    let ratio = base.map_or("".into(), |b| format!("{:.1}x", s.p50 / b));
    let _ = writeln!(
        out,
        "{label:<60} {:>4} {:>9} {:>9} {:>8}",
        s.n,
        ms(s.p50),
        ms(s.p95),
        ratio
    );
}

/// This build against the baseline build (`PODCTL_BENCH_BASELINE`), their
/// rounds alternating in the podctl section, when it ran.
fn baseline(out: &mut String, r: &Results) {
    if !r.series.keys().any(|k| k.starts_with("baseline.")) {
        return;
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:<60} {:>4} {:>9} {:>9} {:>8}",
        "this build / the baseline build, same boot (ms)", "n", "p50", "p90", "this/base"
    );
    for (label, this, base) in [
        ("podctl apply", "podctl.apply", "baseline.apply"),
        (
            "podctl down, until nothing left",
            "podctl.down",
            "baseline.down",
        ),
        (
            "podctl down, the command",
            "podctl.down.command",
            "baseline.down.command",
        ),
        (
            "SIGTERM ignored: podctl apply",
            "podctl.term.apply",
            "baseline.term.apply",
        ),
        (
            "SIGTERM ignored: podctl down",
            "podctl.term.down",
            "baseline.term.down",
        ),
    ] {
        let (a, b) = (r.stats(this), r.stats(base));
        for (who, key, s) in [("this build", this, a), ("baseline", base, b)] {
            let label = format!("{label}, {who}");
            match s {
                None => {
                    let _ = writeln!(out, "{label:<60} {:>4} {:>9}", 0, "(no data)");
                }
                Some(s) => {
                    let ratio = match (key == this, a, b) {
                        (true, Some(a), Some(b)) => format!("{:.2}x", a.p50 / b.p50),
                        _ => String::new(),
                    };
                    let _ = writeln!(
                        out,
                        "{label:<60} {:>4} {:>9} {:>9} {:>8}",
                        s.n,
                        ms(s.p50),
                        ms(s.p90),
                        ratio
                    );
                }
            }
        }
    }
    if let Some(b) = r.machine.get("host.baseline") {
        let _ = writeln!(out, "baseline build: {b}");
    }
}

/// The native section (nspawn guest, real time), when it ran.
fn native(out: &mut String, r: &Results) {
    if !r.series.keys().any(|k| k.starts_with("native.")) {
        return;
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:<60} {:>4} {:>9} {:>9}",
        "native (nspawn, real time): 1,000 one-container pods", "n", "p50", "p95"
    );
    for (label, key) in [
        ("podctl apply, pods 1-10", "native.apply.first"),
        ("podctl apply, pods 491-500", "native.apply.middle"),
        ("podctl apply, pods 991-1000", "native.apply.last"),
        ("podctl ps with 100 pods running", "native.ps.100"),
        ("podctl ps with 500 pods running", "native.ps.500"),
        ("podctl ps with 1000 pods running", "native.ps.1000"),
        ("podctl down --purge, each of the 1000", "native.down"),
    ] {
        row(out, r, label, key, None);
    }
    let v = |k: &str| r.values.get(k).copied();
    for pods in super::native::PS_AT {
        for (label, what) in [
            ("PSS per pod: supervisor + holder + relays", "per_pod"),
            (
                "  PSS of one supervisor (podctl-supervisor up)",
                "supervisor",
            ),
            ("  PSS of one holder (podctl-pause hold)", "holder"),
            ("  PSS of one relay (podctl-pause relay)", "relay"),
        ] {
            let label = format!("{label}, {pods} pods");
            let text = v(&format!("native.pss.{pods}.{what}")).map_or("(no data)".into(), mib);
            let _ = writeln!(out, "{label:<60} {text:>14}");
        }
    }
    for (label, key) in [
        (
            "connections to systemd/bus held by podctl",
            "native.conns.podctl",
        ),
        (
            "connections to systemd/bus, all clients",
            "native.conns.all",
        ),
    ] {
        let text = v(key).map_or("(no data)".into(), |n| format!("{n:.0}"));
        let _ = writeln!(out, "{label:<60} {text:>14}");
    }
}

/// The one table: timings with ratios to the floor, then memory.
pub fn table(r: &Results) -> String {
    let mut out = String::new();
    let m = |k: &str| r.machine.get(k).cloned().unwrap_or_else(|| "?".into());
    let _ = writeln!(
        out,
        "podctl benchmark, {} (podctl {})",
        m("date"),
        m("host.podctl")
    );
    let _ = writeln!(
        out,
        "host:  {}, {} cores, Linux {}, {}",
        m("host.cpu"),
        m("host.cores"),
        m("host.kernel"),
        m("host.os")
    );
    let _ = writeln!(
        out,
        "guest: QEMU TCG, {} vCPUs, {} MiB, Linux {}, {}, {}",
        m("guest.cpus"),
        m("guest.mem_mib"),
        m("guest.kernel"),
        m("guest.systemd"),
        m("guest.podman")
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:<60} {:>4} {:>9} {:>9} {:>8}",
        "two-container pod, network none (times in ms)", "n", "p50", "p95", "x floor"
    );
    let p50 = |k: &str| r.stats(k).map(|s| s.p50);
    let (up, down) = (p50("floor.up"), p50("floor.down"));
    let (tup, tdown) = (p50("floor.term.up"), p50("floor.term.down"));
    let rows: &[(&str, &str, Option<f64>)] = &[
        (
            "floor: 3 systemd-run scopes, crun run of podctl's bundles",
            "floor.up",
            up,
        ),
        ("podctl apply (returns after READY=1)", "podctl.apply", up),
        ("podman pod create + 2x run -d", "podman.up", up),
        ("podman, same with run --init", "podman.init.up", up),
        (
            "floor: systemctl stop SLICE, until nothing left",
            "floor.down",
            down,
        ),
        ("podctl down, until nothing left", "podctl.down", down),
        (
            "podman pod stop + rm (graceful; sleep is PID 1: 10 s)",
            "podman.stop",
            down,
        ),
        ("podman pod rm -f -t 0 (immediate)", "podman.rm_t0", down),
        (
            "podman pod stop + rm, run --init (graceful)",
            "podman.init.stop",
            down,
        ),
        (
            "commands ignore SIGTERM, stop timeout 2 s: floor up",
            "floor.term.up",
            tup,
        ),
        ("  podctl apply", "podctl.term.apply", tup),
        (
            "  podman pod create + 2x run -d --init",
            "podman.term.up",
            tup,
        ),
        ("  floor down (TimeoutStopSec=2s)", "floor.term.down", tdown),
        (
            "  podctl down (stop_timeout = \"2s\")",
            "podctl.term.down",
            tdown,
        ),
        ("  podman pod stop -t 2 + rm", "podman.term", tdown),
    ];
    for (label, key, base) in rows {
        row(&mut out, r, label, key, *base);
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:<60} {:>4} {:>9} {:>9} {:>8}",
        "the same pod from a stored busybox image (ms)", "n", "p50", "p95", "x floor"
    );
    let (iup, idown) = (p50("image.floor.up"), p50("image.floor.down"));
    for (label, key, base) in [
        (
            "floor: overlay mounts + crun run of podctl's bundles, up",
            "image.floor.up",
            iup,
        ),
        ("podctl apply, userns = \"host\"", "image.podctl.apply", iup),
        (
            "podctl apply, userns = \"auto\" (default)",
            "image.userns.apply",
            iup,
        ),
        (
            "podman pod create + 2x run -d --init IMAGE",
            "image.podman.up",
            iup,
        ),
        (
            "floor: stop, until nothing left, overlays unmounted",
            "image.floor.down",
            idown,
        ),
        (
            "podctl down, until nothing left, userns = \"host\"",
            "image.podctl.down",
            idown,
        ),
        (
            "podctl down, until nothing left, userns = \"auto\"",
            "image.userns.down",
            idown,
        ),
        ("podman pod stop + rm", "image.podman.down", idown),
    ] {
        row(&mut out, r, label, key, base);
    }
    if r.series.contains_key("rootless.podctl.apply") {
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "{:<60} {:>4} {:>9} {:>9} {:>8}",
            "the image pod as an ordinary user (ms)", "n", "p50", "p95", "x root"
        );
        let (rup, rdown) = (p50("rootless.rootful.apply"), p50("rootless.rootful.down"));
        for (label, key, base) in [
            (
                "root: podctl apply (userns = \"auto\")",
                "rootless.rootful.apply",
                rup,
            ),
            (
                "user: podctl apply (rootless)",
                "rootless.podctl.apply",
                rup,
            ),
            (
                "user: podman pod create + 2x run -d --init IMAGE",
                "rootless.podman.up",
                rup,
            ),
            (
                "root: podctl down, until nothing left",
                "rootless.rootful.down",
                rdown,
            ),
            (
                "user: podctl down, until nothing left",
                "rootless.podctl.down",
                rdown,
            ),
            ("user: podman pod stop + rm", "rootless.podman.down", rdown),
        ] {
            row(&mut out, r, label, key, base);
        }
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:<60} {:>4} {:>9} {:>9} {:>8}",
        "images: ~50 MB image, local registry (times in ms)", "n", "p50", "p95", "x ref"
    );
    let (sk, tar) = (p50("images.skopeo"), p50("images.tar"));
    for (label, key, base) in [
        (
            "skopeo copy docker://... dir:DIR (no unpack) = ref",
            "images.skopeo",
            sk,
        ),
        (
            "podctl pull (fetch, verify, unpack), fresh store",
            "images.podctl.pull",
            sk,
        ),
        (
            "podman pull (fetch, verify, unpack), fresh storage",
            "images.podman.pull",
            sk,
        ),
        ("tar -xzf of the big layer's blob = ref", "images.tar", tar),
        (
            "podctl: the big layer unpacked again (pull)",
            "images.podctl.unpack",
            tar,
        ),
    ] {
        row(&mut out, r, label, key, base);
    }
    if let Some(bytes) = r.values.get("images.bytes") {
        for (label, key) in [
            ("throughput: skopeo copy", "images.skopeo"),
            ("throughput: podctl pull", "images.podctl.pull"),
            ("throughput: podman pull", "images.podman.pull"),
        ] {
            let text = p50(key).map_or("(no data)".into(), |ms| {
                format!("{:.1} MiB/s", bytes / 1048576.0 / (ms / 1000.0))
            });
            let _ = writeln!(out, "{label:<60} {text:>14}");
        }
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:<60} {:>4} {:>9} {:>9} {:>8}",
        "scale: 100 bridge pods, one after another", "n", "p50", "p95", "x 1-10"
    );
    let first = p50("scale.apply.first10");
    row(
        &mut out,
        r,
        "podctl apply, pods 1-10",
        "scale.apply.first10",
        first,
    );
    match last_ten(r) {
        Some((k, s)) if r.stats("scale.apply.last10").is_none() => {
            let label = format!(
                "podctl apply, pods {}-{k} (the last the boot reached)",
                k - 9
            );
            let ratio = first.map_or("".into(), |b| format!("{:.1}x", s.p50 / b));
            let _ = writeln!(
                out,
                "{label:<60} {:>4} {:>9} {:>9} {:>8}",
                s.n,
                ms(s.p50),
                ms(s.p95),
                ratio
            );
        }
        _ => row(
            &mut out,
            r,
            "podctl apply, pods 91-100",
            "scale.apply.last10",
            first,
        ),
    }
    for (label, key, base) in [
        ("podctl ps with 100 pods running", "scale.ps", None),
        ("podctl down, pods 1-10 and 91-100", "scale.down", None),
    ] {
        row(&mut out, r, label, key, base);
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:<60} {:>4} {:>9} {:>9}",
        "network (same two-container pod; times in ms)", "n", "p50", "p95"
    );
    for (label, key) in [
        (
            "apply, network = \"bridge\" (podctl network)",
            "net.bridge.apply",
        ),
        ("apply, network = \"none\"", "net.none.apply"),
        ("down until nothing left, bridge", "net.bridge.down"),
        ("down until nothing left, none", "net.none.down"),
        (
            "GET 100 MiB through the published port (127.0.0.1)",
            "net.port.100mb",
        ),
        (
            "GET 100 MiB from the pod's address directly",
            "net.direct.100mb",
        ),
        ("GET 2 bytes through the published port", "net.port.get"),
        (
            "GET 2 bytes from the pod's address directly",
            "net.direct.get",
        ),
    ] {
        row(&mut out, r, label, key, None);
    }
    for (label, key) in [
        ("throughput, published port (MiB/s, p50)", "net.port.mibps"),
        ("throughput, pod's address (MiB/s, p50)", "net.direct.mibps"),
    ] {
        let text = p50(key).map_or("(no data)".into(), |v| format!("{v:.1}"));
        let _ = writeln!(out, "{label:<60} {text:>14}");
    }
    baseline(&mut out, r);
    native(&mut out, r);
    crate::native_pods::table(&mut out, r);
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:<60} {:>4} {:>9} {:>9}",
        "100-container pod file", "n", "p50", "p95"
    );
    for (label, key) in [
        ("podctl validate (guest, TCG)", "validate.guest"),
        ("podctl apply --dry-run (guest, TCG)", "dryrun.guest"),
        ("podctl validate (host)", "validate.host"),
        ("podctl apply --dry-run (host)", "dryrun.host"),
    ] {
        row(&mut out, r, label, key, None);
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "{:<60} {:>14}", "memory", "");
    let v = |k: &str| r.values.get(k).copied();
    let mem_rows: &[(&str, &str)] = &[
        (
            "podctl supervisor: pod@NAME.service memory.current",
            "podctl.supervisor.cgroup",
        ),
        ("podctl supervisor: VmRSS", "podctl.supervisor.rss"),
        (
            "podctl holder: sandbox scope memory.current",
            "podctl.holder.cgroup",
        ),
        ("podctl holder: VmRSS", "podctl.holder.rss"),
        (
            "podctl relays (1 per container): VmRSS, both",
            "podctl.relays.rss",
        ),
        ("podctl supervisor: PSS", "podctl.supervisor.pss"),
        ("podctl holder: PSS", "podctl.holder.pss"),
        ("podctl relays: PSS, both", "podctl.relays.pss"),
        (
            "podctl inits (podctl-pause init, PID 1 of each): PSS, both",
            "podctl.inits.pss",
        ),
        (
            "podctl container scopes memory.current (incl. sleep)",
            "podctl.scopes.cgroup",
        ),
        (
            "podctl per-pod overhead (supervisor+holder+relays RSS)",
            "podctl.overhead.rss",
        ),
        (
            "podctl per-pod overhead (supervisor+holder+relays PSS)",
            "podctl.overhead.pss",
        ),
        (
            "with 100 pods, per pod: supervisor+holder+relays PSS",
            "scale.pss.overhead",
        ),
        (
            "with 100 pods, per pod: supervisor PSS",
            "scale.pss.supervisor",
        ),
        ("with 100 pods, per pod: holder PSS", "scale.pss.holder"),
        ("with 100 pods, per pod: relays PSS (2)", "scale.pss.relays"),
        ("with 100 pods, per pod: inits PSS (2)", "scale.pss.inits"),
        (
            "podman conmon: VmRSS, all 3 (infra + 2 containers)",
            "podman.conmon.rss",
        ),
        ("podman infra (catatonit): VmRSS", "podman.infra.rss"),
        ("podman conmon: PSS, all 3", "podman.conmon.pss"),
        ("podman infra (catatonit): PSS", "podman.infra.pss"),
        (
            "podman pod cgroups memory.current (infra, containers)",
            "podman.cgroups",
        ),
        (
            "podman per-pod overhead (conmons+infra RSS)",
            "podman.overhead.rss",
        ),
        (
            "podman per-pod overhead (conmons+infra PSS)",
            "podman.overhead.pss",
        ),
        (
            "scale: MemAvailable drop for 100 pods",
            "scale.memavailable_drop",
        ),
        (
            "scale: sum of memory.current, 100 pods' slices",
            "scale.slices",
        ),
        (
            "scale: sum of memory.current, 100 supervisors",
            "scale.supervisors",
        ),
    ];
    for (label, key) in mem_rows {
        let text = v(key).map_or("(no data)".into(), mib);
        let _ = writeln!(out, "{label:<60} {text:>14}");
    }
    if let (Some(a), Some(b)) = (v("podctl.overhead.pss"), v("podman.overhead.pss")) {
        let _ = writeln!(
            out,
            "{:<60} {:>14}",
            "podctl / podman per-pod overhead (PSS, one pod)",
            format!("{:.2}x", a / b)
        );
    }
    targets(&mut out, r);
    if !r.notes.is_empty() {
        let _ = writeln!(out);
        for n in &r.notes {
            let _ = writeln!(out, "note: {n}");
        }
    }
    for e in &r.errors {
        let _ = writeln!(out, "ERROR: {e}");
    }
    out
}

/// The project's targets against this run (p50s of the same boot):
/// native (the nspawn guest, real time; keys `native.*`) and under TCG.
fn targets(out: &mut String, r: &Results) {
    let p50 = |k: &str| r.stats(k).map(|s| s.p50);
    let v = |k: &str| r.values.get(k).copied();
    let ratio = |a: Option<f64>, b: Option<f64>| a.zip(b).map(|(a, b)| a / b);
    let n = |k: &str| format!("native.pod.{k}");
    let mib = 1048576.0;
    // (what, measured, target, met when measured <= target (true) or >= (false))
    let rows: [(&str, Option<f64>, f64, bool); 18] = [
        (
            "native: apply / floor, two-container pod",
            ratio(p50(&n("podctl.apply")), p50(&n("floor.up"))),
            1.0,
            true,
        ),
        (
            "native: apply / floor, image pod",
            ratio(p50(&n("image.podctl.apply")), p50(&n("image.floor.up"))),
            1.0,
            true,
        ),
        (
            "native: down / floor, two-container pod",
            ratio(p50(&n("podctl.down")), p50(&n("floor.down"))),
            1.1,
            true,
        ),
        (
            "native: down / floor, image pod",
            ratio(p50(&n("image.podctl.down")), p50(&n("image.floor.down"))),
            1.1,
            true,
        ),
        (
            "native: pull throughput / skopeo's",
            ratio(p50(&n("images.skopeo")), p50(&n("images.podctl.pull"))),
            1.0,
            false,
        ),
        (
            "native: one pod's overhead PSS (MiB)",
            v(&n("podctl.overhead.pss")).map(|b| b / mib),
            1.5,
            true,
        ),
        (
            "native: overhead PSS per pod, 1,000 pods (MiB)",
            v("native.pss.1000.per_pod").map(|b| b / mib),
            0.6,
            true,
        ),
        (
            "native: bridge pods 991-1000 / 1-10, apply",
            ratio(
                p50("native.bridge.apply.last"),
                p50("native.bridge.apply.first"),
            ),
            1.5,
            true,
        ),
        (
            "native: podctl ps, 1,000 bridge pods (ms)",
            p50("native.bridge.ps.1000"),
            100.0,
            true,
        ),
        (
            "native: podctl ps, 1,000 pods, network none (ms)",
            p50("native.ps.1000"),
            100.0,
            true,
        ),
        (
            "TCG: apply / floor, two-container pod",
            ratio(p50("podctl.apply"), p50("floor.up")),
            1.1,
            true,
        ),
        (
            "TCG: apply / floor, image pod",
            ratio(p50("image.podctl.apply"), p50("image.floor.up")),
            1.1,
            true,
        ),
        (
            "TCG: image pod, apply userns auto / host",
            ratio(p50("image.userns.apply"), p50("image.podctl.apply")),
            1.1,
            true,
        ),
        (
            "TCG: pull throughput / skopeo's",
            ratio(p50("images.skopeo"), p50("images.podctl.pull")),
            1.0,
            false,
        ),
        (
            "TCG: one pod's overhead PSS (MiB)",
            v("podctl.overhead.pss").map(|b| b / mib),
            1.5,
            true,
        ),
        (
            "TCG: holder PSS, one pod (KiB)",
            v("podctl.holder.pss").map(|b| b / 1024.0),
            256.0,
            true,
        ),
        (
            "TCG: published port / pod IP throughput",
            ratio(p50("net.port.mibps"), p50("net.direct.mibps")),
            0.9,
            false,
        ),
        (
            "TCG: rootless apply / root's, image pod",
            ratio(p50("rootless.podctl.apply"), p50("rootless.rootful.apply")),
            1.1,
            true,
        ),
    ];
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:<60} {:>9} {:>9} {:>4}",
        "targets (p50s)", "measured", "target", "met"
    );
    for (what, got, target, at_most) in rows {
        let (got_s, met) = match got {
            None => ("(no data)".to_string(), "-"),
            Some(g) => {
                let ok = if at_most { g <= target } else { g >= target };
                (format!("{g:.2}"), if ok { "yes" } else { "no" })
            }
        };
        let bound = format!("{}{target}", if at_most { "<=" } else { ">=" });
        let _ = writeln!(out, "{what:<60} {got_s:>9} {bound:>9} {met:>4}");
    }
}

/// The last ten scale applies the boot reached: (the last pod's number,
/// their statistics), when at least 20 pods were applied.
fn last_ten(r: &Results) -> Option<(usize, Stats)> {
    let all = r.series.get("scale.apply")?;
    if all.len() < 20 {
        return None;
    }
    Some((all.len(), Stats::of(&all[all.len() - 10..])?))
}
