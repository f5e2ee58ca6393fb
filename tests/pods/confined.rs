//! Confinement as pod containers (container tier): a root container of a pod
//! fails every hostile attempt and shows the documented capability mask,
//! no_new_privs and seccomp mode; a non-root user keeps no capability; each
//! security key has its effect.

use super::common::*;
use super::security::{all_blocked, hostile_script, status_field};
use crate::rig::{Guest, TrialFn, wait_for};
use std::time::Duration;

pub const TRIALS: &[(&str, TrialFn)] = &[
    (
        "confined::hostile_root_container_fails_every_attempt",
        hostile_root_container_fails_every_attempt,
    ),
    (
        "confined::non_root_user_keeps_and_gains_no_capability",
        non_root_user_keeps_and_gains_no_capability,
    ),
    (
        "confined::privileged_gives_everything",
        privileged_gives_everything,
    ),
    (
        "confined::capabilities_add_and_drop",
        capabilities_add_and_drop,
    ),
    (
        "confined::read_only_nnp_and_seccomp_keys",
        read_only_nnp_and_seccomp_keys,
    ),
    ("confined::one_dev_shm_per_pod", one_dev_shm_per_pod),
    (
        "confined::runtime_errors_are_clear",
        runtime_errors_are_clear,
    ),
    (
        "confined::runtime_create_failure_leaves_nothing_started",
        runtime_create_failure_leaves_nothing_started,
    ),
];

/// Podman's default set, CapEff of a default root container.
const DEFAULT_CAP_MASK: u64 = 0x8004_05fb;
/// Every capability Linux 6.1 knows (0..=40).
const ALL_CAPS: u64 = (1 << 41) - 1;

/// Applies a pod whose container `ctr` runs `script` once (restart never)
/// and returns its output (stdout and stderr, from the journal) once the
/// line `END` is there.
pub fn script_output(g: &Guest, pod: &str, extra: &str, script: &str) -> Result<String, String> {
    let toml = format!(
        "name = \"{pod}\"\n{extra}\n[containers.app]\nrestart = \"never\"\n\
         command = [\"/bin/sh\", \"-c\", '''{script}\necho END\nexec sleep infinity''']\n"
    );
    let toml = toml.replace(
        "[containers.app]\n",
        &format!("[containers.app]\n{}", app_keys(extra)),
    );
    apply(g, pod, &toml)?;
    journal_until(g, pod, "app", "END")
}

