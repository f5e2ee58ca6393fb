//! sd_notify for containers (`ready = "notify"`): one datagram socket per
//! such container, `/run/podctl/notify/POD.CONTAINER`, passed to it as
//! NOTIFY_SOCKET. The container's `systemd-notify --ready` or
//! `sd_notify(0, "READY=1")` marks it ready, as Type=notify does for a service.
//!
//! The socket is reachable by any local user (the container may run as any
//! user), so the sender is checked as systemd checks NotifyAccess=all: the
//! kernel attaches its credentials (SO_PASSCRED), and READY=1 counts only
//! from a process whose cgroup is the container's own scope, by its full
//! path (`/pod.slice/pod-POD.slice/pod-POD.CONTAINER.scope`, or a cgroup the
//! OCI runtime made below it): a cgroup of the same name elsewhere, which
//! any user can make under their own user manager, does not count. Ignored
//! READY=1 messages are logged at most [`ratelimit::WARN_BURST`] times a
//! minute, then summed up, so a flood cannot push the supervisor's own
//! lines past journald's rate limit. `systemd-notify` waits
//! (BARRIER=1) until its message has been read, so it is still there to be
//! checked. At most [`NOTIFY_BATCH`] messages are read per call, so a flood
//! cannot keep the supervisor from its signals.

use super::ratelimit;
use nix::sys::socket::{
    ControlMessageOwned, MsgFlags, UnixAddr, UnixCredentials, recvmsg, setsockopt, sockopt,
};
use std::cell::RefCell;
use std::io::{self, IoSliceMut};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};

/// Messages read per call at most; the rest wait for the next wake-up.
pub const NOTIFY_BATCH: usize = 32;

pub struct NotifySocket {
    sock: UnixDatagram,
    path: PathBuf,
    /// Bounds the warnings about ignored READY=1 messages.
    rejected: RefCell<ratelimit::Limit>,
}

