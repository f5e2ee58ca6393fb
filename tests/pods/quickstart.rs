//! The README's quick start (examples/quickstart), systemd-host path, run in
//! the container guest with the bench's prebuilt binaries and unit
//! (`PODCTL_PREBUILT=1`: no build, no `podctl install`): it applies
//! examples/web.toml and must end with the pod's containers (`podctl ps`) and
//! the namespace table (`podctl inspect web`) with net, ipc and uts shared.
//! And the README's quick start without internet access, line by line as
//! the README writes it: an image built from busybox-static into an OCI
//! layout (examples/offline-image), a pod from it (examples/offline.toml).

use crate::rig::{Guest, TrialFn};

pub const TRIALS: &[(&str, TrialFn)] = &[
    (
        "quickstart::systemd_host_path_prints_pod_and_namespaces",
        systemd_host_path_prints_pod_and_namespaces,
    ),
    (
        "quickstart::offline_readme_steps_run_a_pod_from_a_local_image",
        offline_readme_steps_run_a_pod_from_a_local_image,
    ),
];

/// The README, as built into this test binary: the trial runs what it says.
const README: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"));
/// The heading of the offline quick start, under `## Quick start`.
const OFFLINE_HEADING: &str = "### Without internet access";
/// What the offline image's web server serves (examples/offline-image).
const OFFLINE_PAGE: &str = "hello from an image built offline";
/// The directory holding `examples/` in the guest (bound read-only).
const SHARE: &str = "/usr/local/share/podctl";

/// The script as the guest sees it (the examples dir is bound read-only).
const SCRIPT: &str = "/usr/local/share/podctl/examples/quickstart";

fn systemd_host_path_prints_pod_and_namespaces(g: &Guest) -> Result<(), String> {
    let out = g.ok(&format!("PODCTL_PREBUILT=1 {SCRIPT} 2>&1"))?;
    let fail = |what: &str| Err(format!("quick start output: {what}:\n{out}"));
    if out.contains("no systemd here") {
        return fail("took the no-systemd path on a systemd guest");
    }
    let lines: Vec<&str> = out.lines().collect();
    let find =
        |start: usize, pred: &dyn Fn(&str) -> bool| (start..lines.len()).find(|&i| pred(lines[i]));

    // `podctl ps` (after apply, which prints a table of its own): the
    // header, the pod's row, then its two containers running.
    let Some(ps_cmd) = find(0, &|l| l == "quickstart: $ podctl ps") else {
        return fail("no `podctl ps` step");
    };
    let Some(ps) = find(ps_cmd, &|l| {
        l.starts_with("POD ") && l.contains("CONTAINER")
    }) else {
        return fail("no `podctl ps` table");
    };
    let Some(pod) = find(ps + 1, &|l| l.split_whitespace().next() == Some("web")) else {
        return fail("no row for pod web in `podctl ps`");
    };
    if !lines[pod].contains("active") {
        return fail("pod web is not active in `podctl ps`");
    }
    for name in ["app", "sidecar"] {
        let row = lines[pod + 1..]
            .iter()
            .take_while(|l| !l.trim().is_empty())
            .find(|l| l.split_whitespace().next() == Some(name));
        match row {
            Some(row) if row.contains("running") => {}
            Some(_) => return fail(&format!("container {name} is not running in `podctl ps`")),
            None => return fail(&format!("no container {name} under pod web in `podctl ps`")),
        }
    }

    // `podctl inspect web`, after ps: net/ipc/uts shared with the sandbox,
    // mnt/pid/cgroup private, for both containers.
    let Some(inspect_cmd) = find(pod, &|l| l == "quickstart: $ podctl inspect web") else {
        return fail("no `podctl inspect web` step after `podctl ps`");
    };
    let Some(table) = find(inspect_cmd, &|l| l.starts_with("PROCESS ")) else {
        return fail("no `podctl inspect` table after `podctl ps`");
    };
    let kinds: Vec<&str> = lines[table].split_whitespace().skip(2).collect();
    for name in ["app", "sidecar"] {
        let Some(row) = find(table + 1, &|l| l.split_whitespace().next() == Some(name)) else {
            return fail(&format!("no row for {name} in `podctl inspect web`"));
        };
        // PROCESS PID then "INODE MARK" per namespace kind.
        let marks: Vec<&str> = lines[row].split_whitespace().skip(3).step_by(2).collect();
        for (kind, mark) in kinds.iter().zip(&marks) {
            let want = match *kind {
                "net" | "ipc" | "uts" => "shared",
                "mnt" | "pid" | "cgroup" => "own",
                _ => continue,
            };
            if *mark != want {
                return fail(&format!("{name}: {kind} is {mark}, expected {want}"));
            }
        }
        if marks.len() != kinds.len() {
            return fail(&format!(
                "{name}: {} marks for {} kinds",
                marks.len(),
                kinds.len()
            ));
        }
    }
    // The table (and its legend) is the last thing the demo prints.
    let after: Vec<&&str> = lines[table + 1..]
        .iter()
        .filter(|l| !l.trim().is_empty())
        .filter(|l| !l.starts_with("(shared ="))
        .filter(|l| {
            let first = l.split_whitespace().next();
            !matches!(first, Some("sandbox" | "app" | "sidecar"))
        })
        .collect();
    if !after.is_empty() {
        return fail("output continues after the namespace table");
    }
    g.ok("podctl down --purge web")?;
    Ok(())
}

