//! The release message, as podctl sends it to every helper it holds (see
//! `supervise::held` in the library): the byte `g` and a body, read to EOF
//! from the pipe whose descriptor `PODCTL_GO_FD` names. EOF with nothing
//! read: podctl went away.

use crate::*;

/// The environment variable naming the release pipe (`supervise::held::GO_FD_ENV`).
const GO_FD_ENV: &[u8] = b"PODCTL_GO_FD=";
/// The first byte of a release message (`supervise::held::GO`).
const GO: u8 = b'g';

/// The descriptor `PODCTL_GO_FD` names, if set.
///
/// # Safety
/// `envp` is the process's NULL-terminated environment pointer array.
pub(crate) unsafe fn go_fd(mut envp: *const usize) -> Option<usize> {
    loop {
        // SAFETY: envp points into the NULL-terminated array (the caller's promise).
        let p = unsafe { *envp };
        if p == 0 {
            return None;
        }
        // SAFETY: every entry before the NULL is a NUL-terminated string.
        let var = unsafe { cstr(p as *const u8) };
        if let Some(value) = var.strip_prefix(GO_FD_ENV) {
            return parse_pid(value);
        }
        // SAFETY: not past the NULL yet.
        envp = unsafe { envp.add(1) };
    }
}

/// Waits for the release on `fd` (read to EOF; the body, if any, is not
/// for this process), closes it; dies if podctl went away or sent
/// something else.
pub(crate) fn wait_release(fd: Option<usize>) {
    let Some(fd) = fd else {
        die(b"no release pipe (PODCTL_GO_FD): podctl starts this process")
    };
    let mut first = None;
    let mut buf = [0u8; 64];
    loop {
        let n = relay::read(fd, &mut buf);
        if n == -4 {
            continue; // EINTR
        }
        if n <= 0 {
            break;
        }
        first = first.or(Some(buf[0]));
    }
    // SAFETY: closing the pipe end we were given and read to the end.
    unsafe { sys::call(sys::CLOSE, fd, 0, 0, 0) };
    match first {
        Some(GO) => {}
        None => die(b"podctl went away before releasing this process"),
        Some(_) => die(b"not a release message on PODCTL_GO_FD"),
    }
}