/// Keys written after a `#app:` marker in `extra` go into the container table.
fn app_keys(extra: &str) -> String {
    extra
        .lines()
        .filter_map(|l| l.strip_prefix("#app: "))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// The journal of POD/CTR once it holds a line `marker`.
pub fn journal_until(g: &Guest, pod: &str, ctr: &str, marker: &str) -> Result<String, String> {
    let cmd = format!("journalctl --no-pager -o cat -t {pod}/{ctr}");
    wait_for(
        Duration::from_secs(30),
        &format!("{marker} from {pod}/{ctr}"),
        || Ok(g.sh(&cmd).stdout.lines().any(|l| l == marker)),
    )?;
    g.ok(&cmd)
}

fn hex(out: &str, key: &str) -> Result<u64, String> {
    let v = status_field(out, key)?;
    u64::from_str_radix(v, 16).map_err(|e| format!("{key} {v:?}: {e}"))
}

/// A root container of a pod (default keys) fails each hostile attempt,
/// cannot see or signal another pod's process, and shows CapEff 0x800405fb,
/// NoNewPrivs 1, Seccomp 2.
pub fn hostile_root_container_fails_every_attempt(g: &Guest) -> Result<(), String> {
    apply(
        g,
        "victim",
        "name = \"victim\"\n[containers.app]\ncommand = [\"sleep\", \"6101\"]\n",
    )?;
    let victim = wait_pid(g, "sleep 6101")?;
    let script = format!(
        "{}if kill -0 {victim} 2>/dev/null || grep -qs 6101 /proc/{victim}/cmdline || pgrep -xf 'sleep 6101' >/dev/null; \
         then echo 'other-pod: ESCAPED'; else echo 'other-pod: blocked'; fi",
        hostile_script()
    );
    let out = script_output(g, "hostile", "", &script)?;
    all_blocked(&out)?;
    if !out.lines().any(|l| l == "other-pod: blocked") {
        return Err(format!("another pod's process is visible:\n{out}"));
    }
    let (eff, bnd) = (hex(&out, "CapEff")?, hex(&out, "CapBnd")?);
    if eff != DEFAULT_CAP_MASK || bnd != DEFAULT_CAP_MASK {
        return Err(format!(
            "CapEff {eff:#x} CapBnd {bnd:#x}, want {DEFAULT_CAP_MASK:#x}:\n{out}"
        ));
    }
    if status_field(&out, "NoNewPrivs")? != "1" || status_field(&out, "Seccomp")? != "2" {
        return Err(format!("want NoNewPrivs 1, Seccomp 2:\n{out}"));
    }
    g.ok("! test -e /usr/podctl-escape && ! test -e /etc/podctl-escape")?;
    g.ok("podctl down --purge hostile && podctl down --purge victim")?;
    Ok(())
}

/// A non-root user holds no capability, and a setuid-root binary (a copy
/// of `id` bound in) does not make it root.
pub fn non_root_user_keeps_and_gains_no_capability(g: &Guest) -> Result<(), String> {
    g.ok("mkdir -p /root/suid-bin && cp /usr/bin/id /root/suid-bin/id && chmod 4755 /root/suid-bin/id")?;
    let out = script_output(
        g,
        "nonroot",
        "#app: user = 1000\n#app: volumes = [\"/root/suid-bin:/suid:ro\"]",
        "grep -E '^(CapEff|CapPrm|CapAmb|NoNewPrivs):' /proc/self/status; echo \"euid: $(/suid/id -u)\"",
    )?;
    for key in ["CapEff", "CapPrm", "CapAmb"] {
        if hex(&out, key)? != 0 {
            return Err(format!("a non-root user holds {key}:\n{out}"));
        }
    }
    if status_field(&out, "euid")? != "1000" || status_field(&out, "NoNewPrivs")? != "1" {
        return Err(format!(
            "the setuid binary ran as root, or no NoNewPrivs:\n{out}"
        ));
    }
    g.ok("podctl down --purge nonroot")?;
    Ok(())
}

/// `privileged = true`: every capability this host has (the guest's
/// systemd's bounding set), no seccomp filter of podctl's (a user namespace
/// can be made), and mounting works.
fn privileged_gives_everything(g: &Guest) -> Result<(), String> {
    let host = g.ok("sed -n 's/^CapBnd:\\t//p' /proc/1/status")?;
    let host = u64::from_str_radix(host.trim(), 16).map_err(|e| format!("CapBnd {host:?}: {e}"))?;
    let out = script_output(
        g,
        "priv",
        "#app: privileged = true",
        &format!(
            "grep '^CapEff:' /proc/self/status; mkdir -p /tmp/m && mount -t tmpfs x /tmp/m && echo 'mount: ok'; {USERNS}"
        ),
    )?;
    if hex(&out, "CapEff")? != host {
        return Err(format!(
            "privileged: want CapEff = the host's {host:#x}:\n{out}"
        ));
    }
    if !out.contains("mount: ok") || !out.contains("userns: ok") {
        return Err(format!(
            "a privileged container cannot mount or unshare:\n{out}"
        ));
    }
    g.ok("podctl down --purge priv")?;
    Ok(())
}

/// Makes a user namespace: denied by podctl's seccomp profile only (the
/// nspawn tier has a filter of its own, so `Seccomp:` is 2 there anyway).
const USERNS: &str = "unshare -U true && echo 'userns: ok'";

/// `capabilities`: add NET_ADMIN (the pod's network can be changed), drop
/// CHOWN (chown fails).
fn capabilities_add_and_drop(g: &Guest) -> Result<(), String> {
    let out = script_output(
        g,
        "caps",
        "#app: capabilities = { add = [\"NET_ADMIN\"], drop = [\"chown\"] }",
        "grep '^CapEff:' /proc/self/status; \
         ip addr add 10.9.9.9/32 dev lo && echo 'net_admin: ok'; \
         touch /tmp/f && chown 1:1 /tmp/f || echo 'chown: refused'",
    )?;
    let want = (DEFAULT_CAP_MASK | 1 << 12) & !1;
    if hex(&out, "CapEff")? != want {
        return Err(format!("CapEff should be {want:#x}:\n{out}"));
    }
    if !out.contains("net_admin: ok") || !out.contains("chown: refused") {
        return Err(format!(
            "NET_ADMIN added and CHOWN dropped should show:\n{out}"
        ));
    }
    g.ok("podctl down --purge caps")?;
    Ok(())
}

/// `read_only`: no writable /tmp; `no_new_privileges = false`: NoNewPrivs 0;
/// `seccomp = "unconfined"`: what podctl's profile denies works; a custom
/// profile applies.
fn read_only_nnp_and_seccomp_keys(g: &Guest) -> Result<(), String> {
    let out = script_output(
        g,
        "ro",
        "#app: read_only = true\n#app: no_new_privileges = false\n#app: seccomp = \"unconfined\"",
        &format!(
            "touch /tmp/x 2>/dev/null && echo 'tmp: writable' || echo 'tmp: read-only'; \
             grep -E '^NoNewPrivs:' /proc/self/status; {USERNS}"
        ),
    )?;
    if !out.contains("tmp: read-only")
        || status_field(&out, "NoNewPrivs")? != "0"
        || !out.contains("userns: ok")
    {
        return Err(format!(
            "read_only / no_new_privileges / seccomp keys:\n{out}"
        ));
    }
    // A profile of the user's: mkdir denied with EPERM, everything else allowed.
    g.ok(
        "mkdir -p /etc/podctl-test && cat > /etc/podctl-test/nomkdir.json <<'EOF'\n\
         {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": [\"SCMP_ARCH_X86_64\"],\n\
          \"syscalls\": [{\"names\": [\"mkdir\", \"mkdirat\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 1}]}\nEOF",
    )?;
    let out = script_output(
        g,
        "prof",
        "#app: seccomp = \"/etc/podctl-test/nomkdir.json\"",
        "mkdir /tmp/d 2>&1 || echo 'mkdir: refused'; grep '^Seccomp:' /proc/self/status",
    )?;
    if !out.contains("mkdir: refused") || status_field(&out, "Seccomp")? != "2" {
        return Err(format!("the custom profile did not apply:\n{out}"));
    }
    g.ok("podctl down --purge ro && podctl down --purge prof")?;
    Ok(())
}

/// Each pod has its own /dev/shm of `shm_size`, shared by its containers,
/// invisible to the host and other pods, gone after down.
fn one_dev_shm_per_pod(g: &Guest) -> Result<(), String> {
    let toml = "name = \"shm\"\nshm_size = \"16M\"\n\
        [containers.writer]\nrestart = \"never\"\n\
        command = [\"/bin/sh\", \"-c\", \"echo secret > /dev/shm/podctl-shm-test; df -k /dev/shm | tail -1; echo END; exec sleep infinity\"]\n\
        [containers.reader]\nrestart = \"never\"\nafter = [\"writer\"]\n\
        command = [\"/bin/sh\", \"-c\", \"sleep 1; cat /dev/shm/podctl-shm-test; echo END; exec sleep infinity\"]\n";
    apply(g, "shm", toml)?;
    let w = journal_until(g, "shm", "writer", "END")?;
    let size_kb: u64 = w
        .lines()
        .find(|l| l.contains("/dev/shm") || l.starts_with("tmpfs"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("no df line:\n{w}"))?;
    if size_kb != 16 * 1024 {
        return Err(format!("/dev/shm is {size_kb} KiB, want 16384:\n{w}"));
    }
    let r = journal_until(g, "shm", "reader", "END")?;
    if !r.lines().any(|l| l == "secret") {
        return Err(format!(
            "the pod's other container does not see its /dev/shm:\n{r}"
        ));
    }
    g.ok("! test -e /dev/shm/podctl-shm-test")?;
    let other = script_output(
        g,
        "shm2",
        "",
        "ls /dev/shm/podctl-shm-test 2>&1 || echo 'other pod: no'",
    )?;
    if !other.contains("other pod: no") {
        return Err(format!("another pod sees this pod's /dev/shm:\n{other}"));
    }
    g.ok("podctl down --purge shm && podctl down --purge shm2")?;
    g.ok(
        "! test -e /run/podctl/pods/shm && ! grep -q ' /run/podctl/pods/shm/' /proc/self/mountinfo",
    )?;
    Ok(())
}

/// A runtime that is not installed fails apply before anything changes,
/// naming the binary; a runtime that cannot run here says why in apply's
/// error and in `podctl status`, and nothing is left started.
fn runtime_errors_are_clear(g: &Guest) -> Result<(), String> {
    write_pod(
        g,
        "nort",
        "[containers.app]\nruntime = \"/opt/no/such-runtime\"\ncommand = [\"sleep\", \"6201\"]\n",
    )?;
    let out = g.sh("podctl apply /root/pods/nort.toml");
    if out.success()
        || !out
            .stderr
            .contains("the OCI runtime /opt/no/such-runtime is not installed")
    {
        return Err(format!(
            "apply with a missing runtime: {} {}",
            out.status, out.stderr
        ));
    }
    g.ok("! test -e /etc/podctl/pods/nort.toml && ! systemctl is-active pod@nort")?;
    // The default runtime missing (not in PATH): named, with its package.
    write_pod(
        g,
        "nocrun",
        "[containers.app]\ncommand = [\"sleep\", \"6204\"]\n",
    )?;
    let out = g.sh("PATH=/usr/local/bin podctl apply /root/pods/nocrun.toml");
    let want = "the OCI runtime crun is not installed (not found in PATH); install it with `apt-get install crun`";
    if out.success() || !out.stderr.contains(want) {
        return Err(format!(
            "apply without crun in PATH: {} {}",
            out.status, out.stderr
        ));
    }
    g.ok("! test -e /etc/podctl/pods/nocrun.toml && ! systemctl is-active pod@nocrun")?;
    let started = g.unit_property("pod@nocrun.service", "ExecMainStartTimestampMonotonic")?;
    if started != "0" {
        return Err(format!("pod@nocrun ran (started at {started})"));
    }
    // runc has no `disabled` cgroup manager, which this tier needs.
    write_pod(
        g,
        "runcfail",
        "[containers.app]\nruntime = \"runc\"\ncommand = [\"sleep\", \"6202\"]\n",
    )?;
    let out = g.sh("podctl apply /root/pods/runcfail.toml");
    let why = "runc cannot keep a container in its caller's cgroup";
    if out.success() || !out.stderr.contains(why) {
        return Err(format!("apply of runc here: {} {}", out.status, out.stderr));
    }
    let st = g.sh("podctl status runcfail").stdout;
    if !st.contains(why) {
        return Err(format!("podctl status does not say why:\n{st}"));
    }
    // Nothing of the pod is left started (the service stays failed: 78).
    g.ok("podctl down --purge runcfail || true")?;
    assert_gone(g, "runcfail", &["sleep 6202"])?;
    Ok(())
}

/// crun itself refusing to create a container (here: a file bound over a
/// directory): crun's own message is in the
/// apply error and in `podctl status`, and nothing of the pod stays
/// started, not even the container started before it; systemd does not
/// retry (78).
fn runtime_create_failure_leaves_nothing_started(g: &Guest) -> Result<(), String> {
    let path = write_pod(
        g,
        "crfail",
        "[containers.first]\ncommand = [\"sleep\", \"6205\"]\n\
         [containers.second]\ncommand = [\"sleep\", \"6206\"]\nafter = [\"first\"]\n\
         volumes = [\"/etc/hostname:/usr/share\"]\n",
    )?;
    let out = g.sh(&format!("podctl apply {path}"));
    // crun's message (from its --log), after podctl's words.
    let why = "run crfail.second failed (exit status: 1)";
    if out.success() || !out.stderr.contains(why) || !out.stderr.contains("Not a directory") {
        return Err(format!("apply: {} {}", out.status, out.stderr));
    }
    let st = g.sh("podctl status crfail");
    if !st.stdout.contains(why) || !st.stdout.contains("Not a directory") {
        return Err(format!(
            "podctl status does not say why:\n{}{}",
            st.stdout, st.stderr
        ));
    }
    wait_for(Duration::from_secs(20), "crfail's units gone", || {
        let units = g.ok(
            "systemctl list-units --all --no-legend --plain 'pod-crfail.*' | awk '$3 != \"inactive\"'",
        )?;
        let procs = g.ok("pgrep -f 'sleep 620[56]' | wc -l")?;
        Ok(units.is_empty() && procs == "0")
    })
    .map_err(|e| {
        format!(
            "{e}: {}",
            g.sh("systemctl list-units --all 'pod*crfail*'; pgrep -af 'sleep 620'")
                .stdout
        )
    })?;
    std::thread::sleep(Duration::from_secs(2)); // past RestartSec=1s
    g.expect_property("pod@crfail.service", "ActiveState", "failed")?;
    g.expect_property("pod@crfail.service", "ExecMainStatus", "78")?;
    g.expect_property("pod@crfail.service", "NRestarts", "0")?;
    // Nor does status say the first container still runs.
    let st = status(g, "crfail")?;
    let first = (
        container_field(&st, "first", "state"),
        container_field(&st, "first", "pid"),
    );
    if first.0 == "running" || first.1 != 0 {
        return Err(format!(
            "podctl status after the failure: first is {first:?}"
        ));
    }
    g.ok("podctl down --purge crfail")?;
    Ok(())
}
