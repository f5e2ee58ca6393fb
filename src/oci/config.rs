//! One container's OCI runtime config (`config.json`) from its plan. Pure:
//! every host fact it needs (the holder's PID, the resolved user, host
//! directories, the top level of the host's root) is in [`Context`].
//!
//! The shape, in mount order:
//! 1. the root: an empty directory of podctl's, read-only, with the host's
//!    top-level directories bind-mounted read-only (`pivot_root` cannot
//!    take `/` itself; a host-root container sees the host's files, never
//!    writes them);
//! 2. `/proc`, a private `/dev` (standard nodes only; the host's with
//!    `privileged`), `/dev/pts`, the pod's `/dev/shm`, `/dev/mqueue`, `/sys`
//!    read-only, its cgroup;
//! 3. a private `/tmp` and `/run` (so the host's /run/dbus, /run/systemd,
//!    /run/podctl are not there), podctl-pause as init at
//!    [`crate::model::defaults::INIT_PATH`], the container's own notify
//!    socket, the pod network's `/etc` files, the secrets;
//! 4. the volumes, in file order, then the secrets mounted inside a volume.

mod mounts;

use super::container::Container;
use super::seccomp;
use crate::model::Seccomp;
use crate::model::{caps, defaults};
use crate::plan::NsKind;
use mounts::mounts;
use oci_spec::runtime::{
    Capability, LinuxCapabilities, LinuxDevice, LinuxDeviceCgroup, LinuxDeviceType, LinuxNamespace,
    LinuxNamespaceType, LinuxResources, LinuxSeccomp, Process, Root, Spec, User,
};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// The OCI runtime spec version written.
const OCI_VERSION: &str = "1.0.2";

/// The user a container's command runs as, resolved on the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostUser {
    pub uid: u32,
    pub gid: u32,
    pub additional_gids: Vec<u32>,
}

impl HostUser {
    /// The user with `groups` (the pod's) among its supplemental groups too,
    /// after its own, each once.
    pub fn with_groups(mut self, groups: &[u32]) -> Self {
        for g in groups {
            if !self.additional_gids.contains(g) {
                self.additional_gids.push(*g);
            }
        }
        self
    }
}

/// A container's secrets as the host holds them ([`super::secrets`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provided {
    /// The host directory holding its secret files (the bind sources).
    pub dir: PathBuf,
    /// Environment variables with their secret values.
    pub env: Vec<(String, String)>,
}

/// What the config needs to know of the host, found at apply.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    /// The PID that owns the sandbox's namespaces (`/proc/PID/ns/*` are joined).
    pub holder_pid: u32,
    /// The `podctl-pause` binary on the host (the container's init).
    pub init: &'a Path,
    /// The container's root: an empty directory podctl made, with a
    /// directory (or symlink) for each of `host_root`.
    pub rootfs: &'a Path,
    /// Top-level directories of the host's root to show, read-only; sorted.
    /// (Symlinks such as `/bin -> usr/bin` are made in `rootfs` by apply.)
    pub host_root: &'a [String],
    /// The pod's /dev/shm on the host (a tmpfs of `shm_size`).
    pub shm: &'a Path,
    /// Where named volumes live: `/var/lib/podctl/volumes`.
    pub volumes: &'a Path,
    /// Where this pod's scratch volumes live.
    pub scratch: &'a Path,
    /// Where this pod's network files are (`hosts`, `resolv.conf`).
    pub net_files: &'a Path,
    /// The container's NOTIFY_SOCKET on the host, when `ready = "notify"`.
    pub notify_socket: Option<&'a Path>,
    /// `linux.cgroupsPath` (cgroupfs manager), or none (`disabled`).
    pub cgroups_path: Option<&'a str>,
    pub user: HostUser,
    /// The parsed profile of `seccomp = "/path.json"`.
    pub custom_seccomp: Option<&'a LinuxSeccomp>,
    /// The capabilities podctl itself may hand out (its bounding set, as a
    /// `/proc/self/status` mask): a container never asks for more, so that
    /// `privileged` means "all this host has" (systemd-nspawn withholds some).
    /// `None`: no limit.
    pub host_caps: Option<u64>,
    /// Its secrets' files and values; `None`: it has none.
    pub secrets: Option<&'a Provided>,
}

/// Directories of the host's root a container never sees through the root
/// bind mounts: the runtime mounts its own, or they are per-container.
pub const NOT_FROM_HOST: [&str; 6] = ["proc", "sys", "dev", "run", "tmp", "lost+found"];

