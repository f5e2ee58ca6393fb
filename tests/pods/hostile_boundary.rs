//! The container boundary against a hostile container (container tier):
//! the host's submounts stay read-only, nosuid and nodev in a container
//! without an image; device nodes a container makes cannot be opened;
//! io_uring and system calls the seccomp profile does not know fail; the
//! host's secrets are masked. Each attempt prints `NAME: blocked` or
//! `NAME: ESCAPED`; the trial names what escaped.

use super::common::apply;
use super::confined::{journal_until, script_output};
use crate::rig::{Guest, TrialFn, VmTrial, wait_for};
use std::time::Duration;

pub const TRIALS: &[(&str, TrialFn)] = &[
    (
        "boundary::host_submounts_stay_read_only_nosuid_nodev",
        host_submounts_stay_read_only_nosuid_nodev,
    ),
    (
        "boundary::device_nodes_cannot_be_opened",
        device_nodes_cannot_be_opened,
    ),
    (
        "boundary::io_uring_and_unknown_syscalls_fail",
        io_uring_and_unknown_syscalls_fail,
    ),
    ("boundary::host_secrets_are_masked", host_secrets_are_masked),
];

/// In the VM (cgroup v2, the distribution's kernel): systemd enforces the
/// container scope's DevicePolicy, and the host's submounts stay read-only
/// under Debian's own kernel too.
pub const VM_TRIALS: &[VmTrial] = &[
    VmTrial::once(
        "boundary::device_policy_closes_the_scope",
        device_policy_closes_the_scope,
    ),
    VmTrial::once(
        "boundary::host_submounts_stay_read_only_on_the_vm_kernel",
        host_submounts_stay_read_only_nosuid_nodev,
    ),
];

/// On cgroup v2 the container scope's `DevicePolicy=closed` is systemd's
/// BPF device filter, apart from the nodev `/dev` and the runtime's own
/// rules (which hold in the `payload` leaf only): a root shell of the VM's
/// own, moved into the scope's `relay` leaf, opens `/dev/null` and cannot
/// open the VM's disk, which it opens outside.
fn device_policy_closes_the_scope(g: &Guest) -> Result<(), String> {
    apply(
        g,
        "vdev",
        "name = \"vdev\"\n[containers.app]\ncommand = [\"sleep\", \"8301\"]\n",
    )?;
    let leaf = "/sys/fs/cgroup/pod.slice/pod-vdev.slice/pod-vdev.app.scope/relay";
    wait_for(
        Duration::from_secs(20),
        "the app scope's relay leaf",
        || Ok(g.sh(&format!("test -d {leaf}")).success()),
    )?;
    // The premise: outside the scope, root reads the disk.
    g.ok("head -c1 /dev/vda >/dev/null")?;
    let out = g.sh(&format!(
        "sh -c 'echo $$ > {leaf}/cgroup.procs && head -c1 /dev/null && echo null: ok; \
         head -c1 /dev/vda >/dev/null 2>&1 && echo disk: ESCAPED || echo disk: blocked'"
    ));
    g.ok("podctl down --purge vdev")?;
    if !out.stdout.contains("null: ok") || !out.stdout.contains("disk: blocked") {
        return Err(format!(
            "in the scope of a container: {}{}",
            out.stdout, out.stderr
        ));
    }
    Ok(())
}

/// `if ( CMD ) ...; then NAME: ESCAPED else NAME: blocked`, one per attempt.
fn attempts(list: &[(&str, &str)]) -> String {
    list.iter()
        .map(|(name, cmd)| {
            format!(
                "if ( {cmd} ) >/dev/null 2>&1; then echo '{name}: ESCAPED'; else echo '{name}: blocked'; fi\n"
            )
        })
        .collect()
}

/// Every attempt of `list` printed `NAME: blocked` in `out`.
fn blocked(list: &[(&str, &str)], out: &str) -> Result<(), String> {
    let escaped: Vec<&str> = list
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| !out.lines().any(|l| l == format!("{name}: blocked")))
        .collect();
    if escaped.is_empty() {
        Ok(())
    } else {
        Err(format!("not blocked: {escaped:?}\n--- output:\n{out}"))
    }
}

/// The guest's submount for the trials: a tmpfs (mode 1777, suid and dev
/// allowed) under the host's /srv, with a setuid-root `id` and a node of
/// /dev/zero (the device cgroup allows it: only nodev keeps it shut).
const SUBMOUNT: &str = "mkdir -p /srv/podctl-sub && \
    { mountpoint -q /srv/podctl-sub || mount -t tmpfs -o mode=1777,size=4m,suid,dev tmpfs /srv/podctl-sub; } && \
    cp /usr/bin/id /srv/podctl-sub/id && chmod 4755 /srv/podctl-sub/id && \
    rm -f /srv/podctl-sub/zero && mknod -m 666 /srv/podctl-sub/zero c 1 5";

