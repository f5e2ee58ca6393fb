//! What `podctl apply` does with a tag that moved, as each container's
//! `pull` says, in the container tier: `"missing"` keeps the digest the
//! pod runs, `"always"` and `apply --pull` take the new one and restart
//! only the containers using it, each such apply a revision; `"never"`
//! with an image not stored stops apply, which changes nothing. Helpers
//! in `updates`.

use super::common::{wait_pid, write_pod};
use super::updates::{
    Kind, REVISIONS, apply, expect, history, ok, podctl, push_version, reference, running_digest,
    setup, version_of,
};
use crate::rig::{Guest, TrialFn};

pub const TRIALS: &[(&str, TrialFn)] = &[
    (
        "updates::apply_pulls_as_each_container_says",
        apply_pulls_as_each_container_says,
    ),
    (
        "updates::pull_never_without_the_image_changes_nothing",
        pull_never_without_the_image_changes_nothing,
    ),
];

/// `pull = "always"` takes the tag's new digest at apply and restarts only
/// its container; `"missing"` keeps its digest until `apply --pull`.
fn apply_pulls_as_each_container_says(g: &Guest) -> Result<(), String> {
    setup(g)?;
    let (pod, always, missing) = ("updpull", "updpulla", "updpullm");
    let (ra, rm) = (reference(always), reference(missing));
    let (a1, m1) = (
        push_version(g, always, "v1", Kind::Good)?,
        push_version(g, missing, "v1", Kind::Good)?,
    );
    let toml = format!(
        "name = \"{pod}\"\nnetwork = \"none\"\n\
         [containers.a]\nimage = \"{ra}\"\npull = \"always\"\nargs = [\"2711\"]\n\
         [containers.m]\nimage = \"{rm}\"\nargs = [\"2712\"]\n"
    );
    apply(g, pod, &toml)?;
    let path = format!("/root/pods/{pod}.toml");
    let (a, m) = (wait_pid(g, "sleep 2711")?, wait_pid(g, "sleep 2712")?);
    let (a2, m2) = (
        push_version(g, always, "v2", Kind::Good)?,
        push_version(g, missing, "v2", Kind::Good)?,
    );
    let out = ok(g, &format!("apply {path}"))?;
    expect(
        out.contains("updpull: updated")
            && out.contains("a: restarted")
            && out.contains("m: unchanged"),
        || format!("apply with a's tag moved (pull = always): {out}"),
    )?;
    let (a_now, m_now) = (wait_pid(g, "sleep 2711")?, wait_pid(g, "sleep 2712")?);
    expect(a_now != a && m_now == m, || {
        format!("a: {a} -> {a_now} (restarts), m: {m} -> {m_now} (does not)")
    })?;
    let digests = |g: &Guest| -> Result<(String, String), String> {
        Ok((running_digest(g, pod, &ra)?, running_digest(g, pod, &rm)?))
    };
    let got = digests(g)?;
    expect(got == (a2.clone(), m1.clone()), || {
        format!("runs {got:?}, want a's v2 {a2} and m's v1 {m1} (a1 {a1})")
    })?;
    let h = history(g, pod)?;
    expect(
        h.len() == 2 && h[1]["cause"]["kind"] == "apply" && h[1]["running"] == true,
        || format!("history after a's new digest: {h:#?}"),
    )?;
    let out = ok(g, &format!("apply --pull {path}"))?;
    expect(
        out.contains("m: restarted") && out.contains("a: unchanged"),
        || format!("apply --pull with m's tag moved: {out}"),
    )?;
    let got = digests(g)?;
    expect(got == (a2.clone(), m2.clone()), || {
        format!("after --pull runs {got:?}, want {a2} and {m2}")
    })?;
    let m_now = wait_pid(g, "sleep 2712")?;
    expect(version_of(g, m_now)? == "v2", || "m does not run v2".into())?;
    expect(history(g, pod)?.len() == 3, || {
        "apply --pull stored no revision".into()
    })?;
    g.ok("podctl down --purge updpull").map(|_| ())
}

/// `pull = "never"` with an image not stored: apply says so and changes
/// nothing; once `podctl pull` stored it, the same file applies.
fn pull_never_without_the_image_changes_nothing(g: &Guest) -> Result<(), String> {
    setup(g)?;
    let (pod, image) = ("updnever", reference("updnever"));
    // In the registry (a pull would find it), not in the store.
    push_version(g, pod, "v1", Kind::Good)?;
    let _ = g.sh(&format!("podctl down --purge {pod}"));
    let path = write_pod(
        g,
        pod,
        &format!(
            "name = \"{pod}\"\nnetwork = \"none\"\n\
             [containers.app]\nimage = \"{image}\"\npull = \"never\"\nargs = [\"2721\"]\n"
        ),
    )?;
    let out = g.sh(&podctl(&format!("apply {path}")));
    let want = format!(
        "pod {pod} container app: image {image} is not stored and its pull policy is never"
    );
    expect(
        !out.success() && out.stderr.contains(&want) && out.stderr.contains("nothing was changed"),
        || {
            format!(
                "apply (exit {}), want {want:?}:\n{}{}",
                out.status, out.stdout, out.stderr
            )
        },
    )?;
    let left = g.ok(&format!(
        "ls -d {REVISIONS}/{pod} /etc/podctl/pods/{pod}.toml /run/podctl/{pod}.json 2>/dev/null; \
         systemctl is-active pod@{pod}.service; true"
    ))?;
    expect(left == "inactive", || {
        format!("a refused apply left: {left:?}")
    })?;
    let images = ok(g, "images --json")?;
    expect(!images.contains(&image), || {
        format!("pull = never pulled {image}: {images}")
    })?;
    ok(g, &format!("pull {image}"))?;
    ok(g, &format!("apply {path}"))?;
    let pid = wait_pid(g, "sleep 2721")?;
    expect(version_of(g, pid)? == "v1", || "app does not run v1".into())?;
    g.ok("podctl down --purge updnever")?;
    ok(g, &format!("rmi {image}")).map(|_| ())
}
