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
    /// Its terminal's size (rows, columns) from the start: set by the
    /// runtime when it makes the terminal, before the command runs (a size
    /// copied over once the terminal is passed back would come after a
    /// command that reads it at once, as `stty size` does).
    pub console_size: Option<(u16, u16)>,
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
        console_size,
        env,
        workdir,
        user,
    }) = with
    else {
        return serde_json::to_string(&p).map_err(|e| e.to_string());
    };
    p.set_terminal(Some(tty));
    if let Some((rows, columns)) = console_size.filter(|_| tty) {
        let size = oci_spec::runtime::BoxBuilder::default()
            .height(rows)
            .width(columns)
            .build()
            .map_err(|e| format!("console size: {e}"))?;
        p.set_console_size(Some(size));
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A `podctl exec -t` command's terminal has its size when the runtime
    /// makes it, so a command that reads it at once (`stty size`) sees it.
    #[test]
    fn a_terminal_is_made_with_the_callers_size() {
        let dir = std::env::temp_dir().join(format!("podctl-exec-size-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let config = dir.join("config.json");
        std::fs::write(
            &config,
            r#"{"ociVersion":"1.0.2","process":{"cwd":"/","args":["sleep","1"],"user":{"uid":0,"gid":0}}}"#,
        )
        .unwrap();
        let shown = |tty: bool| -> serde_json::Value {
            let with = ExecAs {
                tty,
                console_size: Some((45, 123)),
                env: &[],
                workdir: "/",
                user: None,
            };
            let argv = ["sh".to_string()];
            serde_json::from_str(&exec_process(&config, &argv, Some(with)).unwrap()).unwrap()
        };
        let size = &shown(true)["consoleSize"];
        assert_eq!((&size["height"], &size["width"]), (&45.into(), &123.into()));
        assert!(shown(false).get("consoleSize").is_none());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
