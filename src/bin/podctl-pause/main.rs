//! podctl-pause: the smallest process that can keep a pod's namespaces alive.
//!
//! A freestanding static binary (no libc, no allocator, a few pages resident),
//! in the spirit of Kubernetes' `pause` and catatonit. Two modes:
//!
//! * `podctl-pause hold NSLIST HOSTNAME`: the sandbox holder. Waits for its
//!   release (`go`: sent once podctl has placed this process in its scope),
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

mod go;
mod hold;
mod init;
mod relay;
mod sys;
use hold::hold_main;
use init::init_main;
use relay::{relay, relay_logs};

const CLONE_NEWUSER: usize = 0x1000_0000;
const CLONE_NEWNS: usize = 0x0002_0000;
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

/// # Safety
/// `p` is a NUL-terminated string from the kernel's argv block.
unsafe fn cstr<'a>(p: *const u8) -> &'a [u8] {
    // SAFETY: argv strings are NUL-terminated.
    let n = unsafe { mem::strlen(p) };
    // SAFETY: the n bytes before the NUL are initialised and live for the process.
    unsafe { core::slice::from_raw_parts(p, n) }
}

extern "C" fn main_entry(sp: *const usize) -> ! {
    // SAFETY: at process entry the stack holds argc, then argc argv pointers.
    let argc = unsafe { *sp };
    let arg = |i: usize| -> &[u8] {
        if i < argc {
            // SAFETY: argv[i] for i < argc are valid NUL-terminated strings.
            unsafe { cstr(*sp.add(1 + i) as *const u8) }
        } else {
            b""
        }
    };
    match arg(1) {
        b"hold" => {
            // SAFETY: envp follows argv's NULL on the initial stack.
            let go_fd = unsafe { go::go_fd(sp.add(1 + argc + 1)) };
            hold_main(arg(2), arg(3), go_fd)
        }
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
mod mem;

/// core's precompiled panic paths reference the unwinder's personality
/// routine; with panic=abort nothing ever calls it.
#[unsafe(no_mangle)]
pub extern "C" fn rust_eh_personality() {}
