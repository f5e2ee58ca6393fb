//! Podman 4.3 (with crun, as podctl) doing the benchmark's pod: `pod create
//! --network none` + two `run -d --pod --rootfs BUSYBOX_DIR`, with the same
//! limits, stopped several ways; and its per-pod processes' memory.

use super::{
    Guest, PODMAN_ROUNDS, POLL_SCAN, ROOTFS, Results, cgroup_of, comm, leftovers, memory_current,
    ms_since, nothing_left, pids, pss_bytes, rounds, say, timed, vm_rss_bytes, wait,
};
use std::collections::BTreeMap;
use std::thread::sleep;
use std::time::{Duration, Instant};

pub(super) struct Podman {
    /// Pod-level limits, dropped if this Podman rejects them.
    pub pod_limits: bool,
    /// Run this image instead of `--rootfs` the busybox directory.
    pub image: Option<String>,
}

impl Podman {
    /// `term`: commands that ignore SIGTERM (as podctl's `bterm`).
    pub(super) fn create(&self, init: bool, term: bool) -> Result<Vec<f64>, String> {
        let limit = Duration::from_secs(120);
        let mut create = vec![
            "podman",
            "pod",
            "create",
            "--name",
            "bp",
            "--network",
            "none",
            "--hostname",
            "bp",
        ];
        if self.pod_limits {
            create.extend(["--memory", "512m", "--cpus", "0.5"]);
        }
        let (t0, _) = timed(&create, limit)?;
        let run = |name: &str, limits: &[&str]| -> Result<f64, String> {
            let mut argv = vec!["podman", "run", "-d", "--pod", "bp", "--name", name];
            if init {
                argv.push("--init");
            }
            argv.extend(limits);
            match &self.image {
                Some(image) => argv.push(image),
                None => argv.extend(["--rootfs", ROOTFS]),
            }
            if term {
                argv.extend(["sh", "-c", "trap '' TERM; exec sleep inf"]);
            } else {
                argv.extend(["sleep", "inf"]);
            }
            Ok(timed(&argv, limit)?.0)
        };
        let t1 = run(
            "bp-app",
            &["--memory", "256m", "--cpus", "0.25", "--pids-limit", "64"],
        )?;
        let t2 = run("bp-sidecar", &["--memory", "128m"])?;
        Ok(vec![t0, t1, t2])
    }

    pub(super) fn check(&self) -> Result<(), String> {
        let (_, out) = timed(
            &[
                "podman",
                "ps",
                "--filter",
                "pod=bp",
                "--format",
                "{{.Names}} {{.State}}",
            ],
            Duration::from_secs(60),
        )?;
        let running = out
            .lines()
            .filter(|l| l.contains("running") || l.contains("Up"))
            .count();
        if running != 3 {
            return Err(format!("podman ps shows {running} running of 3:\n{out}"));
        }
        Ok(())
    }

    pub(super) fn gone() -> Result<(), String> {
        wait(
            Duration::from_secs(60),
            POLL_SCAN,
            "podman's processes to go",
            nothing_left,
        )
        .map_err(|e| format!("{e}: left {:?}", leftovers()))
    }

    /// Graceful: `pod stop` (its timeout: `None` = 10 s) then `pod rm`.
    pub(super) fn stop_graceful(&self, timeout: Option<&str>) -> Result<f64, String> {
        let start = Instant::now();
        let mut argv = vec!["podman", "pod", "stop"];
        if let Some(t) = timeout {
            argv.extend(["-t", t]);
        }
        argv.push("bp");
        timed(&argv, Duration::from_secs(120))?;
        timed(&["podman", "pod", "rm", "bp"], Duration::from_secs(120))?;
        Self::gone()?;
        Ok(ms_since(start))
    }

    fn rm_immediate(&self) -> Result<f64, String> {
        let start = Instant::now();
        timed(
            &["podman", "pod", "rm", "-f", "-t", "0", "bp"],
            Duration::from_secs(120),
        )?;
        Self::gone()?;
        Ok(ms_since(start))
    }
}

