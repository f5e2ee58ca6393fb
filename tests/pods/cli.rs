//! The command line as a Podman or kubectl user drives it, on a real
//! systemd in the container tier: start, stop, restart, rm with several
//! names, `ps --all`, the `logs` options, and the exit status and message
//! for a pod that does not exist.

use super::common::*;
use crate::rig::{Guest, TrialFn, wait_for};
use std::time::Duration;

pub const TRIALS: &[(&str, TrialFn)] = &[
    ("cli::stop_start_restart_rm", stop_start_restart_rm),
    ("cli::logs_prints_the_lines", logs_prints_the_lines),
    ("cli::unknown_pods_fail", unknown_pods_fail),
    ("cli::rmi_several_and_all", rmi_several_and_all),
];

/// The image layouts' builder (tests/rig/mkimage.sh).
const MKIMAGE_SH: &str = include_str!("../rig/mkimage.sh");

fn sleeper(name: &str, secs: u32) -> String {
    format!("name = \"{name}\"\n[containers.app]\ncommand = [\"sleep\", \"{secs}\"]\n")
}

/// `podctl CMD` fails (exit 1) with one line that names `name`.
fn fails_naming(g: &Guest, cmd: &str, name: &str) -> Result<(), String> {
    let out = g.sh(cmd);
    if out.status != 1 || out.stderr.lines().count() != 1 || !out.stderr.contains(name) {
        return Err(format!(
            "`{cmd}`: status {} (expected 1), stderr {:?} should be one line naming {name:?}",
            out.status, out.stderr
        ));
    }
    Ok(())
}

fn active(g: &Guest, pod: &str) -> Result<String, String> {
    g.unit_property(&format!("pod@{pod}.service"), "ActiveState")
}

fn stop_start_restart_rm(g: &Guest) -> Result<(), String> {
    apply(g, "clt", &sleeper("clt", 7101))?;
    apply(g, "clu", &sleeper("clu", 7102))?;
    let first = wait_pid(g, "sleep 7101")?;
    wait_pid(g, "sleep 7102")?;
    // An unknown name among known ones: nothing is stopped.
    fails_naming(g, "podctl stop clt typo7", "typo7")?;
    if active(g, "clt")? != "active" {
        return Err("stop with an unknown name stopped clt".into());
    }
    let out = g.ok("podctl stop clt clu")?;
    if out != "clt: stopped\nclu: stopped" {
        return Err(format!("podctl stop clt clu said {out:?}"));
    }
    for pod in ["clt", "clu"] {
        g.wait_property(
            &format!("pod@{pod}.service"),
            "ActiveState",
            "inactive",
            Duration::from_secs(20),
        )?;
    }
    assert_gone(g, "clt", &["sleep 7101"])?;
    // Stopped, not forgotten: still enabled at boot, and listed by ps --all only.
    let enabled = g.sh("systemctl is-enabled pod@clt.service").stdout;
    if enabled.trim() != "enabled" {
        return Err(format!("stop disabled the pod at boot: {enabled:?}"));
    }
    let ps = g.ok("podctl ps")?;
    let all = g.ok("podctl ps --all")?;
    let row = all.lines().find(|l| l.starts_with("clt "));
    if ps.lines().any(|l| l.starts_with("clt ")) || !row.is_some_and(|r| r.contains(" inactive ")) {
        return Err(format!("ps:\n{ps}\nps --all:\n{all}"));
    }
    let json = g.ok("podctl ps --all -o json")?;
    let pods: serde_json::Value =
        serde_json::from_str(&json).map_err(|e| format!("ps --all -o json: {e}: {json}"))?;
    let listed = pods.as_array().is_some_and(|a| {
        a.iter()
            .any(|p| p["name"] == "clt" && p["state"] == "inactive")
    });
    if !listed {
        return Err(format!("ps --all -o json lacks clt inactive:\n{json}"));
    }
    let yaml = g.ok("podctl status clt -o yaml")?;
    if !yaml.lines().any(|l| l == "name: clt") || !yaml.lines().any(|l| l == "state: inactive") {
        return Err(format!("status -o yaml:\n{yaml}"));
    }
    g.ok("podctl start clt")?;
    if active(g, "clt")? != "active" {
        return Err("start returned before the pod was active".into());
    }
    let second = wait_pid(g, "sleep 7101")?;
    g.ok("podctl restart clt")?;
    let third = wait_pid(g, "sleep 7101")?;
    if first == second || second == third {
        return Err(format!(
            "the container's PID did not change: first {first}, after start {second}, after restart {third}"
        ));
    }
    // Several names at once (`--all` would start the other trials' pods in
    // this shared guest; what it selects is a unit test of cli::control).
    let out = g.ok("podctl start clu clt")?;
    if out != "clu: started\nclt: started" {
        return Err(format!("podctl start clu clt said {out:?}"));
    }
    wait_pid(g, "sleep 7102")?;
    let out = g.ok("podctl rm clt clu")?;
    if out.lines().count() != 2 {
        return Err(format!("podctl rm clt clu said {out:?}"));
    }
    for pod in ["clt", "clu"] {
        if g.sh(&format!("test -e /etc/podctl/pods/{pod}.toml"))
            .success()
        {
            return Err(format!("rm left /etc/podctl/pods/{pod}.toml"));
        }
    }
    assert_gone(g, "clt", &["sleep 7101"])?;
    assert_gone(g, "clu", &["sleep 7102"])?;
    fails_naming(g, "podctl rm clt", "clt")
}

