//! The container helper's OCI path (`podctl __spawn`, once in its scope):
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
//! 4. the bundle: rootfs mirroring the host's top level, config.json, and
//!    runtime.json (what `podctl exec` needs to find the runtime again);
//! 5. subreaper; `delete --force` of a stale container of the same ID;
//!    `create` (the container's stdout/stderr are the log pipes), `start`;
//!    a failure deletes what was made;
//! 6. the init's PID, from the pid file.

use super::runtime::{CgroupMode, Cli, Runtime, RuntimeError};
use super::{Container, Context, Dirs, HostUser, bundle, cgroup, config, pod};
use crate::model::Seccomp;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

/// Whose fault a failed start is (the supervisor retries only transient ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The definition or the host's setup: retrying cannot help.
    Definition,
    Transient,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub fault: Fault,
    pub message: String,
}

fn definition(e: impl std::fmt::Display) -> Failure {
    Failure {
        fault: Fault::Definition,
        message: e.to_string(),
    }
}

fn transient(what: &str, e: impl std::error::Error) -> Failure {
    Failure {
        fault: Fault::Transient,
        message: format!("{what}: {}", crate::error_chain(&e)),
    }
}

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

/// The host facts the helper passes in (parameters for tests).
pub struct Host<'a> {
    pub dirs: &'a Dirs,
    /// podctl-pause, bound into the container as its init.
    pub pause: &'a Path,
    /// `/sys/fs/cgroup`.
    pub cgroup_root: &'a Path,
    /// The host's `/`, whose top level the container sees.
    pub root: &'a Path,
    /// PATH to find the runtime in.
    pub path: &'a str,
}

