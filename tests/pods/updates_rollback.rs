//! Image updates that do not hold, in the container tier: an update that
//! never becomes ready, or crash-loops, is rolled back by `podctl
//! auto-update` itself (exit 1, a `rollback` event, the digest not tried
//! again); `podctl rollback --to N` runs revision N's digest exactly, kept
//! by the store's garbage collection and pulled again by digest when it
//! is gone; a registry that is down changes nothing. Helpers in `updates`.

use super::common::{status, wait_pid};
use super::image_rig::{self as ib, NETNS, PLAIN};
use super::updates::{
    DOWN_PORT, Kind, apply, auto_update, expect, history, ok, pinned, pod_file, push_version,
    reference, revision_files, running_digest, setup, version_of, wait_ready,
};
use crate::rig::{Guest, TrialFn, wait_for};
use std::time::Duration;

pub const TRIALS: &[(&str, TrialFn)] = &[
    (
        "updates::an_update_never_ready_is_rolled_back_and_not_retried",
        an_update_never_ready_is_rolled_back_and_not_retried,
    ),
    (
        "updates::a_crash_looping_update_is_rolled_back",
        a_crash_looping_update_is_rolled_back,
    ),
    (
        "updates::rollback_runs_an_old_digest_exactly",
        rollback_runs_an_old_digest_exactly,
    ),
    (
        "updates::a_registry_that_is_down_changes_nothing",
        a_registry_that_is_down_changes_nothing,
    ),
];

/// The system store (a tmpfs `image_pods` mounts).
const STORE: &str = "/var/lib/podctl/storage";

/// v1 applied, v2 by `apply --pull`, then v3 (never ready) by
/// auto-update: back at v2 by itself; v3 is not tried again.
fn an_update_never_ready_is_rolled_back_and_not_retried(g: &Guest) -> Result<(), String> {
    setup(g)?;
    let (pod, image) = ("updready", reference("updready"));
    push_version(g, pod, "v1", Kind::Good)?;
    apply(g, pod, &pod_file(pod, &image, (2731, 2732), ""))?;
    let side = wait_pid(g, "/bin/sleep 2732")?;
    wait_ready(g, pod)?;
    let v2 = push_version(g, pod, "v2", Kind::Good)?;
    let out = ok(g, &format!("apply --pull /root/pods/{pod}.toml"))?;
    expect(
        out.contains("app: restarted") && out.contains("side: unchanged"),
        || format!("apply --pull with the tag at v2: {out}"),
    )?;
    wait_ready(g, pod)?;
    let app = wait_pid(g, "sleep 2731")?;
    let v3 = push_version(g, pod, "v3", Kind::Unready)?;
    let out = auto_update(g, pod);
    let want = "rolled back to revision 2: app did not become ready within 3s";
    expect(out.status == 1 && out.stdout.contains(want), || {
        format!(
            "auto-update to v3 (exit {}), want {want:?}:\n{}{}",
            out.status, out.stdout, out.stderr
        )
    })?;
    let running = running_digest(g, pod, &image)?;
    let now = wait_pid(g, "sleep 2731")?;
    let seen = version_of(g, now)?;
    expect(running == v2 && seen == "v2" && now != app, || {
        format!(
            "after the rollback the pod runs {running} ({seen}, pid {app} -> {now}); v2 is {v2}, v3 {v3}"
        )
    })?;
    wait_ready(g, pod)?;
    let h = history(g, pod)?;
    let newest = h.last().cloned().unwrap_or_default();
    expect(
        h.len() == 4
            && pinned(&h[2], &image) == v3
            && h[2]["cause"]["kind"] == "auto-update"
            && h[2]["pending"] == false
            && newest["cause"]["kind"] == "rollback"
            && newest["cause"]["to"] == 2
            && newest["cause"]["why"]
                .as_str()
                .is_some_and(|w| w.contains("did not become ready"))
            && newest["running"] == true
            && pinned(&newest, &image) == v2,
        || format!("history after the rollback (v2 {v2}, v3 {v3}): {h:#?}"),
    )?;
    // The table: revision 4 runs, a rollback to 2, its reason under it.
    let table = g.ok(&format!("podctl history {pod}"))?;
    let row = |n: &str| -> Vec<String> {
        let line = table.lines().find(|l| l.starts_with(&format!("{n} ")));
        line.unwrap_or_default()
            .split_whitespace()
            .map(String::from)
            .collect()
    };
    expect(
        row("4")
            .get(1..4)
            .is_some_and(|f| f[0] == "running" && f[2] == "rollback:2")
            && row("3").iter().any(|c| c == "auto-update")
            && table.contains("(app did not become ready within 3s)"),
        || format!("podctl history {pod}:\n{table}"),
    )?;
    // The journal says so, as an event of the pod's app.
    wait_for(Duration::from_secs(10), "a rollback event", || {
        let ev = g.ok(&format!("podctl events {pod} -o json"))?;
        Ok(ev.lines().any(|l| {
            l.contains("\"event\":\"rollback\"")
                && l.contains("\"container\":\"app\"")
                && l.contains(&v3)
        }))
    })
    .map_err(|e| format!("{e}:\n{}", g.sh(&format!("podctl events {pod}")).stdout))?;
    // v3 is still the tag's digest: skipped, nothing restarts.
    let out = auto_update(g, pod);
    expect(
        out.success()
            && out
                .stdout
                .contains("skipped (an update to it was rolled back)"),
        || {
            format!(
                "a second auto-update (exit {}):\n{}{}",
                out.status, out.stdout, out.stderr
            )
        },
    )?;
    let (app_again, side_again) = (wait_pid(g, "sleep 2731")?, wait_pid(g, "/bin/sleep 2732")?);
    expect(app_again == now && side_again == side, || {
        format!(
            "the skipped update restarted something: app {now} -> {app_again}, side {side} -> {side_again}"
        )
    })?;
    expect(revision_files(g, pod)? == 4, || {
        "a skipped update stored a revision".into()
    })?;
    g.ok(&format!("podctl down --purge {pod}")).map(|_| ())
}

