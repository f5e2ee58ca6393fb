//! Rootless pods, in the VM (the only tier with a user manager and cgroup
//! v2): an ordinary user with lingering on runs `podctl` against their own
//! systemd manager. Their pod's units are under `user@UID.service`, its
//! processes are the user's subordinate IDs (root inside is the user), and
//! root's podctl neither sees nor touches it.

use crate::rig::{Guest, VmTrial, wait_for};

/// The image layouts' builder (tests/rig/mkimage.sh).
const MKIMAGE_SH: &str = include_str!("../rig/mkimage.sh");
use std::time::Duration;

pub const VM_TRIALS: &[VmTrial] = &[
    VmTrial::once("rootless::a_users_pod_runs_under_their_manager", |g| {
        with_journal(g, a_users_pod_runs_under_their_manager(g))
    }),
    VmTrial::once(
        "rootless::a_users_pod_publishes_a_port_through_pasta",
        |g| with_journal(g, a_users_pod_publishes_a_port_through_pasta(g)),
    ),
    VmTrial::once(
        "rootless::a_users_image_pod_has_the_images_owners_mapped",
        |g| with_journal(g, a_users_image_pod_has_the_images_owners_mapped(g)),
    ),
    VmTrial::once("rootless::what_a_user_lacks_is_named_at_apply", |g| {
        with_journal(g, what_a_user_lacks_is_named_at_apply(g))
    }),
    VmTrial::once(
        "rootless::a_users_memory_limit_is_enforced_in_its_scope",
        |g| with_journal(g, a_users_memory_limit_is_enforced(g)),
    ),
    VmTrial::reboot(
        "rootless::a_users_pod_comes_back_after_a_reboot_with_no_login",
        |g| with_journal(g, boot_pod_before_reboot(g)),
        |g| with_journal(g, boot_pod_after_reboot(g)),
    ),
];

/// A failure with the user's journal (their manager's and their units' lines).
fn with_journal(g: &Guest, r: Result<(), String>) -> Result<(), String> {
    r.map_err(|e| {
        let log = g.sh(&format!("journalctl --no-pager -n 80 _UID={UID}"));
        format!("{e}\n----- the user's journal:\n{}", log.stdout)
    })
}

/// The trials' user.
pub const USER: &str = "ann";
pub const UID: u32 = 1500;

/// A user with lingering on (their manager runs with no login) and the
/// subordinate IDs `useradd` gives; idempotent.
pub fn user(g: &Guest) -> Result<(), String> {
    g.ok(&format!(
        "id {USER} >/dev/null 2>&1 || useradd -m -u {UID} {USER}; loginctl enable-linger {USER}"
    ))?;
    let socket = format!("/run/user/{UID}/systemd/private");
    wait_for(Duration::from_secs(60), "the user's manager", || {
        Ok(g.sh(&format!("test -S {socket}")).success())
    })
}

/// `cmd` run by the user in a shell, with the environment a login gives.
pub fn as_user(g: &Guest, cmd: &str) -> Result<String, String> {
    g.ok(&user_cmd(cmd))
}

/// The shell command line that runs `cmd` as the user.
pub fn user_cmd(cmd: &str) -> String {
    let quoted = cmd.replace('\'', "'\\''");
    format!(
        "cd /home/{USER} && runuser -u {USER} -- env HOME=/home/{USER} XDG_RUNTIME_DIR=/run/user/{UID} sh -c '{quoted}'"
    )
}

/// Writes a pod file into the user's home; returns its path.
fn user_pod(g: &Guest, name: &str, toml: &str) -> Result<String, String> {
    let path = format!("/home/{USER}/{name}.toml");
    g.ok(&format!(
        "cat > {path} <<'PODCTL_EOF'\n{toml}\nPODCTL_EOF\nchown {USER}: {path}"
    ))?;
    Ok(path)
}

fn expect(cond: bool, msg: impl FnOnce() -> String) -> Result<(), String> {
    if cond { Ok(()) } else { Err(msg()) }
}