/// Steps 1-6 for container `c` whose sandbox holder is `ns_pid`; returns
/// the init's PID.
pub fn start(
    c: &Container,
    ns_pid: u32,
    user: HostUser,
    host: &Host<'_>,
    stdout: Stdio,
    stderr: Stdio,
) -> Result<u32, Failure> {
    let id = c.id();
    // 1.
    let program = super::runtime::check_installed(&c.runtime, host.path).map_err(definition)?;
    // 2.
    let mode = cgroup::detect(host.cgroup_root);
    let cgroups_path = match mode {
        CgroupMode::Cgroupfs => {
            let own = std::fs::read_to_string("/proc/self/cgroup")
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
    let bundle_dir = host.dirs.bundle(&id);
    let cli = Cli::new(
        &c.runtime,
        program,
        host.dirs.runtime_state(c.runtime.program()),
        host.dirs.run.join("oci-state").join(format!("{id}.log")),
        mode,
    )
    .map_err(definition)?;
    // 3.
    bundle::check_sources(c).map_err(definition)?;
    bundle::ensure_named_volumes(c, host.dirs).map_err(|e| transient("named volume", e))?;
    pod::ensure(c, host.dirs, &pod::Host).map_err(|e| transient("pod mounts", e))?;
    // 4.
    let custom = match &c.security.seccomp {
        Seccomp::Profile(p) => Some(load_profile(p).map_err(definition)?),
        _ => None,
    };
    let rootfs = bundle_dir.join("rootfs");
    // Never rewrite a bundle with a container's root still mounted in it.
    crate::image::overlay::unmount_root(&rootfs, &crate::image::overlay::Host);
    let (host_root, user) = match &c.image {
        None => {
            let h = bundle::read_host_root(host.root).map_err(|e| transient("host root", e))?;
            bundle::prepare(&bundle_dir, &h).map_err(|e| transient("bundle", e))?;
            (h, user)
        }
        Some(image) => {
            bundle::prepare(&bundle_dir, &Default::default())
                .map_err(|e| transient("bundle", e))?;
            (
                Default::default(),
                image_root(c, image, host.dirs, &rootfs)?,
            )
        }
    };
    let shm = host.dirs.shm(&c.pod);
    let notify = crate::runtime::notify_socket(&host.dirs.run, &c.pod, &c.name);
    let ctx = Context {
        holder_pid: ns_pid,
        init: host.pause,
        rootfs: &rootfs,
        host_root: &host_root.dirs,
        shm: &shm,
        volumes: &host.dirs.volumes(),
        scratch: &host.dirs.scratch(&c.pod),
        notify_socket: Some(&notify),
        cgroups_path: cgroups_path.as_deref(),
        user,
        custom_seccomp: custom.as_ref(),
        host_caps: own_bounding_set(),
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
    crate::runtime::create_private_dir(&cli.state_root)
        .map_err(|e| transient("runtime state directory", e))?;
    // 5.
    nix::sys::prctl::set_child_subreaper(true).map_err(|e| transient("become subreaper", e))?;
    run(&cli, &id, &bundle_dir, stdout, stderr)
}

/// Step 4 of an image container: its overlay root on `rootfs`, and its user
/// resolved in the image's own /etc/passwd and /etc/group.
fn image_root(
    c: &Container,
    image: &crate::image::run::ImagePlan,
    dirs: &Dirs,
    rootfs: &Path,
) -> Result<HostUser, Failure> {
    use crate::image::overlay::{self, MountPoint};
    let mut points: Vec<MountPoint> = overlay::BASE_MOUNT_POINTS
        .iter()
        .map(|d| MountPoint::Dir(d.to_string()))
        .collect();
    points.extend(c.etc_files.iter().map(|(_, d)| MountPoint::File(d.clone())));
    for v in &c.volumes {
        let file =
            matches!(&v.source, crate::model::VolumeSource::Bind(s) if !Path::new(s).is_dir());
        points.push(if file {
            MountPoint::File(v.target.clone())
        } else {
            MountPoint::Dir(v.target.clone())
        });
    }
    let stored = image.stored.as_ref().ok_or_else(|| {
        definition(format!(
            "image {} was not looked up in the store before the start",
            image.reference
        ))
    })?;
    overlay::mount_root(
        stored,
        &dirs.containers(),
        (&c.pod, &c.name),
        c.security.read_only,
        &points,
        rootfs,
        &overlay::Host,
    )
    .map_err(|e| match e {
        overlay::RootError::LayerMissing { .. } | overlay::RootError::Options { .. } => {
            definition(e)
        }
        _ => transient("image root", e),
    })?;
    let ids = crate::image::users::resolve(rootfs, c.process.user.as_ref())
        .map_err(|e| definition(format!("image {}: {e}", stored.name)))?;
    Ok(HostUser {
        uid: ids.uid,
        gid: ids.gid,
        additional_gids: ids.groups,
    })
}

/// Step 5 and 6 against any [`Runtime`].
pub fn run(
    rt: &dyn Runtime,
    id: &str,
    bundle: &Path,
    stdout: Stdio,
    stderr: Stdio,
) -> Result<u32, Failure> {
    let pid_file = bundle.join("init.pid");
    let _ = rt.delete(id, true);
    if let Err(e) = rt.run_detached(id, bundle, &pid_file, stdout, stderr) {
        let _ = rt.delete(id, true);
        return Err(runtime_failure(e));
    }
    let text = std::fs::read_to_string(&pid_file).map_err(|e| transient("read the pid file", e))?;
    let init: u32 = text.trim().parse().map_err(|_| Failure {
        fault: Fault::Transient,
        message: format!("{}: not a PID: {text:?}", pid_file.display()),
    })?;
    wait_for_command(init);
    Ok(init)
}

/// How long the init may take to fork the command after `start`.
const COMMAND_FORK_TIMEOUT: Duration = Duration::from_secs(2);

/// Waits until the init has forked the command (or ended, or the timeout):
/// from then on the container's PID is the command's, as users mean it.
fn wait_for_command(init: u32) {
    let children = format!("/proc/{init}/task/{init}/children");
    let deadline = std::time::Instant::now() + COMMAND_FORK_TIMEOUT;
    while std::time::Instant::now() < deadline {
        match std::fs::read_to_string(&children) {
            Ok(c) if c.trim().is_empty() => std::thread::sleep(Duration::from_millis(2)),
            _ => return,
        }
    }
}

/// A runtime that refuses a container refuses it again: the config or the
/// host is at fault, not the moment.
fn runtime_failure(e: RuntimeError) -> Failure {
    match e {
        RuntimeError::Spawn { .. } => transient("runtime", e),
        _ => definition(e),
    }
}

/// This process's bounding set (`CapBnd` of /proc/self/status).
fn own_bounding_set() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let hex = status.lines().find_map(|l| l.strip_prefix("CapBnd:"))?;
    u64::from_str_radix(hex.trim(), 16).ok()
}

/// Where `RUNTIME exec` started by helper `helper_pid` writes the PID of the
/// process it runs (so that a timed-out probe can be killed whole: the
/// runtime puts it in a session of its own).
pub fn exec_pid_file(dirs: &Dirs, id: &str, helper_pid: u32) -> PathBuf {
    dirs.bundle(id).join(format!("exec-{helper_pid}.pid"))
}

/// After an exec helper `helper_pid` for the container of `command_pid` has
/// been killed: SIGKILL to the process group of what it ran in the
/// container (a timed-out probe and whatever it started); then forgets the
/// pid file. With `kill` false, only forgets it.
pub fn end_exec(dirs: &Dirs, command_pid: u32, helper_pid: u32, kill: bool) {
    use nix::sys::signal::{Signal, kill as send, killpg};
    use nix::unistd::Pid;
    let cgroup = std::fs::read_to_string(format!("/proc/{command_pid}/cgroup")).unwrap_or_default();
    let Some(info) = ExecInfo::for_cgroup(dirs, &cgroup) else {
        return;
    };
    let file = exec_pid_file(dirs, &info.id, helper_pid);
    if kill
        && let Some(pid) = std::fs::read_to_string(&file)
            .ok()
            .and_then(|t| t.trim().parse::<i32>().ok())
            .filter(|&p| p > 1)
    {
        // The group it leads (setsid) or belongs to; never ours.
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let pgid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(2))
            .and_then(|g| g.parse::<i32>().ok())
            .filter(|&g| g > 1 && g != nix::unistd::getpgrp().as_raw());
        if let Some(g) = pgid {
            let _ = killpg(Pid::from_raw(g), Signal::SIGKILL);
        }
        let _ = send(Pid::from_raw(pid), Signal::SIGKILL);
    }
    let _ = std::fs::remove_file(&file);
}

/// What `podctl exec` sets for its command instead of the container's.
pub struct ExecAs<'a> {
    /// The process gets a terminal from the runtime (`exec --tty`).
    pub tty: bool,
    pub env: &'a [(String, String)],
    pub workdir: &'a str,
    /// None: root.
    pub user: Option<HostUser>,
}

