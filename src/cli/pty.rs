//! `podctl exec -t`: a new pseudo-terminal for the command. podctl keeps the
//! master and copies between it and its own stdin/stdout; its own terminal
//! goes raw meanwhile, so Ctrl-C, Ctrl-Z and the like travel as bytes to the
//! command's terminal, whose line discipline turns them into signals for the
//! command. The window size follows this terminal's (SIGWINCH).

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::termios::{self, SetArg, Termios};
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};

/// Set by the SIGWINCH handler; the relay loop copies the size over.
static RESIZED: AtomicBool = AtomicBool::new(false);

/// End of transmission: what a terminal's line discipline reads as end of input.
const EOT: u8 = 0x04;

pub struct Terminal {
    master: OwnedFd,
    slave: OwnedFd,
}

impl Terminal {
    /// A new pty pair, sized as this process's terminal when it has one.
    pub fn open() -> nix::Result<Terminal> {
        let pair = nix::pty::openpty(None, None)?;
        // Neither end may leak into the helper beyond its stdio.
        for fd in [&pair.master, &pair.slave] {
            nix::fcntl::fcntl(
                fd,
                nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC),
            )?;
        }
        let t = Terminal {
            master: pair.master,
            slave: pair.slave,
        };
        copy_window_size(std::io::stdin().as_fd(), t.master.as_fd());
        Ok(t)
    }

    /// The terminal's slave end as one of the helper's standard streams.
    pub fn slave_stdio(&self) -> std::process::Stdio {
        match self.slave.try_clone() {
            Ok(fd) => fd.into(),
            Err(_) => std::process::Stdio::null(),
        }
    }

    /// Copies stdin (when `interactive`) to the terminal and the terminal to
    /// stdout until the command and everything holding the terminal are gone.
    pub fn relay(self, interactive: bool) -> std::io::Result<()> {
        let Terminal { master, slave } = self;
        // Only the helper's copies remain: reads fail with EIO once they close.
        drop(slave);
        let stdin = std::io::stdin();
        let _raw = RawMode::enter(stdin.as_fd());
        install_sigwinch();
        let mut master_file = std::fs::File::from(master);
        let mut stdout = std::io::stdout().lock();
        let mut stdin_open = interactive;
        let mut buf = [0u8; 8192];
        loop {
            if RESIZED.swap(false, Ordering::Relaxed) {
                copy_window_size(stdin.as_fd(), master_file.as_fd());
            }
            let mut fds = vec![PollFd::new(master_file.as_fd(), PollFlags::POLLIN)];
            if stdin_open {
                fds.push(PollFd::new(stdin.as_fd(), PollFlags::POLLIN));
            }
            match poll(&mut fds, PollTimeout::NONE) {
                Ok(_) => {}
                Err(nix::Error::EINTR) => continue,
                Err(e) => return Err(e.into()),
            }
            let master_ready = fds[0].revents().unwrap_or(PollFlags::empty());
            let stdin_ready = fds
                .get(1)
                .and_then(|f| f.revents())
                .unwrap_or(PollFlags::empty());
            drop(fds);
            if !master_ready.is_empty() {
                match master_file.read(&mut buf) {
                    Ok(0) => return Ok(()),
                    Ok(n) => {
                        stdout.write_all(&buf[..n])?;
                        stdout.flush()?;
                    }
                    // EIO: the last slave descriptor closed; the command is done.
                    Err(e) if e.raw_os_error() == Some(nix::libc::EIO) => return Ok(()),
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            if !stdin_ready.is_empty() {
                match std::io::stdin().lock().read(&mut buf) {
                    Ok(0) | Err(_) => {
                        stdin_open = false;
                        // Piped input ended: let the command read end of input.
                        if !is_terminal(stdin.as_fd()) {
                            master_file.write_all(&[EOT])?;
                        }
                    }
                    Ok(n) => master_file.write_all(&buf[..n])?,
                }
            }
        }
    }
}

fn is_terminal(fd: BorrowedFd) -> bool {
    nix::unistd::isatty(fd).unwrap_or(false)
}

/// Gives `to` the window size of `from`, when `from` is a terminal.
fn copy_window_size(from: BorrowedFd, to: BorrowedFd) {
    // SAFETY: winsize is plain data; TIOCGWINSZ fills it or fails.
    let mut ws: nix::libc::winsize = unsafe { std::mem::zeroed() };
    // SAFETY: both descriptors are open for the duration of the calls; ws is a valid winsize.
    unsafe {
        if nix::libc::ioctl(from.as_raw_fd(), nix::libc::TIOCGWINSZ, &mut ws) == 0 {
            nix::libc::ioctl(to.as_raw_fd(), nix::libc::TIOCSWINSZ, &ws);
        }
    }
}

extern "C" fn on_sigwinch(_: nix::libc::c_int) {
    RESIZED.store(true, Ordering::Relaxed);
}

fn install_sigwinch() {
    use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};
    // No SA_RESTART: the signal interrupts poll, which then copies the size.
    let action = SigAction::new(
        SigHandler::Handler(on_sigwinch),
        SaFlags::empty(),
        SigSet::empty(),
    );
    // SAFETY: the handler only stores to an atomic (async-signal-safe).
    let _ = unsafe { sigaction(Signal::SIGWINCH, &action) };
}

/// This terminal in raw mode until dropped (nothing when stdin is no terminal).
struct RawMode<'a> {
    fd: BorrowedFd<'a>,
    saved: Termios,
}

impl<'a> RawMode<'a> {
    fn enter(fd: BorrowedFd<'a>) -> Option<RawMode<'a>> {
        if !is_terminal(fd) {
            return None;
        }
        let saved = termios::tcgetattr(fd).ok()?;
        let mut raw = saved.clone();
        termios::cfmakeraw(&mut raw);
        termios::tcsetattr(fd, SetArg::TCSANOW, &raw).ok()?;
        Some(RawMode { fd, saved })
    }
}

impl Drop for RawMode<'_> {
    fn drop(&mut self) {
        let _ = termios::tcsetattr(self.fd, SetArg::TCSAFLUSH, &self.saved);
    }
}