pub(super) fn podman(g: &Guest, r: &mut Results) -> Result<(), String> {
    let mut pm = Podman {
        pod_limits: true,
        image: None,
    };
    // Warm-up (not counted): first use sets up storage and builds the
    // local pause image for the infra container.
    let start = Instant::now();
    let warm = pm.create(false, false).or_else(|e| {
        say(&format!("podman with pod limits failed, retrying without: {e}"));
        r.notes.push(format!("podman pod create --memory/--cpus rejected ({}); pods created without pod-level limits", first_line(&e)));
        g.sh("podman pod rm -f -t 0 bp");
        pm.pod_limits = false;
        pm.create(false, false)
    });
    if let Err(e) = warm {
        say(&g.sh("journalctl -n 60 --no-pager").stdout);
        return Err(format!("warm-up: {e}"));
    }
    pm.check()?;
    pm.rm_immediate()?;
    say(&format!(
        "podman warm-up round took {:.1?}",
        start.elapsed()
    ));
    r.value("podman.warmup.ms", ms_since(start));
    r.notes.push(
        "podman: `pod create --network none` (infra holds a private netns with lo only, as podctl's sandbox) + 2x \
         `run -d --pod bp --rootfs DIR sleep inf` (DIR: busybox-static), with the same limits; up = until the last run -d returns (check: podman ps)"
            .into(),
    );
    r.notes.push(
        "podman, commands that ignore SIGTERM: `run --init` with `sh -c \"trap '' TERM; exec sleep inf\"`, `pod stop -t 2` + `pod rm` \
         (podctl: the same commands, stop_timeout = \"2s\"; floor: TimeoutStopSec=2s)"
            .into(),
    );
    let n = rounds(PODMAN_ROUNDS);
    for (variant, init, term, stop) in [
        ("stop", false, false, Some(None)),
        ("rm_t0", false, false, None),
        ("init.stop", true, false, Some(None)),
        ("term", true, true, Some(Some("2"))),
    ] {
        for round in 1..=n {
            let t = pm.create(init, term)?;
            pm.check()?;
            if round == 1 && variant == "stop" {
                overhead_podman(r)?;
            }
            let down = match stop {
                Some(timeout) => pm.stop_graceful(timeout)?,
                None => pm.rm_immediate()?,
            };
            let up: f64 = t.iter().sum();
            let up_key = match (init, term) {
                (_, true) => "podman.term.up",
                (true, false) => "podman.init.up",
                (false, false) => "podman.up",
            };
            r.push(up_key, up);
            r.push(&format!("{up_key}.create"), t[0]);
            r.push(&format!("{up_key}.run"), t[1]);
            r.push(&format!("{up_key}.run"), t[2]);
            r.push(&format!("podman.{variant}"), down);
            say(&format!(
                "podman {variant} {round}/{n}: up {up:.0} ms ({:.0}+{:.0}+{:.0}), down {down:.0} ms",
                t[0], t[1], t[2]
            ));
        }
    }
    Ok(())
}

pub(super) fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

fn overhead_podman(r: &mut Results) -> Result<(), String> {
    sleep(Duration::from_secs(2));
    let all = pids();
    let conmons: Vec<u32> = all
        .iter()
        .copied()
        .filter(|&p| comm(p) == "conmon")
        .collect();
    let infra: Vec<u32> = all
        .iter()
        .copied()
        .filter(|&p| comm(p) == "catatonit")
        .collect();
    if conmons.len() != 3 {
        return Err(format!(
            "expected 3 conmon processes, found {}",
            conmons.len()
        ));
    }
    let conmon_rss: f64 = conmons.iter().copied().map(vm_rss_bytes).sum();
    let infra_rss: f64 = infra.iter().copied().map(vm_rss_bytes).sum();
    let conmon_pss: f64 = conmons.iter().copied().map(pss_bytes).sum();
    let infra_pss: f64 = infra.iter().copied().map(pss_bytes).sum();
    r.value("podman.conmon.pss", conmon_pss);
    r.value("podman.infra.pss", infra_pss);
    r.value("podman.overhead.pss", conmon_pss + infra_pss);
    r.value("podman.conmon.rss", conmon_rss);
    r.value("podman.conmon.count", conmons.len() as f64);
    r.value("podman.infra.rss", infra_rss);
    r.value("podman.overhead.rss", conmon_rss + infra_rss);
    // Every cgroup holding a conmon, the infra or a container process.
    let sleeps = all.iter().copied().filter(|&p| comm(p) == "sleep");
    let mut cgroups: Vec<String> = conmons
        .iter()
        .copied()
        .chain(infra.iter().copied())
        .chain(sleeps)
        .filter_map(cgroup_of)
        .collect();
    cgroups.sort();
    cgroups.dedup();
    // conmon stays in the caller's cgroup (here podctl-bench.service): only
    // the pod's own cgroups under machine.slice are summed.
    cgroups.retain(|c| c.starts_with("/machine.slice/"));
    let total: f64 = cgroups.iter().map(|c| memory_current(c)).sum();
    r.value("podman.cgroups", total);
    let mut by: BTreeMap<String, f64> = BTreeMap::new();
    for c in &cgroups {
        by.insert(c.clone(), memory_current(c));
    }
    say(&format!("podman cgroups: {by:?}"));
    Ok(())
}
