//! Inside `podctl __spawn`: turn this freshly exec'd, single-threaded helper
//! into a container, in this order:
//!
//! 1. read the [`LaunchSpec`]; block signals (the relays take them later);
//! 2. wait for `go NSPID`: from then on this process is in its own scope;
//! 3. connect stdout/stderr to journald (one stream, attributed to that scope);
//! 4. open the sandbox's namespace files, then `setns` them in order;
//! 5. unshare cgroup (now rooted at the scope), mnt and pid namespaces;
//!    make `/` a slave mount so nothing mounted here reaches the host;
//! 6. fork: the child is PID 1 of the new PID namespace, its output going
//!    into pipes; this process execs `podctl-pause relay CHILD OUT ERR`,
//!    which copies those pipes to journald (so every line, even of a
//!    short-lived command, is sent by a process in the container's scope);
//! 7. the child mounts a /proc for its PID namespace, forks the command's
//!    process, and execs `podctl-pause relay` itself: it is the container's
//!    init, forwarding signals and reaping;
//! 8. the command's process drops to the user, enters workdir and execs.

use super::launch::{LaunchSpec, SetupFault};
use super::ns;
use crate::model::User;
use crate::plan::NsKind;
use nix::mount::{MsFlags, mount};
use nix::sys::signal::{SigSet, SigmaskHow, Signal, sigprocmask};
use nix::unistd::{ForkResult, Gid, Uid};
use std::ffi::CString;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::os::fd::{AsFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

const JOURNAL_STDOUT: &str = "/run/systemd/journal/stdout";

/// Runs the helper; never returns. Errors go to the status pipe (stdout).
pub fn main() -> ! {
    // The status pipe is fd 1 as inherited; keep a close-on-exec copy so it
    // closes by itself when each process of the container execs.
    let status = nix::fcntl::fcntl(
        std::io::stdout().as_fd(),
        nix::fcntl::FcntlArg::F_DUPFD_CLOEXEC(3),
    )
    .map(|fd| {
        // SAFETY: fcntl just returned this new descriptor; we own it.
        unsafe { File::from_raw_fd(fd) }
    });
    let Ok(mut status) = status else {
        std::process::exit(127);
    };
    let err = run().unwrap_err();
    let _ = writeln!(status, "{}\t{}", err.fault.as_str(), err.message);
    std::process::exit(127)
}

/// Why setup failed: retrying helps (transient) or not (the definition).
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) fault: SetupFault,
    pub(crate) message: String,
}

/// Where only the message matters (`podctl exec`'s helper).
impl From<Failure> for String {
    fn from(f: Failure) -> String {
        f.message
    }
}

impl Failure {
    fn definition(message: String) -> Self {
        Failure {
            fault: SetupFault::Definition,
            message,
        }
    }
}

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Failure {
            fault: SetupFault::Transient,
            message,
        }
    }
}

fn step<T, E: std::error::Error>(what: &str, r: Result<T, E>) -> Result<T, String> {
    r.map_err(|e| format!("{what}: {}", crate::error_chain(&e)))
}

