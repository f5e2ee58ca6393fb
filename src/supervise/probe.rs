//! Readiness and liveness probes. Each attempt is a helper process, so the
//! supervisor never changes namespaces itself:
//! * `exec`: `podctl __enter`, moved into the container's scope before it
//!   has the container's runtime run the command (`RUNTIME exec`: user code
//!   never runs outside the scope);
//! * `tcp` / `http`: `podctl __probe NSPID tcp PORT | http URL` joins the
//!   pod's network namespace and connects to 127.0.0.1.
//!
//! An attempt passes when the helper exits 0 within the probe's timeout.
//! Each helper leads a process group of its own: on timeout the whole group
//! is killed, the command and whatever it started included.

mod http;

use super::ns;
use super::process::{Helper, Output, Process, Spawner};
use crate::layout::Layout;
use crate::model::{Check, Probe};
use crate::plan::NsKind;
use crate::systemd::Manager;
use std::net::TcpStream;
use std::os::fd::BorrowedFd;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// The checks `podctl __probe` runs in the pod's network namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetCheck {
    /// Connect to 127.0.0.1:PORT.
    Tcp,
    /// GET an http:// URL; 2xx/3xx passes.
    Http,
}

impl NetCheck {
    /// Its argument to `podctl __probe`.
    pub fn arg(self) -> &'static str {
        match self {
            NetCheck::Tcp => "tcp",
            NetCheck::Http => "http",
        }
    }

    pub fn parse(arg: &str) -> Option<Self> {
        [NetCheck::Tcp, NetCheck::Http]
            .into_iter()
            .find(|k| k.arg() == arg)
    }
}

/// How often an attempt looks whether its helper has exited.
const ATTEMPT_POLL: Duration = Duration::from_millis(5);

/// Runs one attempt of `probe` against a container whose command is
/// `command_pid`; true if it passed. Gives up (false) as soon as `interrupt`
/// is readable (a stop request).
#[allow(clippy::too_many_arguments)]
pub fn attempt(
    procs: &dyn Spawner,
    mgr: &dyn Manager,
    paths: &Layout,
    probe: &Probe,
    unit: &str,
    ns_pid: u32,
    command_pid: u32,
    interrupt: BorrowedFd<'_>,
) -> bool {
    let timeout = Duration::from_millis(probe.timeout_ms);
    let dirs = paths.oci();
    let child = match &probe.check {
        Check::Exec(argv) => {
            let mut helper = super::enter::helper(&paths.podctl, command_pid, argv);
            helper.stderr = Stdio::null();
            spawn_exec(procs, mgr, paths, unit, command_pid, helper)
        }
        Check::Tcp(port) => spawn_net(
            procs,
            &paths.podctl,
            ns_pid,
            NetCheck::Tcp,
            &port.to_string(),
            probe.timeout_ms,
        ),
        Check::Http(url) => spawn_net(
            procs,
            &paths.podctl,
            ns_pid,
            NetCheck::Http,
            &http::target(url, &probe.headers),
            probe.timeout_ms,
        ),
        // Readiness by notification, not by polling: see `notify`.
        Check::Notify => None,
    };
    let Some(child) = child else { return false };
    let helper = child.pid();
    let exec = matches!(probe.check, Check::Exec(_));
    // What the runtime ran in the container is not in the helper's process
    // group: it goes too when the attempt is cut short.
    let end = |killed: bool| {
        if exec {
            crate::oci::launch::end_exec(&dirs, command_pid, helper, killed);
        }
    };
    passes_within(child, timeout, interrupt, &end)
}

/// Starts `helper` (`podctl __enter PID -- argv`, [`super::enter::helper`])
/// held, leading a process group of its own, moves it into the
/// container's scope `unit` and releases it: the command then runs in the
/// container through its runtime. None if any step fails (a helper that
/// could not be moved is killed and reaped).
pub(super) fn spawn_exec(
    procs: &dyn Spawner,
    mgr: &dyn Manager,
    paths: &Layout,
    unit: &str,
    command_pid: u32,
    mut helper: Helper,
) -> Option<Box<dyn Process>> {
    helper.own_group = true;
    let held = procs.held(helper).ok()?;
    let sub = crate::oci::launch::ExecInfo::attach_point(&paths.oci(), command_pid);
    // Dropped on failure: killed and reaped.
    held.attach(mgr, unit, sub).ok()?;
    super::enter::release(held, None).ok()
}

/// An http check's one argument to `podctl __probe`: the URL and its headers.
pub(super) fn http_target(
    url: &str,
    headers: &std::collections::BTreeMap<String, String>,
) -> String {
    http::target(url, headers)
}