impl NotifySocket {
    pub fn bind(run_dir: &Path, pod: &str, container: &str) -> io::Result<NotifySocket> {
        let dir = super::notify_dir(run_dir);
        std::fs::create_dir_all(&dir)?;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755))?;
        let path = super::notify_socket(run_dir, pod, container);
        let _ = std::fs::remove_file(&path);
        let sock = UnixDatagram::bind(&path)?;
        sock.set_nonblocking(true)?;
        setsockopt(&sock, sockopt::PassCred, &true)?;
        // The container may run as any user.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666))?;
        Ok(NotifySocket {
            sock,
            path,
            rejected: RefCell::default(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        std::os::fd::AsFd::as_fd(&self.sock)
    }

    /// Reads pending messages (at most [`NOTIFY_BATCH`]); true if one of
    /// them says READY=1 and comes from a process for which `member(pid)`
    /// holds (one in the container's scope). Others are dropped, with a
    /// warning for a READY=1 from elsewhere.
    pub fn ready(&self, member: impl Fn(u32) -> bool) -> bool {
        self.ready_within(NOTIFY_BATCH, member)
    }

    fn ready_within(&self, batch: usize, member: impl Fn(u32) -> bool) -> bool {
        let mut ready = false;
        for _ in 0..batch {
            let Some((text, sender)) = self.recv() else {
                break;
            };
            if !text.lines().any(|l| l.trim() == "READY=1") {
                continue;
            }
            match sender {
                Some(pid) if member(pid) => ready = true,
                _ => self.warn_rejected(sender),
            }
        }
        ready
    }

    /// Logs an ignored READY=1, within the rate limit.
    fn warn_rejected(&self, sender: Option<u32>) {
        let verdict = self.rejected.borrow_mut().note(std::time::Instant::now());
        if verdict.suppressed > 0 {
            tracing::warn!(
                "{}: {} more READY=1 from outside this container ignored (not logged)",
                self.path.display(),
                verdict.suppressed
            );
        }
        if verdict.log {
            tracing::warn!(
                "{}: READY=1 from pid {} ignored: not a process of this container",
                self.path.display(),
                sender.map_or("?".into(), |p| p.to_string())
            );
        }
    }

    /// Drops every pending message (those of a previous run).
    pub fn discard(&self) {
        while self.recv().is_some() {}
    }

    /// One message and its sender's PID (None without credentials). Any
    /// descriptors passed along (systemd-notify's BARRIER=1) are closed,
    /// which releases the sender.
    fn recv(&self) -> Option<(String, Option<u32>)> {
        let mut buf = [0u8; 4096];
        let mut iov = [IoSliceMut::new(&mut buf)];
        let mut cmsg = nix::cmsg_space!(UnixCredentials, [RawFd; 16]);
        let msg = recvmsg::<UnixAddr>(
            self.sock.as_raw_fd(),
            &mut iov,
            Some(&mut cmsg),
            MsgFlags::MSG_DONTWAIT | MsgFlags::MSG_CMSG_CLOEXEC,
        )
        .ok()?;
        let mut sender = None;
        for c in msg.cmsgs().ok()? {
            match c {
                ControlMessageOwned::ScmCredentials(cred) => sender = Some(cred.pid() as u32),
                ControlMessageOwned::ScmRights(fds) => {
                    for fd in fds {
                        // SAFETY: the kernel just installed this descriptor
                        // for us; nothing else refers to it.
                        drop(unsafe { OwnedFd::from_raw_fd(fd) });
                    }
                }
                _ => {}
            }
        }
        let n = msg.bytes;
        Some((String::from_utf8_lossy(&buf[..n]).into_owned(), sender))
    }
}

/// The path of `unit`'s cgroup as `/proc/PID/cgroup` shows it:
/// `/pod.slice/pod-POD.slice/UNIT` (slices nest on dashes in the escaped pod name).
pub fn scope_path(pod: &str, unit: &str) -> String {
    format!("/pod.slice/{}/{unit}", crate::plan::units::slice(pod))
}

/// Whether a `/proc/PID/cgroup` text puts the process in the cgroup at
/// `scope` (a [`scope_path`]) or below it, on a cgroup v2, hybrid or v1
/// host. Every line of systemd's own hierarchy (the unified `0::` line,
/// the v1 `name=systemd` one) must say so, and at least one must be there;
/// the v1 controllers' lines are not systemd's and are not read.
pub fn cgroup_in_scope(cgroup: &str, scope: &str) -> bool {
    let mut seen = false;
    for line in cgroup.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(_), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            return false;
        };
        if !(controllers.is_empty() || controllers == "name=systemd") {
            continue;
        }
        let below = path
            .strip_prefix(scope)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
        if !below {
            return false;
        }
        seen = true;
    }
    seen
}

/// Whether process `pid` is in pod `pod`'s `unit` (or below it), as `/proc` says now.
pub fn pid_in_scope(proc_root: &Path, pid: u32, pod: &str, unit: &str) -> bool {
    std::fs::read_to_string(proc_root.join(pid.to_string()).join("cgroup"))
        .is_ok_and(|text| cgroup_in_scope(&text, &scope_path(pod, unit)))
}

impl Drop for NotifySocket {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_counts_only_from_members() {
        let run = std::env::temp_dir().join(format!("podctl-notify-{}", std::process::id()));
        let n = NotifySocket::bind(&run, "web", "app").unwrap();
        let me = std::process::id();
        assert!(!n.ready(|_| true));
        let client = UnixDatagram::unbound().unwrap();
        client.send_to(b"STATUS=warming up\n", n.path()).unwrap();
        assert!(!n.ready(|_| true));
        // From a process that is not in the container's scope: ignored.
        client.send_to(b"READY=1\n", n.path()).unwrap();
        assert!(!n.ready(|pid| pid != me));
        client.send_to(b"STATUS=up\nREADY=1\n", n.path()).unwrap();
        assert!(n.ready(|pid| pid == me));
        let path = n.path().to_path_buf();
        drop(n);
        assert!(!path.exists());
        std::fs::remove_dir_all(crate::supervise::notify_dir(&run)).unwrap();
    }

