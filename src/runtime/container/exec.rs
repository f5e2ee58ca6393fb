//! The last steps of a container helper's processes, and what they share
//! with `podctl __enter`: exec the relay and the command, the user and
//! program lookups, the journal stream, SIGPIPE.

use super::*;

pub(super) fn exec_relay(
    pause: &Path,
    child: i32,
    logs: Option<&(OwnedFd, OwnedFd)>,
) -> Result<std::convert::Infallible, String> {
    use std::os::fd::AsRawFd;
    let path = cstring(&pause.to_string_lossy())?;
    let mut argv = vec![
        path.clone(),
        cstring("relay")?,
        cstring(&child.to_string())?,
    ];
    if let Some((out, err)) = logs {
        argv.push(cstring(&out.as_raw_fd().to_string())?);
        argv.push(cstring(&err.as_raw_fd().to_string())?);
    }
    let env: [CString; 0] = [];
    Err(format!(
        "exec {}: {}",
        pause.display(),
        nix::unistd::execve(&path, &argv, &env).unwrap_err()
    ))
}

pub(super) fn exec_command(
    spec: &LaunchSpec,
    creds: &Creds,
    exe: &CString,
) -> Result<std::convert::Infallible, Failure> {
    let p = &spec.process;
    if let Some(c) = creds {
        step("setgroups", nix::unistd::setgroups(&c.groups))?;
        step("setgid", nix::unistd::setgid(c.gid))?;
        step("setuid", nix::unistd::setuid(c.uid))?;
    }
    step(
        &format!("chdir {}", p.workdir),
        nix::unistd::chdir(p.workdir.as_str()),
    )?;
    step("restore SIGPIPE", default_sigpipe())?;
    step(
        "unblock signals",
        sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None),
    )?;
    let argv: Vec<CString> = p
        .argv
        .iter()
        .map(|a| cstring(a))
        .collect::<Result<_, _>>()?;
    let env: Vec<CString> = p
        .env
        .iter()
        .map(|(k, v)| cstring(&format!("{k}={v}")))
        .collect::<Result<_, _>>()?;
    let e = nix::unistd::execve(exe, &argv, &env).unwrap_err();
    let message = format!("cannot execute {}: {e}", exe.to_string_lossy());
    // A file that is not there or not executable is the definition's fault;
    // anything else (ENOMEM, ETXTBSY...) may pass on a retry.
    use nix::errno::Errno;
    Err(match e {
        Errno::ENOENT | Errno::ENOTDIR | Errno::EACCES | Errno::ENOEXEC => {
            Failure::definition(message)
        }
        _ => message.into(),
    })
}

/// Gives SIGPIPE back its default action (Rust's runtime ignores it, and an
/// ignored signal stays ignored across execve): `cmd | head` must end `cmd`.
pub(crate) fn default_sigpipe() -> nix::Result<()> {
    // SAFETY: SIG_DFL installs no handler; called in a single-threaded process before exec.
    unsafe { nix::sys::signal::signal(Signal::SIGPIPE, nix::sys::signal::SigHandler::SigDfl) }
        .map(|_| ())
}

pub(crate) fn cstring(s: &str) -> Result<CString, String> {
    CString::new(s).map_err(|_| format!("{s:?} contains a NUL byte"))
}

/// Connects to journald's stream socket with the given identifier, unit and
/// priority. journald reads the sender's cgroup when it processes a line and
/// uses the header's unit only when that fails (the sender has exited).
/// `socket`: journald's stream socket ([`crate::runtime::HostRoots::journal_stdout`]).
pub(super) fn journal_stream(
    socket: &Path,
    ident: &str,
    unit: &str,
    priority: u8,
) -> std::io::Result<OwnedFd> {
    let mut s = UnixStream::connect(socket)?;
    s.write_all(stream_header(ident, unit, priority).as_bytes())?;
    s.shutdown(std::net::Shutdown::Read)?;
    Ok(OwnedFd::from(s))
}

/// journald's stream header: identifier, unit id, priority, level prefix
/// (`<3>` from the relay for stderr), syslog, kmsg, console.
pub(super) fn stream_header(ident: &str, unit: &str, priority: u8) -> String {
    format!("{ident}\n{unit}\n{priority}\n1\n0\n0\n0\n")
}

pub(crate) type Creds = Option<Cred>;

pub(crate) struct Cred {
    pub(crate) uid: Uid,
    pub(crate) gid: Gid,
    pub(crate) groups: Vec<Gid>,
}

/// Resolves the container's user on this host: a name, a uid or uid:gid.
/// A name the host does not know is the definition's fault; a lookup that
/// fails (NSS not ready at boot) is transient.
pub(crate) fn resolve_user(user: Option<&User>) -> Result<Creds, Failure> {
    let Some(user) = user else { return Ok(None) };
    let lookup_err = |e| Failure::from(format!("user {user}: {e}"));
    match user {
        User::Name(name) => {
            let u = nix::unistd::User::from_name(name)
                .map_err(lookup_err)?
                .ok_or_else(|| {
                    Failure::definition(format!("user {name:?} does not exist on this host"))
                })?;
            let cname = cstring(name)?;
            let groups = nix::unistd::getgrouplist(&cname, u.gid).map_err(lookup_err)?;
            Ok(Some(Cred {
                uid: u.uid,
                gid: u.gid,
                groups,
            }))
        }
        User::Id { uid, gid } => {
            let uid = Uid::from_raw(*uid);
            let primary = nix::unistd::User::from_uid(uid)
                .ok()
                .flatten()
                .map(|u| u.gid);
            let gid = gid
                .map(Gid::from_raw)
                .or(primary)
                .unwrap_or(Gid::from_raw(uid.as_raw()));
            Ok(Some(Cred {
                uid,
                gid,
                groups: vec![gid],
            }))
        }
    }
}

/// argv[0] as given if it has a slash, else the first executable match in PATH.
pub(crate) fn resolve_command(
    argv: &[String],
    env: &[(String, String)],
) -> Result<CString, String> {
    let cmd = argv.first().ok_or("empty command")?;
    if cmd.contains('/') {
        return cstring(cmd);
    }
    let path = env
        .iter()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.as_str())
        .unwrap_or(crate::plan::DEFAULT_PATH);
    find_in_path(cmd, path)
        .ok_or_else(|| format!("command {cmd:?} not found in PATH={path}"))
        .and_then(|p| cstring(&p.to_string_lossy()))
}

pub(super) fn find_in_path(cmd: &str, path: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    path.split(':')
        .filter(|d| !d.is_empty())
        .map(|d| Path::new(d).join(cmd))
        .find(|p| {
            p.metadata()
                .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
                .unwrap_or(false)
        })
}