/// The command lines of the first ```sh block under [`OFFLINE_HEADING`]
/// (before the next `##` heading).
fn offline_steps(readme: &str) -> Result<Vec<String>, String> {
    let (_, after) = readme
        .split_once(&format!("\n{OFFLINE_HEADING}\n"))
        .ok_or_else(|| format!("README: no {OFFLINE_HEADING:?} section"))?;
    let section = after.split("\n## ").next().unwrap_or(after);
    let section = section.split("\n### ").next().unwrap_or(section);
    let (_, block) = section
        .split_once("```sh\n")
        .ok_or_else(|| format!("README {OFFLINE_HEADING:?}: no ```sh block"))?;
    let (block, _) = block
        .split_once("```")
        .ok_or_else(|| format!("README {OFFLINE_HEADING:?}: the ```sh block is not closed"))?;
    let steps: Vec<String> = block
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect();
    if steps.is_empty() {
        return Err(format!(
            "README {OFFLINE_HEADING:?}: the ```sh block is empty"
        ));
    }
    Ok(steps)
}

fn offline_readme_steps_run_a_pod_from_a_local_image(g: &Guest) -> Result<(), String> {
    // The store and the upper layers on tmpfs (the guest's root is an
    // overlay, which cannot hold them): shared with the image trials.
    super::image_pods::setup(g)?;
    // No internet here: the guest has its loopback and nothing else.
    let routes = g.ok("ip -4 route show default; ip -6 route show default")?;
    if !routes.trim().is_empty() {
        return Err(format!("the guest has a default route: {routes}"));
    }
    let steps = offline_steps(README)?;
    let mut outputs = Vec::new();
    for step in &steps {
        let out = g.sh(&format!("cd {SHARE} && {step}"));
        if !out.success() {
            return Err(format!(
                "README step `{step}` failed:\n{}{}\nsteps so far: {outputs:#?}",
                out.stdout, out.stderr
            ));
        }
        outputs.push((step.clone(), out.stdout));
    }
    let served = outputs
        .iter()
        .find(|(_, out)| out.trim() == OFFLINE_PAGE)
        .map(|(step, _)| step);
    if served.is_none() {
        return Err(format!(
            "no README step printed {OFFLINE_PAGE:?} (the image's page, through the sidecar): {outputs:#?}"
        ));
    }
    // The image is stored under its oci: name; the pod is gone after the
    // README's last step (`podctl down --purge offline`).
    let image = "oci:/var/tmp/podctl-examples/busybox:1";
    let images = g.ok("podctl images --json")?;
    if !images.contains(&format!("\"{image}\"")) {
        return Err(format!("podctl images does not list {image}:\n{images}"));
    }
    if g.sh("podctl status offline").success() {
        return Err("pod offline is still there after the README's steps".into());
    }
    // The image's ExposedPorts (8080/tcp) are shown, not published.
    let plan = g.ok(&format!(
        "podctl apply --dry-run {SHARE}/examples/offline.toml"
    ))?;
    if !plan.contains("exposes: 8080/tcp (not published)") {
        return Err(format!(
            "apply --dry-run does not show the image's exposed port:\n{plan}"
        ));
    }
    g.ok(&format!("podctl rmi {image}")).map(|_| ())
}