/// The process of a `podctl exec` or exec probe (`RUNTIME exec --process
/// FILE`): the container's (capabilities, no_new_privs, environment, user,
/// workdir) from its `config.json`, running `argv`; `with` replaces the
/// environment, workdir and user (None: root), and a non-root user keeps
/// only the container's ambient capabilities, as its own command would.
/// (Plain `crun exec ID ARGV` leaves no_new_privs off.)
pub fn exec_process(
    config: &Path,
    argv: &[String],
    with: Option<ExecAs<'_>>,
) -> Result<String, String> {
    let text = std::fs::read(config).map_err(|e| format!("{}: {e}", config.display()))?;
    let spec: oci_spec::runtime::Spec =
        serde_json::from_slice(&text).map_err(|e| format!("{}: {e}", config.display()))?;
    let mut p = spec
        .process()
        .clone()
        .ok_or_else(|| format!("{}: no process", config.display()))?;
    // The container's process runs its init; this one runs argv itself.
    p.set_args(Some(argv.to_vec()));
    p.set_terminal(Some(false));
    let Some(ExecAs {
        tty,
        env,
        workdir,
        user,
    }) = with
    else {
        return serde_json::to_string(&p).map_err(|e| e.to_string());
    };
    p.set_terminal(Some(tty));
    p.set_env(Some(env.iter().map(|(k, v)| format!("{k}={v}")).collect()));
    p.set_cwd(PathBuf::from(workdir));
    let user = user.unwrap_or(HostUser {
        uid: 0,
        gid: 0,
        additional_gids: vec![],
    });
    let mut u = p.user().clone();
    u.set_uid(user.uid);
    u.set_gid(user.gid);
    u.set_additional_gids(Some(user.additional_gids).filter(|g| !g.is_empty()));
    p.set_user(u);
    if user.uid != 0
        && let Some(caps) = p.capabilities().clone()
    {
        let mut caps = caps;
        let ambient = caps.ambient().clone().unwrap_or_default();
        caps.set_effective(Some(ambient.clone()));
        caps.set_permitted(Some(ambient.clone()));
        caps.set_inheritable(Some(ambient));
        p.set_capabilities(Some(caps));
    }
    serde_json::to_string(&p).map_err(|e| e.to_string())
}