/// Builds the config of container `c`.
pub fn build(c: &Container, ctx: &Context<'_>) -> Spec {
    let mut spec = Spec::default();
    spec.set_version(OCI_VERSION.to_string());
    let mut root = Root::default();
    root.set_path(ctx.rootfs.to_path_buf());
    // The host's root is never written; an image root is the container's
    // own (its upper layer) unless `read_only`.
    root.set_readonly(Some(c.image.is_none() || c.security.read_only));
    spec.set_root(Some(root));
    spec.set_hostname(None);
    spec.set_annotations(None);
    spec.set_mounts(Some(mounts(c, ctx)));
    spec.set_process(Some(process(c, ctx)));
    spec.set_linux(Some(linux(c, ctx)));
    spec
}

/// The config as JSON, deterministic (capability sets are hash sets in
/// `oci-spec`; here they are sorted), for `config.json` and expected files.
pub fn to_json(spec: &Spec) -> String {
    let mut v = serde_json::to_value(spec).expect("a Spec serializes");
    if let Some(caps) = v
        .pointer_mut("/process/capabilities")
        .and_then(|c| c.as_object_mut())
    {
        for set in caps.values_mut() {
            if let Some(list) = set.as_array_mut() {
                list.sort_by_key(|c| {
                    caps::CAPABILITIES
                        .iter()
                        .position(|n| Some(*n) == c.as_str())
                });
            }
        }
    }
    let mut out = serde_json::to_string_pretty(&v).expect("JSON values serialize");
    out.push('\n');
    out
}

/// The container's own notify socket, when it reports readiness with sd_notify.
fn notify_socket<'a>(c: &Container, ctx: &Context<'a>) -> Option<&'a Path> {
    ctx.notify_socket.filter(|_| c.notify)
}

fn cap_set(names: &[String], host: Option<u64>) -> HashSet<Capability> {
    names
        .iter()
        .filter(|n| host.is_none_or(|m| caps::mask([n.as_str()]) & m != 0))
        .map(|n| {
            serde_json::from_value(serde_json::Value::String(n.clone()))
                .expect("plan capabilities are canonical names oci-spec knows")
        })
        .collect()
}

fn process(c: &Container, ctx: &Context<'_>) -> Process {
    let s = &c.security;
    let mut p = Process::default();
    // With a terminal the runtime makes it in the container's devpts and
    // sends its master over the console socket (`--console-socket`).
    p.set_terminal(Some(c.process.tty));
    let mut user = User::default();
    user.set_uid(ctx.user.uid);
    user.set_gid(ctx.user.gid);
    // The pod's groups (fs_group, supplemental_groups) after the user's own.
    let gids = ctx
        .user
        .clone()
        .with_groups(&c.process.groups)
        .additional_gids;
    user.set_additional_gids(Some(gids).filter(|g| !g.is_empty()));
    user.set_umask(Some(0o022));
    p.set_user(user);
    // podctl-pause is the init: it starts the command, forwards signals to
    // it, reaps, and exits with its status.
    let mut args = vec![defaults::INIT_PATH.to_string(), "init".into(), "--".into()];
    args.extend(c.process.argv.iter().cloned());
    p.set_args(Some(args));
    let mut env: Vec<String> = c
        .process
        .env
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    if let Some(sock) = notify_socket(c, ctx) {
        env.push(format!("NOTIFY_SOCKET={}", sock.display()));
    }
    // Secrets last: over a plain value or the image's of the same name.
    for (k, v) in ctx.secrets.iter().flat_map(|s| &s.env) {
        let prefix = format!("{k}=");
        env.retain(|e| !e.starts_with(&prefix));
        env.push(format!("{k}={v}"));
    }
    p.set_env(Some(env));
    p.set_cwd(PathBuf::from(&c.process.workdir));
    let mut caps = LinuxCapabilities::default();
    caps.set_bounding(Some(cap_set(&s.bounding, ctx.host_caps)));
    caps.set_effective(Some(cap_set(&s.effective, ctx.host_caps)));
    caps.set_permitted(Some(cap_set(&s.effective, ctx.host_caps)));
    caps.set_inheritable(Some(cap_set(&s.ambient, ctx.host_caps)));
    caps.set_ambient(Some(cap_set(&s.ambient, ctx.host_caps)));
    p.set_capabilities(Some(caps));
    p.set_no_new_privileges(Some(s.no_new_privileges));
    p.set_rlimits(None);
    p.set_oom_score_adj(None);
    p.set_apparmor_profile(None);
    p.set_selinux_label(None);
    p
}

/// The device cgroup: everything for a privileged container; otherwise
/// nothing but the nodes of the private /dev (and new ptys).
fn device_rules(privileged: bool) -> LinuxResources {
    let rule =
        |allow: bool, typ: Option<LinuxDeviceType>, major: Option<i64>, minor: Option<i64>| {
            let mut r = LinuxDeviceCgroup::default();
            r.set_allow(allow);
            r.set_typ(typ);
            r.set_major(major);
            r.set_minor(minor);
            r.set_access(Some("rwm".into()));
            r
        };
    let mut rules = vec![rule(privileged, Some(LinuxDeviceType::A), None, None)];
    if !privileged {
        let c = Some(LinuxDeviceType::C);
        for &(_, major, minor) in &defaults::DEVICES {
            rules.push(rule(true, c, Some(major), Some(minor)));
        }
        // /dev/ptmx and the pts of the container's own devpts.
        rules.push(rule(true, c, Some(5), Some(2)));
        rules.push(rule(true, c, Some(136), None));
    }
    let mut r = LinuxResources::default();
    r.set_devices(Some(rules));
    r
}

