//! Unpacks one layer tar (plain, gzip or zstd) into an empty directory in
//! the form overlayfs stacks: a whiteout `.wh.NAME` (or a 0/0 character
//! device) becomes a 0/0 character device NAME, an opaque marker
//! `.wh..wh..opq` becomes the `trusted.overlay.opaque=y` xattr on its
//! directory (`user.overlay.opaque=y` in a user's store, whose overlay is
//! mounted with `userxattr`). Whose IDs the files get: [`owners`].
//!
//! What a layer keeps: regular files (GNU sparse ones stay sparse),
//! directories, symlinks, hard links within the layer, FIFOs, owners, modes
//! (setuid/setgid/sticky) and extended attributes (`security.capability`
//! included). What it loses: device nodes other than whiteouts (a container
//! gets its devices from its runtime, never from an image) and overlayfs's
//! own xattrs (`trusted.overlay.*`, `user.overlay.*`), both counted in
//! [`Stats`]. What stops the unpack with the entry's name: an entry that
//! would land outside the directory (`..`, an absolute path, a path or
//! hard-link target through a symlink), and a layer past its [`Budget`]
//! (bytes or entries).
//!
//! Layout are written below the directory given, each parent checked not to
//! be a symlink, no final component followed (`O_NOFOLLOW`, `lchown`,
//! `lsetxattr`, `utimensat(AT_SYMLINK_NOFOLLOW)`); the directory is the
//! store's private temporary one, which nothing else writes to meanwhile.

pub mod limits;
pub mod owners;
mod write;

pub use limits::{Budget, Limits};
use nix::sys::stat::{Mode, SFlag, mknod};
pub use owners::Owners;
use std::borrow::Cow;
use std::cell::Cell;
use std::collections::HashSet;
use std::ffi::OsStr;
use std::fs;
use std::io::{self, BufRead, Read};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};
use std::rc::Rc;
use tar::EntryType;

const WHITEOUT_PREFIX: &str = ".wh.";
const OPAQUE_MARKER: &str = ".wh..wh..opq";
const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];
const ZSTD_MAGIC: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];

#[derive(Debug, thiserror::Error)]
pub enum UnpackError {
    #[error("entry {entry:?}: {why}")]
    Escape {
        entry: String,
        why: Cow<'static, str>,
    },
    #[error(
        "entry {entry:?}: owner {uid}:{gid} is outside the user's mapping (IDs 0 to {max}: the user and the user's subordinate IDs); give the user more subordinate IDs (usermod --add-subuids, --add-subgids) or use an image whose files are owned within them"
    )]
    Unmapped {
        entry: String,
        uid: u64,
        gid: u64,
        max: u64,
    },
    #[error("entry {entry:?}: {source}")]
    Entry { entry: String, source: io::Error },
    #[error("reading the layer: {0}")]
    Read(io::Error),
    #[error("zstd: {0}")]
    Zstd(String),
    #[error(
        "the layer unpacks to more than its limit of {limit} (a decompression or sparse-file bomb?); refused, nothing was kept (PODCTL_LAYER_RATIO, PODCTL_LAYER_FLOOR and PODCTL_LAYER_MAX_BYTES set the limit)"
    )]
    TooBig { limit: String },
    #[error(
        "the layer has more than {limit} entries, the limit; refused, nothing was kept (PODCTL_LAYER_MAX_ENTRIES sets it)"
    )]
    TooManyEntries { limit: u64 },
}

/// What an unpack did, for tests and progress lines.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Stats {
    pub entries: u64,
    pub whiteouts: u64,
    pub opaque: u64,
    /// Device nodes left out (a container gets none from its image).
    pub devices_dropped: u64,
    /// Extended attributes left out (overlayfs's own; `trusted.*` in a
    /// user's store).
    pub xattrs_dropped: u64,
    /// Bytes of the files written (sparse files at their full size).
    pub bytes: u64,
}

/// Decompresses (by magic number) and unpacks `input` into `dest`, which
/// must exist and be empty, within `budget`, for root's store (owners as
/// the layer says when this process is root, else left as its own). On an
/// error `dest` holds a partial layer: the caller removes it.
pub fn unpack(input: impl BufRead, dest: &Path, budget: &Budget) -> Result<Stats, UnpackError> {
    let owners = if nix::unistd::geteuid().is_root() {
        Owners::Root
    } else {
        Owners::Writer
    };
    unpack_as(input, dest, budget, owners)
}

/// [`unpack`] with the owners of the store it is for.
pub fn unpack_as(
    mut input: impl BufRead,
    dest: &Path,
    budget: &Budget,
    owners: Owners,
) -> Result<Stats, UnpackError> {
    let head = input.fill_buf().map_err(UnpackError::Read)?;
    let over = Rc::new(Cell::new(false));
    let tar: Box<dyn Read + '_> = if head.starts_with(GZIP_MAGIC) {
        Box::new(flate2::bufread::MultiGzDecoder::new(input))
    } else if head.starts_with(ZSTD_MAGIC) {
        Box::new(
            ruzstd::decoding::StreamingDecoder::new(input)
                .map_err(|e| UnpackError::Zstd(e.to_string()))?,
        )
    } else {
        Box::new(input)
    };
    let bounded = limits::Bounded {
        inner: tar,
        left: budget.bytes,
        over: over.clone(),
    };
    let result = unpack_tar(bounded, dest, budget, owners);
    if over.get() {
        return Err(UnpackError::TooBig {
            limit: budget.explain(),
        });
    }
    result
}

