//! podctl-pause: the smallest process that can keep a pod's namespaces alive.
//!
//! A freestanding static binary (no libc, no allocator, a few pages resident),
//! in the spirit of Kubernetes' `pause` and catatonit. Two modes:
//!
//! * `podctl-pause hold NSLIST HOSTNAME`: the sandbox holder. Waits for one
//!   byte on stdin (sent once podctl has placed this process in its scope),
//!   unshares the namespaces in NSLIST (comma-separated: net,ipc,uts,pid),
//!   sets the hostname in a new UTS namespace, brings `lo` up in a new network
//!   namespace, writes the PID that owns the namespaces to stdout, then sleeps,
//!   reaping zombies, until SIGTERM/SIGINT, when it exits 0. With `pid`, it
//!   forks: the child is PID 1 of the pod's PID namespace and holds; the parent
//!   relays signals to it and exits with its status.
//! * `podctl-pause relay PID [OUT_FD ERR_FD]`: waits for child PID, forwards
//!   termination signals to it, reaps every other child (it may be PID 1 of a
//!   container's PID namespace) and exits with PID's status (128+N if killed
//!   by signal N). With OUT_FD and ERR_FD it also copies the container's
//!   output from those pipes to its own stdout and stderr (journald).
//!   A container's command never runs as PID 1 itself, so it gets SIGTERM's
//!   default action even when it installs no handler.
//! * `podctl-pause init -- PROGRAM ARGS...`: the init of a container started
//!   by an OCI runtime (bind-mounted read-only into it, like `docker run
//!   --init`): forks, the child execs PROGRAM (looked up in PATH when it has
//!   no `/`) with the environment it was given, and this process relays
//!   signals to it, reaps every other child and exits with its status. A
//!   program that cannot be executed: exit 127 (not found) or 126, with a
//!   message on stderr.
#![no_std]
#![no_main]

#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
compile_error!("podctl-pause supports x86_64 Linux only");

mod sys {
    use core::arch::asm;

    pub const READ: usize = 0;
    pub const WRITE: usize = 1;
    pub const CLOSE: usize = 3;
    pub const POLL: usize = 7;
    pub const RT_SIGPROCMASK: usize = 14;
    pub const IOCTL: usize = 16;
    pub const SOCKET: usize = 41;
    pub const FORK: usize = 57;
    pub const EXECVE: usize = 59;
    pub const EXIT: usize = 60;
    pub const WAIT4: usize = 61;
    pub const KILL: usize = 62;
    pub const FCNTL: usize = 72;
    pub const CHDIR: usize = 80;
    pub const RT_SIGTIMEDWAIT: usize = 128;
    pub const PRCTL: usize = 157;
    pub const SETHOSTNAME: usize = 170;
    pub const UNSHARE: usize = 272;
    pub const SIGNALFD4: usize = 289;

    /// Raw x86_64 Linux system call with up to four arguments.
    ///
    /// # Safety
    /// The caller passes arguments that are valid for system call `n`
    /// (pointers to live memory of the size the kernel expects).
    pub unsafe fn call(n: usize, a: usize, b: usize, c: usize, d: usize) -> isize {
        let ret: isize;
        // SAFETY: the syscall instruction clobbers only rax, rcx and r11, all
        // declared; memory safety of the arguments is the caller's contract.
        unsafe {
            asm!(
                "syscall",
                inlateout("rax") n as isize => ret,
                in("rdi") a, in("rsi") b, in("rdx") c, in("r10") d,
                lateout("rcx") _, lateout("r11") _,
                options(nostack)
            );
        }
        ret
    }
}

const CLONE_NEWUTS: usize = 0x0400_0000;
const CLONE_NEWIPC: usize = 0x0800_0000;
const CLONE_NEWPID: usize = 0x2000_0000;
const CLONE_NEWNET: usize = 0x4000_0000;
const SIGINT: usize = 2;
const SIGTERM: usize = 15;
const SIGCHLD: usize = 17;
const WNOHANG: usize = 1;

fn exit(code: usize) -> ! {
    // SAFETY: exit takes a plain integer and does not return.
    unsafe { sys::call(sys::EXIT, code, 0, 0, 0) };
    loop {
        core::hint::spin_loop();
    }
}

