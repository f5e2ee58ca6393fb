//! `podctl exec -t` through a runtime: the runtime makes the terminal in the
//! container's own devpts (`exec --tty --console-socket S`) and sends its
//! master here over S; this helper copies between its own terminal (stdin,
//! stdout: the pty `podctl exec` opened) and that master, in raw mode, with
//! the window size following, until the command ends.
//!
//! A container with `tty = true` gets its terminal the same way at its
//! start (`run --console-socket S`): [`listen`] and [`try_receive`] take
//! the master, which its relay reads into the journal.

use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// How long the runtime has to connect and send the terminal.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// How often the wait for the terminal looks again whether the runtime
/// connected or exited (the socket is non-blocking).
const CONSOLE_POLL: Duration = Duration::from_millis(10);
/// How often the copy loop looks at the window size and the runtime.
const TICK_MS: u16 = 100;

/// Runs `cmd` (a `RUNTIME exec --tty --console-socket SOCKET ...`) and
/// relays the terminal; returns the command's exit status.
pub fn run(mut cmd: Command, socket: &Path) -> Result<i32, String> {
    let listener = listen(socket)?;
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot run the runtime: {e}"))?;
    let master = receive_master(&listener, &mut child);
    let _ = std::fs::remove_file(socket);
    let master = master?;
    let saved = raw_stdin();
    let status = relay(&master, &mut child);
    if let Some(t) = saved {
        let _ = nix::sys::termios::tcsetattr(
            std::io::stdin().as_fd(),
            nix::sys::termios::SetArg::TCSANOW,
            &t,
        );
    }
    status
}

fn receive_master(listener: &UnixListener, child: &mut Child) -> Result<OwnedFd, String> {
    let deadline = Instant::now() + CONNECT_TIMEOUT;
    let stream = loop {
        match listener.accept() {
            Ok((s, _)) => break s,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if let Ok(Some(st)) = child.try_wait() {
                    return Err(format!(
                        "the runtime exited ({st}) before sending a terminal"
                    ));
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    return Err("the runtime sent no terminal".into());
                }
                std::thread::sleep(CONSOLE_POLL);
            }
            Err(e) => return Err(format!("console socket: {e}")),
        }
    };
    read_fd(&stream)
}

/// Binds the console socket a runtime sends a terminal's master to
/// (non-blocking: see [`try_receive`]).
pub fn listen(socket: &Path) -> Result<UnixListener, String> {
    let _ = std::fs::remove_file(socket);
    let listener = UnixListener::bind(socket).map_err(|e| format!("{}: {e}", socket.display()))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| format!("{}: {e}", socket.display()))?;
    Ok(listener)
}

/// The terminal's master, once the runtime has connected to `listener`
/// (a connection is queued by the kernel until it is accepted); `None`
/// while it has not.
pub fn try_receive(listener: &UnixListener) -> Result<Option<OwnedFd>, String> {
    match listener.accept() {
        Ok((stream, _)) => read_fd(&stream).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(None),
        Err(e) => Err(format!("console socket: {e}")),
    }
}

/// The descriptor the runtime sends on a connection of the console socket.
fn read_fd(stream: &std::os::unix::net::UnixStream) -> Result<OwnedFd, String> {
    use nix::sys::socket::{ControlMessageOwned, MsgFlags, recvmsg};
    stream
        .set_nonblocking(false)
        .map_err(|e| format!("console socket: {e}"))?;
    let mut buf = [0u8; 256];
    let mut iov = [std::io::IoSliceMut::new(&mut buf)];
    let mut space = nix::cmsg_space!([std::os::fd::RawFd; 1]);
    let msg = recvmsg::<()>(
        stream.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::empty(),
    )
    .map_err(|e| format!("console socket: {e}"))?;
    for c in msg.cmsgs().map_err(|e| format!("console socket: {e}"))? {
        if let ControlMessageOwned::ScmRights(fds) = c
            && let Some(&fd) = fds.first()
        {
            // SAFETY: the kernel just installed this descriptor for us.
            return Ok(unsafe { OwnedFd::from_raw_fd(fd) });
        }
    }
    Err("the runtime sent no terminal descriptor".into())
}

