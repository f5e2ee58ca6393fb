//! The container helper's OCI path (`podctl __spawn`):
//! write the bundle, then have the runtime create and start the container,
//! as conmon does. The helper then becomes `podctl-pause relay INIT`: the
//! subreaper the container's init is reparented to, carrying its output to
//! journald and reporting its exit status.
//!
//! Steps, in order (each failure says which):
//! 1. the runtime binary is installed (else: its name and package);
//! 2. cgroups: on a v2 host, the helper moves to the scope's `relay` leaf
//!    and the container gets `payload`; elsewhere it stays in the scope;
//! 3. bind sources exist; named volumes, the pod's /dev/shm and scratch
//!    volumes are there;
//! 4. the bundle: rootfs mirroring the host's top level (or an image's
//!    overlay root), its volumes attached idmapped in a pod's user
//!    namespace, config.json, and runtime.json (what `podctl exec` needs
//!    to find the runtime again);
//! 5. subreaper; `delete --force` of a stale container of the same ID;
//!    `run --detach` (the container's stdout/stderr are the log pipes); a
//!    failure deletes what was made;
//! 6. the init's PID, from the pid file (it becomes this process's child,
//!    a subreaper's, when the runtime's own process exits; the relay this
//!    process becomes reaps that process too).
//!
//! Steps 1, 3 and 4 but the config ([`prepare`]) need neither the scope nor
//! the sandbox: the helper does them before it is released, while systemd
//! creates the pod's units; the rest ([`start`]) once released.

mod exec;
mod run;

use super::failure::{Failure, definition, transient};
use super::runtime::{CgroupMode, Cli};
use super::{Container, Context, Dirs, HostUser, bundle, cgroup, config, pod};
use crate::model::Seccomp;
pub use exec::{ExecAs, end_exec, exec_pid_file, exec_process};
pub use run::{Io, Started, run};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The relay leaf as systemd's AttachProcessesToUnit takes it.
const RELAY_SUBCGROUP: &str = "/relay";

/// How `podctl exec` reaches a running container's runtime; `runtime.json`
/// in its bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecInfo {
    pub id: String,
    pub program: PathBuf,
    pub state_root: PathBuf,
    pub log: PathBuf,
    pub cgroupfs: bool,
    pub is_crun: bool,
}

impl ExecInfo {
    pub fn cli(&self) -> Cli {
        Cli {
            program: self.program.clone(),
            state_root: self.state_root.clone(),
            log: self.log.clone(),
            cgroups: if self.cgroupfs {
                CgroupMode::Cgroupfs
            } else {
                CgroupMode::Disabled
            },
            is_crun: self.is_crun,
        }
    }

    /// The exec info of the container a process is in, from its
    /// `/proc/PID/cgroup` text (its scope is `pod-POD.CONTAINER.scope`).
    pub fn for_cgroup(dirs: &Dirs, proc_cgroup: &str) -> Option<ExecInfo> {
        let (pod, container) = proc_cgroup
            .lines()
            .filter_map(|l| l.splitn(3, ':').nth(2))
            .flat_map(|path| path.split('/'))
            .filter_map(|c| c.strip_prefix("pod-")?.strip_suffix(".scope"))
            .find_map(|name| name.split_once('.'))?;
        ExecInfo::load(dirs, pod, container)
    }

    /// Where in its scope a helper for the container that process `pid`
    /// belongs to is attached: its relay leaf when the container has its
    /// own cgroup under the scope (cgroupfs), else the scope itself ("").
    pub fn attach_point(dirs: &Dirs, pid: u32) -> &'static str {
        let cgroup = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap_or_default();
        match ExecInfo::for_cgroup(dirs, &cgroup) {
            Some(info) if info.cgroupfs => RELAY_SUBCGROUP,
            _ => "",
        }
    }

    /// The exec info of container `pod`/`container`, if it runs through a runtime.
    pub fn load(dirs: &Dirs, pod: &str, container: &str) -> Option<ExecInfo> {
        let path = dirs
            .bundle(&format!("{pod}.{container}"))
            .join("runtime.json");
        serde_json::from_slice(&std::fs::read(path).ok()?).ok()
    }
}

