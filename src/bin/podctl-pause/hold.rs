//! `hold NSLIST HOSTNAME`: the sandbox holder.

use crate::*;

/// Holds the namespaces: reap children, exit 0 on SIGTERM/SIGINT.
pub(crate) fn hold() -> ! {
    loop {
        while reap().is_some() {}
        let sig = next_signal();
        if sig == SIGTERM || sig == SIGINT {
            exit(0);
        }
    }
}

pub(crate) fn ns_flags(list: &[u8]) -> usize {
    let mut flags = 0;
    for name in list.split(|&c| c == b',') {
        flags |= match name {
            b"user" => CLONE_NEWUSER,
            b"net" => CLONE_NEWNET,
            b"ipc" => CLONE_NEWIPC,
            b"uts" => CLONE_NEWUTS,
            b"pid" => CLONE_NEWPID,
            b"mnt" => CLONE_NEWNS,
            b"" => 0,
            _ => die(b"unknown namespace in list (use user,mnt,net,ipc,uts,pid)"),
        };
    }
    flags
}

/// Sets IFF_UP on `lo` in the current network namespace.
pub(crate) fn loopback_up() {
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

/// `go_fd`: the release pipe ([`crate::go`]).
pub(crate) fn hold_main(nslist: &[u8], hostname: &[u8], go_fd: Option<usize>) -> ! {
    block_all_signals();
    // SAFETY: chdir takes a NUL-terminated path.
    unsafe { sys::call(sys::CHDIR, c"/".as_ptr() as usize, 0, 0, 0) };
    // Wait until podctl has put us in our scope: nothing is created before.
    go::wait_release(go_fd);
    let flags = ns_flags(nslist);
    // With "user", the user namespace is made first and owns the others;
    // podctl writes its ID maps once it has read the PID reported below
    // (nothing here needs them: the holder has every capability in it).
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
