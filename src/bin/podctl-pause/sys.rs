//! Raw x86_64 Linux system calls and their numbers.

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