fn logs_prints_the_lines(g: &Guest) -> Result<(), String> {
    let toml = "name = \"cll\"\n[containers.app]\ncommand = [\"/bin/sh\", \"-c\", \
                \"for i in 1 2 3 4 5; do echo app-line-$i; done; exec sleep 7201\"]\n\
                [containers.side]\ncommand = [\"/bin/sh\", \"-c\", \"echo side-line; exec sleep 7202\"]\n";
    apply(g, "cll", toml)?;
    wait_pid(g, "sleep 7201")?;
    wait_pid(g, "sleep 7202")?;
    wait_for(Duration::from_secs(10), "every line in the journal", || {
        let out = g.sh("podctl logs cll").stdout;
        Ok(out.contains("app-line-5") && out.contains("side-line"))
    })?;
    // The lines only, as podman logs prints them.
    let app = g.ok("podctl logs cll app")?;
    let want: Vec<String> = (1..=5).map(|i| format!("app-line-{i}")).collect();
    if app.lines().collect::<Vec<_>>() != want {
        return Err(format!("podctl logs cll app:\n{app}"));
    }
    let tail = g.ok("podctl logs cll -c app --tail 2")?;
    if tail != "app-line-4\napp-line-5" {
        return Err(format!("podctl logs cll -c app --tail 2:\n{tail}"));
    }
    let all = g.ok("podctl logs cll")?;
    if !all.lines().any(|l| l == "[app] app-line-1")
        || !all.lines().any(|l| l == "[side] side-line")
    {
        return Err(format!(
            "podctl logs cll (every container, prefixed):\n{all}"
        ));
    }
    if all
        .lines()
        .any(|l| !l.starts_with("[app] ") && !l.starts_with("[side] "))
    {
        return Err(format!("podctl logs cll has lines of no container:\n{all}"));
    }
    let stamped = g.ok("podctl logs cll -c side --timestamps")?;
    let ok = stamped.split_once(' ').is_some_and(|(t, rest)| {
        rest == "side-line" && t.len() == 27 && t.ends_with('Z') && t.as_bytes()[10] == b'T'
    });
    if !ok {
        return Err(format!("podctl logs cll -c side --timestamps:\n{stamped}"));
    }
    // journalctl's view: systemd's lines about the units too.
    let journal = g.ok("podctl logs cll --journal")?;
    if !journal.contains("app-line-1") || !journal.contains("pod-cll.app.scope") {
        return Err(format!("podctl logs cll --journal:\n{journal}"));
    }
    // Following: the last line now, then the command keeps running.
    let follow = g.sh("timeout 3 podctl logs -f cll -c app --tail 1");
    if follow.status != 124 || follow.stdout != "app-line-5\n" {
        return Err(format!(
            "podctl logs -f cll -c app --tail 1: status {} (expected 124, still following), stdout {:?}",
            follow.status, follow.stdout
        ));
    }
    fails_naming(g, "podctl logs cll nosuch", "nosuch")?;
    g.ok("podctl down --purge cll")?;
    Ok(())
}