fn run() -> Result<std::convert::Infallible, Failure> {
    step(
        "block signals",
        sigprocmask(SigmaskHow::SIG_BLOCK, Some(&SigSet::all()), None),
    )?;
    let mut control = BufReader::new(std::io::stdin().lock());
    let mut line = String::new();
    step("read launch spec", control.read_line(&mut line))?;
    let spec: LaunchSpec = step("parse launch spec", serde_json::from_str(&line))?;
    line.clear();
    step("wait for start", control.read_line(&mut line))?;
    let ns_pid: u32 = line
        .strip_prefix("go ")
        .and_then(|p| p.trim().parse().ok())
        .ok_or_else(|| format!("supervisor went away before the start signal (got {line:?})"))?;
    drop(control);

    // In our scope now: anything journald sees from us is attributed to it.
    let ident = &spec.process.log_identifier;
    // One stream for both: journald (systemd 252) takes at most 4,096
    // streams in all; the relay marks stderr lines `<3>` (level prefixes on).
    let out = journal_stream(ident, 6);
    let errs = out
        .as_ref()
        .map_err(|e| std::io::Error::new(e.kind(), e.to_string()))
        .and_then(|fd| fd.try_clone());
    // The container writes into pipes that this process (as its relay) copies
    // to journald: journald attributes a line to the process that sent it,
    // and a short-lived writer may be gone before its unit is looked up.
    let mut log_pipes = None;
    if let (Ok(out), Ok(errs)) = (&out, &errs) {
        step("stdout to journal", nix::unistd::dup2_stdout(out))?;
        step("stderr to journal", nix::unistd::dup2_stderr(errs))?;
        let o = step("log pipe", nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC))?;
        let e = step("log pipe", nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC))?;
        log_pipes = Some((o, e));
    } else {
        // No journald (tests on a bare host): output goes where our stderr goes.
        // fd 1 must stop being the status pipe either way, or it never closes.
        step(
            "stdout to stderr",
            nix::unistd::dup2_stdout(std::io::stderr()),
        )?;
    }
    let null = step("open /dev/null", File::open("/dev/null"))?;
    step("stdin from /dev/null", nix::unistd::dup2_stdin(&null))?;

    if let Some(c) = spec.oci.as_ref().filter(|c| c.image.is_some()) {
        // Its user and program are the image's: looked up in its root.
        return run_oci(&spec, c, ns_pid, &None, log_pipes);
    }
    let creds = resolve_user(spec.process.user.as_ref())?;
    let exe =
        resolve_command(&spec.process.argv, &spec.process.env).map_err(Failure::definition)?;
    if let Some(c) = &spec.oci {
        // The container sees the host's root: the program must be there.
        let program = exe.to_string_lossy();
        if crate::oci::runtime::locate(&program, "").is_none() {
            return Err(Failure::definition(format!(
                "cannot execute {program}: not found or not executable"
            )));
        }
        return run_oci(&spec, c, ns_pid, &creds, log_pipes);
    }

    let opened = step(
        "open sandbox namespaces",
        ns::open(Path::new("/proc"), ns_pid, &spec.joins),
    )?;
    step("join sandbox namespaces", opened.join())?;
    step("create container namespaces", ns::unshare(&spec.creates))?;
    if spec.creates.contains(&NsKind::Mnt) {
        step(
            "make / a slave mount",
            mount(
                None::<&str>,
                "/",
                None::<&str>,
                MsFlags::MS_REC | MsFlags::MS_SLAVE,
                None::<&str>,
            ),
        )?;
        // The pod network's hosts and resolv.conf, in this namespace only
        // (written when the supervisor set the network up; a supervisor run
        // without one, as in tests, leaves the host's).
        for (src, dst) in &spec.etc_files {
            if Path::new(src).exists() && Path::new(dst).exists() {
                step(
                    "bind the pod network's /etc file",
                    mount(
                        Some(src.as_str()),
                        dst.as_str(),
                        None::<&str>,
                        MsFlags::MS_BIND,
                        None::<&str>,
                    ),
                )?;
            }
        }
    }
    let own_proc = spec.creates.contains(&NsKind::Pid) || spec.joins.contains(&NsKind::Pid);

    // SAFETY: this process is single-threaded (a fresh exec of podctl that
    // started no threads), so the child may run arbitrary code.
    match step("fork container init", unsafe { nix::unistd::fork() })? {
        ForkResult::Parent { child } => {
            let logs = match log_pipes {
                Some(((out_r, out_w), (err_r, err_w))) => {
                    drop((out_w, err_w));
                    for fd in [&out_r, &err_r] {
                        // The relay must inherit the read ends.
                        step(
                            "keep log pipe",
                            nix::fcntl::fcntl(
                                fd,
                                nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::empty()),
                            ),
                        )?;
                    }
                    Some((out_r, err_r))
                }
                None => None,
            };
            Ok(exec_relay(&spec.pause, child.as_raw(), logs.as_ref())?)
        }
        ForkResult::Child => {
            die_with_parent()?;
            if let Some(((out_r, out_w), (err_r, err_w))) = log_pipes {
                drop((out_r, err_r));
                step("stdout to log pipe", nix::unistd::dup2_stdout(&out_w))?;
                step("stderr to log pipe", nix::unistd::dup2_stderr(&err_w))?;
            }
            container_init(&spec, own_proc, &creds, &exe)
        }
    }
}

