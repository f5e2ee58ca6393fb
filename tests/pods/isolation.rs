//! What a pod keeps to itself: its stored state and definition
//! are root's only, a namespace it does not share is private to each
//! container, and any valid names give a working NOTIFY_SOCKET.

use super::common::*;
use crate::rig::{Guest, TrialFn};

pub const TRIALS: &[(&str, TrialFn)] = &[
    (
        "isolation::state_and_definitions_are_root_only",
        state_and_definitions_are_root_only,
    ),
    (
        "isolation::unshared_namespaces_are_private_per_container",
        unshared_namespaces_are_private_per_container,
    ),
    (
        "isolation::longest_names_with_notify_start",
        longest_names_with_notify_start,
    ),
];

/// Runs `cmd` in the guest as user nobody.
fn as_nobody(cmd: &str) -> String {
    format!("setpriv --reuid=65534 --regid=65534 --clear-groups {cmd}")
}

/// The octal permission bits of a path in the guest (`stat -c %a`).
fn mode(g: &Guest, path: &str) -> Result<String, String> {
    g.ok(&format!("stat -c %a {path}"))
}

/// The pod file holds an env value: what podctl stores from it (the run
/// state and the definition) is 0600 in 0700 directories, so another user
/// reads neither; `podctl ps` / `status` as that user answer for that
/// user's own pods (none: its manager does not run), never root's.
fn state_and_definitions_are_root_only(g: &Guest) -> Result<(), String> {
    let toml = "name = \"sec\"\n[containers.app]\ncommand = [\"sleep\", \"2301\"]\n\
                env = { TOKEN = \"s3cret-2301\" }\n";
    apply(g, "sec", toml)?;
    wait_pid(g, "sleep 2301")?;
    let want = [
        ("/run/podctl", "700"),
        ("/run/podctl/locks", "700"),
        ("/run/podctl/sec.json", "600"),
        ("/run/podctl/locks/sec.lock", "600"),
        ("/etc/podctl", "700"),
        ("/etc/podctl/pods", "700"),
        ("/etc/podctl/pods/sec.toml", "600"),
        ("/etc/podctl/pods/sec.source", "600"),
    ];
    for (path, m) in want {
        let got = mode(g, path)?;
        if got != m {
            return Err(format!("{path} has mode {got}, want {m}"));
        }
    }
    // The secret is in there, and nobody cannot get at it.
    g.ok("grep -q s3cret-2301 /run/podctl/sec.json /etc/podctl/pods/sec.toml")?;
    for path in ["/run/podctl/sec.json", "/etc/podctl/pods/sec.toml"] {
        let out = g.sh(&as_nobody(&format!("cat {path}")));
        if out.success() || out.stdout.contains("s3cret") {
            return Err(format!("user nobody can read {path}: {}", out.stdout));
        }
    }
    // Another user's podctl serves that user's pods (rootless): root's
    // are not among them, and nothing of root's pod shows.
    for cmd in ["ps", "status sec"] {
        let out = g.sh(&as_nobody(&format!("podctl {cmd}")));
        let shown = format!("{}{}", out.stdout, out.stderr);
        let own_answer = if out.success() {
            !out.stdout.contains("sec")
        } else {
            out.stderr.lines().count() == 1
                && (out.stderr.contains("user manager") || out.stderr.contains("no pod named"))
        };
        if !own_answer || shown.contains("s3cret") || shown.contains("2301") {
            return Err(format!(
                "podctl {cmd} as nobody: status {}, stdout {:?}, stderr {:?} (want nobody's own answer: none of root's pod)",
                out.status, out.stdout, out.stderr
            ));
        }
    }
    g.ok("podctl down --purge sec")?;
    Ok(())
}