fn ns_type(k: NsKind) -> LinuxNamespaceType {
    match k {
        NsKind::User => LinuxNamespaceType::User,
        NsKind::Cgroup => LinuxNamespaceType::Cgroup,
        NsKind::Ipc => LinuxNamespaceType::Ipc,
        NsKind::Uts => LinuxNamespaceType::Uts,
        NsKind::Net => LinuxNamespaceType::Network,
        NsKind::Pid => LinuxNamespaceType::Pid,
        NsKind::Mnt => LinuxNamespaceType::Mount,
    }
}

fn linux(c: &Container, ctx: &Context<'_>) -> oci_spec::runtime::Linux {
    let s = &c.security;
    let mut l = oci_spec::runtime::Linux::default();
    // Joined by path: the sandbox's; new: the container's own.
    let mut namespaces = Vec::new();
    for k in crate::plan::SETNS_ORDER {
        let mut ns = LinuxNamespace::default();
        ns.set_typ(ns_type(k));
        if c.joins.contains(&k) {
            ns.set_path(Some(PathBuf::from(format!(
                "/proc/{}/ns/{}",
                ctx.holder_pid,
                k.proc_name()
            ))));
        } else if !c.creates.contains(&k) {
            continue; // the host's
        }
        namespaces.push(ns);
    }
    l.set_namespaces(Some(namespaces));
    // The sandbox's user namespace is joined, never made: its maps are
    // written already. They are given too, as the same range, because runc
    // (1.1) refuses a user namespace without them; crun only joins.
    let mapping = |host: u32, size: u32| {
        oci_spec::runtime::LinuxIdMappingBuilder::default()
            .container_id(0u32)
            .host_id(host)
            .size(size)
            .build()
            .map(|m| vec![m])
            // Every field is set: the builder has nothing to refuse.
            .expect("a complete ID mapping")
    };
    l.set_uid_mappings(c.userns.map(|m| mapping(m.uid, m.size)));
    l.set_gid_mappings(c.userns.map(|m| mapping(m.gid, m.size)));
    // Limits are the scope's (systemd's); the runtime only makes a leaf,
    // with a device allowlist (runc denies every device without one).
    l.set_resources(Some(device_rules(s.privileged)));
    l.set_cgroups_path(ctx.cgroups_path.map(PathBuf::from));
    l.set_rootfs_propagation(Some("rprivate".into()));
    let sysctl: HashMap<String, String> = s.sysctls.iter().cloned().collect();
    l.set_sysctl(Some(sysctl).filter(|m| !m.is_empty()));
    if s.privileged {
        l.set_devices(None);
        l.set_masked_paths(None);
        l.set_readonly_paths(None);
    } else {
        let devices = defaults::DEVICES
            .iter()
            .map(|&(path, major, minor)| {
                let mut d = LinuxDevice::default();
                d.set_path(PathBuf::from(path));
                d.set_typ(LinuxDeviceType::C);
                d.set_major(major);
                d.set_minor(minor);
                d.set_file_mode(Some(0o666));
                d.set_uid(Some(0));
                d.set_gid(Some(0));
                d
            })
            .collect();
        l.set_devices(Some(devices));
        // A container without an image sees the host's root: its secrets
        // too. A volume the file mounts at or under one is the file's
        // choice (masks come after the mounts and would hide it).
        let host_secrets: &[&str] = if c.image.is_none() {
            &defaults::HOST_SECRETS
        } else {
            &[]
        };
        let under = |target: &str, p: &str| {
            target == p || target.strip_prefix(p).is_some_and(|r| r.starts_with('/'))
        };
        let secrets = host_secrets
            .iter()
            .filter(|p| !c.volumes.iter().any(|v| under(&v.target, p)));
        l.set_masked_paths(Some(
            defaults::MASKED_PATHS
                .iter()
                .chain(secrets)
                .map(|p| p.to_string())
                .collect(),
        ));
        l.set_readonly_paths(Some(
            defaults::READONLY_PATHS
                .iter()
                .map(|p| p.to_string())
                .collect(),
        ));
    }
    l.set_seccomp(match &s.seccomp {
        Seccomp::Default => Some(seccomp::default_profile(&s.bounding)),
        Seccomp::Unconfined => None,
        Seccomp::Profile(_) => ctx.custom_seccomp.cloned(),
    });
    l
}

#[cfg(test)]
mod tests;
