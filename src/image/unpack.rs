//! Unpacks one layer tar (plain, gzip or zstd) into an empty directory in
//! the form overlayfs stacks: a whiteout `.wh.NAME` becomes a 0/0 character
//! device NAME, an opaque marker `.wh..wh..opq` becomes the
//! `trusted.overlay.opaque=y` xattr on its directory. Ownership, modes
//! (setuid/setgid/sticky), xattrs, symlinks, hard links, device nodes and
//! FIFOs are kept. An entry that would land outside the directory (`..`, an
//! absolute path, a path or hard-link target through a symlink) stops the
//! unpack with the entry's name.

use nix::sys::stat::{Mode, SFlag, mknod};
use nix::unistd::{Gid, Uid};
use std::ffi::OsStr;
use std::fs;
use std::io::{self, BufRead, Read};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};
use tar::EntryType;

const WHITEOUT_PREFIX: &str = ".wh.";
const OPAQUE_MARKER: &str = ".wh..wh..opq";
const OPAQUE_XATTR: &str = "trusted.overlay.opaque";
const PAX_XATTR: &str = "SCHILY.xattr.";
const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];
const ZSTD_MAGIC: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];

#[derive(Debug, thiserror::Error)]
pub enum UnpackError {
    #[error("entry {entry:?}: {why}")]
    Escape { entry: String, why: &'static str },
    #[error("entry {entry:?}: {source}")]
    Entry { entry: String, source: io::Error },
    #[error("reading the layer: {0}")]
    Read(io::Error),
    #[error("zstd: {0}")]
    Zstd(String),
}

/// What an unpack did, for tests and progress lines.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Stats {
    pub entries: u64,
    pub whiteouts: u64,
    pub opaque: u64,
}

/// Decompresses (by magic number) and unpacks `input` into `dest`, which
/// must exist and be empty.
pub fn unpack(mut input: impl BufRead, dest: &Path) -> Result<Stats, UnpackError> {
    let head = input.fill_buf().map_err(UnpackError::Read)?;
    if head.starts_with(GZIP_MAGIC) {
        unpack_tar(flate2::bufread::MultiGzDecoder::new(input), dest)
    } else if head.starts_with(ZSTD_MAGIC) {
        let d = ruzstd::decoding::StreamingDecoder::new(input)
            .map_err(|e| UnpackError::Zstd(e.to_string()))?;
        unpack_tar(d, dest)
    } else {
        unpack_tar(input, dest)
    }
}

fn unpack_tar(input: impl Read, dest: &Path) -> Result<Stats, UnpackError> {
    let mut archive = tar::Archive::new(input);
    let mut stats = Stats::default();
    let mut dirs: Vec<(PathBuf, tar::Header)> = Vec::new();
    let root = nix::unistd::geteuid().is_root();
    for entry in archive.entries().map_err(UnpackError::Read)? {
        let mut entry = entry.map_err(UnpackError::Read)?;
        let raw = entry.path_bytes().into_owned();
        let name = String::from_utf8_lossy(&raw).into_owned();
        let at = |source| UnpackError::Entry {
            entry: name.clone(),
            source,
        };
        let Some(rel) = relative(&name, &raw)? else {
            continue; // the layer root itself ("./")
        };
        let file = rel.file_name().unwrap_or_default().to_owned();
        let parent = rel.parent().unwrap_or(Path::new(""));
        let parent_abs = ensure_parents(dest, parent, &name)?;
        stats.entries += 1;
        if file == OPAQUE_MARKER {
            xattr::set(&parent_abs, OPAQUE_XATTR, b"y").map_err(at)?;
            stats.opaque += 1;
            continue;
        }
        if let Some(hidden) = file.as_bytes().strip_prefix(WHITEOUT_PREFIX.as_bytes()) {
            if matches!(hidden, b"" | b"." | b"..") {
                return Err(escape(
                    &name,
                    "whiteout of \".\" or \"..\" would leave the layer",
                ));
            }
            let target = parent_abs.join(OsStr::from_bytes(hidden));
            remove_existing(&target).map_err(at)?;
            mknod(&target, SFlag::S_IFCHR, Mode::empty(), 0).map_err(|e| at(e.into()))?;
            stats.whiteouts += 1;
            continue;
        }
        let path = parent_abs.join(&file);
        let header = entry.header().clone();
        let kind = header.entry_type();
        if !(kind.is_dir() && path.symlink_metadata().is_ok_and(|m| m.is_dir())) {
            remove_existing(&path).map_err(at)?;
        }
        let mode = header.mode().map_err(at)? & 0o7777;
        match kind {
            EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse => {
                let mut f = fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .custom_flags(nix::libc::O_NOFOLLOW)
                    .mode(0o600)
                    .open(&path)
                    .map_err(at)?;
                io::copy(&mut entry, &mut f).map_err(at)?;
            }
            EntryType::Directory => {
                if !path.is_dir() {
                    fs::create_dir(&path).map_err(at)?;
                }
            }
            EntryType::Symlink => {
                let target = entry.link_name_bytes().unwrap_or_default().into_owned();
                std::os::unix::fs::symlink(OsStr::from_bytes(&target), &path).map_err(at)?;
            }
            EntryType::Link => {
                let target = entry.link_name_bytes().unwrap_or_default().into_owned();
                let tname = String::from_utf8_lossy(&target).into_owned();
                let Some(trel) = relative(&name, &target)? else {
                    return Err(escape(&name, "hard link to the layer root"));
                };
                let tparent = ensure_parents(dest, trel.parent().unwrap_or(Path::new("")), &name)?;
                let src = tparent.join(trel.file_name().unwrap_or_default());
                if src.symlink_metadata().is_err() {
                    return Err(UnpackError::Entry {
                        entry: name,
                        source: io::Error::other(format!(
                            "hard link target {tname:?} is not in this layer"
                        )),
                    });
                }
                fs::hard_link(&src, &path).map_err(at)?;
                continue; // shares the target's inode and metadata
            }
            EntryType::Char | EntryType::Block | EntryType::Fifo => {
                let flag = match kind {
                    EntryType::Char => SFlag::S_IFCHR,
                    EntryType::Block => SFlag::S_IFBLK,
                    _ => SFlag::S_IFIFO,
                };
                let dev = if kind == EntryType::Fifo {
                    0
                } else {
                    let major = header.device_major().map_err(at)?.unwrap_or(0);
                    let minor = header.device_minor().map_err(at)?.unwrap_or(0);
                    nix::sys::stat::makedev(major.into(), minor.into())
                };
                mknod(&path, flag, Mode::from_bits_truncate(0o600), dev)
                    .map_err(|e| at(e.into()))?;
            }
            // PAX/GNU headers are consumed by the tar crate; others carry no file.
            _ => continue,
        }
        if let Some(exts) = entry.pax_extensions().map_err(at)? {
            for ext in exts {
                let ext = ext.map_err(at)?;
                if let Some(key) = ext.key_bytes().strip_prefix(PAX_XATTR.as_bytes()) {
                    xattr::set(&path, OsStr::from_bytes(key), ext.value_bytes()).map_err(at)?;
                }
            }
        }
        set_owner_mode(&path, &header, mode, kind, root).map_err(at)?;
        if kind.is_dir() {
            dirs.push((path, header));
        } else {
            set_mtime(&path, &header).map_err(at)?;
        }
    }
    // Directory times last: creating their entries changed them.
    for (path, header) in dirs.iter().rev() {
        set_mtime(path, header).map_err(|source| UnpackError::Entry {
            entry: path.display().to_string(),
            source,
        })?;
    }
    Ok(stats)
}

