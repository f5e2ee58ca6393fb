//! `podctl auto-update` killed with SIGKILL at random moments (its pull,
//! its apply, the gate, a rollback): the pod always runs a revision its
//! history holds, and the next `auto-update` converges on the newest
//! revision, which the supervisor runs; an update a killed run had found
//! bad is rolled back, not tried again. Helpers in `updates`.

use super::common::wait_pid;
use super::updates::{
    Kind, REVISIONS, apply, auto_update, expect, history, pinned, pod_file, podctl, push_version,
    reference, running_digest, setup, version_of, wait_ready,
};
use crate::rig::{Guest, TrialFn, wait_for};
use std::collections::BTreeMap;
use std::time::Duration;

pub const TRIALS: &[(&str, TrialFn)] = &[
    (
        "updates::auto_update_killed_at_random_moments_converges",
        auto_update_killed_at_random_moments_converges,
    ),
    (
        "updates::an_update_found_bad_is_not_tried_again_after_a_kill",
        an_update_found_bad_is_not_tried_again_after_a_kill,
    ),
];

const ROUNDS: u64 = 5;
/// A kill lands at a random moment of its round's slot: slots 0, 1 and 2
/// of 1.1 s for the versions that hold (the pull and the apply, then the
/// gate, whose `update_deadline` is 3s: a whole run takes about 3.5 s),
/// 0 and 1 of 0.8 s for the ones that crash (their rollback comes about a
/// second after the update: a whole run takes about 1.7 s).
fn delay(round: u64, kind: Kind, rng: &mut Rng) -> u64 {
    let slot = if kind == Kind::Crash { 800 } else { 1100 };
    (round - 1) / 2 * slot + rng.next(slot)
}

/// xorshift64: delays that differ from run to run, the seed printed.
struct Rng(u64);

impl Rng {
    fn next(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % below
    }
}

fn auto_update_killed_at_random_moments_converges(g: &Guest) -> Result<(), String> {
    setup(g)?;
    let (pod, image) = ("updkill", reference("updkill"));
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1)
        | 1;
    let mut rng = Rng(seed);
    // Digest -> version name, to read back what runs.
    let mut versions = BTreeMap::new();
    versions.insert(push_version(g, pod, "k0", Kind::Good)?, "k0".to_string());
    apply(g, pod, &pod_file(pod, &image, (2771, 2772), ""))?;
    wait_ready(g, pod)?;
    let mut log = vec![format!("seed {seed}")];
    let result = (|| {
        for round in 1..=ROUNDS {
            // Every other version crash-loops: its rollback is killed too.
            let kind = if round % 2 == 0 {
                Kind::Crash
            } else {
                Kind::Good
            };
            let name = format!("k{round}");
            versions.insert(push_version(g, pod, &name, kind)?, name.clone());
            let delay = delay(round, kind, &mut rng);
            let out = g.sh(&format!(
                "{} >/tmp/updkill-{round}.log 2>&1 & p=$!; sleep {}.{:03}; \
                 kill -9 $p 2>/dev/null && echo killed; wait $p; echo exit $?; cat /tmp/updkill-{round}.log",
                podctl(&format!("auto-update {pod}")),
                delay / 1000,
                delay % 1000
            ));
            log.push(format!(
                "round {round} ({name}, {kind:?}): killed after {delay} ms: {}",
                out.stdout.trim()
            ));
            killed_runs_a_revision(g, pod, &image)
                .map_err(|e| format!("round {round}, after the kill: {e}"))?;
            converges(g, pod, &image, &versions, &mut log)
                .map_err(|e| format!("round {round}, the next auto-update: {e}"))?;
        }
        Ok(())
    })();
    let down = g.ok(&format!("podctl down --purge {pod}"));
    result.map_err(|e: String| format!("{e}\n{}", log.join("\n")))?;
    down.map(|_| ())
}

/// Right after a kill: the pod's service is up and its supervisor runs a
/// digest some revision pins (the revision is stored before the
/// supervisor is told).
fn killed_runs_a_revision(g: &Guest, pod: &str, image: &str) -> Result<(), String> {
    let active = g.ok(&format!("systemctl is-active pod@{pod}.service || true"))?;
    expect(active == "active", || {
        format!("pod@{pod}.service is {active}")
    })?;
    let mut running = String::new();
    wait_for(Duration::from_secs(10), "the supervisor's state", || {
        running = running_digest(g, pod, image).unwrap_or_default();
        Ok(!running.is_empty())
    })?;
    let h = history(g, pod)?;
    expect(h.iter().any(|r| pinned(r, image) == running), || {
        format!("the pod runs {running}, which no revision pins: {h:#?}")
    })
}

