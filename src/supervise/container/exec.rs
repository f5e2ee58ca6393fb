//! The container helper's host side: the user and program lookups (shared
//! with `podctl __enter`), the journal stream, the exec of the relay.

use super::Failure;
use crate::model::User;
use crate::oci::HostUser;
use nix::unistd::{Gid, Uid};
use std::ffi::CString;
use std::io::Write;
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

/// Becomes `podctl-pause relay CHILD [OUT ERR]`: the relay of the
/// container's init, copying its output pipes to journald.
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

fn cstring(s: &str) -> Result<CString, String> {
    CString::new(s).map_err(|_| format!("{s:?} contains a NUL byte"))
}

/// Connects to journald's stream socket with the given identifier, unit and
/// priority. journald reads the sender's cgroup when it processes a line and
/// uses the header's unit only when that fails (the sender has exited).
/// `socket`: journald's stream socket ([`crate::layout::HostRoots::journal_stdout`]).
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

/// root, the user of a container that names none.
pub(crate) fn root() -> HostUser {
    HostUser {
        uid: 0,
        gid: 0,
        additional_gids: vec![],
    }
}

/// Resolves the container's user on this host: a name, a uid or uid:gid;
/// `None` when it names none. A name the host does not know is the
/// definition's fault; a lookup that fails (NSS not ready at boot) is
/// transient.
pub(crate) fn resolve_user(user: Option<&User>) -> Result<Option<HostUser>, Failure> {
    let Some(user) = user else { return Ok(None) };
    let lookup_err = |e| Failure::from(format!("user {user}: {e}"));
    let raw = |gids: Vec<Gid>| gids.iter().map(|g| g.as_raw()).collect();
    match user {
        User::Name(name) => {
            let u = nix::unistd::User::from_name(name)
                .map_err(lookup_err)?
                .ok_or_else(|| {
                    Failure::definition(format!("user {name:?} does not exist on this host"))
                })?;
            let cname = cstring(name)?;
            let groups = nix::unistd::getgrouplist(&cname, u.gid).map_err(lookup_err)?;
            Ok(Some(HostUser {
                uid: u.uid.as_raw(),
                gid: u.gid.as_raw(),
                additional_gids: raw(groups),
            }))
        }
        User::Id { uid, gid } => {
            let primary = nix::unistd::User::from_uid(Uid::from_raw(*uid))
                .ok()
                .flatten()
                .map(|u| u.gid.as_raw());
            let gid = gid.or(primary).unwrap_or(*uid);
            Ok(Some(HostUser {
                uid: *uid,
                gid,
                additional_gids: vec![gid],
            }))
        }
    }
}

/// argv[0] as given if it has a slash, else the first executable match in PATH.
pub(super) fn resolve_command(
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

fn find_in_path(cmd: &str, path: &str) -> Option<PathBuf> {
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