/// The user installs their pod@.service and applies a pod: it runs under
/// their manager, as their IDs, and goes with `down --purge`.
fn a_users_pod_runs_under_their_manager(g: &Guest) -> Result<(), String> {
    user(g)?;
    let out = as_user(g, "podctl install")?;
    expect(
        out.contains("/home/ann/.config/systemd/user/pod@.service")
            && out.contains("/home/ann/.config/systemd/user/podctl-auto-update.timer"),
        || format!("install as a user did not name the user's units: {out}"),
    )?;
    // The user's auto-update runs under the user's manager (no pod to
    // update yet: it succeeds doing nothing).
    as_user(g, "systemctl --user start podctl-auto-update.service")?;
    let path = user_pod(
        g,
        "rl",
        "name = \"rl\"\nnetwork = \"none\"\n[containers.app]\n\
         command = [\"/bin/sh\", \"-c\", \"echo hello-rootless; exec /bin/sleep 1001\"]\n",
    )?;
    as_user(g, &format!("podctl apply {path}"))?;
    let active = as_user(g, "systemctl --user is-active pod@rl.service")?;
    expect(active == "active", || format!("pod@rl.service is {active}"))?;
    let pid = super::common::wait_pid(g, "/bin/sleep 1001")?;
    let pid_before = pid;
    // Root inside is the user; the rest are the user's subordinate IDs.
    let map = g.ok(&format!("cat /proc/{pid}/uid_map"))?;
    let lines: Vec<Vec<&str>> = map
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    expect(
        lines == [vec!["0", "1500", "1"], vec!["1", "100000", "65536"]],
        || format!("the container's uid_map is not the user's mapping: {map}"),
    )?;
    let owner = g.ok(&format!("stat -c %u /proc/{pid}"))?;
    expect(owner == UID.to_string(), || {
        format!("the container's root is host UID {owner}, not the user's {UID}")
    })?;
    let cgroup = g.ok(&format!("cat /proc/{pid}/cgroup"))?;
    expect(
        cgroup.contains(&format!("/user@{UID}.service/")) && cgroup.contains("pod-rl"),
        || format!("the container is not in the user's manager's pod units: {cgroup}"),
    )?;
    let ps = as_user(g, "podctl ps")?;
    expect(ps.contains("rl"), || format!("podctl ps as the user: {ps}"))?;
    let id = as_user(g, "podctl exec rl app id -u")?;
    expect(id == "0", || format!("exec id -u gave {id:?}"))?;
    let logs = as_user(g, "podctl logs rl")?;
    expect(logs.contains("hello-rootless"), || {
        format!("podctl logs as the user: {logs}")
    })?;
    // The sandbox killed: the user's manager brings the pod back.
    g.ok(&format!("pkill -9 -u {UID} -f 'podctl-pause hold'"))?;
    wait_for(
        Duration::from_secs(60),
        "the pod back after its sandbox was killed",
        || {
            Ok(
                super::common::pid_of(g, "/bin/sleep 1001").is_ok_and(|p| p != pid_before)
                    && g.sh(&user_cmd("systemctl --user is-active pod@rl.service"))
                        .stdout
                        .trim()
                        == "active",
            )
        },
    )?;
    // Root's pods and the user's do not see or touch each other.
    let root_ps = g.ok("podctl ps")?;
    expect(!root_ps.contains("rl"), || {
        format!("root's podctl ps shows the user's pod: {root_ps}")
    })?;
    super::common::apply(
        g,
        "rootpod",
        "name = \"rootpod\"\nnetwork = \"none\"\n[containers.app]\ncommand = [\"/bin/sleep\", \"1005\"]\n",
    )?;
    let user_ps = as_user(g, "podctl ps")?;
    expect(!user_ps.contains("rootpod"), || {
        format!("the user's podctl ps shows root's pod: {user_ps}")
    })?;
    let out = g.sh(&user_cmd("podctl down rootpod"));
    expect(
        !out.success() && out.stderr.contains("no pod named \"rootpod\""),
        || {
            format!(
                "the user's down of root's pod: {} {}",
                out.stdout, out.stderr
            )
        },
    )?;
    let out = g.sh("podctl down rl");
    expect(
        !out.success() && out.stderr.contains("no pod named \"rl\""),
        || {
            format!(
                "root's down of the user's pod: {} {}",
                out.stdout, out.stderr
            )
        },
    )?;
    super::common::wait_pid(g, "/bin/sleep 1005")?;
    super::common::wait_pid(g, "/bin/sleep 1001")?;
    g.ok("podctl down --purge rootpod")?;
    as_user(g, "podctl down --purge rl")?;
    let left = g.ok(&format!(
        "pgrep -u {UID} -f 'sleep 1001|podctl' || true; \
         ls /home/{USER}/.config/podctl/pods; \
         runuser -u {USER} -- env XDG_RUNTIME_DIR=/run/user/{UID} systemctl --user list-units --all --no-legend 'pod@*' 'pod-*'"
    ))?;
    expect(left.trim().is_empty(), || {
        format!("down --purge left processes, definitions or units: {left}")
    })
}

