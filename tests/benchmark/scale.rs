//! Scale: 100 bridge pods (the default network) applied one after another,
//! `podctl ps` with all running, memory and PSS per pod, then down.

use super::{
    Guest, PodProcs, Podman, Results, mem_available, memory_current, podctl_up, pss_bytes, save,
    say, scale_pods, timed,
};
use std::process::{Command, Stdio};
use std::thread::sleep;
use std::time::Duration;

/// Pods taken down concurrently (untimed) between the timed downs of the
/// first and the last ten: 100 timed bridge downs cost ~7 min under TCG.
const DOWN_BATCH: usize = 4;

pub(super) fn scale(g: &Guest, r: &mut Results) -> Result<(), String> {
    let n = scale_pods();
    sleep(Duration::from_secs(2));
    let before = mem_available();
    let mut applies = Vec::new();
    for i in 1..=n {
        let t = podctl_up(&format!("s{i:02}"))?;
        applies.push(t);
        r.push("scale.apply", t);
        if i <= 10 {
            r.push("scale.apply.first10", t);
        } else if i > n - 10 {
            r.push("scale.apply.last10", t);
        }
        if i % 10 == 0 {
            // A cut boot keeps what came before.
            save(r);
        }
        say(&format!("scale: pod {i}/{n} applied in {t:.0} ms"));
    }
    sleep(Duration::from_secs(2));
    r.value("scale.memavailable_drop", before - mem_available());
    let slices: f64 = (1..=n)
        .map(|i| memory_current(&format!("/pod.slice/pod-s{i:02}.slice")))
        .sum();
    r.value("scale.slices", slices);
    let sup: f64 = (1..=n)
        .map(|i| {
            memory_current(&format!(
                "/system.slice/system-pod.slice/pod@s{i:02}.service"
            ))
        })
        .sum();
    r.value("scale.supervisors", sup);
    // PSS with 100 pods: what one more pod costs once the binaries' pages
    // are shared.
    let mut pss = [0.0; 4];
    let mut counts = [0usize; 4];
    for i in 1..=n {
        let p = PodProcs::of(&format!("s{i:02}"));
        for (k, v) in p.sum(pss_bytes).into_iter().enumerate() {
            pss[k] += v;
        }
        for (k, v) in [&p.supervisor, &p.holder, &p.relays, &p.inits]
            .into_iter()
            .enumerate()
        {
            counts[k] += v.len();
        }
    }
    let per = |v: f64| v / n as f64;
    r.value("scale.pss.supervisor", per(pss[0]));
    r.value("scale.pss.holder", per(pss[1]));
    r.value("scale.pss.relays", per(pss[2]));
    r.value("scale.pss.inits", per(pss[3]));
    r.value("scale.pss.overhead", per(pss[0] + pss[1] + pss[2]));
    say(&format!(
        "scale: {counts:?} supervisor/holder/relay/init processes, PSS per pod {:?}",
        pss.map(per)
    ));
    let running =
        g.ok("systemctl list-units --plain --no-legend --state=running 'pod@*' | wc -l")?;
    say(&format!("scale: {running} pod services running"));
    for _ in 0..10 {
        let (t, out) = timed(&["podctl", "ps"], Duration::from_secs(60))?;
        let rows = out.lines().count();
        if rows < 1 + 3 * n {
            return Err(format!("podctl ps printed {rows} lines with {n} pods"));
        }
        r.push("scale.ps", t);
    }
    save(r);
    let down = |i: usize| {
        timed(
            &["podctl", "down", &format!("s{i:02}")],
            Duration::from_secs(120),
        )
    };
    for i in 1..=10 {
        r.push("scale.down", down(i)?.0);
    }
    let middle: Vec<usize> = (11..=n - 10).collect();
    for batch in middle.chunks(DOWN_BATCH) {
        std::thread::scope(|s| {
            let handles: Vec<_> = batch
                .iter()
                .map(|&i| s.spawn(move || down_untimed(i)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|_| Err("panicked".into())))
                .collect::<Result<Vec<()>, String>>()
        })?;
    }
    for i in n - 9..=n {
        r.push("scale.down", down(i)?.0);
    }
    Podman::gone()?;
    Ok(())
}

/// `podctl down sNN`, output to files of its own (concurrent downs).
fn down_untimed(i: usize) -> Result<(), String> {
    let name = format!("s{i:02}");
    let status = Command::new("podctl")
        .args(["down", &name])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| format!("podctl down {name}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("podctl down {name}: {status}"))
    }
}