/// A container without an image sees the host's /srv read-only: its
/// submount too (writes fail, even to a 1777 tmpfs), without setuid (a
/// setuid-root binary runs as the user, no_new_privileges off) and without
/// devices (a /dev/zero node cannot be read); a `:ro` volume of /srv is
/// read-only down to the same submount.
fn host_submounts_stay_read_only_nosuid_nodev(g: &Guest) -> Result<(), String> {
    g.ok(SUBMOUNT)?;
    // The guest itself can do all three: the trial's premise.
    g.ok(
        "touch /srv/podctl-sub/host-ok && head -c1 /srv/podctl-sub/zero | od -An -tx1 | grep -q 00",
    )?;
    let list = [
        ("write-submount", "touch /srv/podctl-sub/escape"),
        ("write-ro-volume-submount", "touch /vol/podctl-sub/escape"),
        (
            "dev-node-on-submount",
            "head -c1 /srv/podctl-sub/zero | od -An -tx1 | grep -q 00",
        ),
        (
            "dev-node-in-ro-volume",
            "head -c1 /vol/podctl-sub/zero | od -An -tx1 | grep -q 00",
        ),
        (
            "setuid-on-submount",
            "test \"$(/srv/podctl-sub/id -u)\" = 0",
        ),
        (
            "setuid-in-ro-volume",
            "test \"$(/vol/podctl-sub/id -u)\" = 0",
        ),
    ];
    let script = format!("{}echo \"uid: $(id -u)\"", attempts(&list));
    let out = script_output(
        g,
        "subro",
        "#app: user = 1000\n#app: no_new_privileges = false\n#app: volumes = [\"/srv:/vol:ro\"]",
        &script,
    )?;
    if !out.lines().any(|l| l == "uid: 1000") {
        return Err(format!("the container did not run as uid 1000:\n{out}"));
    }
    blocked(&list, &out)?;
    g.ok("! test -e /srv/podctl-sub/escape")?;
    g.ok("podctl down --purge subro && umount /srv/podctl-sub && rmdir /srv/podctl-sub")?;
    Ok(())
}

/// A root container given CAP_MKNOD makes device nodes in its /dev (a
/// tmpfs that must allow nodes) and tries to open them: /dev/net/tun and
/// /dev/fuse (which this guest may open) and a loop disk. The scope's
/// `DevicePolicy=closed` refuses them; the standard nodes still work.
fn device_nodes_cannot_be_opened(g: &Guest) -> Result<(), String> {
    // The premise: the guest itself opens a tun node.
    g.ok("test -c /dev/net/tun && exec 3<>/dev/net/tun")?;
    let list = [
        (
            "open-tun",
            "mknod /dev/podctl-tun c 10 200 && exec 3<>/dev/podctl-tun",
        ),
        (
            "open-tun-in-tmp",
            "mknod /tmp/podctl-tun c 10 200 && exec 3<>/tmp/podctl-tun",
        ),
        (
            "open-fuse",
            "mknod /dev/podctl-fuse c 10 229 && exec 3<>/dev/podctl-fuse",
        ),
        (
            "open-loop",
            "mknod /dev/podctl-loop b 7 0 && exec 3</dev/podctl-loop",
        ),
    ];
    let script = format!(
        "{}head -c1 /dev/zero >/dev/null && echo x >/dev/null && head -c1 /dev/urandom >/dev/null && echo 'standard: ok'\n\
         mknod /dev/podctl-null c 1 3 && echo 'mknod: ok'",
        attempts(&list)
    );
    let out = script_output(
        g,
        "devs",
        "#app: capabilities = { add = [\"MKNOD\"] }",
        &script,
    )?;
    if !out.contains("standard: ok") || !out.contains("mknod: ok") {
        return Err(format!(
            "the standard devices or mknod do not work (the premise):\n{out}"
        ));
    }
    blocked(&list, &out)?;
    // systemd took the scope's policy (it enforces it on cgroup v2; this
    // guest's cgroup v1 controllers are read-only, so nodev is what holds).
    let policy = g.unit_property("pod-devs.app.scope", "DevicePolicy")?;
    let allow = g.unit_property("pod-devs.app.scope", "DeviceAllow")?;
    if policy != "closed" || !allow.contains("/dev/null rwm") || !allow.contains("char-pts rwm") {
        return Err(format!(
            "the scope has DevicePolicy={policy:?} DeviceAllow={allow:?}"
        ));
    }
    g.ok("podctl down --purge devs")?;
    Ok(())
}

