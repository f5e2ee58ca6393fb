//! Containers through an OCI runtime: the runtimes are
//! in the guests, and the config podctl generates (`podctl::oci`) runs under
//! crun there and confines a root process: each hostile attempt fails and
//! `/proc/self/status` shows the documented capabilities, no_new_privs and
//! seccomp filter.

use crate::rig::{Guest, TrialFn};
use podctl::oci::{self, Context, HostUser};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const TRIALS: &[(&str, TrialFn)] = &[
    ("oci::runtimes_run_in_the_guest", runtimes_run_in_the_guest),
    (
        "oci::default_config_confines_a_root_container",
        default_config_confines_a_root_container,
    ),
    (
        "oci::non_root_user_keeps_no_capability",
        non_root_user_keeps_no_capability,
    ),
];

/// crun (the default) and runc are installed in the guest and run.
fn runtimes_run_in_the_guest(g: &Guest) -> Result<(), String> {
    for rt in ["crun", "runc"] {
        let out = g.ok(&format!("{rt} --version"))?;
        if !out.starts_with(&format!("{rt} version")) {
            return Err(format!("`{rt} --version` printed {out:?}"));
        }
    }
    Ok(())
}

/// Podman's default capability set: CapEff of a default root container.
const DEFAULT_CAP_MASK: u64 = 0x8004_05fb;

/// Attempts a container must not manage, one per line as `NAME: RESULT`;
/// RESULT is `blocked` when the attempt failed, `ESCAPED` otherwise.
pub const HOSTILE: &[(&str, &str)] = &[
    ("mount-tmpfs", "mkdir -p /tmp/m && mount -t tmpfs x /tmp/m"),
    ("umount-proc", "umount /proc || umount -l /proc"),
    ("nsenter-pid1", "nsenter -t 1 -a true"),
    ("write-usr", "touch /usr/podctl-escape"),
    ("write-etc", "touch /etc/podctl-escape"),
    (
        "write-sys",
        "echo 1 > /sys/kernel/profiling || touch /sys/podctl-escape",
    ),
    ("mknod-block", "mknod /tmp/sda b 8 0 && head -c1 /tmp/sda"),
    ("read-run-podctl", "ls /run/podctl"),
    (
        "run-systemd-visible",
        "test -e /run/systemd/private || test -e /run/dbus/system_bus_socket",
    ),
    (
        "load-module",
        "python3 -c 'import ctypes,sys; l=ctypes.CDLL(None,use_errno=True); sys.exit(0 if l.syscall(313,-1,b\"\",0)==0 or ctypes.get_errno()!=1 else 1)'",
    ),
    (
        "reboot",
        "python3 -c 'import ctypes,sys; l=ctypes.CDLL(None,use_errno=True); sys.exit(0 if l.syscall(169,0xfee1dead,672274793,0,0)==0 or ctypes.get_errno()!=1 else 1)'",
    ),
    ("unshare-user", "unshare -U true"),
];

/// The shell script that tries each attempt and prints the results, then
/// the status lines the trials check.
pub fn hostile_script() -> String {
    let mut s = String::new();
    for (name, cmd) in HOSTILE {
        s.push_str(&format!(
            "if ( {cmd} ) >/dev/null 2>&1; then echo '{name}: ESCAPED'; else echo '{name}: blocked'; fi\n"
        ));
    }
    s.push_str("grep -E '^(CapEff|CapBnd|NoNewPrivs|Seccomp):' /proc/self/status\n");
    s
}

/// Checks the output of [`hostile_script`]: every attempt blocked.
pub fn all_blocked(out: &str) -> Result<(), String> {
    let mut missing = Vec::new();
    for (name, _) in HOSTILE {
        if !out.lines().any(|l| l == format!("{name}: blocked")) {
            missing.push(*name);
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!("not blocked: {missing:?}\n--- output:\n{out}"))
    }
}

/// The value of a `/proc/PID/status` line such as `CapEff:\t00000000800405fb`.
pub fn status_field<'a>(out: &'a str, key: &str) -> Result<&'a str, String> {
    out.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}:")))
        .map(str::trim)
        .ok_or_else(|| format!("no {key} line in:\n{out}"))
}

fn hex(out: &str, key: &str) -> Result<u64, String> {
    let v = status_field(out, key)?;
    u64::from_str_radix(v, 16).map_err(|e| format!("{key} {v:?}: {e}"))
}