/// v4 exits 1 a second after it starts (restart = "always"): rolled back
/// to v1, which runs and stays running.
fn a_crash_looping_update_is_rolled_back(g: &Guest) -> Result<(), String> {
    setup(g)?;
    let (pod, image) = ("updcrash", reference("updcrash"));
    let v1 = push_version(g, pod, "v1", Kind::Good)?;
    apply(g, pod, &pod_file(pod, &image, (2741, 2742), ""))?;
    let side = wait_pid(g, "/bin/sleep 2742")?;
    wait_ready(g, pod)?;
    let v4 = push_version(g, pod, "v4", Kind::Crash)?;
    let out = auto_update(g, pod);
    expect(
        out.status == 1
            && out.stdout.contains("rolled back to revision 1: app ")
            && out.stdout.contains("exited 1"),
        || {
            format!(
                "auto-update to a crashing v4 (exit {}):\n{}{}",
                out.status, out.stdout, out.stderr
            )
        },
    )?;
    let app = wait_pid(g, "sleep 2741")?;
    wait_ready(g, pod)?;
    let running = running_digest(g, pod, &image)?;
    expect(running == v1 && version_of(g, app)? == "v1", || {
        format!("after the rollback the pod runs {running}; v1 is {v1}, v4 {v4}")
    })?;
    let h = history(g, pod)?;
    let newest = h.last().cloned().unwrap_or_default();
    expect(
        h.len() == 3
            && pinned(&h[1], &image) == v4
            && newest["cause"]["kind"] == "rollback"
            && newest["cause"]["to"] == 1
            && newest["running"] == true,
        || format!("history after the crash (v1 {v1}, v4 {v4}): {h:#?}"),
    )?;
    // v1 keeps running: no exit, no restart, side untouched.
    let before = status(g, pod)?;
    std::thread::sleep(Duration::from_secs(2));
    let after = status(g, pod)?;
    let restarts = |st: &serde_json::Value| super::common::container_field(st, "app", "restarts");
    expect(
        restarts(&before) == restarts(&after) && wait_pid(g, "sleep 2741")? == app,
        || format!("v1 does not stay up after the rollback: {before} -> {after}"),
    )?;
    expect(wait_pid(g, "/bin/sleep 2742")? == side, || {
        "side restarted".into()
    })?;
    g.ok(&format!("podctl down --purge {pod}")).map(|_| ())
}

/// v1, then v2 by auto-update; a garbage collection keeps v1's manifest
/// (revision 1 pins it); removed by hand, `rollback --to 1` pulls it again
/// by digest and runs it; `rollback` alone goes back to v2.
fn rollback_runs_an_old_digest_exactly(g: &Guest) -> Result<(), String> {
    setup(g)?;
    let (pod, image) = ("updback", reference("updback"));
    let v1 = push_version(g, pod, "v1", Kind::Good)?;
    apply(g, pod, &pod_file(pod, &image, (2751, 2752), ""))?;
    wait_ready(g, pod)?;
    let v2 = push_version(g, pod, "v2", Kind::Good)?;
    let out = auto_update(g, pod);
    expect(out.success(), || {
        format!("auto-update to v2: {}{}", out.stdout, out.stderr)
    })?;
    let blob = format!("{STORE}/blobs/sha256/{}", v1.trim_start_matches("sha256:"));
    // rmi of an image nobody uses collects the system store's garbage (a
    // prune would untag what the other trials are about to run).
    let other = format!("{PLAIN}/bench/upd-updback-other:1");
    g.ok(&format!(
        "ip netns exec {NETNS} skopeo copy -q --src-tls-verify=false --dest-tls-verify=false \
         docker://{PLAIN}/bench/busybox:1 docker://{other}"
    ))?;
    ok(g, &format!("pull {other}"))?;
    let gc = ok(g, &format!("rmi {other}"))?;
    expect(gc.contains("removed "), || format!("rmi: {gc}"))?;
    expect(g.sh(&format!("test -f {blob}")).success(), || {
        format!("the collection removed v1's manifest {v1}, which revision 1 pins")
    })?;
    g.ok(&format!("rm {blob}"))?;
    let out = ok(g, &format!("rollback {pod} --to 1"))?;
    expect(
        out.contains("updback: at revision 1 again (now revision 3)"),
        || format!("rollback --to 1: {out}"),
    )?;
    expect(g.sh(&format!("test -f {blob}")).success(), || {
        format!("rollback ran v1 without pulling its manifest {v1} again")
    })?;
    let app = wait_pid(g, "sleep 2751")?;
    let running = running_digest(g, pod, &image)?;
    expect(running == v1 && version_of(g, app)? == "v1", || {
        format!("after rollback --to 1 the pod runs {running}; v1 is {v1}")
    })?;
    let h = history(g, pod)?;
    expect(
        h.len() == 3
            && h[2]["cause"]["kind"] == "rollback"
            && h[2]["cause"]["to"] == 1
            && h[2]["running"] == true
            && pinned(&h[2], &image) == v1,
        || format!("history after rollback --to 1: {h:#?}"),
    )?;
    ok(g, &format!("rollback {pod}"))?;
    let app = wait_pid(g, "sleep 2751")?;
    let running = running_digest(g, pod, &image)?;
    expect(running == v2 && version_of(g, app)? == "v2", || {
        format!("after rollback the pod runs {running}; v2 is {v2}")
    })?;
    g.ok(&format!("podctl down --purge {pod}")).map(|_| ())
}

