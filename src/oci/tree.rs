//! Walks of a directory tree that containers write to (a volume): every
//! directory is opened beneath the one before it without following a
//! symlink (`O_NOFOLLOW`), every entry is reached through its directory's
//! descriptor, never by a path, so nothing a container makes (or swaps in
//! during the walk) leads the walk out of the tree. Bounded: at most
//! [`MAX_DEPTH`] levels of directories are open at once, and each walk has
//! a budget of entries.
//!
//! Two walks: [`usage`] (bytes allocated, as `du` counts them) for a
//! scratch volume's `limit`, and [`give_group`] (Kubernetes' `fsGroup`).

use crate::model::FsGroupChange;
use nix::fcntl::AtFlags;
use nix::fcntl::{OFlag, openat};
use nix::sys::stat::{FileStat, Mode, SFlag, fstat, fstatat};
use nix::unistd::{Gid, fchownat};
use std::collections::HashSet;
use std::ffi::{CStr, CString};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::Path;

/// Directories deeper than this are not entered (each level holds one
/// descriptor while the walk is in it).
pub const MAX_DEPTH: usize = 128;

/// Entries one [`usage`] walk looks at, at most: past them the usage
/// counted so far is returned.
pub const USAGE_BUDGET: u64 = 1_000_000;

/// Entries one [`give_group`] walk changes, at most.
pub const GROUP_BUDGET: u64 = 10_000_000;

/// Permission bits `fs_group` adds: group read and write, and for
/// directories group search and setgid (new files take the group).
const GROUP_RW: u32 = 0o060;
const DIR_GROUP: u32 = 0o2070;

/// What a walk did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Walked {
    /// Entries seen beneath the top directory.
    pub entries: u64,
    /// The budget ran out (or the tree was too deep) before the walk ended.
    pub cut: bool,
}

fn kind(st: &FileStat) -> SFlag {
    SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits())
}