/// Puts stdin (a terminal) in raw mode; returns the old settings.
fn raw_stdin() -> Option<nix::sys::termios::Termios> {
    use nix::sys::termios::{SetArg, cfmakeraw, tcgetattr, tcsetattr};
    let stdin = std::io::stdin();
    let old = tcgetattr(stdin.as_fd()).ok()?;
    let mut raw = old.clone();
    cfmakeraw(&mut raw);
    tcsetattr(stdin.as_fd(), SetArg::TCSANOW, &raw).ok()?;
    Some(old)
}

/// The window size (rows, columns) of terminal `fd`; None when it is not
/// a terminal or has no size yet.
pub fn window_size(fd: i32) -> Option<(u16, u16)> {
    let mut ws: nix::libc::winsize = empty_winsize();
    // SAFETY: TIOCGWINSZ fills a winsize we own.
    let ok = unsafe { nix::libc::ioctl(fd, nix::libc::TIOCGWINSZ, &mut ws) } == 0;
    (ok && ws.ws_row > 0 && ws.ws_col > 0).then_some((ws.ws_row, ws.ws_col))
}

/// Copies the window size of `from` to `to` when it changed.
fn follow_size(from: i32, to: i32, last: &mut (u16, u16)) {
    let mut ws: nix::libc::winsize = empty_winsize();
    // SAFETY: TIOCGWINSZ fills a winsize we own.
    if unsafe { nix::libc::ioctl(from, nix::libc::TIOCGWINSZ, &mut ws) } == 0
        && (ws.ws_row, ws.ws_col) != *last
    {
        *last = (ws.ws_row, ws.ws_col);
        // SAFETY: TIOCSWINSZ reads a winsize we own.
        unsafe { nix::libc::ioctl(to, nix::libc::TIOCSWINSZ, &ws) };
    }
}

fn empty_winsize() -> nix::libc::winsize {
    nix::libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    }
}

fn relay(master: &OwnedFd, child: &mut Child) -> Result<i32, String> {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    let mut m = std::fs::File::from(master.try_clone().map_err(|e| e.to_string())?);
    let mut stdin_open = true;
    let mut last = (0, 0);
    let mut buf = [0u8; 4096];
    loop {
        follow_size(0, master.as_raw_fd(), &mut last);
        let stdin = std::io::stdin();
        let mut fds = vec![PollFd::new(master.as_fd(), PollFlags::POLLIN)];
        if stdin_open {
            fds.push(PollFd::new(stdin.as_fd(), PollFlags::POLLIN));
        }
        let _ = poll(&mut fds, PollTimeout::from(TICK_MS));
        let ready = |f: &PollFd| f.revents().is_some_and(|r| !r.is_empty());
        let (from_master, from_stdin) = (ready(&fds[0]), fds.get(1).is_some_and(ready));
        drop(fds);
        if from_master {
            match m.read(&mut buf) {
                // EIO: the last process holding the terminal is gone.
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let mut out = std::io::stdout();
                    let _ = out.write_all(&buf[..n]);
                    let _ = out.flush();
                }
            }
        }
        if from_stdin {
            match std::io::stdin().read(&mut buf) {
                Ok(0) | Err(_) => stdin_open = false,
                Ok(n) => {
                    let _ = m.write_all(&buf[..n]);
                }
            }
        }
        if !from_master && let Ok(Some(_)) = child.try_wait() {
            break;
        }
    }
    let status = child
        .wait()
        .map_err(|e| format!("wait for the runtime: {e}"))?;
    use std::os::unix::process::ExitStatusExt;
    Ok(status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0)))
}