/// `python3 -c` that calls syscall NR with ARGS (ctypes) and prints
/// `LABEL: ok` or `LABEL: errno E`.
fn syscall_probe(label: &str, nr: u32, args: &str) -> String {
    format!(
        "python3 -c 'import ctypes; l=ctypes.CDLL(None,use_errno=True); b=ctypes.create_string_buffer(256); \
         r=l.syscall({nr}, {args}); print(\"{label}: \" + (\"ok\" if r >= 0 else \"errno %d\" % ctypes.get_errno()))'\n"
    )
}

/// In a default container io_uring_setup fails with EPERM; fchmodat2 (a
/// system call newer than the profile, which the guest's kernel has) and
/// clone3 answer ENOSYS; ordinary programs (sh, python3) still run.
fn io_uring_and_unknown_syscalls_fail(g: &Guest) -> Result<(), String> {
    let probes = [
        syscall_probe("io_uring_setup", 425, "4, b"),
        syscall_probe("fchmodat2", 452, "-1, b, 0, 0"),
        syscall_probe("clone3", 435, "b, 8"),
    ]
    .concat();
    // The premise: the guest's kernel has them and lets the guest call
    // them (ENOSYS or EPERM there would prove nothing).
    let host = g.ok(&probes)?;
    for label in ["io_uring_setup", "fchmodat2", "clone3"] {
        let line = host
            .lines()
            .find(|l| l.starts_with(&format!("{label}: ")))
            .unwrap_or_default();
        if line.is_empty() || line.ends_with("errno 38") || line.ends_with("errno 1") {
            return Err(format!("the guest itself cannot call {label}:\n{host}"));
        }
    }
    let out = script_output(g, "sysc", "", &probes)?;
    for want in [
        "io_uring_setup: errno 1",
        "fchmodat2: errno 38",
        "clone3: errno 38",
    ] {
        if !out.lines().any(|l| l == want) {
            return Err(format!("want {want:?} in a default container:\n{out}"));
        }
    }
    g.ok("podctl down --purge sysc")?;
    Ok(())
}

/// A container without an image, as root (CAP_DAC_OVERRIDE), reads none of
/// the host's password hashes, SSH host keys, registry credentials or
/// root's home, and still reads the rest of /etc.
fn host_secrets_are_masked(g: &Guest) -> Result<(), String> {
    // Files the guest may lack are made, marked, for the trial.
    g.ok(
        "grep -q '^root:' /etc/shadow && mkdir -p /etc/ssh /etc/containers /root/.docker && \
         { test -e /etc/ssh/ssh_host_ed25519_key || echo PODCTL-SECRET > /etc/ssh/ssh_host_ed25519_key; } && \
         { test -e /etc/containers/auth.json || echo '{\"auths\":{\"podctl.trial\":{}}}' > /etc/containers/auth.json; } && \
         echo PODCTL-SECRET > /root/.docker/config.json",
    )?;
    let list = [
        ("read-shadow", "grep -q . /etc/shadow"),
        ("read-gshadow", "grep -q . /etc/gshadow"),
        (
            "read-ssh-host-key",
            "grep -q . /etc/ssh/ssh_host_ed25519_key",
        ),
        ("read-registry-auth", "grep -q . /etc/containers/auth.json"),
        ("read-root-home", "grep -q . /root/.docker/config.json"),
        ("list-root-home", "ls -A /root | grep -q ."),
    ];
    let script = format!(
        "{}grep -q '^root:' /etc/passwd && echo 'passwd: readable'\n\
         grep '^CapEff:' /proc/self/status",
        attempts(&list)
    );
    apply(
        g,
        "secrets",
        &format!(
            "name = \"secrets\"\n[containers.app]\nrestart = \"never\"\n\
             command = [\"/bin/sh\", \"-c\", '''{script}\necho END\nexec sleep infinity''']\n"
        ),
    )?;
    let out = journal_until(g, "secrets", "app", "END")?;
    if !out.contains("passwd: readable") {
        return Err(format!(
            "the rest of the host's /etc should stay readable:\n{out}"
        ));
    }
    blocked(&list, &out)?;
    g.ok(
        "podctl down --purge secrets && rm -f /root/.docker/config.json && \
         { ! grep -qx PODCTL-SECRET /etc/ssh/ssh_host_ed25519_key || rm /etc/ssh/ssh_host_ed25519_key; } && \
         { ! grep -q podctl.trial /etc/containers/auth.json || rm /etc/containers/auth.json; }",
    )?;
    Ok(())
}