/// Opens the directory `name` beneath `dir` (`.` for `dir` itself) for
/// reading, never through a symlink.
fn open_dir(dir: BorrowedFd<'_>, name: &CStr) -> nix::Result<OwnedFd> {
    openat(
        dir,
        name,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
}

/// The names in the directory `fd` (without `.` and `..`), at most
/// `budget`. Read through its `/proc/self/fd` link: that same directory,
/// whatever its name has become since.
fn names(fd: &OwnedFd, budget: u64) -> nix::Result<Vec<CString>> {
    use std::os::unix::ffi::OsStringExt;
    let io = |e: std::io::Error| nix::Error::from_raw(e.raw_os_error().unwrap_or(libc::EIO));
    let link = format!("/proc/self/fd/{}", fd.as_raw_fd());
    let mut out = Vec::new();
    for e in std::fs::read_dir(link).map_err(io)? {
        if out.len() as u64 >= budget {
            break;
        }
        let name = e.map_err(io)?.file_name().into_vec();
        // A directory entry's name holds no NUL.
        out.extend(CString::new(name).ok());
    }
    Ok(out)
}

/// Visits every entry beneath the directory `root` (opened by the caller,
/// beneath a directory podctl owns) with its directory, name and status
/// (not following a symlink), depth first, within `budget` entries.
/// Entries that go away during the walk are skipped.
fn walk(
    root: OwnedFd,
    budget: u64,
    visit: &mut dyn FnMut(BorrowedFd<'_>, &CStr, &FileStat) -> nix::Result<()>,
) -> nix::Result<Walked> {
    let mut walked = Walked::default();
    let first = names(&root, budget)?;
    let mut stack = vec![(root, first.into_iter())];
    loop {
        let depth = stack.len();
        let Some((dir, todo)) = stack.last_mut() else {
            break;
        };
        let Some(name) = todo.next() else {
            stack.pop();
            continue;
        };
        let dir = dir.as_fd();
        if walked.entries >= budget {
            walked.cut = true;
            break;
        }
        walked.entries += 1;
        let st = match fstatat(dir, name.as_c_str(), AtFlags::AT_SYMLINK_NOFOLLOW) {
            Ok(st) => st,
            Err(nix::Error::ENOENT) => continue,
            Err(e) => return Err(e),
        };
        visit(dir, &name, &st)?;
        if kind(&st) != SFlag::S_IFDIR {
            continue;
        }
        if depth >= MAX_DEPTH {
            walked.cut = true;
            continue;
        }
        // Replaced by something else since: skipped.
        let sub = match open_dir(dir, &name) {
            Ok(fd) => fd,
            Err(nix::Error::ENOENT | nix::Error::ENOTDIR | nix::Error::ELOOP) => continue,
            Err(e) => return Err(e),
        };
        let left = budget - walked.entries;
        let list = names(&sub, left)?;
        stack.push((sub, list.into_iter()));
    }
    Ok(walked)
}

fn open_root(path: &Path) -> std::io::Result<OwnedFd> {
    let fd = nix::fcntl::open(
        path,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )?;
    Ok(fd)
}

/// Bytes allocated under the directory `path` (its blocks and those of
/// everything beneath; hard links once), within [`USAGE_BUDGET`] entries.
pub fn usage(path: &Path) -> std::io::Result<(u64, Walked)> {
    let root = open_root(path)?;
    let mut total = fstat(root.as_fd())?.st_blocks as u64 * 512;
    let mut linked = HashSet::new();
    let walked = walk(root, USAGE_BUDGET, &mut |_, _, st| {
        // A file with more names counts once (bounded: only those).
        if kind(st) != SFlag::S_IFDIR && st.st_nlink > 1 && !linked.insert((st.st_dev, st.st_ino)) {
            return Ok(());
        }
        total += st.st_blocks as u64 * 512;
        Ok(())
    })?;
    Ok((total, walked))
}

/// Gives the tree at `path` the group `gid` (a host GID), as Kubernetes
/// gives a volume its pod's `fsGroup`: every entry gets the group (a
/// symlink is never followed nor changed), regular files get group read
/// and write, directories group read, write and search and the setgid
/// bit (what is made in them takes the group). With
/// [`FsGroupChange::OnRootMismatch`], nothing is done when the top
/// directory has the group and those bits already. Returns what was walked
/// (`None`: nothing to do).
pub fn give_group(path: &Path, gid: u32, change: FsGroupChange) -> std::io::Result<Option<Walked>> {
    let root = open_root(path)?;
    let st = fstat(root.as_fd())?;
    let done = st.st_gid == gid && st.st_mode & DIR_GROUP == DIR_GROUP;
    if change == FsGroupChange::OnRootMismatch && done {
        return Ok(None);
    }
    nix::unistd::fchown(root.as_fd(), None, Some(Gid::from_raw(gid)))?;
    nix::sys::stat::fchmod(
        root.as_fd(),
        Mode::from_bits_truncate((st.st_mode & 0o7777) | DIR_GROUP),
    )?;
    let walked = walk(root, GROUP_BUDGET, &mut |dir, name, _| {
        regroup(dir, name, gid)
    })?;
    Ok(Some(walked))
}

/// One entry of [`give_group`]: opened as a path (no read, no side effect
/// of opening a device or a FIFO), never through a symlink; its status is
/// the opened inode's.
fn regroup(dir: BorrowedFd<'_>, name: &CStr, gid: u32) -> nix::Result<()> {
    let fd = match openat(
        dir,
        name,
        OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    ) {
        Ok(fd) => fd,
        Err(nix::Error::ENOENT) => return Ok(()),
        Err(e) => return Err(e),
    };
    let st = fstat(fd.as_fd())?;
    let add = match kind(&st) {
        SFlag::S_IFLNK => return Ok(()),
        SFlag::S_IFDIR => DIR_GROUP,
        SFlag::S_IFREG => GROUP_RW,
        // Sockets, FIFOs, device nodes: the group only.
        _ => 0,
    };
    if st.st_gid != gid {
        fchownat(
            fd.as_fd(),
            c"",
            None,
            Some(Gid::from_raw(gid)),
            AtFlags::AT_EMPTY_PATH,
        )?;
    }
    if add != 0 {
        // After the chown, which clears a file's setuid and setgid bits.
        let now = fstat(fd.as_fd())?.st_mode & 0o7777;
        if now & add != add {
            // An O_PATH descriptor takes no fchmod; its /proc link is
            // that same inode, whatever its name has become since.
            let link = format!("/proc/self/fd/{}", fd.as_raw_fd());
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&link, std::fs::Permissions::from_mode(now | add))
                .map_err(|e| nix::Error::from_raw(e.raw_os_error().unwrap_or(libc::EIO)))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
