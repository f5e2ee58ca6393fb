//! Image updates against real systemd, crun and the bench's registry:
//! `podctl auto-update` moves a container to its tag's new digest and
//! restarts it alone; `history` shows each revision with the digests it
//! pins and the one the supervisor runs; `pull` decides what `apply` does
//! with a moved tag (`missing` keeps the digest, `always` and `--pull`
//! take the new one, `never` refuses an image not stored and changes
//! nothing). Rollbacks (an update that is never ready or crash-loops,
//! `podctl rollback --to N`, a registry that is down) are in
//! `updates_rollback`; `auto-update` killed at random moments in
//! `updates_kill`.
//!
//! Each trial pushes images of its own (`bench/upd-POD`, tag `1`) to the
//! plain registry: the busybox base of `image_pods` and a layer with
//! `/start` (what the version does), `/version` and, in a version that
//! becomes ready, `/ready` (the app's readiness probe reads it).
//! `auto-update` is always given the trial's pod: without names it would
//! update the other trials' pods too.

use super::common::{wait_pid, write_pod};
use super::image_pods;
use super::image_rig::{self as ib, NETNS, PLAIN};
use crate::rig::{Guest, Output, TrialFn, wait_for};
use serde_json::Value;
use std::time::Duration;

pub const TRIALS: &[(&str, TrialFn)] = &[
    (
        "updates::auto_update_restarts_only_the_updated_container",
        auto_update_restarts_only_the_updated_container,
    ),
    (
        "updates::auto_update_leaves_a_stopped_pod_stopped",
        auto_update_leaves_a_stopped_pod_stopped,
    ),
];

/// The registries.conf of these trials: the bench's plain registry and
/// the one `updates_rollback` starts and stops (both plain HTTP).
pub const CONF: &str = "/etc/podctl-bench/registries-updates.conf";
/// The port of that registry of its own.
pub const DOWN_PORT: u16 = 5003;
/// The lower layer of every version: busybox, as `image_pods` builds it.
const BASE: &str = "/root/img-src/pods/base";
/// A version's image config: `/bin/sh /start ARG` (ARG from the pod's args).
const CONFIG: &str = r#"{"Entrypoint":["/bin/sh","/start"],"Cmd":["1"],"Env":["PATH=/bin"]}"#;
pub const REVISIONS: &str = "/var/lib/podctl/revisions";

/// What a version of an app image does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Runs `sleep ARG`; ready (it has /ready).
    Good,
    /// Runs `sleep ARG`; never ready (no /ready).
    Unready,
    /// Exits 1 after a second; ready while it lives.
    Crash,
}

pub fn expect(cond: bool, msg: impl FnOnce() -> String) -> Result<(), String> {
    if cond { Ok(()) } else { Err(msg()) }
}

/// `image_pods`' registries, tmpfs store and images, and [`CONF`].
pub fn setup(g: &Guest) -> Result<(), String> {
    image_pods::setup(g)?;
    g.ok(&format!(
        "t=$(mktemp -p /etc/podctl-bench) && cat > $t <<'EOF'\n\
         unqualified-search-registries = [\"{PLAIN}\"]\n\
         [[registry]]\nlocation = \"{PLAIN}\"\ninsecure = true\n\
         [[registry]]\nlocation = \"localhost:{DOWN_PORT}\"\ninsecure = true\nEOF\n\
         mv $t {CONF}"
    ))
    .map(|_| ())
}

/// `podctl ARGS` where the registries are reachable, with [`CONF`].
pub fn podctl(args: &str) -> String {
    format!("ip netns exec {NETNS} env CONTAINERS_REGISTRIES_CONF={CONF} podctl {args}")
}

/// `podctl ARGS` that must succeed; its stdout.
pub fn ok(g: &Guest, args: &str) -> Result<String, String> {
    g.ok(&podctl(args))
}

/// `podctl auto-update POD` (only that pod), whatever its exit status.
pub fn auto_update(g: &Guest, pod: &str) -> Output {
    g.sh(&podctl(&format!("auto-update {pod}")))
}

/// `PLAIN/bench/upd-POD:1`: the reference of `pod`'s app image.
pub fn reference(pod: &str) -> String {
    format!("{PLAIN}/bench/upd-{pod}:1")
}

/// Builds `version` of `pod`'s app image as `kind` says, pushes it under
/// [`reference`] and returns its digest as the registry serves it.
pub fn push_version(g: &Guest, pod: &str, version: &str, kind: Kind) -> Result<String, String> {
    let dir = format!("/root/img-src/upd/{pod}-{version}");
    let start = match kind {
        Kind::Good | Kind::Unready => "exec sleep \"$1\"",
        Kind::Crash => "sleep 1; exit 1",
    };
    let ready = if kind == Kind::Unready {
        ""
    } else {
        "echo ok > $d/ready"
    };
    let prepare = format!(
        "d={dir}; rm -rf $d; mkdir -p $d; printf '%s\\n' '{start}' > $d/start; \
         echo {version} > $d/version; {ready}"
    );
    let repo = format!("bench/upd-{pod}");
    ib::push_image_with(g, &prepare, &[BASE, &dir], &repo, "1", Some(CONFIG))?;
    ib::registry_digest(g, &reference(pod))
}