/// A custom seccomp profile: the `linux.seccomp` object of an OCI config.
fn load_profile(path: &str) -> Result<oci_spec::runtime::LinuxSeccomp, String> {
    let text = std::fs::read(path).map_err(|e| format!("seccomp profile {path}: {e}"))?;
    serde_json::from_slice(&text).map_err(|e| format!("seccomp profile {path}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oci::runtime::Fake;

    #[test]
    fn exec_finds_the_runtime_from_the_cgroup() {
        let tmp = std::env::temp_dir().join(format!("podctl-execinfo-{}", std::process::id()));
        let dirs = Dirs {
            run: tmp.clone(),
            lib: tmp.clone(),
        };
        let info = ExecInfo {
            id: "web.app".into(),
            program: "/usr/bin/crun".into(),
            state_root: "/r".into(),
            log: "/l".into(),
            cgroupfs: true,
            is_crun: true,
        };
        std::fs::create_dir_all(dirs.bundle("web.app")).unwrap();
        std::fs::write(
            dirs.bundle("web.app").join("runtime.json"),
            serde_json::to_vec(&info).unwrap(),
        )
        .unwrap();
        let v2 = "0::/pod.slice/pod-web.slice/pod-web.app.scope/payload\n";
        assert_eq!(ExecInfo::for_cgroup(&dirs, v2), Some(info.clone()));
        let hybrid = "12:pids:/\n1:name=systemd:/pod.slice/pod-web.slice/pod-web.app.scope\n0::/\n";
        assert_eq!(ExecInfo::for_cgroup(&dirs, hybrid), Some(info));
        assert_eq!(
            ExecInfo::for_cgroup(&dirs, "0::/pod.slice/pod-web.slice/pod-web.db.scope\n"),
            None
        );
        std::fs::remove_dir_all(&tmp).unwrap();
    }

    #[test]
    fn create_start_and_pid() {
        let dir = std::env::temp_dir().join(format!("podctl-ocilaunch-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("init.pid"), "4321").unwrap();
        let rt = Fake::default();
        let pid = run(&rt, "web.app", &dir, Stdio::null(), Stdio::null()).unwrap();
        assert_eq!(pid, 4321);
        assert_eq!(
            *rt.calls.borrow(),
            ["delete web.app", "create web.app", "start web.app"]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_failed_start_leaves_nothing_and_says_why() {
        let rt = Fake {
            fail: vec!["start"],
            ..Default::default()
        };
        let e = run(
            &rt,
            "web.app",
            Path::new("/nonexistent"),
            Stdio::null(),
            Stdio::null(),
        )
        .unwrap_err();
        assert_eq!(e.fault, Fault::Definition);
        assert_eq!(
            e.message,
            "fake start web.app failed (exit status: 1): start refused"
        );
        assert_eq!(
            *rt.calls.borrow(),
            [
                "delete web.app",
                "create web.app",
                "start web.app",
                "delete web.app"
            ]
        );
    }
}