/// Where a start finds what it needs on the host, passed in by the
/// container helper (parameters for tests).
pub struct HostPaths<'a> {
    pub dirs: &'a Dirs,
    /// podctl-pause, bound into the container as its init.
    pub pause: &'a Path,
    /// `/sys/fs/cgroup`.
    pub cgroup_root: &'a Path,
    /// procfs (`/proc`): this process's cgroup.
    pub proc: &'a Path,
    /// The host's `/`, whose top level the container sees.
    pub root: &'a Path,
    /// PATH to find the runtime in.
    pub path: &'a str,
    /// The container's NOTIFY_SOCKET on the host, bound in when it
    /// reports readiness.
    pub notify_socket: PathBuf,
}

/// What [`prepare`] made ready before the container's scope exists: the
/// runtime, the bundle's root and what the config needs besides the
/// sandbox's namespaces and the container's cgroup.
pub struct Prepared {
    program: PathBuf,
    mode: CgroupMode,
    bundle_dir: PathBuf,
    rootfs: PathBuf,
    host_root: bundle::HostRoot,
    user: HostUser,
    custom: Option<oci_spec::runtime::LinuxSeccomp>,
}

/// Steps 1, 3 and 4 (all but the config) for container `c`: what does not
/// need the container's scope nor the sandbox's namespaces. The helper does
/// it while it waits to be released, so it runs while systemd creates the
/// pod's units (seconds under emulation, off the start's critical path).
pub fn prepare(c: &Container, user: HostUser, host: &HostPaths<'_>) -> Result<Prepared, Failure> {
    // 1.
    let program = super::runtime::check_installed(&c.runtime, host.path).map_err(definition)?;
    let mode = cgroup::detect(host.cgroup_root);
    // 3.
    bundle::check_sources(c).map_err(definition)?;
    // Host-root containers only (an image's root takes new targets).
    if c.image.is_none() {
        super::volumes::check_host_targets(&c.name, &c.volumes, host.root).map_err(definition)?;
    }
    bundle::ensure_named_volumes(c, host.dirs).map_err(|e| transient("named volume", e))?;
    bundle::give_named_volumes_group(c, host.dirs)
        .map_err(|e| transient("named volume's fs_group", e))?;
    pod::ensure(c, host.dirs, &crate::mount::SystemMounts)
        .map_err(|e| transient("pod mounts", e))?;
    // 4.
    let custom = match &c.security.seccomp {
        Seccomp::Profile(p) => Some(load_profile(p).map_err(definition)?),
        _ => None,
    };
    let bundle_dir = host.dirs.bundle(&c.id());
    let rootfs = bundle_dir.join("rootfs");
    let m = &crate::mount::SystemMounts;
    // Never rewrite a bundle with a container's root still mounted in it.
    crate::image::overlay::unmount_root(&rootfs, m);
    let host_root = match &c.image {
        None => bundle::read_host_root(host.root, c.rootless.is_some())
            .map_err(|e| transient("host root", e))?,
        Some(_) => Default::default(),
    };
    bundle::prepare(&bundle_dir, &host_root, m).map_err(|e| transient("bundle", e))?;
    if let Some(map) = c.userns {
        bundle::open_to_namespace_root(&bundle_dir, map, m).map_err(|e| transient("bundle", e))?;
        bundle::attach_volumes(c, &bundle_dir, host.dirs, map, m).map_err(volume_failure)?;
    }
    let user = match &c.image {
        None => user,
        Some(image) => super::image_root::mount(c, image, host.dirs, &rootfs)?,
    };
    super::userns::let_through(c, host.dirs)
        .map_err(|e| transient("paths for the pod's user namespace", e))?;
    Ok(Prepared {
        program,
        mode,
        bundle_dir,
        rootfs,
        host_root,
        user,
        custom,
    })
}

