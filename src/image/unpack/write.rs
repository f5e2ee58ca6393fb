//! Writing one entry's content and metadata: file data (GNU sparse files
//! with their holes kept as holes), owner and mode, extended attributes
//! (filtered), times. Every path here is inside the layer directory and was
//! checked not to pass through a symlink; nothing follows a final symlink.

use nix::unistd::{Gid, Uid};
use std::ffi::OsStr;
use std::fs;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;
use tar::EntryType;

/// PAX records that carry extended attributes.
const PAX_XATTR: &str = "SCHILY.xattr.";

/// Extended attributes a layer may not set: overlayfs reads these as its
/// own metadata (opaque directories, redirects, metacopy, origin), so a
/// layer that carried them could forge what its lower layers show. The
/// unpacker writes the one it needs (`trusted.overlay.opaque`) itself, from
/// the OCI `.wh..wh..opq` marker.
const FORBIDDEN_XATTR_PREFIXES: [&str; 2] = ["trusted.overlay.", "user.overlay."];

/// Writes a regular file's `size` bytes from `data`. A GNU sparse entry's
/// runs of zeros become holes (seek, then `set_len`), so a file that
/// declares gigabytes of holes costs no disk.
pub(super) fn regular(path: &Path, data: &mut dyn Read, size: u64, sparse: bool) -> io::Result<()> {
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(nix::libc::O_NOFOLLOW)
        .mode(0o600)
        .open(path)?;
    if !sparse {
        io::copy(data, &mut f)?;
        return Ok(());
    }
    let mut buf = vec![0u8; 64 << 10];
    loop {
        let n = data.read(&mut buf)?;
        if n == 0 {
            break;
        }
        if buf[..n].iter().all(|&b| b == 0) {
            f.seek(SeekFrom::Current(n as i64))?;
        } else {
            f.write_all(&buf[..n])?;
        }
    }
    f.set_len(size)
}

/// An extended attribute: name, value.
pub(super) type Xattr = (Vec<u8>, Vec<u8>);

/// The extended attributes of an entry's PAX records that a layer may set,
/// and how many it may not.
pub(super) fn xattrs(
    exts: Option<tar::PaxExtensions<'_>>,
    owners: super::Owners,
) -> io::Result<(Vec<Xattr>, u64)> {
    let (mut keep, mut dropped) = (Vec::new(), 0);
    for ext in exts.into_iter().flatten() {
        let ext = ext?;
        if let Some(key) = ext.key_bytes().strip_prefix(PAX_XATTR.as_bytes()) {
            if FORBIDDEN_XATTR_PREFIXES
                .iter()
                .any(|p| key.starts_with(p.as_bytes()))
                || !owners.keeps_xattr(key)
            {
                dropped += 1;
            } else {
                keep.push((key.to_vec(), ext.value_bytes().to_vec()));
            }
        }
    }
    Ok((keep, dropped))
}

/// Owner (`ids`, when set), then mode, then extended attributes: chown
/// clears setuid/setgid and `security.capability`, so both come after it.
/// (`xattr::set` does not follow symlinks.)
pub(super) fn metadata(
    path: &Path,
    ids: Option<(u32, u32)>,
    mode: u32,
    kind: EntryType,
    xattrs: &[Xattr],
) -> io::Result<()> {
    if let Some((uid, gid)) = ids {
        nix::unistd::fchownat(
            nix::fcntl::AT_FDCWD,
            path,
            Some(Uid::from_raw(uid)),
            Some(Gid::from_raw(gid)),
            nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
        )?;
    }
    if kind != EntryType::Symlink {
        fs::set_permissions(path, fs::Permissions::from_mode(mode))?;
    }
    for (k, v) in xattrs {
        xattr::set(path, OsStr::from_bytes(k), v)?;
    }
    Ok(())
}

pub(super) fn mtime(path: &Path, h: &tar::Header) -> io::Result<()> {
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