/// The VM has no network card; pasta copies a routable interface into the
/// pod's namespace, so the trial gives the VM one that leads nowhere (the
/// VM's own namespace, gone with it).
fn routable_interface(g: &Guest) -> Result<(), String> {
    g.ok(
        "ip link show podctl-up >/dev/null 2>&1 || { ip link add podctl-up type dummy && \
         ip addr add 10.77.0.2/24 dev podctl-up && ip link set podctl-up up && \
         ip route add default via 10.77.0.1 dev podctl-up; }",
    )
    .map(|_| ())
}

/// A user's pod on pasta: its published port answers on the host, its
/// resolv.conf names pasta's DNS forwarder; a port below 1024 is refused
/// at apply with the sysctl that allows it, nothing stored or started.
fn a_users_pod_publishes_a_port_through_pasta(g: &Guest) -> Result<(), String> {
    user(g)?;
    routable_interface(g)?;
    as_user(g, "podctl install")?;
    let path = user_pod(
        g,
        "rlweb",
        "name = \"rlweb\"\nports = [\"8089:8000\"]\n[containers.web]\n\
         command = [\"python3\", \"-m\", \"http.server\", \"8000\", \"--directory\", \"/usr/share\"]\n",
    )?;
    as_user(g, &format!("podctl apply {path}"))?;
    let mut body = String::new();
    wait_for(Duration::from_secs(30), "the published port", || {
        let out = g.sh("curl -sf --max-time 5 http://127.0.0.1:8089/");
        let ok = out.success();
        body = out.stdout;
        Ok(ok)
    })?;
    expect(body.contains("doc/"), || {
        format!("the published port did not serve /usr/share: {body}")
    })?;
    let resolv = as_user(g, "podctl exec rlweb web cat /etc/resolv.conf")?;
    expect(resolv.contains("nameserver 169.254.1.1"), || {
        format!("the pod's resolv.conf: {resolv}")
    })?;
    let pasta = format!("pgrep -u {UID} '^(pasta|passt)' || true");
    expect(!g.ok(&pasta)?.is_empty(), || {
        "no pasta runs for the pod".into()
    })?;
    as_user(g, "podctl down --purge rlweb")?;
    expect(
        !g.sh("curl -sf --max-time 3 http://127.0.0.1:8089/")
            .success(),
        || "the port still answers after down".into(),
    )?;
    wait_for(Duration::from_secs(10), "pasta to end with the pod", || {
        Ok(g.ok(&pasta)?.is_empty())
    })?;
    let kept = g.ok(&format!(
        "journalctl --no-pager _UID={UID} | grep 'not pasta' || true"
    ))?;
    expect(kept.is_empty(), || {
        format!("pasta's PID was not pasta's: {kept}")
    })?;
    let low = user_pod(
        g,
        "rllow",
        "name = \"rllow\"\nports = [\"80:8000\"]\n[containers.web]\ncommand = [\"/bin/sleep\", \"1002\"]\n",
    )?;
    let out = g.sh(&user_cmd(&format!("podctl apply {low}")));
    expect(!out.success(), || "a port below 1024 was applied".into())?;
    expect(
        out.stderr.contains("port 80: below 1024")
            && out.stderr.contains("ip_unprivileged_port_start=80"),
        || {
            format!(
                "the low port's refusal does not say why and how: {}",
                out.stderr
            )
        },
    )?;
    let left = g.ok(&format!(
        "ls /home/{USER}/.config/podctl/pods; pgrep -xf '/bin/sleep 1002' || true"
    ))?;
    expect(left.trim().is_empty(), || {
        format!("a refused apply left a definition or a process: {left}")
    })
}