/// A pod of two containers: `app` (the pod's own image, auto-updated,
/// ready once /ready is there, `sleep APP`) and `side` (`image_pods`' APP,
/// `sleep SIDE`); `extra` goes into `app`'s table.
pub fn pod_file(pod: &str, image: &str, (app, side): (u32, u32), extra: &str) -> String {
    format!(
        "name = \"{pod}\"\nnetwork = \"none\"\nupdate_deadline = \"3s\"\n\
         [containers.app]\nimage = \"{image}\"\nauto_update = \"registry\"\nrestart = \"always\"\n\
         args = [\"{app}\"]\nready = {{ exec = [\"/bin/cat\", \"/ready\"], interval = \"300ms\" }}\n{extra}\
         [containers.side]\nimage = \"{}\"\ncommand = [\"/bin/sleep\", \"{side}\"]\n",
        image_pods::APP
    )
}

/// Writes and applies `pod`'s file; returns apply's output.
pub fn apply(g: &Guest, pod: &str, toml: &str) -> Result<String, String> {
    let _ = g.sh(&format!("podctl down --purge {pod}"));
    let path = write_pod(g, pod, toml)?;
    ok(g, &format!("apply {path}"))
}

/// `podctl history POD -o json`.
pub fn history(g: &Guest, pod: &str) -> Result<Vec<Value>, String> {
    let out = g.ok(&format!("podctl history {pod} -o json"))?;
    serde_json::from_str(&out).map_err(|e| format!("podctl history {pod} -o json: {e}: {out}"))
}

/// A revision's digest of `reference`.
pub fn pinned<'a>(revision: &'a Value, reference: &str) -> &'a str {
    revision["images"][reference]["digest"]
        .as_str()
        .unwrap_or_default()
}

/// The digest of `reference` the pod's supervisor runs (its state file).
pub fn running_digest(g: &Guest, pod: &str, reference: &str) -> Result<String, String> {
    let text = g.ok(&format!("cat /run/podctl/{pod}.json"))?;
    let st: Value = serde_json::from_str(&text).map_err(|e| format!("{pod}'s state: {e}"))?;
    st["facts"]["images"][reference]["digest"]
        .as_str()
        .map(String::from)
        .ok_or_else(|| format!("{pod}'s state has no digest of {reference}: {text}"))
}

/// The `/version` file of the root process `pid` runs on.
pub fn version_of(g: &Guest, pid: u32) -> Result<String, String> {
    g.ok(&format!("cat /proc/{pid}/root/version"))
}

/// Waits until `app` of `pod` is ready in `podctl status` (its probe passed).
pub fn wait_ready(g: &Guest, pod: &str) -> Result<(), String> {
    wait_for(
        Duration::from_secs(20),
        &format!("{pod}'s app ready"),
        || {
            let st = super::common::status(g, pod)?;
            Ok(super::common::container_field(&st, "app", "ready") == Value::Bool(true))
        },
    )
}

/// How many revisions `pod` has on disk.
pub fn revision_files(g: &Guest, pod: &str) -> Result<usize, String> {
    let out = g.ok(&format!(
        "ls {REVISIONS}/{pod} 2>/dev/null | grep -c '^[0-9]*\\.json$' || true"
    ))?;
    out.trim().parse().map_err(|e| format!("{out:?}: {e}"))
}