fn write_all(fd: usize, mut buf: &[u8]) {
    while !buf.is_empty() {
        // SAFETY: buf is a live slice of buf.len() bytes.
        let n = unsafe { sys::call(sys::WRITE, fd, buf.as_ptr() as usize, buf.len(), 0) };
        if n <= 0 {
            return;
        }
        buf = &buf[n as usize..];
    }
}

fn die(msg: &[u8]) -> ! {
    write_all(2, b"podctl-pause: ");
    write_all(2, msg);
    write_all(2, b"\n");
    exit(111)
}

/// Blocks every signal, so they are only taken by `rt_sigtimedwait`.
fn block_all_signals() {
    let all: u64 = !0;
    // SAFETY: a valid 8-byte sigset and no old-set pointer.
    unsafe { sys::call(sys::RT_SIGPROCMASK, 0, &all as *const u64 as usize, 0, 8) };
}

/// Waits for the next signal; returns its number.
fn next_signal() -> usize {
    let all: u64 = !0;
    let mut info = [0u64; 16]; // siginfo_t is 128 bytes
    loop {
        // SAFETY: valid sigset, a 128-byte siginfo buffer, no timeout.
        let r = unsafe {
            sys::call(
                sys::RT_SIGTIMEDWAIT,
                &all as *const u64 as usize,
                info.as_mut_ptr() as usize,
                0,
                8,
            )
        };
        if r > 0 {
            return r as usize;
        }
    }
}

/// Reaps one exited child without blocking: Some((pid, raw wait status)).
fn reap() -> Option<(isize, i32)> {
    let mut status: i32 = 0;
    // SAFETY: status points to a live i32; no rusage.
    let pid = unsafe {
        sys::call(
            sys::WAIT4,
            usize::MAX,
            &mut status as *mut i32 as usize,
            WNOHANG,
            0,
        )
    };
    (pid > 0).then_some((pid, status))
}

/// Exit code that reflects a wait status: the code, or 128+signal.
fn exit_code(status: i32) -> usize {
    let sig = status & 0x7f;
    if sig == 0 {
        ((status >> 8) & 0xff) as usize
    } else {
        128 + sig as usize
    }
}

fn parse_pid(s: &[u8]) -> Option<usize> {
    if s.is_empty() || s.len() > 10 {
        return None;
    }
    let mut n = 0usize;
    for &c in s {
        if !c.is_ascii_digit() {
            return None;
        }
        n = n * 10 + (c - b'0') as usize;
    }
    (n > 0).then_some(n)
}

fn write_pid(fd: usize, pid: usize) {
    let mut buf = [0u8; 24];
    let mut i = buf.len();
    i -= 1;
    buf[i] = b'\n';
    let mut n = pid;
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    write_all(fd, &buf[i..]);
}