/// A user's memory limit is the container scope's MemoryMax under their
/// manager (the memory controller delegated), and a process past it is
/// killed by the kernel in that scope, recorded as an OOM kill there.
fn a_users_memory_limit_is_enforced(g: &Guest) -> Result<(), String> {
    user(g)?;
    as_user(g, "podctl install")?;
    let path = user_pod(
        g,
        "rlmem",
        "name = \"rlmem\"\nnetwork = \"none\"\n[containers.hog]\nresources = { memory = \"32M\" }\nrestart = \"never\"\n\
         command = [\"python3\", \"-c\", \"import time; time.sleep(2); a = bytearray(200 << 20); time.sleep(1000)\"]\n",
    )?;
    as_user(g, &format!("podctl apply {path}"))?;
    let max = as_user(g, "systemctl --user show -P MemoryMax pod-rlmem.hog.scope")?;
    expect(max == (32u64 << 20).to_string(), || {
        format!("the container scope's MemoryMax is {max}")
    })?;
    // The kernel killed it in its own scope (systemd says which unit), and
    // podctl saw a container killed.
    wait_for(Duration::from_secs(60), "an OOM kill in the scope", || {
        let log = g
            .sh(&format!("journalctl --no-pager _UID={UID} -t systemd"))
            .stdout;
        Ok(log.contains(
            "pod-rlmem.hog.scope: A process of this unit has been killed by the OOM killer",
        ))
    })?;
    let events = as_user(g, "podctl events rlmem")?;
    expect(
        events.contains("signal 9") || events.contains("oom"),
        || format!("podctl events does not show the kill: {events}"),
    )?;
    as_user(g, "podctl down --purge rlmem").map(|_| ())
}

/// Before the reboot: an autostarted pod of the user's (lingering on).
fn boot_pod_before_reboot(g: &Guest) -> Result<(), String> {
    user(g)?;
    as_user(g, "podctl install")?;
    let path = user_pod(
        g,
        "rlboot",
        "name = \"rlboot\"\nnetwork = \"none\"\n[containers.app]\ncommand = [\"/bin/sleep\", \"1003\"]\n",
    )?;
    as_user(g, &format!("podctl apply {path}"))?;
    super::common::wait_pid(g, "/bin/sleep 1003").map(|_| ())
}

/// After it, with no one logged in: the user's manager started the pod.
fn boot_pod_after_reboot(g: &Guest) -> Result<(), String> {
    // Emulated, the user's manager and the pod start well after the trials.
    user(g)?;
    wait_for(Duration::from_secs(120), "the user's pod", || {
        let state = g.sh(&user_cmd("systemctl --user is-active pod@rlboot.service"));
        Ok(state.stdout.trim() == "active")
    })
    .map_err(|e| {
        let links = g.sh(&user_cmd(
            "ls -l ~/.config/systemd/user/default.target.wants; systemctl --user status pod@rlboot.service",
        ));
        format!("{e}\n{}{}", links.stdout, links.stderr)
    })?;
    let pid = super::common::wait_pid(g, "/bin/sleep 1003")?;
    let owner = g.ok(&format!("stat -c %u /proc/{pid}"))?;
    expect(owner == UID.to_string(), || {
        format!("the pod after the reboot runs as host UID {owner}")
    })?;
    let sessions = g.ok(&format!(
        "loginctl list-sessions --no-legend | grep -w {USER} || true"
    ))?;
    expect(sessions.is_empty(), || {
        format!("someone logged in as {USER}: {sessions}")
    })?;
    as_user(g, "podctl down --purge rlboot").map(|_| ())
}