/// Starts `podctl __probe` for a `tcp` or `http` check in the pod's
/// network namespace, leading a process group of its own.
pub(super) fn spawn_net(
    procs: &dyn Spawner,
    podctl: &Path,
    ns_pid: u32,
    kind: NetCheck,
    target: &str,
    timeout_ms: u64,
) -> Option<Box<dyn Process>> {
    let mut helper = Helper::new(
        podctl,
        vec![
            "__probe".into(),
            ns_pid.to_string(),
            kind.arg().into(),
            target.into(),
            timeout_ms.to_string(),
        ],
    );
    helper.own_group = true;
    helper.stdout = Output::To(Stdio::null());
    helper.stderr = Stdio::null();
    procs.spawn(helper).ok()
}

/// Waits for a probe helper (leader of its own process group); on timeout
/// or interrupt, kills its whole group.
fn passes_within(
    mut child: Box<dyn Process>,
    timeout: Duration,
    interrupt: BorrowedFd<'_>,
    end: &dyn Fn(bool),
) -> bool {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(st)) => {
                end(false);
                return st.success();
            }
            Ok(None) if Instant::now() < deadline => {
                let mut fds = [PollFd::new(interrupt, PollFlags::POLLIN)];
                let ms = PollTimeout::try_from(ATTEMPT_POLL.as_millis() as i32)
                    .unwrap_or(PollTimeout::ZERO);
                if matches!(poll(&mut fds, ms), Ok(n) if n > 0) {
                    child.kill_group();
                    end(true);
                    return false;
                }
            }
            _ => {
                child.kill_group();
                end(true);
                return false;
            }
        }
    }
}

/// `podctl __probe NSPID tcp PORT TIMEOUT_MS` or `... http URL TIMEOUT_MS`:
/// exit 0 if the check passes in the network namespace of NSPID.
pub fn main(ns_pid: u32, kind: &str, target: &str, timeout_ms: u64) -> ! {
    let ok = NetCheck::parse(kind).is_some_and(|kind| {
        net_check(
            ns_pid,
            kind,
            target,
            Duration::from_millis(timeout_ms.max(1)),
        )
    });
    std::process::exit(if ok { 0 } else { 1 })
}

fn net_check(ns_pid: u32, kind: NetCheck, target: &str, timeout: Duration) -> bool {
    let proc = Layout::from_env().host.proc;
    let joined = ns::open(&proc, ns_pid, &[NsKind::Net]).and_then(|o| o.join());
    if joined.is_err() {
        return false;
    }
    match kind {
        NetCheck::Tcp => target
            .parse::<u16>()
            .ok()
            .and_then(|port| {
                TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), timeout).ok()
            })
            .is_some(),
        NetCheck::Http => http::get(target, timeout).is_some_and(|code| (200..400).contains(&code)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn net_checks_parse_their_own_argument() {
        for k in [NetCheck::Tcp, NetCheck::Http] {
            assert_eq!(NetCheck::parse(k.arg()), Some(k));
        }
        assert_eq!(NetCheck::parse("exec"), None);
    }

    /// A probe that times out takes everything it started with it.
    #[test]
    fn timed_out_attempt_kills_its_whole_group() {
        let dir = std::env::temp_dir().join(format!("podctl-probe-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let pidfile = dir.join("grandchild");
        // The helper starts a child that outlives it unless its group is killed.
        use std::os::unix::process::CommandExt;
        let child = std::process::Command::new("/bin/sh")
            .process_group(0)
            .arg("-c")
            .arg(format!("sleep 300 & echo $! > {}; wait", pidfile.display()))
            .spawn()
            .unwrap();
        let (r, w) = nix::unistd::pipe().unwrap();
        use std::os::fd::AsFd;
        let passed = passes_within(
            Box::new(child),
            Duration::from_millis(300),
            r.as_fd(),
            &|_| (),
        );
        assert!(!passed);
        let grandchild: i32 = std::fs::read_to_string(&pidfile)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        // Killed; reaped by init (it is not our child) soon after.
        let gone = (0..100).any(|_| {
            std::thread::sleep(Duration::from_millis(10));
            let stat =
                std::fs::read_to_string(format!("/proc/{grandchild}/stat")).unwrap_or_default();
            stat.is_empty() || stat.split(") ").nth(1).is_some_and(|r| r.starts_with('Z'))
        });
        assert!(gone, "the probe's child {grandchild} still runs");
        drop(w);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