fn unpack_tar(
    input: impl Read,
    dest: &Path,
    budget: &Budget,
    owners: Owners,
) -> Result<Stats, UnpackError> {
    let mut archive = tar::Archive::new(input);
    let mut stats = Stats::default();
    let mut dirs: Vec<(PathBuf, tar::Header)> = Vec::new();
    // Devices left out, so that a hard link to one is left out too.
    let mut dropped: HashSet<PathBuf> = HashSet::new();
    for entry in archive.entries().map_err(UnpackError::Read)? {
        let mut entry = entry.map_err(UnpackError::Read)?;
        let raw = entry.path_bytes().into_owned();
        let name = String::from_utf8_lossy(&raw).into_owned();
        let at = |source| UnpackError::Entry {
            entry: name.clone(),
            source,
        };
        stats.entries += 1;
        if stats.entries > budget.entries {
            return Err(UnpackError::TooManyEntries {
                limit: budget.entries,
            });
        }
        let Some(rel) = relative(&name, &raw)? else {
            continue; // the layer root itself ("./")
        };
        let file = rel.file_name().unwrap_or_default().to_owned();
        let parent = rel.parent().unwrap_or(Path::new(""));
        let parent_abs = ensure_parents(dest, parent, &name)?;
        if file == OPAQUE_MARKER {
            xattr::set(&parent_abs, owners.opaque_xattr(), b"y").map_err(at)?;
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
            whiteout(&parent_abs.join(OsStr::from_bytes(hidden))).map_err(at)?;
            stats.whiteouts += 1;
            continue;
        }
        let path = parent_abs.join(&file);
        let header = entry.header().clone();
        let kind = header.entry_type();
        if matches!(kind, EntryType::Char | EntryType::Block) {
            let major = header.device_major().map_err(at)?.unwrap_or(0);
            let minor = header.device_minor().map_err(at)?.unwrap_or(0);
            if kind == EntryType::Char && (major, minor) == (0, 0) {
                whiteout(&path).map_err(at)?;
                stats.whiteouts += 1;
            } else {
                tracing::warn!("layer entry {name:?}: device node {major}:{minor} left out");
                remove_existing(&path).map_err(at)?;
                dropped.insert(rel);
                stats.devices_dropped += 1;
            }
            continue;
        }
        if !(kind.is_dir() && path.symlink_metadata().is_ok_and(|m| m.is_dir())) {
            remove_existing(&path).map_err(at)?;
        }
        dropped.remove(&rel);
        let mode = header.mode().map_err(at)? & 0o7777;
        match kind {
            EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse => {
                let size = entry.size();
                stats.bytes = stats.bytes.saturating_add(size);
                if stats.bytes > budget.bytes {
                    return Err(UnpackError::TooBig {
                        limit: budget.explain(),
                    });
                }
                let sparse = kind == EntryType::GNUSparse;
                write::regular(&path, &mut entry, size, sparse).map_err(at)?;
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
                let Some(trel) = relative(&name, &target)? else {
                    return Err(escape(&name, "hard link to the layer root"));
                };
                if dropped.contains(&trel) {
                    dropped.insert(rel);
                    stats.devices_dropped += 1;
                    continue;
                }
                hard_link(dest, &trel, &path, &name)?;
                continue; // shares the target's inode and metadata
            }
            EntryType::Fifo => {
                mknod(&path, SFlag::S_IFIFO, Mode::from_bits_truncate(0o600), 0)
                    .map_err(|e| at(e.into()))?;
            }
            // PAX/GNU headers are consumed by the tar crate; others carry no file.
            _ => continue,
        }
        let (xattrs, refused) =
            write::xattrs(entry.pax_extensions().map_err(at)?, owners).map_err(at)?;
        stats.xattrs_dropped += refused;
        let ids = owners.ids(&name, header.uid().map_err(at)?, header.gid().map_err(at)?)?;
        write::metadata(&path, ids, mode, kind, &xattrs).map_err(at)?;
        if kind.is_dir() {
            dirs.push((path, header));
        } else {
            write::mtime(&path, &header).map_err(at)?;
        }
    }
    // Directory times last: creating their entries changed them.
    for (path, header) in dirs.iter().rev() {
        write::mtime(path, header).map_err(|source| UnpackError::Entry {
            entry: path.display().to_string(),
            source,
        })?;
    }
    Ok(stats)
}

fn escape(entry: &str, why: &'static str) -> UnpackError {
    UnpackError::Escape {
        entry: entry.to_string(),
        why: Cow::Borrowed(why),
    }
}

/// A 0/0 character device at `path`: what overlayfs reads as "deleted".
fn whiteout(path: &Path) -> io::Result<()> {
    remove_existing(path)?;
    mknod(path, SFlag::S_IFCHR, Mode::empty(), 0)?;
    Ok(())
}

/// `path` as a hard link to `trel` of the same layer, which must exist.
fn hard_link(dest: &Path, trel: &Path, path: &Path, name: &str) -> Result<(), UnpackError> {
    let tparent = ensure_parents(dest, trel.parent().unwrap_or(Path::new("")), name)?;
    let src = tparent.join(trel.file_name().unwrap_or_default());
    let entry_err = |source| UnpackError::Entry {
        entry: name.to_string(),
        source,
    };
    if src.symlink_metadata().is_err() {
        return Err(entry_err(io::Error::other(format!(
            "hard link target {:?} is not in this layer",
            trel.display()
        ))));
    }
    // linkat(2) without AT_SYMLINK_FOLLOW: a symlink target is linked itself.
    fs::hard_link(&src, path).map_err(entry_err)
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