/// A registry of this trial's own on [`DOWN_PORT`], started or stopped.
fn registry(g: &Guest, up: bool) -> Result<(), String> {
    let unit = "podctl-registry-updates.service";
    if !up {
        return g.ok(&format!("systemctl stop {unit}")).map(|_| ());
    }
    g.ok(&format!(
        "set -e; c=/etc/podctl-bench/registry-updates.yml
         printf 'version: 0.1\\nlog: {{level: warn}}\\nstorage: {{filesystem: {{rootdirectory: /var/lib/podctl-reg/updates}}}}\\nhttp:\\n  addr: 127.0.0.1:{DOWN_PORT}\\n' > $c
         systemctl reset-failed {unit} 2>/dev/null || true
         systemd-run --unit={unit} --collect -p NetworkNamespacePath=/run/netns/{NETNS} \
           /usr/bin/docker-registry serve $c >/dev/null
         for _ in $(seq 100); do
           ip netns exec {NETNS} bash -c 'exec 3<>/dev/tcp/127.0.0.1/{DOWN_PORT}' 2>/dev/null && exit 0
           sleep 0.1
         done
         exit 1"
    ))
    .map(|_| ())
}

/// The pod's tag moved, its registry stopped: auto-update names the
/// image and the registry, restarts nothing and stores nothing; with the
/// registry back, the same update goes through.
fn a_registry_that_is_down_changes_nothing(g: &Guest) -> Result<(), String> {
    setup(g)?;
    let pod = "upddown";
    let image = format!("localhost:{DOWN_PORT}/bench/upd-{pod}:1");
    let copy = |g: &Guest| {
        g.ok(&format!(
            "ip netns exec {NETNS} skopeo copy -q --src-tls-verify=false --dest-tls-verify=false \
             docker://{} docker://{image}",
            reference(pod)
        ))
    };
    registry(g, true)?;
    push_version(g, pod, "v1", Kind::Good)?;
    copy(g)?;
    apply(g, pod, &pod_file(pod, &image, (2761, 2762), ""))?;
    let (app, side) = (wait_pid(g, "sleep 2761")?, wait_pid(g, "/bin/sleep 2762")?);
    wait_ready(g, pod)?;
    push_version(g, pod, "v2", Kind::Good)?;
    copy(g)?;
    let v2 = ib::registry_digest(g, &image)?;
    registry(g, false)?;
    let result = (|| {
        let before = status(g, pod)?;
        let out = auto_update(g, pod);
        expect(
            out.status == 1
                && out.stdout.contains(&format!("{pod}: error: "))
                && out.stdout.contains(&image)
                && out.stdout.contains("(nothing was changed)"),
            || {
                format!(
                    "auto-update with the registry down (exit {}):\n{}{}",
                    out.status, out.stdout, out.stderr
                )
            },
        )?;
        let now = (wait_pid(g, "sleep 2761")?, wait_pid(g, "/bin/sleep 2762")?);
        expect(now == (app, side), || {
            format!("pids went from {:?} to {now:?}", (app, side))
        })?;
        let after = status(g, pod)?;
        let restarts =
            |st: &serde_json::Value| super::common::container_field(st, "app", "restarts");
        expect(restarts(&before) == restarts(&after), || {
            format!("app restarted: {before} -> {after}")
        })?;
        expect(revision_files(g, pod)? == 1, || {
            "a failed auto-update stored a revision".into()
        })
    })();
    registry(g, true)?;
    result?;
    let out = auto_update(g, pod);
    expect(
        out.success() && out.stdout.contains("updated (revision 2)"),
        || {
            format!(
                "auto-update with the registry back: {}{}",
                out.stdout, out.stderr
            )
        },
    )?;
    expect(running_digest(g, pod, &image)? == v2, || {
        "the pod does not run v2".into()
    })?;
    g.ok(&format!("podctl down --purge {pod}"))?;
    registry(g, false)
}
