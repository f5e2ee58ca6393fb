//! `relay PID [OUT_FD ERR_FD]`: wait for a child, forward signals, reap,
//! copy the container's output to journald, exit with the child's status.

use crate::*;

/// `relay PID`: forward termination signals to PID, reap, exit with its status.
pub(crate) fn relay(target: usize) -> ! {
    loop {
        while let Some((pid, status)) = reap() {
            if pid as usize == target {
                exit(exit_code(status));
            }
        }
        let sig = next_signal();
        if sig != SIGCHLD {
            // SAFETY: kill takes plain integers.
            unsafe { sys::call(sys::KILL, target, sig, 0, 0) };
        }
    }
}

pub(crate) fn read(fd: usize, buf: &mut [u8]) -> isize {
    // SAFETY: buf is a live, writable slice of buf.len() bytes.
    unsafe { sys::call(sys::READ, fd, buf.as_mut_ptr() as usize, buf.len(), 0) }
}

/// Copies what can be read now from `from` to `to`, false once `from` is
/// at EOF, starting every line with `prefix`; `col` counts the bytes
/// of the current line so far (kept between calls: lines span reads; 0: the
/// next byte begins a line). A line longer than [`LINE_MAX`] is broken
/// there, and its rest starts with `prefix` too: journald breaks longer
/// lines itself and would read a priority at the start of the rest.
/// `other` is the column of the other pipe sharing the stream: a line of
/// it still open is ended first, so that what is copied here never lands
/// in its middle (its rest then starts with its own prefix).
pub(crate) fn pump_prefixed(
    from: usize,
    to: usize,
    prefix: &[u8],
    (col, other): (&mut usize, &mut usize),
) -> bool {
    let mut buf = [0u8; 4096];
    // Room for every byte of `buf` plus a prefix and a line break for each
    // line in it, and the line break that ends the other pipe's line.
    let mut out = [0u8; 4096 * 5 + 1];
    loop {
        let n = read(from, &mut buf);
        if n == 0 {
            return false;
        }
        if n < 0 {
            return n == -11 || n == -4; // EAGAIN, EINTR: nothing more for now
        }
        let mut len = 0;
        if *other != 0 {
            out[0] = b'\n';
            len = 1;
            *other = 0;
        }
        for &b in &buf[..n as usize] {
            if *col >= LINE_MAX && b != b'\n' {
                out[len] = b'\n';
                len += 1;
                *col = 0;
            }
            if *col == 0 && len + prefix.len() <= out.len() {
                out[len..len + prefix.len()].copy_from_slice(prefix);
                len += prefix.len();
            }
            out[len] = b;
            len += 1;
            *col = if b == b'\n' { 0 } else { *col + 1 };
        }
        write_all(to, &out[..len]);
    }
}

/// The longest line the relay passes on whole (journald's LineMax is 48K by
/// default).
pub(crate) const LINE_MAX: usize = 32 * 1024;

/// What the relay puts before each line of the container's stdout and
/// stderr: both share one journald stream (journald takes at most 4,096
/// streams), opened with level prefixes on, so stdout lines have priority 6
/// (info) and stderr lines 3 (err). The container's output never chooses
/// its own priority: a line `<0>text` it writes is logged at 6 or 3 as
/// the text `<0>text` (journald reads one prefix only), never at 0
/// (emergency, which journald sends to every terminal).
pub(crate) const STDOUT_PREFIX: &[u8] = b"<6>";
pub(crate) const STDERR_PREFIX: &[u8] = b"<3>";

/// `relay PID OUT ERR`: as [`relay`], and copies the container's output from
/// the pipes OUT and ERR to our stdout and stderr (one journald stream). journald
/// attributes each line to the process that wrote it to its socket; written
/// by this long-lived process in the container's scope, a line of even the
/// shortest-lived command is attributed to the container's unit.
/// Pipe `i`'s column and the other pipe's.
fn mine_and_other(cols: &mut [usize; 2], i: usize) -> (&mut usize, &mut usize) {
    let [a, b] = cols;
    if i == 0 { (a, b) } else { (b, a) }
}

/// OUT may be a terminal's master (a container with `tty`): its lines are
/// copied as stdout's (journald drops the `\r` the terminal ends them
/// with, as it drops any trailing whitespace).
pub(crate) fn relay_logs(target: usize, out: usize, err: usize) -> ! {
    const O_NONBLOCK: usize = 0o4000;
    const POLLIN: i16 = 1;
    let all: u64 = !0;
    // SAFETY: a valid 8-byte sigset; SFD_NONBLOCK | SFD_CLOEXEC.
    let sfd = unsafe {
        sys::call(
            sys::SIGNALFD4,
            usize::MAX,
            &all as *const u64 as usize,
            8,
            0o4000 | 0o2000000,
        )
    };
    if sfd < 0 {
        relay(target);
    }
    let mut fds: [(i32, i16, i16); 3] = [
        (sfd as i32, POLLIN, 0),
        (out as i32, POLLIN, 0),
        (err as i32, POLLIN, 0),
    ];
    // Bytes of the current line of stdout and of stderr so far.
    let mut cols = [0usize; 2];
    for fd in [out, err] {
        // SAFETY: F_SETFL on our own pipe ends.
        unsafe { sys::call(sys::FCNTL, fd, 4, O_NONBLOCK, 0) };
    }
    loop {
        while let Some((pid, status)) = reap() {
            if pid as usize == target {
                // What the container wrote before it ended still goes out.
                let [o, e] = &mut cols;
                pump_prefixed(out, 1, STDOUT_PREFIX, (o, e));
                pump_prefixed(err, 2, STDERR_PREFIX, (e, o));
                exit(exit_code(status));
            }
        }
        for f in fds.iter_mut() {
            f.2 = 0;
        }
        // SAFETY: fds is an array of 3 struct pollfd {int fd; short events; short revents}.
        let r = unsafe { sys::call(sys::POLL, fds.as_mut_ptr() as usize, 3, usize::MAX, 0) };
        if r <= 0 {
            continue;
        }
        if fds[0].2 != 0 {
            let mut info = [0u8; 128];
            while read(sfd as usize, &mut info) == 128 {
                let sig = u32::from_ne_bytes([info[0], info[1], info[2], info[3]]) as usize;
                if sig != SIGCHLD {
                    // SAFETY: kill takes plain integers.
                    unsafe { sys::call(sys::KILL, target, sig, 0, 0) };
                }
            }
        }
        for (i, prefix) in [(1usize, STDOUT_PREFIX), (2, STDERR_PREFIX)] {
            if fds[i].0 >= 0
                && fds[i].2 != 0
                && !pump_prefixed(
                    fds[i].0 as usize,
                    i,
                    prefix,
                    mine_and_other(&mut cols, i - 1),
                )
            {
                // SAFETY: closing our own pipe end at EOF; -1 makes poll skip it.
                unsafe { sys::call(sys::CLOSE, fds[i].0 as usize, 0, 0, 0) };
                fds[i].0 = -1;
            }
        }
    }
}
