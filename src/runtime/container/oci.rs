//! The container helper's OCI path: [`early`] before the release (the
//! bundle, see [`crate::oci::launch::prepare`]), [`run`] after it.

use super::exec::exec_relay;
use super::{Creds, Failure, resolve_command, resolve_user, step};
use crate::runtime::launch::{LaunchSpec, Report, SetupFault};
use std::ffi::CString;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

/// What the helper readies before it is released.
pub(super) enum Early {
    /// Through the OCI runtime: its bundle, prepared.
    Oci(Box<crate::oci::launch::Prepared>),
    /// Without one (tests): the user and the program to execute.
    Direct { creds: Creds, exe: CString },
}

/// The user and program (resolved on the host for a host-root container)
/// and, with an OCI runtime, the prepared bundle.
pub(super) fn early(paths: &crate::runtime::Paths, spec: &LaunchSpec) -> Result<Early, Failure> {
    let resolve = || -> Result<(Creds, CString), Failure> {
        let creds = resolve_user(spec.process.user.as_ref())?;
        let exe =
            resolve_command(&spec.process.argv, &spec.process.env).map_err(Failure::definition)?;
        Ok((creds, exe))
    };
    let Some(c) = &spec.oci else {
        let (creds, exe) = resolve()?;
        return Ok(Early::Direct { creds, exe });
    };
    let creds = if c.image.is_some() {
        // Its user and program are the image's: looked up in its root.
        None
    } else {
        let (creds, exe) = resolve()?;
        // The container sees the host's root: the program must be there.
        let program = exe.to_string_lossy();
        if crate::oci::runtime::locate(&program, "").is_none() {
            return Err(Failure::definition(format!(
                "cannot execute {program}: not found or not executable"
            )));
        }
        creds
    };
    let dirs = crate::oci::Dirs::new(&paths.run);
    let path = search_path();
    let prepared =
        crate::oci::launch::prepare(c, host_user(&creds), &host(paths, spec, &dirs, &path))
            .map_err(from_oci)?;
    Ok(Early::Oci(Box::new(prepared)))
}

fn search_path() -> String {
    std::env::var("PATH").unwrap_or_else(|_| crate::plan::DEFAULT_PATH.into())
}

/// The host as the OCI path sees it.
fn host<'a>(
    paths: &'a crate::runtime::Paths,
    spec: &'a LaunchSpec,
    dirs: &'a crate::oci::Dirs,
    path: &'a str,
) -> crate::oci::launch::Host<'a> {
    crate::oci::launch::Host {
        dirs,
        pause: &spec.pause,
        cgroup_root: &paths.host.cgroup_mount,
        proc: &paths.host.proc,
        root: Path::new("/"),
        path,
    }
}

fn from_oci(f: crate::oci::launch::Failure) -> Failure {
    use crate::oci::launch::Fault;
    Failure {
        fault: match f.fault {
            Fault::Definition => SetupFault::Definition,
            Fault::Transient => SetupFault::Transient,
        },
        message: f.message,
    }
}

fn host_user(creds: &Creds) -> crate::oci::HostUser {
    match creds {
        Some(c) => crate::oci::HostUser {
            uid: c.uid.as_raw(),
            gid: c.gid.as_raw(),
            additional_gids: c.groups.iter().map(|g| g.as_raw()).collect(),
        },
        None => crate::oci::HostUser {
            uid: 0,
            gid: 0,
            additional_gids: vec![],
        },
    }
}

/// Through the OCI runtime (see [`crate::oci::launch`]): the runtime makes
/// the container, whose stdout and stderr are the log pipes; this process
/// becomes the relay of its init.
pub(super) fn run(
    paths: &crate::runtime::Paths,
    spec: &LaunchSpec,
    prepared: crate::oci::launch::Prepared,
    ns_pid: u32,
    log_pipes: Option<((OwnedFd, OwnedFd), (OwnedFd, OwnedFd))>,
    status: &mut std::fs::File,
) -> Result<std::convert::Infallible, Failure> {
    use std::process::Stdio;
    let c = spec.oci.as_ref().expect("prepared for the runtime");
    let (stdio, logs) = match log_pipes {
        Some(((out_r, out_w), (err_r, err_w))) => (
            (Stdio::from(out_w), Stdio::from(err_w)),
            Some((out_r, err_r)),
        ),
        None => (
            (
                Stdio::from(step(
                    "dup stderr",
                    std::io::stderr().as_fd().try_clone_to_owned(),
                )?),
                Stdio::inherit(),
            ),
            None,
        ),
    };
    let dirs = crate::oci::Dirs::new(&paths.run);
    let path = search_path();
    let host = host(paths, spec, &dirs, &path);
    // `stdio` moves into the runtime and is closed here after it: only the
    // container holds the write ends, so the relay sees EOF.
    // The pod network's /etc files exist once the supervisor set the network
    // up; a supervisor run without one (as in tests) leaves the host's.
    let mut c = c.clone();
    c.etc_files
        .retain(|(src, dst)| Path::new(src).exists() && Path::new(dst).exists());
    let init = crate::oci::launch::start(&c, prepared, ns_pid, &host, stdio.0, stdio.1)
        .map_err(from_oci)?;
    if let Some((out_r, err_r)) = &logs {
        super::keep_log_pipes(out_r, err_r)?;
    }
    // The init may still be the runtime's process's child for a moment (it
    // is reparented to the relay, a subreaper, when that exits): the
    // supervisor learns its PID from here, not from the relay's children.
    step(
        "report the start",
        std::io::Write::write_all(status, Report::started(init).as_bytes()),
    )?;
    Ok(exec_relay(&spec.pause, init as i32, logs.as_ref())?)
}
