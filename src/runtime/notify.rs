//! sd_notify for containers (`ready = "notify"`): one datagram socket per
//! such container, `/run/podctl/notify/POD.CONTAINER`, passed to it as
//! NOTIFY_SOCKET. The container's `systemd-notify --ready` or
//! `sd_notify(0, "READY=1")` marks it ready, as Type=notify does for a service.

use std::io;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};

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

    /// Reads every pending message; true if one of them says READY=1.
    pub fn ready(&self) -> bool {
        let mut buf = [0u8; 4096];
        let mut ready = false;
        while let Ok(n) = self.sock.recv(&mut buf) {
            ready |= String::from_utf8_lossy(&buf[..n])
                .lines()
                .any(|l| l.trim() == "READY=1");
        }
        ready
    }
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
    fn ready_is_seen_once_sent() {
        let run = std::env::temp_dir().join(format!("podctl-notify-{}", std::process::id()));
        let n = NotifySocket::bind(&run, "web", "app").unwrap();
        assert!(!n.ready());
        let client = UnixDatagram::unbound().unwrap();
        client.send_to(b"STATUS=warming up\n", n.path()).unwrap();
        assert!(!n.ready());
        client.send_to(b"STATUS=up\nREADY=1\n", n.path()).unwrap();
        assert!(n.ready());
        let path = n.path().to_path_buf();
        drop(n);
        assert!(!path.exists());
        std::fs::remove_dir_all(crate::runtime::notify_dir(&run)).unwrap();
    }
}
