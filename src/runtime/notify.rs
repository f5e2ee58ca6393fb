//! sd_notify for containers (`ready = "notify"`): one datagram socket per
//! such container, `/run/podctl/notify/POD.CONTAINER`, passed to it as
//! NOTIFY_SOCKET. The container's `systemd-notify --ready` or
//! `sd_notify(0, "READY=1")` marks it ready, as Type=notify does for a service.
//!
//! The socket is reachable by any local user (the container may run as any
//! user), so the sender is checked as systemd checks NotifyAccess=all: the
//! kernel attaches its credentials (SO_PASSCRED), and READY=1 counts only
//! from a process in the container's own scope. `systemd-notify` waits
//! (BARRIER=1) until its message has been read, so it is still there to be
//! checked. At most [`NOTIFY_BATCH`] messages are read per call, so a flood
//! cannot keep the supervisor from its signals.

use nix::sys::socket::{
    ControlMessageOwned, MsgFlags, UnixAddr, UnixCredentials, recvmsg, setsockopt, sockopt,
};
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
        Ok(NotifySocket { sock, path })
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
                _ => tracing::warn!(
                    "{}: READY=1 from pid {} ignored: not a process of this container",
                    self.path.display(),
                    sender.map_or("?".into(), |p| p.to_string())
                ),
            }
        }
        ready
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

/// Whether a `/proc/PID/cgroup` text puts the process in `unit` (its scope,
/// or a cgroup below it), on a cgroup v2 or hybrid host.
pub fn cgroup_in_unit(cgroup: &str, unit: &str) -> bool {
    cgroup.lines().any(|line| {
        let path = line.splitn(3, ':').nth(2).unwrap_or("");
        path.split('/').any(|part| part == unit)
    })
}

/// Whether process `pid` is in `unit`, as `/proc` says now.
pub fn pid_in_unit(proc_root: &Path, pid: u32, unit: &str) -> bool {
    std::fs::read_to_string(proc_root.join(pid.to_string()).join("cgroup"))
        .is_ok_and(|text| cgroup_in_unit(&text, unit))
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
        std::fs::remove_dir_all(crate::runtime::notify_dir(&run)).unwrap();
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
        std::fs::remove_dir_all(crate::runtime::notify_dir(&run)).unwrap();
    }

    #[test]
    fn cgroup_membership() {
        let v2 = "0::/pod.slice/pod-web.slice/pod-web.app.scope\n";
        assert!(cgroup_in_unit(v2, "pod-web.app.scope"));
        assert!(!cgroup_in_unit(v2, "pod-web.db.scope"));
        let hybrid = "12:pids:/system.slice\n1:name=systemd:/pod.slice/pod-web.slice/pod-web.app.scope/sub\n0::/\n";
        assert!(cgroup_in_unit(hybrid, "pod-web.app.scope"));
        assert!(!cgroup_in_unit(
            "0::/pod.slice/pod-web.slice/pod-web.app.scope2\n",
            "pod-web.app.scope"
        ));
    }
}
