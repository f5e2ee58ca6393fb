//! Idmapped mounts (Linux 5.12): a user namespace holding a pod's
//! mapping, and a clone of a directory tree attached with that mapping.
//! open_tree(2), mount_setattr(2) and move_mount(2) have no wrappers in
//! nix nor libc: they are raw system calls here.

use crate::model::IdMap;
use std::ffi::CString;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::Mutex;

/// The user namespaces this process made, one per mapping: a container
/// helper idmaps all of its container's layers and volumes with one.
static USER_NAMESPACES: Mutex<Vec<(IdMap, OwnedFd)>> = Mutex::new(Vec::new());

/// Attaches at `at` a clone of the mount tree at `source` (submounts
/// included), idmapped with `map`. Errors of kind
/// [`io::ErrorKind::Unsupported`]: the kernel or a filesystem of the tree
/// cannot idmap.
pub(super) fn bind(source: &Path, at: &Path, map: IdMap) -> io::Result<()> {
    let tree = with_user_namespace(map, |userns| idmapped_tree(source, userns))?;
    attach(&tree, at)
}

/// Whether the tree at `source` can be idmapped with `map`: the clone is
/// idmapped, never attached, and goes with its descriptor. Errors as
/// [`bind`]'s.
pub(super) fn probe(source: &Path, map: IdMap) -> io::Result<()> {
    with_user_namespace(map, |userns| idmapped_tree(source, userns)).map(drop)
}

/// `f` with this process's user namespace of `map` (made once).
fn with_user_namespace<T>(
    map: IdMap,
    f: impl FnOnce(BorrowedFd<'_>) -> io::Result<T>,
) -> io::Result<T> {
    let mut made = USER_NAMESPACES.lock().unwrap_or_else(|e| e.into_inner());
    let i = match made.iter().position(|(m, _)| *m == map) {
        Some(i) => i,
        None => {
            made.push((map, user_namespace(map)?));
            made.len() - 1
        }
    };
    f(made[i].1.as_fd())
}

/// A user namespace with `map` (`0 UID SIZE`, `0 GID SIZE`), by its
/// descriptor: a child unshares one and waits while this process (root)
/// writes its maps and opens it, then is killed and reaped. No process
/// stays in it; the descriptor keeps it.
fn user_namespace(map: IdMap) -> io::Result<OwnedFd> {
    let (ready_r, ready_w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
    // SAFETY: the child makes only async-signal-safe system calls
    // (unshare, write, pause) until it is killed, so forking is sound even
    // where other threads run (the test harness); the container helper
    // that calls this is single-threaded.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(io::Error::last_os_error());
    }
    if pid == 0 {
        // SAFETY: plain system calls on a descriptor this process owns,
        // with a buffer that outlives them; the child never returns.
        unsafe {
            let errno: i32 = if libc::unshare(libc::CLONE_NEWUSER) == 0 {
                0
            } else {
                *libc::__errno_location()
            };
            let bytes = errno.to_ne_bytes();
            libc::write(ready_w.as_raw_fd(), bytes.as_ptr().cast(), bytes.len());
            loop {
                libc::pause();
            }
        }
    }
    drop(ready_w);
    let child = nix::unistd::Pid::from_raw(pid);
    let opened = open_user_namespace(pid, map, ready_r);
    let _ = nix::sys::signal::kill(child, nix::sys::signal::Signal::SIGKILL);
    let _ = nix::sys::wait::waitpid(child, None);
    opened
}

/// Waits for child `pid` to have unshared its user namespace (its errno on
/// `ready`), writes `map` as its maps and opens the namespace.
fn open_user_namespace(pid: i32, map: IdMap, ready: OwnedFd) -> io::Result<OwnedFd> {
    use std::io::Read;
    let mut errno = [0u8; 4];
    std::fs::File::from(ready)
        .read_exact(&mut errno)
        .map_err(|e| io::Error::new(e.kind(), format!("user namespace child {pid}: {e}")))?;
    match i32::from_ne_bytes(errno) {
        0 => {}
        n => {
            let e = io::Error::from_raw_os_error(n);
            return Err(io::Error::new(
                e.kind(),
                format!("cannot create a user namespace: {e}"),
            ));
        }
    }
    let proc = Path::new("/proc").join(pid.to_string());
    let write = |file: &str, line: String| {
        let path = proc.join(file);
        std::fs::write(&path, line)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))
    };
    write("uid_map", map.uid_map())?;
    write("gid_map", map.gid_map())?;
    let ns = proc.join("ns/user");
    let file = std::fs::File::open(&ns)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", ns.display())))?;
    Ok(file.into())
}

/// open_tree(2) a clone of `source`'s tree and mount_setattr(2) it
/// idmapped with `userns`: a detached mount, by its descriptor.
fn idmapped_tree(source: &Path, userns: BorrowedFd<'_>) -> io::Result<OwnedFd> {
    let source = c_path(source)?;
    let flags = libc::OPEN_TREE_CLONE | libc::OPEN_TREE_CLOEXEC | libc::AT_RECURSIVE as u32;
    // SAFETY: `source` is a NUL-terminated path that outlives the call; the
    // descriptor it returns is owned below.
    let fd = unsafe { libc::syscall(libc::SYS_open_tree, libc::AT_FDCWD, source.as_ptr(), flags) };
    if fd < 0 {
        let e = io::Error::last_os_error();
        return Err(match e.raw_os_error() {
            Some(libc::ENOSYS) => unsupported(e),
            _ => e,
        });
    }
    // SAFETY: open_tree returned this new descriptor; nothing else owns it.
    let tree = unsafe { OwnedFd::from_raw_fd(fd as RawFd) };
    let attr = libc::mount_attr {
        attr_set: libc::MOUNT_ATTR_IDMAP,
        attr_clr: 0,
        propagation: 0,
        userns_fd: userns.as_raw_fd() as u64,
    };
    // SAFETY: `tree` is an open descriptor, the empty path and `attr` live
    // through the call, and the size passed is `attr`'s.
    let set = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            tree.as_raw_fd(),
            c"".as_ptr(),
            libc::AT_EMPTY_PATH | libc::AT_RECURSIVE,
            &attr as *const libc::mount_attr,
            std::mem::size_of::<libc::mount_attr>(),
        )
    };
    if set < 0 {
        let e = io::Error::last_os_error();
        return Err(match e.raw_os_error() {
            Some(libc::EINVAL | libc::EPERM | libc::ENOSYS | libc::EOPNOTSUPP) => unsupported(e),
            _ => e,
        });
    }
    Ok(tree)
}

/// move_mount(2) the detached mount `tree` onto `at`.
fn attach(tree: &OwnedFd, at: &Path) -> io::Result<()> {
    let at = c_path(at)?;
    // SAFETY: `tree` is an open descriptor; the empty path and `at` are
    // NUL-terminated and live through the call.
    let moved = unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            tree.as_raw_fd(),
            c"".as_ptr(),
            libc::AT_FDCWD,
            at.as_ptr(),
            libc::MOVE_MOUNT_F_EMPTY_PATH,
        )
    };
    if moved < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `e`, as the kernel or filesystem being unable to idmap.
fn unsupported(e: io::Error) -> io::Error {
    io::Error::new(io::ErrorKind::Unsupported, e)
}

fn c_path(p: &Path) -> io::Result<CString> {
    CString::new(p.as_os_str().as_bytes()).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} contains a NUL byte", p.display()),
        )
    })
}