/// `share = ["net"]`: net is the sandbox's, and ipc and uts, in neither
/// `share` nor `host`, are each container's own (podman's `--share net`),
/// not the host's.
fn unshared_namespaces_are_private_per_container(g: &Guest) -> Result<(), String> {
    let toml = "name = \"nonly\"\nshare = [\"net\"]\n\
                [containers.app]\ncommand = [\"sleep\", \"2401\"]\n\
                [containers.sidecar]\ncommand = [\"sleep\", \"2402\"]\n";
    apply(g, "nonly", toml)?;
    let app = wait_pid(g, "sleep 2401")?;
    let side = wait_pid(g, "sleep 2402")?;
    let sandbox = status(g, "nonly")?["sandbox"]["pid"]
        .as_u64()
        .ok_or("no sandbox pid")? as u32;
    same("net app/sidecar", &ns(g, app, "net")?, &ns(g, side, "net")?)?;
    same(
        "net sandbox/app",
        &ns(g, sandbox, "net")?,
        &ns(g, app, "net")?,
    )?;
    for kind in ["ipc", "uts"] {
        let (a, s) = (ns(g, app, kind)?, ns(g, side, kind)?);
        differ(&format!("{kind} app/sidecar"), &a, &s)?;
        for (who, inode) in [("app", &a), ("sidecar", &s)] {
            differ(&format!("{kind} {who}/host"), inode, &ns(g, 1, kind)?)?;
            differ(
                &format!("{kind} {who}/sandbox"),
                inode,
                &ns(g, sandbox, kind)?,
            )?;
        }
    }
    // What podctl says agrees with the kernel.
    let table = g.ok("podctl inspect nonly")?;
    for row in ["app", "sidecar"] {
        let marks = inspect_marks(&table, row)?;
        // Host-root containers: the host's user namespace.
        if marks[..4] != ["host", "shared", "own", "own"] {
            return Err(format!(
                "inspect row {row}: user/net/ipc/uts {:?}:\n{table}",
                &marks[..4]
            ));
        }
    }
    g.ok("podctl down --purge nonly")?;
    Ok(())
}

/// The seven marks (user net ipc uts pid mnt cgroup) of `podctl inspect`'s
/// row for `process`: `shared`, `own` or `host`.
pub fn inspect_marks(table: &str, process: &str) -> Result<Vec<String>, String> {
    let row = table
        .lines()
        .find(|l| l.split_whitespace().next() == Some(process))
        .ok_or_else(|| format!("no row {process:?} in podctl inspect:\n{table}"))?;
    // PROCESS PID then an inode and a mark per namespace.
    let marks: Vec<String> = row
        .split_whitespace()
        .skip(3)
        .step_by(2)
        .map(str::to_string)
        .collect();
    if marks.len() != 7 {
        return Err(format!(
            "inspect row {process:?} is not 7 namespaces: {row:?}"
        ));
    }
    Ok(marks)
}

/// A 63-character pod with a 63-character container (the longest valid
/// names) and `ready = "notify"`, run as a user other than root: the
/// NOTIFY_SOCKET path fits a unix socket address and the user can reach
/// it, so READY=1 arrives and apply returns with the pod running.
fn longest_names_with_notify_start(g: &Guest) -> Result<(), String> {
    let pod = format!("lp{}", "n".repeat(61));
    let ctr = format!("lc{}", "m".repeat(61));
    // The sender stays alive (it execs sleep) so it can be told apart.
    let toml = format!(
        "name = \"{pod}\"\n[containers.{ctr}]\nuser = \"nobody\"\nready = \"notify\"\n\
         command = [\"python3\", \"-c\", \"import os, socket; s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); \
         p = os.environ['NOTIFY_SOCKET']; print('notify socket', p, len(p)); s.sendto(b'READY=1', p); \
         os.execvp('sleep', ['sleep', '2501'])\"]\n"
    );
    apply(g, &pod, &toml)?;
    wait_pid(g, "sleep 2501")?;
    let st = status(g, &pod)?;
    if container_field(&st, &ctr, "state") != "running"
        || container_field(&st, &ctr, "ready") != true
    {
        return Err(format!("status after apply: {st}"));
    }
    g.ok(&format!("podctl down --purge {pod}"))?;
    assert_gone(g, &pod, &["sleep 2501"])
}