/// A user's image pod: the image (an OCI layout the user has) is unpacked
/// into the user's store with its owners mapped to the user's subordinate
/// IDs, the container sees them as the image says, what its root writes is
/// the user's on the host; `down --purge` and `rmi` leave nothing of it.
fn a_users_image_pod_has_the_images_owners_mapped(g: &Guest) -> Result<(), String> {
    user(g)?;
    as_user(g, "podctl install")?;
    let home = format!("/home/{USER}");
    g.ok(&format!(
        "set -e; rm -rf {home}/img {home}/img-src; mkdir -p {home}/img-src/bin {home}/img-src/data {home}/img-src/tmp
         cat > /root/mkimage.sh <<'PODCTL_EOF'\n{MKIMAGE_SH}\nPODCTL_EOF
         cp /bin/busybox {home}/img-src/bin/busybox; ln -s busybox {home}/img-src/bin/sh; ln -s busybox {home}/img-src/bin/sleep
         echo www > {home}/img-src/data/f; chown 33:33 {home}/img-src/data/f; chmod 1777 {home}/img-src/tmp
         bash /root/mkimage.sh {home}/img 1 /bin/sh {home}/img-src >/dev/null; chown -R {USER}: {home}/img"
    ))?;
    let path = user_pod(
        g,
        "rlimg",
        &format!(
            "name = \"rlimg\"\nnetwork = \"none\"\n[containers.app]\nimage = \"oci:{home}/img:1\"\n\
             command = [\"/bin/sh\", \"-c\", \"echo hi > /data/w; exec sleep 1004\"]\n"
        ),
    )?;
    as_user(g, &format!("podctl apply {path}"))?;
    super::common::wait_pid(g, "sleep 1004")?;
    let inside = as_user(
        g,
        "podctl exec rlimg app /bin/busybox stat -c %u:%g /data/f",
    )?;
    expect(inside == "33:33", || {
        format!("the image's file is {inside} inside")
    })?;
    let store = format!("{home}/.local/share/podctl/storage");
    let on_disk = g.ok(&format!(
        "find {store} -path '*/data/f' -printf '%U:%G\\n' | sort -u"
    ))?;
    expect(on_disk == "100032:100032", || {
        format!(
            "the store's copy of the image's file is owned by {on_disk}, not the user's subordinate 100032"
        )
    })?;
    let written = g.ok(&format!(
        "find {home}/.local/share/podctl/containers -path '*/data/w' -printf '%U\\n'"
    ))?;
    expect(written == UID.to_string(), || {
        format!("what container root wrote is host UID {written}")
    })?;
    as_user(g, "podctl down --purge rlimg")?;
    as_user(g, &format!("podctl rmi oci:{home}/img:1"))?;
    let left = g.ok(&format!(
        "ls {home}/.local/share/podctl/containers 2>/dev/null; find {store}/layers -mindepth 1 -maxdepth 1 2>/dev/null"
    ))?;
    expect(left.trim().is_empty(), || {
        format!("down --purge and rmi left the pod's layers or the image's: {left}")
    })
}

/// `cmd` run by `name` (UID `uid`) with a login's environment.
fn as_other(g: &Guest, name: &str, uid: u32, cmd: &str) -> crate::rig::Output {
    g.sh(&format!(
        "cd /home/{name} && runuser -u {name} -- env HOME=/home/{name} XDG_RUNTIME_DIR=/run/user/{uid} sh -c '{cmd}'"
    ))
}