fn escape(entry: &str, why: &'static str) -> UnpackError {
    UnpackError::Escape {
        entry: entry.to_string(),
        why,
    }
}

/// The entry path relative to the layer root; `None` for the root itself.
fn relative(entry: &str, raw: &[u8]) -> Result<Option<PathBuf>, UnpackError> {
    let p = Path::new(OsStr::from_bytes(raw));
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::CurDir => {}
            Component::ParentDir => return Err(escape(entry, "\"..\" would leave the layer")),
            Component::RootDir | Component::Prefix(_) => {
                return Err(escape(entry, "absolute path would leave the layer"));
            }
        }
    }
    Ok((!out.as_os_str().is_empty()).then_some(out))
}

/// Creates the missing directories of `parent` under `dest` and returns its
/// absolute path, refusing to pass through a symlink or a non-directory.
fn ensure_parents(dest: &Path, parent: &Path, entry: &str) -> Result<PathBuf, UnpackError> {
    let mut cur = dest.to_path_buf();
    for c in parent.components() {
        cur.push(c);
        match cur.symlink_metadata() {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(escape(entry, "path goes through a symlink"));
            }
            Ok(m) if m.is_dir() => {}
            Ok(_) => return Err(escape(entry, "a parent is not a directory")),
            Err(_) => fs::create_dir(&cur).map_err(|source| UnpackError::Entry {
                entry: entry.to_string(),
                source,
            })?,
        }
    }
    Ok(cur)
}

fn remove_existing(path: &Path) -> io::Result<()> {
    match path.symlink_metadata() {
        Ok(m) if m.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
        Err(_) => Ok(()),
    }
}

fn set_owner_mode(
    path: &Path,
    h: &tar::Header,
    mode: u32,
    kind: EntryType,
    root: bool,
) -> io::Result<()> {
    if root {
        let uid = h.uid()? as u32;
        let gid = h.gid()? as u32;
        nix::unistd::fchownat(
            nix::fcntl::AT_FDCWD,
            path,
            Some(Uid::from_raw(uid)),
            Some(Gid::from_raw(gid)),
            nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
        )?;
    }
    // After chown, which clears setuid/setgid.
    if kind != EntryType::Symlink {
        fs::set_permissions(path, fs::Permissions::from_mode(mode))?;
    }
    Ok(())
}

fn set_mtime(path: &Path, h: &tar::Header) -> io::Result<()> {
    let secs = h.mtime().unwrap_or(0) as i64;
    let t = nix::sys::time::TimeSpec::new(secs, 0);
    nix::sys::stat::utimensat(
        nix::fcntl::AT_FDCWD,
        path,
        &t,
        &t,
        nix::sys::stat::UtimensatFlags::NoFollowSymlink,
    )?;
    Ok(())
}
