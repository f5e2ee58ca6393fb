//! The README's quick start (examples/quickstart), systemd-host path, run in
//! the container guest with the bench's prebuilt binaries and unit
//! (`PODCTL_PREBUILT=1`: no build, no `podctl install`): it applies
//! examples/web.toml and must end with the pod's containers (`podctl ps`) and
//! the namespace table (`podctl inspect web`) with net, ipc and uts shared.

use crate::bench::{Guest, TrialFn};

pub const TRIALS: &[(&str, TrialFn)] = &[(
    "quickstart::systemd_host_path_prints_pod_and_namespaces",
    systemd_host_path_prints_pod_and_namespaces,
)];

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
