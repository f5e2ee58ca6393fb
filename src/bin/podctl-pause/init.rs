//! `init -- PROGRAM ARGS...`: a container's init (exec PROGRAM, relay, reap).

use crate::*;

/// Unblocks every signal (a command starts with an empty mask).
pub(crate) fn unblock_all_signals() {
    let none: u64 = 0;
    // SAFETY: a valid 8-byte sigset (SIG_SETMASK = 2) and no old-set pointer.
    unsafe { sys::call(sys::RT_SIGPROCMASK, 2, &none as *const u64 as usize, 0, 8) };
}

/// execve(path, argv, envp); returns the (negative) error.
///
/// # Safety
/// `path` is NUL-terminated; `argv` and `envp` are NULL-terminated arrays
/// of NUL-terminated strings.
pub(crate) unsafe fn execve(path: *const u8, argv: *const usize, envp: *const usize) -> isize {
    // SAFETY: the caller's contract is execve's.
    unsafe { sys::call(sys::EXECVE, path as usize, argv as usize, envp as usize, 0) }
}

pub(crate) const ENOENT: isize = -2;
pub(crate) const EACCES: isize = -13;
pub(crate) const ENOTDIR: isize = -20;

/// The value of `PATH` in `envp`, or systemd's default.
///
/// # Safety
/// `envp` is a NULL-terminated array of NUL-terminated strings.
pub(crate) unsafe fn path_var<'a>(envp: *const usize) -> &'a [u8] {
    let mut i = 0;
    loop {
        // SAFETY: the array is NULL-terminated; we stop at the NULL.
        let p = unsafe { *envp.add(i) } as *const u8;
        if p.is_null() {
            return b"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        }
        // SAFETY: each entry is NUL-terminated.
        let e = unsafe { cstr(p) };
        if let Some(v) = e.strip_prefix(b"PATH=") {
            return v;
        }
        i += 1;
    }
}

/// The child of `init`: exec the program, searching PATH like execvp.
///
/// # Safety
/// `argv` and `envp` are the process's own NULL-terminated arrays, argv[0]
/// being the program.
pub(crate) unsafe fn exec_command(argv: *const usize, envp: *const usize) -> ! {
    unblock_all_signals();
    // SAFETY: argv[0] exists (checked by the caller) and is NUL-terminated.
    let prog_ptr = unsafe { *argv } as *const u8;
    // SAFETY: as above.
    let prog = unsafe { cstr(prog_ptr) };
    if prog.contains(&b'/') {
        // SAFETY: the process's own arrays.
        let e = unsafe { execve(prog_ptr, argv, envp) };
        exec_failed(prog, e);
    }
    let mut buf = [0u8; 4096];
    let mut last = ENOENT;
    // SAFETY: envp is the process's own array.
    for dir in unsafe { path_var(envp) }.split(|&c| c == b':') {
        let dir: &[u8] = if dir.is_empty() { b"." } else { dir };
        let n = dir.len() + 1 + prog.len();
        if n + 1 > buf.len() {
            continue;
        }
        buf[..dir.len()].copy_from_slice(dir);
        buf[dir.len()] = b'/';
        buf[dir.len() + 1..n].copy_from_slice(prog);
        buf[n] = 0;
        // SAFETY: buf is NUL-terminated at n; the arrays are the process's own.
        let e = unsafe { execve(buf.as_ptr(), argv, envp) };
        if e == EACCES {
            last = e;
        } else if e != ENOENT && e != ENOTDIR {
            exec_failed(prog, e);
        }
    }
    exec_failed(prog, last)
}

pub(crate) fn exec_failed(prog: &[u8], e: isize) -> ! {
    write_all(2, b"podctl-pause: cannot execute ");
    write_all(2, prog);
    if e == ENOENT {
        write_all(2, b": not found\n");
        exit(127)
    }
    write_all(2, b": permission denied or not executable\n");
    exit(126)
}

/// `init -- PROGRAM ARGS...`: fork, exec the program in the child, relay.
///
/// # Safety
/// `argv` points at the NULL-terminated argument array starting at PROGRAM;
/// `envp` is the process's environment array.
pub(crate) unsafe fn init_main(argv: *const usize, envp: *const usize) -> ! {
    block_all_signals();
    // SAFETY: fork takes no arguments.
    let pid = unsafe { sys::call(sys::FORK, 0, 0, 0, 0) };
    if pid < 0 {
        die(b"fork failed");
    }
    if pid == 0 {
        // SAFETY: the caller's contract.
        unsafe { exec_command(argv, envp) }
    }
    relay(pid as usize)
}
