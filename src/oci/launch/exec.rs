//! `RUNTIME exec` for `podctl exec` and exec probes: the process's config
//! from the container's, its PID file, and its end.

use super::*;

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