fn auto_update_restarts_only_the_updated_container(g: &Guest) -> Result<(), String> {
    setup(g)?;
    let (pod, image) = ("updmove", reference("updmove"));
    let v1 = push_version(g, pod, "v1", Kind::Good)?;
    let path = format!("/root/pods/{pod}.toml");
    apply(g, pod, &pod_file(pod, &image, (2701, 2702), ""))?;
    let (app, side) = (wait_pid(g, "sleep 2701")?, wait_pid(g, "/bin/sleep 2702")?);
    wait_ready(g, pod)?;
    let h = history(g, pod)?;
    expect(
        h.len() == 1
            && h[0]["cause"]["kind"] == "apply"
            && h[0]["running"] == true
            && h[0]["pending"] == false
            && h[0]["images"][&image]["name"] == image.as_str()
            && h[0]["created"]
                .as_str()
                .is_some_and(|c| c.len() == 27 && c.ends_with('Z'))
            && pinned(&h[0], &image) == v1,
        || format!("after the first apply, history is not one running revision of {v1}: {h:#?}"),
    )?;
    let v2 = push_version(g, pod, "v2", Kind::Good)?;
    expect(v2 != v1, || format!("v1 and v2 have one digest {v1}"))?;
    // pull = "missing": the tag moved, the pod keeps the digest it runs.
    let again = ok(g, &format!("apply {path}"))?;
    expect(again.contains("updmove: unchanged"), || {
        format!("apply of the same file after the tag moved: {again}")
    })?;
    expect(revision_files(g, pod)? == 1, || {
        "an apply that changed nothing stored a revision".into()
    })?;
    // Asked without pulling: the registry's new digest, nothing changed.
    let dry = g.sh(&podctl(&format!("auto-update --dry-run {pod}")));
    let short = v2.get(..19).unwrap_or(&v2);
    expect(
        dry.success() && dry.stdout.contains("would update") && dry.stdout.contains(short),
        || {
            format!(
                "auto-update --dry-run (exit {}):\n{}{}",
                dry.status, dry.stdout, dry.stderr
            )
        },
    )?;
    let plan = ok(g, &format!("apply --dry-run --pull {path}"))?;
    expect(plan.contains(&format!("apply would pull {v2}")), || {
        format!("apply --dry-run --pull does not name {v2}:\n{plan}")
    })?;
    expect(
        revision_files(g, pod)? == 1 && wait_pid(g, "sleep 2701")? == app,
        || "a dry run changed the pod".into(),
    )?;
    let out = auto_update(g, pod);
    expect(
        out.success()
            && out.stdout.contains("updmove: app ")
            && out.stdout.contains("updated (revision 2)"),
        || {
            format!(
                "auto-update (exit {}):\n{}{}",
                out.status, out.stdout, out.stderr
            )
        },
    )?;
    let now = wait_pid(g, "sleep 2701")?;
    expect(now != app, || format!("app was not restarted (pid {app})"))?;
    let side_now = wait_pid(g, "/bin/sleep 2702")?;
    expect(side_now == side, || {
        format!("side was restarted too: pid {side} -> {side_now}")
    })?;
    let (running, seen) = (running_digest(g, pod, &image)?, version_of(g, now)?);
    expect(running == v2 && seen == "v2", || {
        format!("the pod runs {running} ({seen}), the registry's tag is {v2} (v2)")
    })?;
    let h = history(g, pod)?;
    expect(
        h.len() == 2
            && h[1]["revision"] == 2
            && h[1]["cause"]["kind"] == "auto-update"
            && h[1]["running"] == true
            && h[1]["pending"] == false
            && h[0]["running"] == false
            && pinned(&h[1], &image) == v2
            && pinned(&h[0], &image) == v1,
        || format!("history after the update (v1 {v1}, v2 {v2}): {h:#?}"),
    )?;
    // apply of the same file keeps what the update moved to.
    let again = ok(g, &format!("apply {path}"))?;
    expect(
        again.contains("updmove: unchanged") && revision_files(g, pod)? == 2,
        || format!("apply of the same file after the update: {again}"),
    )?;
    // Nothing new: current, nothing restarted.
    let out = auto_update(g, pod);
    expect(
        out.success() && out.stdout.contains(&format!("updmove: {image}: current")),
        || format!("a second auto-update: {}{}", out.stdout, out.stderr),
    )?;
    let same = wait_pid(g, "sleep 2701")?;
    expect(same == now, || {
        format!("app restarted again: {now} -> {same}")
    })?;
    g.ok("podctl down --purge updmove")?;
    expect(revision_files(g, pod)? == 0, || {
        "down --purge left the pod's revisions".into()
    })
}

/// A pod stopped with `podctl down` (its file kept) is left stopped by
/// `auto-update`, whatever its tag names now.
fn auto_update_leaves_a_stopped_pod_stopped(g: &Guest) -> Result<(), String> {
    setup(g)?;
    let (pod, image) = ("updstop", reference("updstop"));
    push_version(g, pod, "v1", Kind::Good)?;
    apply(g, pod, &pod_file(pod, &image, (2781, 2782), ""))?;
    wait_ready(g, pod)?;
    g.ok(&format!("podctl down {pod}"))?;
    g.wait_property(
        &format!("pod@{pod}.service"),
        "ActiveState",
        "inactive",
        Duration::from_secs(20),
    )?;
    push_version(g, pod, "v2", Kind::Good)?;
    let out = auto_update(g, pod);
    let active = g.ok(&format!("systemctl is-active pod@{pod}.service || true"))?;
    let procs = g.ok("pgrep -xf 'sleep 2781' || true")?;
    let result = expect(active == "inactive" && procs.is_empty(), || {
        format!(
            "auto-update of a stopped pod (exit {}) left pod@{pod}.service {active}, app {procs:?}:\n{}{}",
            out.status, out.stdout, out.stderr
        )
    })
    .and_then(|()| {
        let said = out.stdout.contains(&format!("{pod}: not running: left as it is"));
        expect(said && out.success() && revision_files(g, pod)? == 1, || {
            format!(
                "auto-update of a stopped pod (exit {}):\n{}{}",
                out.status, out.stdout, out.stderr
            )
        })
    });
    g.ok(&format!("podctl down --purge {pod}"))?;
    result
}