/// Steps 2, 4 (the config), 5 and 6 for container `c`, [`prepare`]d, once
/// this process is in the container's scope and the sandbox holder is
/// `ns_pid`; returns the init's PID (and its terminal's master).
pub fn start(
    c: &Container,
    secrets: &super::secrets::SecretValues,
    prepared: Prepared,
    ns_pid: u32,
    host: &HostPaths<'_>,
    io: Io<'_>,
) -> Result<Started, Failure> {
    let id = c.id();
    let Prepared {
        program,
        mode,
        bundle_dir,
        rootfs,
        host_root,
        user,
        custom,
    } = prepared;
    // 2.
    let cgroups_path = match mode {
        CgroupMode::Cgroupfs => {
            let own = std::fs::read_to_string(host.proc.join("self/cgroup"))
                .map_err(|e| transient("read /proc/self/cgroup", e))?;
            let scope = cgroup::own_path(&own)
                .ok_or_else(|| definition("no cgroup v2 path in /proc/self/cgroup"))?
                .to_string();
            Some(
                cgroup::enter_relay_leaf(host.cgroup_root, &scope)
                    .map_err(|e| transient("move into the scope's relay cgroup", e))?,
            )
        }
        CgroupMode::Disabled => None,
    };
    let cli = Cli::new(
        &c.runtime,
        program,
        host.dirs.runtime_state(c.runtime.program()),
        host.dirs.run.join("oci-state").join(format!("{id}.log")),
        mode,
    )
    .map_err(definition)?;
    // 4: the config, after the secret files it binds.
    let provided = super::secrets::provide(c, secrets, host.dirs, &user).map_err(|e| match e {
        super::secrets::SecretError::Write { .. } => transient("secrets", e),
        e => definition(crate::error_chain(&e)),
    })?;
    let shm = host.dirs.shm(&c.pod);
    let ctx = Context {
        holder_pid: ns_pid,
        init: host.pause,
        rootfs: &rootfs,
        host_root: &host_root.dirs,
        shm: &shm,
        volumes: &host.dirs.volumes(),
        scratch: &host.dirs.scratch(&c.pod),
        net_files: &host.dirs.net_files(&c.pod),
        notify_socket: Some(&host.notify_socket),
        cgroups_path: cgroups_path.as_deref(),
        user,
        custom_seccomp: custom.as_ref(),
        host_caps: own_bounding_set(),
        secrets: provided.as_ref(),
    };
    let json = config::to_json(&config::build(c, &ctx));
    bundle::write_config(&bundle_dir, &json).map_err(|e| transient("bundle", e))?;
    let info = ExecInfo {
        id: id.clone(),
        program: cli.program.clone(),
        state_root: cli.state_root.clone(),
        log: cli.log.clone(),
        cgroupfs: mode == CgroupMode::Cgroupfs,
        is_crun: cli.is_crun,
    };
    let info_json = serde_json::to_vec(&info).expect("ExecInfo serializes");
    std::fs::write(bundle_dir.join("runtime.json"), info_json)
        .map_err(|e| transient("write runtime.json", e))?;
    crate::private::create_private_dir(&cli.state_root)
        .map_err(|e| transient("runtime state directory", e))?;
    // 5.
    nix::sys::prctl::set_child_subreaper(true).map_err(|e| transient("become subreaper", e))?;
    run(&cli, &id, &bundle_dir, host.proc, io)
}

/// A volume that could not be attached idmapped: the host's kernel or a
/// filesystem that cannot idmap is the definition's fault (it asks for a
/// user namespace this host cannot give its volumes).
fn volume_failure(e: bundle::BundleError) -> Failure {
    match &e {
        bundle::BundleError::Idmap(i) if i.is_unsupported() => definition(e),
        _ => transient("volume", e),
    }
}

/// This process's bounding set (`CapBnd` of /proc/self/status).
fn own_bounding_set() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let hex = status.lines().find_map(|l| l.strip_prefix("CapBnd:"))?;
    u64::from_str_radix(hex.trim(), 16).ok()
}

/// A custom seccomp profile: the `linux.seccomp` object of an OCI config.
fn load_profile(path: &str) -> Result<oci_spec::runtime::LinuxSeccomp, String> {
    let text = std::fs::read(path).map_err(|e| format!("seccomp profile {path}: {e}"))?;
    serde_json::from_slice(&text).map_err(|e| format!("seccomp profile {path}: {e}"))
}

#[cfg(test)]
mod tests;