/// Builds the config of `container` of `pod_toml` as podctl does, with its
/// command replaced by `sh -c script`, and runs it with
/// `crun --cgroup-manager=disabled run` (the only manager that works in the
/// nspawn tier). Returns the output (stdout and stderr).
pub fn run_bundle(
    g: &Guest,
    id: &str,
    pod_toml: &str,
    container: &str,
    script: &str,
) -> Result<String, String> {
    let pod = podctl::spec::parse_str(pod_toml, id, id).map_err(|d| d.to_string())?;
    let plan = podctl::plan::build(&pod);
    let c = plan
        .containers
        .iter()
        .find(|c| c.name == container)
        .ok_or("no such container")?;
    // The guest's top level, as apply reads it: directories are bound, symlinks made.
    let listing = g.ok("find / -mindepth 1 -maxdepth 1 -printf '%y %f %l\\n'")?;
    let mut dirs = Vec::new();
    let mut links = Vec::new();
    for line in listing.lines() {
        let mut parts = line.splitn(3, ' ');
        let (kind, name, target) = (
            parts.next().unwrap_or(""),
            parts.next().unwrap_or(""),
            parts.next().unwrap_or(""),
        );
        if oci::config::NOT_FROM_HOST.contains(&name) {
            continue;
        }
        match kind {
            "d" => dirs.push(name.to_string()),
            "l" => links.push((name.to_string(), target.to_string())),
            _ => {}
        }
    }
    dirs.sort();
    let bundle = PathBuf::from(format!("/root/oci/{id}"));
    let rootfs = bundle.join("rootfs");
    let shm = bundle.join("shm");
    let uid = match &c.process.user {
        Some(podctl::model::User::Id { uid, .. }) => *uid,
        _ => 0,
    };
    let ctx = Context {
        holder_pid: 1,
        init: Path::new("/usr/local/bin/podctl-pause"),
        rootfs: &rootfs,
        host_root: &dirs,
        shm: &shm,
        volumes: Path::new("/root/oci/volumes"),
        scratch: &bundle.join("scratch"),
        net_files: &bundle.join("net"),
        notify_socket: None,
        cgroups_path: None,
        user: HostUser {
            uid,
            gid: uid,
            additional_gids: vec![],
        },
        custom_seccomp: None,
        host_caps: None,
        secrets: None,
    };
    let mut spec = oci::build(&oci::Container::from_plan(&plan, c), &ctx);
    if let Some(p) = spec.process_mut() {
        p.set_args(Some(vec!["/bin/sh".into(), "-c".into(), script.into()]));
    }
    let json = oci::config::to_json(&spec);
    let mut prep = format!(
        "rm -rf {b} && mkdir -p {r} {s} && chmod 755 {r} && cd {r}",
        b = bundle.display(),
        r = rootfs.display(),
        s = shm.display()
    );
    for d in &dirs {
        prep.push_str(&format!(" && mkdir {d}"));
    }
    for (name, target) in &links {
        prep.push_str(&format!(" && ln -s {target} {name}"));
    }
    g.ok(&prep)?;
    g.ok(&format!(
        "cat > {}/config.json <<'PODCTL_EOF'\n{json}PODCTL_EOF",
        bundle.display()
    ))?;
    let out = g.sh_timeout(
        &format!(
            "crun --cgroup-manager=disabled run --bundle {} {id} 2>&1",
            bundle.display()
        ),
        Duration::from_secs(60),
    );
    let _ = g.sh(&format!(
        "crun delete -f {id} >/dev/null 2>&1; rm -rf {}",
        bundle.display()
    ));
    if out.status != 0 {
        return Err(format!(
            "crun run of {id} exited {}:\n{}{}",
            out.status, out.stdout, out.stderr
        ));
    }
    Ok(out.stdout)
}

const ROOT_POD: &str = "share = []\n[containers.app]\ncommand = [\"/bin/true\"]\n";

/// A root container with the defaults: every hostile attempt fails, it
/// holds Podman's 11 capabilities at most, no_new_privs and a seccomp filter.
fn default_config_confines_a_root_container(g: &Guest) -> Result<(), String> {
    let out = run_bundle(g, "oci-root", ROOT_POD, "app", &hostile_script())?;
    all_blocked(&out)?;
    let eff = hex(&out, "CapEff")?;
    if eff != DEFAULT_CAP_MASK || hex(&out, "CapBnd")? != DEFAULT_CAP_MASK {
        return Err(format!(
            "CapEff/CapBnd are not {DEFAULT_CAP_MASK:#x}:\n{out}"
        ));
    }
    if status_field(&out, "NoNewPrivs")? != "1" || status_field(&out, "Seccomp")? != "2" {
        return Err(format!("expected NoNewPrivs 1 and Seccomp 2:\n{out}"));
    }
    // The host's files were not touched.
    g.ok("! test -e /usr/podctl-escape && ! test -e /etc/podctl-escape")?;
    Ok(())
}

/// A non-root user holds no capability, and a setuid-root binary (a copy
/// of `id`, bound in) runs with the user's uid, not root's: no_new_privs
/// (and nosuid on every bind).
fn non_root_user_keeps_no_capability(g: &Guest) -> Result<(), String> {
    g.ok("mkdir -p /root/oci-suid && cp /usr/bin/id /root/oci-suid/id && chmod 4755 /root/oci-suid/id")?;
    let pod = "share = []\n[containers.app]\ncommand = [\"/bin/true\"]\nuser = 1000\n\
               volumes = [\"/root/oci-suid:/suid:ro\"]\n";
    let script =
        "grep -E '^(CapEff|CapPrm|NoNewPrivs):' /proc/self/status; echo \"euid: $(/suid/id -u)\"";
    let out = run_bundle(g, "oci-user", pod, "app", script)?;
    if hex(&out, "CapEff")? != 0 || hex(&out, "CapPrm")? != 0 {
        return Err(format!("a non-root user holds capabilities:\n{out}"));
    }
    if status_field(&out, "NoNewPrivs")? != "1" || status_field(&out, "euid")? != "1000" {
        return Err(format!(
            "expected NoNewPrivs 1 and the setuid id at euid 1000:\n{out}"
        ));
    }
    Ok(())
}
