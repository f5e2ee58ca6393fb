//! A process held by a pidfd (Linux 5.3): signalled as the process it was
//! opened for, never as another that got its PID after it ended.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// A pidfd of a running process.
#[derive(Debug)]
pub struct PidFd(OwnedFd);

impl PidFd {
    /// Opens the process `pid` now runs as.
    pub fn open(pid: i32) -> std::io::Result<PidFd> {
        // SAFETY: pidfd_open(2) takes a PID and flags and returns a new file
        // descriptor or -1; it reads and writes no memory of ours.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let fd = i32::try_from(fd).map_err(|_| std::io::Error::other("pidfd out of range"))?;
        // SAFETY: `fd` was just returned by pidfd_open and is owned by no
        // one else.
        Ok(PidFd(unsafe { OwnedFd::from_raw_fd(fd) }))
    }

    /// Sends `signal` to the process (`None`: checks it is alive).
    pub fn signal(&self, signal: Option<nix::sys::signal::Signal>) -> std::io::Result<()> {
        let sig = signal.map_or(0, |s| s as i32);
        // SAFETY: pidfd_send_signal(2) with a pidfd we own, a signal number,
        // a null siginfo (the kernel fills it as kill(2) does) and no flags.
        let r = unsafe {
            libc::syscall(
                libc::SYS_pidfd_send_signal,
                self.0.as_raw_fd(),
                sig,
                std::ptr::null::<libc::siginfo_t>(),
                0,
            )
        };
        if r < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pidfd_signals_its_process_and_no_other() {
        let mut child = std::process::Command::new("sleep")
            .arg("60")
            .spawn()
            .unwrap();
        let fd = PidFd::open(child.id() as i32).unwrap();
        fd.signal(None).unwrap();
        fd.signal(Some(nix::sys::signal::Signal::SIGTERM)).unwrap();
        child.wait().unwrap();
        // Reaped: the pidfd names a process that is gone (ESRCH), whatever
        // runs under that PID next.
        let e = fd.signal(None).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ESRCH));
    }
}