    #[test]
    fn a_flood_is_read_in_bounded_batches() {
        let run = std::env::temp_dir().join(format!("podctl-notify-b-{}", std::process::id()));
        let n = NotifySocket::bind(&run, "web", "app").unwrap();
        let client = UnixDatagram::unbound().unwrap();
        // (The kernel queues 10 datagrams by default: a batch of 4 here.)
        for _ in 0..4 {
            client.send_to(b"STATUS=noise\n", n.path()).unwrap();
        }
        client.send_to(b"READY=1\n", n.path()).unwrap();
        // The first call stops after a batch; the READY=1 behind it comes next.
        assert!(!n.ready_within(4, |_| true));
        assert!(n.ready_within(4, |_| true));
        drop(n);
        std::fs::remove_dir_all(crate::supervise::notify_dir(&run)).unwrap();
    }

    #[test]
    fn cgroup_membership_is_by_full_path() {
        let scope = scope_path("web", "pod-web.app.scope");
        assert_eq!(scope, "/pod.slice/pod-web.slice/pod-web.app.scope");
        let v2 = "0::/pod.slice/pod-web.slice/pod-web.app.scope\n";
        assert!(cgroup_in_scope(v2, &scope));
        assert!(!cgroup_in_scope(v2, &scope_path("web", "pod-web.db.scope")));
        // The OCI runtime's cgroup below the scope counts.
        assert!(cgroup_in_scope(
            "0::/pod.slice/pod-web.slice/pod-web.app.scope/container\n",
            &scope
        ));
        let hybrid = "12:pids:/system.slice\n1:name=systemd:/pod.slice/pod-web.slice/pod-web.app.scope/sub\n0::/pod.slice/pod-web.slice/pod-web.app.scope/sub\n";
        assert!(cgroup_in_scope(hybrid, &scope));
        // A name that only starts like it.
        assert!(!cgroup_in_scope(
            "0::/pod.slice/pod-web.slice/pod-web.app.scope2\n",
            &scope
        ));
        // The same name under a user's manager (a user scope or a plain
        // directory in their delegated subtree): not the pod's.
        for forged in [
            "0::/user.slice/user-1000.slice/user@1000.service/app.slice/pod-web.app.scope\n",
            "0::/user.slice/user-1000.slice/user@1000.service/pod.slice/pod-web.slice/pod-web.app.scope\n",
            "0::/pod-web.app.scope\n",
            "0::/system.slice/pod.slice/pod-web.slice/pod-web.app.scope\n",
        ] {
            assert!(!cgroup_in_scope(forged, &scope), "{forged}");
        }
        // Hybrid: both of systemd's lines must agree.
        assert!(!cgroup_in_scope(
            "1:name=systemd:/user.slice/x/pod-web.app.scope\n0::/pod.slice/pod-web.slice/pod-web.app.scope\n",
            &scope
        ));
        // Nothing of systemd's hierarchy, or a garbled line: not a member.
        assert!(!cgroup_in_scope(
            "12:pids:/pod.slice/pod-web.slice/pod-web.app.scope\n",
            &scope
        ));
        assert!(!cgroup_in_scope("", &scope));
        assert!(!cgroup_in_scope(
            "garbage\n0::/pod.slice/pod-web.slice/pod-web.app.scope\n",
            &scope
        ));
        // An escaped pod name nests its slice.
        assert_eq!(
            scope_path("my-web", "pod-my-web.app.scope"),
            "/pod.slice/pod-my\\x2dweb.slice/pod-my-web.app.scope"
        );
    }

    #[test]
    fn ignored_ready_messages_are_still_read_when_not_logged() {
        let run = std::env::temp_dir().join(format!("podctl-notify-r-{}", std::process::id()));
        let n = NotifySocket::bind(&run, "web", "app").unwrap();
        let client = UnixDatagram::unbound().unwrap();
        for _ in 0..8 {
            client.send_to(b"READY=1\n", n.path()).unwrap();
        }
        assert!(!n.ready(|_| false));
        // Past the burst, the rest were counted by the limit, not logged.
        let v = n.rejected.borrow_mut().note(std::time::Instant::now());
        assert!(!v.log);
        drop(n);
        std::fs::remove_dir_all(crate::supervise::notify_dir(&run)).unwrap();
    }
}