fn unknown_pods_fail(g: &Guest) -> Result<(), String> {
    for cmd in ["start", "stop", "restart", "rm", "down", "logs", "status"] {
        fails_naming(g, &format!("podctl {cmd} nopod7"), "nopod7")?;
    }
    // systemctl itself refuses a pod with no stored definition.
    let out = g.sh("systemctl start pod@nopod7.service");
    if out.success() {
        return Err("systemctl start pod@nopod7 succeeded without a definition".into());
    }
    let assert = g.unit_property("pod@nopod7.service", "AssertResult")?;
    g.sh("systemctl reset-failed pod@nopod7.service");
    if assert != "no" {
        return Err(format!(
            "pod@nopod7.service: AssertResult={assert:?} after the refused start ({})",
            out.stderr.trim()
        ));
    }
    Ok(())
}

/// `rmi A B` removes both; `rmi A nosuch` removes nothing; `rmi --all`
/// removes the rest. In a store of the trial's own.
fn rmi_several_and_all(g: &Guest) -> Result<(), String> {
    let dir = "/root/cli-rmi";
    g.ok(&format!(
        "set -e; rm -rf {dir}; mkdir -p {dir}/src/bin {dir}/store
         cat > {dir}/mkimage.sh <<'PODCTL_EOF'\n{MKIMAGE_SH}\nPODCTL_EOF
         cp /bin/busybox {dir}/src/bin/busybox
         for i in 1 2 3; do echo $i > {dir}/src/n; bash {dir}/mkimage.sh {dir}/img$i 1 /bin/sh {dir}/src >/dev/null; done"
    ))?;
    let podctl = format!("PODCTL_STORAGE={dir}/store podctl");
    for i in 1..=3 {
        g.ok(&format!("{podctl} pull oci:{dir}/img{i}:1"))?;
    }
    let refs = |g: &Guest| -> Result<Vec<String>, String> {
        let out = g.ok(&format!("{podctl} images -o json"))?;
        let v: serde_json::Value =
            serde_json::from_str(&out).map_err(|e| format!("images -o json: {e}: {out}"))?;
        let mut r: Vec<String> = v
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|i| i["reference"].as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        r.sort();
        Ok(r)
    };
    let before = refs(g)?;
    if before.len() != 3 {
        return Err(format!("3 images pulled, images lists {before:?}"));
    }
    fails_naming(
        g,
        &format!("{podctl} rmi oci:{dir}/img1:1 oci:{dir}/nosuch:1"),
        "nosuch",
    )?;
    if refs(g)? != before {
        return Err(format!(
            "rmi with an unknown image removed some: {:?}",
            refs(g)?
        ));
    }
    g.ok(&format!("{podctl} rmi oci:{dir}/img1:1 oci:{dir}/img2:1"))?;
    let left = refs(g)?;
    if left.len() != 1 || !left[0].contains("img3") {
        return Err(format!("after rmi img1 img2: {left:?}"));
    }
    g.ok(&format!("{podctl} rmi --all"))?;
    let left = refs(g)?;
    g.ok(&format!("rm -rf {dir}"))?;
    if !left.is_empty() {
        return Err(format!("after rmi --all: {left:?}"));
    }
    Ok(())
}