/// A user without subordinate IDs, one whose manager does not run (no
/// lingering, no login), a host without newuidmap: apply says what is
/// missing and the command that gives it, and nothing is stored or started.
/// `podctl ps` of the user without a manager lists no pod. A root-only
/// command says it is root's.
fn what_a_user_lacks_is_named_at_apply(g: &Guest) -> Result<(), String> {
    let pod = "name = \"lack\"\nnetwork = \"none\"\n[containers.app]\ncommand = [\"/bin/sleep\", \"1006\"]\n";
    for (name, uid, linger) in [("bob", 1501, true), ("carl", 1502, false)] {
        g.ok(&format!(
            "id {name} >/dev/null 2>&1 || useradd -m -u {uid} {name}
             cat > /home/{name}/lack.toml <<'PODCTL_EOF'\n{pod}\nPODCTL_EOF
             chown {name}: /home/{name}/lack.toml"
        ))?;
        if linger {
            g.ok(&format!(
                "sed -i '/^{name}:/d' /etc/subuid /etc/subgid; loginctl enable-linger {name}"
            ))?;
            wait_for(Duration::from_secs(60), "bob's manager", || {
                Ok(g.sh(&format!("test -S /run/user/{uid}/systemd/private"))
                    .success())
            })?;
        }
        let out = as_other(g, name, uid, "podctl apply lack.toml");
        let want: &[&str] = if linger {
            &["/etc/subuid has no line for bob", "usermod --add-subuids"]
        } else {
            &["user manager", "loginctl enable-linger carl"]
        };
        expect(
            !out.success() && want.iter().all(|w| out.stderr.contains(w)),
            || format!("{name}'s apply: exit {}: {}", out.status, out.stderr),
        )?;
        let left = g.ok(&format!(
            "ls /home/{name}/.config/podctl/pods 2>/dev/null; pgrep -xf '/bin/sleep 1006' || true"
        ))?;
        expect(left.trim().is_empty(), || {
            format!("{name}'s refused apply left a definition or a process: {left}")
        })?;
    }
    // With no manager running, no pod of carl's runs: ps lists none.
    for (cmd, want) in [("podctl ps", "POD "), ("podctl ps -o json", "[]")] {
        let out = as_other(g, "carl", 1502, cmd);
        expect(
            out.success() && out.stdout.trim().starts_with(want) && !out.stdout.contains("lack"),
            || {
                format!(
                    "carl's `{cmd}`: exit {}: {}{}",
                    out.status, out.stdout, out.stderr
                )
            },
        )?;
    }
    no_newuidmap(g)?;
    let out = as_other(
        g,
        "bob",
        1501,
        "podctl network create mine --subnet 10.99.0.0/24",
    );
    expect(
        !out.success() && out.stderr.contains("serves root's pods only"),
        || format!("a user's network create: {}", out.stderr),
    )
}

/// Without newuidmap (package uidmap), a user's apply names the package,
/// and nothing is stored or started.
fn no_newuidmap(g: &Guest) -> Result<(), String> {
    user(g)?;
    let path = user_pod(
        g,
        "nomap",
        "name = \"nomap\"\nnetwork = \"none\"\n[containers.app]\ncommand = [\"/bin/sleep\", \"1007\"]\n",
    )?;
    g.ok("mv /usr/bin/newuidmap /usr/bin/newuidmap.away")?;
    let out = g.sh(&user_cmd(&format!("podctl apply {path}")));
    g.ok("mv /usr/bin/newuidmap.away /usr/bin/newuidmap")?;
    expect(
        !out.success()
            && out.stderr.contains("newuidmap is not installed")
            && out.stderr.contains("apt install uidmap"),
        || {
            format!(
                "apply without newuidmap: exit {}: {}",
                out.status, out.stderr
            )
        },
    )?;
    let left = g.ok(&format!(
        "ls /home/{USER}/.config/podctl/pods/nomap.toml 2>/dev/null; pgrep -xf '/bin/sleep 1007' || true"
    ))?;
    expect(left.trim().is_empty(), || {
        format!("the refused apply left a definition or a process: {left}")
    })
}