/// `relay PID`: forward termination signals to PID, reap, exit with its status.
fn relay(target: usize) -> ! {
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

fn read(fd: usize, buf: &mut [u8]) -> isize {
    // SAFETY: buf is a live, writable slice of buf.len() bytes.
    unsafe { sys::call(sys::READ, fd, buf.as_mut_ptr() as usize, buf.len(), 0) }
}

/// Copies what can be read now from `from` to `to`; false once `from` is at EOF.
fn pump(from: usize, to: usize) -> bool {
    let mut buf = [0u8; 4096];
    loop {
        let n = read(from, &mut buf);
        if n == 0 {
            return false;
        }
        if n < 0 {
            return n == -11 || n == -4; // EAGAIN, EINTR: nothing more for now
        }
        write_all(to, &buf[..n as usize]);
    }
}

/// As [`pump`], starting every line with `prefix`; `at_start` says whether
/// the next byte begins a line (kept between calls: lines span reads).
fn pump_prefixed(from: usize, to: usize, prefix: &[u8], at_start: &mut bool) -> bool {
    let mut buf = [0u8; 4096];
    // Room for every byte of `buf` plus a prefix for each line in it.
    let mut out = [0u8; 4096 * 4];
    loop {
        let n = read(from, &mut buf);
        if n == 0 {
            return false;
        }
        if n < 0 {
            return n == -11 || n == -4; // EAGAIN, EINTR: nothing more for now
        }
        let mut len = 0;
        for &b in &buf[..n as usize] {
            if *at_start && len + prefix.len() <= out.len() {
                out[len..len + prefix.len()].copy_from_slice(prefix);
                len += prefix.len();
            }
            out[len] = b;
            len += 1;
            *at_start = b == b'\n';
        }
        write_all(to, &out[..len]);
    }
}

/// What the relay puts before each line of the container's stderr: its
/// stdout and stderr share one journald stream (journald takes at most 4,096
/// streams), opened with level prefixes on, so these lines keep priority 3.
const STDERR_PREFIX: &[u8] = b"<3>";

/// `relay PID OUT ERR`: as [`relay`], and copies the container's output from
/// the pipes OUT and ERR to our stdout and stderr (one journald stream). journald
/// attributes each line to the process that wrote it to its socket; written
/// by this long-lived process in the container's scope, a line of even the
/// shortest-lived command is attributed to the container's unit.
fn relay_logs(target: usize, out: usize, err: usize) -> ! {
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
    let mut err_at_start = true;
    for fd in [out, err] {
        // SAFETY: F_SETFL on our own pipe ends.
        unsafe { sys::call(sys::FCNTL, fd, 4, O_NONBLOCK, 0) };
    }
    loop {
        while let Some((pid, status)) = reap() {
            if pid as usize == target {
                // What the container wrote before it ended still goes out.
                pump(out, 1);
                pump_prefixed(err, 2, STDERR_PREFIX, &mut err_at_start);
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
        for (i, to) in [(1usize, 1usize), (2, 2)] {
            let more = |fd: usize, at_start: &mut bool| match i {
                1 => pump(fd, to),
                _ => pump_prefixed(fd, to, STDERR_PREFIX, at_start),
            };
            if fds[i].0 >= 0 && fds[i].2 != 0 && !more(fds[i].0 as usize, &mut err_at_start) {
                // SAFETY: closing our own pipe end at EOF; -1 makes poll skip it.
                unsafe { sys::call(sys::CLOSE, fds[i].0 as usize, 0, 0, 0) };
                fds[i].0 = -1;
            }
        }
    }
}

/// Holds the namespaces: reap children, exit 0 on SIGTERM/SIGINT.
fn hold() -> ! {
    loop {
        while reap().is_some() {}
        let sig = next_signal();
        if sig == SIGTERM || sig == SIGINT {
            exit(0);
        }
    }
}

fn ns_flags(list: &[u8]) -> usize {
    let mut flags = 0;
    for name in list.split(|&c| c == b',') {
        flags |= match name {
            b"net" => CLONE_NEWNET,
            b"ipc" => CLONE_NEWIPC,
            b"uts" => CLONE_NEWUTS,
            b"pid" => CLONE_NEWPID,
            b"" => 0,
            _ => die(b"unknown namespace in list (use net,ipc,uts,pid)"),
        };
    }
    flags
}

/// Sets IFF_UP on `lo` in the current network namespace.
fn loopback_up() {
    const SIOCGIFFLAGS: usize = 0x8913;
    const SIOCSIFFLAGS: usize = 0x8914;
    const IFF_UP: u16 = 0x1;
    // SAFETY: socket takes plain integers.
    let fd = unsafe { sys::call(sys::SOCKET, 2, 2 | 0o2000000, 0, 0) }; // AF_INET, SOCK_DGRAM|CLOEXEC
    if fd < 0 {
        die(b"socket for lo failed");
    }
    // struct ifreq: 16-byte name, then a union whose first member is short flags.
    let mut ifr = [0u8; 40];
    ifr[..2].copy_from_slice(b"lo");
    // SAFETY: ifr is a 40-byte struct ifreq the kernel reads and writes.
    if unsafe {
        sys::call(
            sys::IOCTL,
            fd as usize,
            SIOCGIFFLAGS,
            ifr.as_mut_ptr() as usize,
            0,
        )
    } < 0
    {
        die(b"SIOCGIFFLAGS on lo failed");
    }
    let flags = u16::from_ne_bytes([ifr[16], ifr[17]]) | IFF_UP;
    ifr[16..18].copy_from_slice(&flags.to_ne_bytes());
    // SAFETY: as above.
    if unsafe {
        sys::call(
            sys::IOCTL,
            fd as usize,
            SIOCSIFFLAGS,
            ifr.as_mut_ptr() as usize,
            0,
        )
    } < 0
    {
        die(b"SIOCSIFFLAGS on lo failed");
    }
    // SAFETY: closing our own fd.
    unsafe { sys::call(sys::CLOSE, fd as usize, 0, 0, 0) };
}

fn hold_main(nslist: &[u8], hostname: &[u8]) -> ! {
    block_all_signals();
    // SAFETY: chdir takes a NUL-terminated path.
    unsafe { sys::call(sys::CHDIR, c"/".as_ptr() as usize, 0, 0, 0) };
    // Wait until podctl has put us in our scope: nothing is created before.
    let mut go = [0u8; 1];
    // SAFETY: reading one byte into a live buffer.
    if unsafe { sys::call(sys::READ, 0, go.as_mut_ptr() as usize, 1, 0) } != 1 {
        die(b"no start byte on stdin (podctl closed the pipe)");
    }
    let flags = ns_flags(nslist);
    // SAFETY: unshare takes flags only.
    if unsafe { sys::call(sys::UNSHARE, flags, 0, 0, 0) } < 0 {
        die(b"unshare failed");
    }
    if flags & CLONE_NEWUTS != 0 && !hostname.is_empty() {
        // SAFETY: hostname is a live slice of the given length.
        if unsafe {
            sys::call(
                sys::SETHOSTNAME,
                hostname.as_ptr() as usize,
                hostname.len(),
                0,
                0,
            )
        } < 0
        {
            die(b"sethostname failed");
        }
    }
    if flags & CLONE_NEWNET != 0 {
        loopback_up();
    }
    if flags & CLONE_NEWPID != 0 {
        // The new PID namespace takes effect for children only: fork its PID 1.
        // SAFETY: fork in a single-threaded process with no locks held.
        let child = unsafe { sys::call(sys::FORK, 0, 0, 0, 0) };
        if child < 0 {
            die(b"fork failed");
        }
        if child == 0 {
            // Die with the relaying parent, even if it is SIGKILLed: as PID 1
            // of the pod's PID namespace that takes the whole namespace along.
            // SAFETY: prctl(PR_SET_PDEATHSIG, SIGKILL) takes integers only.
            unsafe { sys::call(sys::PRCTL, 1, 9, 0, 0) };
            // SAFETY: closing inherited pipe ends.
            unsafe {
                sys::call(sys::CLOSE, 0, 0, 0, 0);
                sys::call(sys::CLOSE, 1, 0, 0, 0);
            }
            hold();
        }
        write_pid(1, child as usize);
        // SAFETY: closing our pipe ends.
        unsafe {
            sys::call(sys::CLOSE, 0, 0, 0, 0);
            sys::call(sys::CLOSE, 1, 0, 0, 0);
        }
        relay(child as usize);
    }
    // SAFETY: getpid has no arguments.
    let me = unsafe { sys::call(39, 0, 0, 0, 0) } as usize;
    write_pid(1, me);
    // SAFETY: closing our pipe ends.
    unsafe {
        sys::call(sys::CLOSE, 0, 0, 0, 0);
        sys::call(sys::CLOSE, 1, 0, 0, 0);
    }
    hold();
}

/// # Safety
/// `p` is a NUL-terminated string from the kernel's argv block.
unsafe fn cstr<'a>(p: *const u8) -> &'a [u8] {
    // SAFETY: argv strings are NUL-terminated.
    let n = unsafe { mem::strlen(p) };
    // SAFETY: the n bytes before the NUL are initialised and live for the process.
    unsafe { core::slice::from_raw_parts(p, n) }
}

/// Unblocks every signal (a command starts with an empty mask).
fn unblock_all_signals() {
    let none: u64 = 0;
    // SAFETY: a valid 8-byte sigset (SIG_SETMASK = 2) and no old-set pointer.
    unsafe { sys::call(sys::RT_SIGPROCMASK, 2, &none as *const u64 as usize, 0, 8) };
}

/// execve(path, argv, envp); returns the (negative) error.
///
/// # Safety
/// `path` is NUL-terminated; `argv` and `envp` are NULL-terminated arrays
/// of NUL-terminated strings.
unsafe fn execve(path: *const u8, argv: *const usize, envp: *const usize) -> isize {
    // SAFETY: the caller's contract is execve's.
    unsafe { sys::call(sys::EXECVE, path as usize, argv as usize, envp as usize, 0) }
}

const ENOENT: isize = -2;
const EACCES: isize = -13;
const ENOTDIR: isize = -20;

/// The value of `PATH` in `envp`, or systemd's default.
///
/// # Safety
/// `envp` is a NULL-terminated array of NUL-terminated strings.
unsafe fn path_var<'a>(envp: *const usize) -> &'a [u8] {
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
unsafe fn exec_command(argv: *const usize, envp: *const usize) -> ! {
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

fn exec_failed(prog: &[u8], e: isize) -> ! {
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
unsafe fn init_main(argv: *const usize, envp: *const usize) -> ! {
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

extern "C" fn main_entry(sp: *const usize) -> ! {
    // SAFETY: at process entry the stack holds argc, then argc argv pointers.
    let argc = unsafe { *sp };
    // SAFETY: argv[i] for i < argc are valid NUL-terminated strings.
    let arg = |i: usize| -> &[u8] {
        if i < argc {
            unsafe { cstr(*sp.add(1 + i) as *const u8) }
        } else {
            b""
        }
    };
    match arg(1) {
        b"hold" => hold_main(arg(2), arg(3)),
        b"init" if arg(2) == b"--" && argc > 3 => {
            // SAFETY: argv[3..] is the kernel's NULL-terminated argv tail and
            // envp follows argv's NULL on the initial stack.
            unsafe { init_main(sp.add(4), sp.add(1 + argc + 1)) }
        }
        b"relay" => {
            block_all_signals();
            // File descriptors parse like PIDs; 0 (stdin) is never a log pipe.
            match (parse_pid(arg(2)), parse_pid(arg(3)), parse_pid(arg(4))) {
                (Some(pid), Some(out), Some(err)) => relay_logs(pid, out, err),
                (Some(pid), None, None) => relay(pid),
                _ => die(b"usage: podctl-pause relay PID [OUT_FD ERR_FD]"),
            }
        }
        _ => die(
            b"usage: podctl-pause hold NSLIST HOSTNAME | relay PID [OUT_FD ERR_FD] | init -- PROGRAM [ARGS...]",
        ),
    }
}

/// Process entry: pass the initial stack pointer (argc, argv...) to Rust.
#[unsafe(naked)]
#[unsafe(no_mangle)]
pub extern "C" fn _start() -> ! {
    core::arch::naked_asm!(
        "mov rdi, rsp",
        "and rsp, -16",
        "call {entry}",
        "ud2",
        entry = sym main_entry,
    )
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    die(b"internal error")
}

/// Freestanding builds still get calls to these from the compiler.
mod mem {
    /// # Safety
    /// Standard C `memset` contract.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn memset(dst: *mut u8, c: i32, n: usize) -> *mut u8 {
        for i in 0..n {
            // SAFETY: caller guarantees dst..dst+n is writable; volatile keeps
            // the compiler from turning this loop back into a memset call.
            unsafe { dst.add(i).write_volatile(c as u8) };
        }
        dst
    }

    /// # Safety
    /// Standard C `memcpy` contract (non-overlapping).
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn memcpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
        for i in 0..n {
            // SAFETY: caller guarantees both ranges are valid for n bytes.
            unsafe { dst.add(i).write_volatile(src.add(i).read()) };
        }
        dst
    }

    /// # Safety
    /// Standard C `memcmp` contract.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
        for i in 0..n {
            // SAFETY: caller guarantees both ranges are readable for n bytes.
            let (x, y) = unsafe { (a.add(i).read_volatile(), b.add(i).read_volatile()) };
            if x != y {
                return x as i32 - y as i32;
            }
        }
        0
    }

    /// # Safety
    /// Standard C `strlen` contract.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn strlen(s: *const u8) -> usize {
        let mut n = 0;
        // SAFETY: caller guarantees s is NUL-terminated.
        while unsafe { s.add(n).read_volatile() } != 0 {
            n += 1;
        }
        n
    }

    /// # Safety
    /// Standard C `bcmp` contract.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
        // SAFETY: same contract as memcmp.
        unsafe { memcmp(a, b, n) }
    }
}

/// core's precompiled panic paths reference the unwinder's personality
/// routine; with panic=abort nothing ever calls it.
#[unsafe(no_mangle)]
pub extern "C" fn rust_eh_personality() {}