/// `auto-update` to its end: exit 0 or 1; then the newest revision is
/// proven and running, the app ready on its digest, and one more
/// `auto-update` finds nothing to do (exit 0, nothing restarted).
fn converges(
    g: &Guest,
    pod: &str,
    image: &str,
    versions: &BTreeMap<String, String>,
    log: &mut Vec<String>,
) -> Result<(), String> {
    let out = auto_update(g, pod);
    log.push(format!(
        "  then (exit {}): {}{}",
        out.status,
        out.stdout.trim(),
        out.stderr.trim()
    ));
    expect(out.status == 0 || out.status == 1, || {
        format!("exit {}", out.status)
    })?;
    wait_ready(g, pod)?;
    let h = history(g, pod)?;
    let newest = h.last().cloned().unwrap_or_default();
    expect(
        newest["running"] == true && newest["pending"] == false,
        || format!("the newest revision is not proven and running: {h:#?}"),
    )?;
    let (want, running) = (
        pinned(&newest, image).to_string(),
        running_digest(g, pod, image)?,
    );
    let app = wait_pid(g, "sleep 2771")?;
    let seen = version_of(g, app)?;
    expect(
        running == want && versions.get(&want) == Some(&seen),
        || {
            format!(
                "the newest revision pins {want} ({:?}), the pod runs {running}, the app's root is {seen}",
                versions.get(&want)
            )
        },
    )?;
    let again = auto_update(g, pod);
    log.push(format!(
        "  again (exit {}): {}",
        again.status,
        again.stdout.trim()
    ));
    expect(
        again.success()
            && (again.stdout.contains(": current") || again.stdout.contains(": skipped")),
        || {
            format!(
                "one more auto-update did not find the pod current (exit {}): {}{}",
                again.status, again.stdout, again.stderr
            )
        },
    )?;
    let still = wait_pid(g, "sleep 2771")?;
    expect(still == app, || {
        format!("one more auto-update restarted app: {app} -> {still}")
    })
}

/// A run killed after it marked its update bad and before its rollback
/// (the pending revision still the newest) leaves what the next run must
/// roll back without trying the digest again: here the update itself
/// would hold, only the mark says it did not.
fn an_update_found_bad_is_not_tried_again_after_a_kill(g: &Guest) -> Result<(), String> {
    setup(g)?;
    let (pod, image) = ("updjudge", reference("updjudge"));
    let v1 = push_version(g, pod, "v1", Kind::Good)?;
    apply(g, pod, &pod_file(pod, &image, (2791, 2792), ""))?;
    wait_ready(g, pod)?;
    let v2 = push_version(g, pod, "v2", Kind::Good)?;
    // Killed in its gate: revision 2, pending, is stored.
    let dir = format!("{REVISIONS}/{pod}");
    g.ok(&format!(
        "{} >/dev/null 2>&1 & p=$!; \
         for _ in $(seq 100); do [ -e {dir}/2.json ] && break; sleep 0.1; done; \
         sleep 0.5; kill -9 $p; wait $p; true",
        podctl(&format!("auto-update {pod}"))
    ))?;
    let h = history(g, pod)?;
    expect(h.len() == 2 && h[1]["pending"] == true, || {
        format!("the killed run left no pending revision: {h:#?}")
    })?;
    // What it had written next, had its gate failed.
    g.ok(&format!(
        "echo '{{\"{image}\": [\"{v2}\"]}}' > {dir}/bad.json"
    ))?;
    let out = auto_update(g, pod);
    expect(
        out.status == 1 && out.stdout.contains("rolled back to revision 1"),
        || {
            format!(
                "auto-update after the kill (exit {}):\n{}{}",
                out.status, out.stdout, out.stderr
            )
        },
    )?;
    let app = wait_pid(g, "sleep 2791")?;
    let running = running_digest(g, pod, &image)?;
    expect(running == v1 && version_of(g, app)? == "v1", || {
        format!("the pod runs {running}; v1 is {v1}, v2 (marked bad) {v2}")
    })?;
    let h = history(g, pod)?;
    let newest = h.last().cloned().unwrap_or_default();
    expect(
        newest["cause"]["kind"] == "rollback"
            && newest["cause"]["to"] == 1
            && newest["running"] == true,
        || format!("history: {h:#?}"),
    )?;
    g.ok(&format!("podctl down --purge {pod}")).map(|_| ())
}