/// Through the OCI runtime (see [`crate::oci::launch`]): the runtime makes
/// the container, whose stdout and stderr are the log pipes; this process
/// becomes the relay of its init.
fn run_oci(
    spec: &LaunchSpec,
    c: &crate::oci::Container,
    ns_pid: u32,
    creds: &Creds,
    log_pipes: Option<((OwnedFd, OwnedFd), (OwnedFd, OwnedFd))>,
) -> Result<std::convert::Infallible, Failure> {
    use crate::oci::launch::{self, Fault};
    use std::process::Stdio;
    let user = match creds {
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
    };
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
    let paths = super::Paths::from_env();
    let dirs = crate::oci::Dirs::new(&paths.run);
    let path = std::env::var("PATH").unwrap_or_else(|_| crate::plan::DEFAULT_PATH.into());
    let host = launch::Host {
        dirs: &dirs,
        pause: &spec.pause,
        cgroup_root: Path::new("/sys/fs/cgroup"),
        root: Path::new("/"),
        path: &path,
    };
    // `stdio` moves into the runtime's create and is closed here after it:
    // only the container holds the write ends, so the relay sees EOF.
    // The pod network's /etc files exist once the supervisor set the network
    // up; a supervisor run without one (as in tests) leaves the host's.
    let mut c = c.clone();
    c.etc_files
        .retain(|(src, dst)| Path::new(src).exists() && Path::new(dst).exists());
    let init = launch::start(&c, ns_pid, user, &host, stdio.0, stdio.1).map_err(|f| Failure {
        fault: match f.fault {
            Fault::Definition => SetupFault::Definition,
            Fault::Transient => SetupFault::Transient,
        },
        message: f.message,
    })?;
    if let Some((out_r, err_r)) = &logs {
        for fd in [out_r, err_r] {
            // The relay must inherit the read ends.
            step(
                "keep log pipe",
                nix::fcntl::fcntl(
                    fd,
                    nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::empty()),
                ),
            )?;
        }
    }
    Ok(exec_relay(&spec.pause, init as i32, logs.as_ref())?)
}

/// PID 1 of the container (when it has its own PID namespace).
fn container_init(
    spec: &LaunchSpec,
    own_proc: bool,
    creds: &Creds,
    exe: &CString,
) -> Result<std::convert::Infallible, Failure> {
    if own_proc && spec.creates.contains(&NsKind::Mnt) {
        step(
            "mount /proc for the container's PID namespace",
            mount(
                Some("proc"),
                "/proc",
                Some("proc"),
                MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
                None::<&str>,
            ),
        )?;
    }
    // SAFETY: still single-threaded (we are a fork of a single-threaded process).
    match step("fork command", unsafe { nix::unistd::fork() })? {
        ForkResult::Parent { child } => Ok(exec_relay(&spec.pause, child.as_raw(), None)?),
        ForkResult::Child => exec_command(spec, creds, exe),
    }
}

/// If the helper above us dies (even by SIGKILL), so do we: as PID 1 of the
/// container's PID namespace our death takes every process in it along.
fn die_with_parent() -> Result<(), String> {
    let parent = nix::unistd::getppid();
    step(
        "set parent-death signal",
        nix::sys::prctl::set_pdeathsig(Signal::SIGKILL),
    )?;
    if nix::unistd::getppid() != parent {
        return Err("the container helper died during setup".into());
    }
    Ok(())
}

fn exec_relay(
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

fn exec_command(
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

/// Connects to journald's stream socket with the given identifier and priority.
fn journal_stream(ident: &str, priority: u8) -> std::io::Result<OwnedFd> {
    let mut s = UnixStream::connect(JOURNAL_STDOUT)?;
    // identifier, unit id, priority, level prefix (`<3>` from the relay
    // for stderr), syslog, kmsg, console
    write!(s, "{ident}\n\n{priority}\n1\n0\n0\n0\n")?;
    s.shutdown(std::net::Shutdown::Read)?;
    Ok(OwnedFd::from(s))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_lookup_finds_sh_and_reports_missing() {
        let env = vec![("PATH".to_string(), "/nonexistent:/bin:/usr/bin".to_string())];
        let sh = resolve_command(&["sh".into()], &env).unwrap();
        assert!(sh.to_string_lossy().ends_with("/sh"));
        let err = resolve_command(&["no-such-cmd-xyz".into()], &env).unwrap_err();
        assert!(
            err.contains("not found in PATH=/nonexistent:/bin:/usr/bin"),
            "{err}"
        );
        assert_eq!(
            resolve_command(&["/x/y".into()], &env)
                .unwrap()
                .to_str()
                .unwrap(),
            "/x/y"
        );
    }

    #[test]
    fn numeric_user_defaults_gid() {
        let c = resolve_user(Some(&User::Id { uid: 0, gid: None }))
            .unwrap()
            .unwrap();
        assert_eq!(c.gid.as_raw(), 0);
        let c = resolve_user(Some(&User::Id {
            uid: 4242,
            gid: Some(7),
        }))
        .unwrap()
        .unwrap();
        assert_eq!((c.uid.as_raw(), c.gid.as_raw()), (4242, 7));
        let e = resolve_user(Some(&User::Name("no-such-user-xyz".into())))
            .err()
            .unwrap();
        assert!(e.message.contains("does not exist"), "{}", e.message);
        assert_eq!(e.fault, SetupFault::Definition);
    }
}
