//! Writing the files of a manifest's configMap volumes: the only place the
//! manifest reader touches the host (`apply` calls it once the
//! pod passed every check).
//!
//! Everything is done relative to directories podctl opened itself, from
//! the base directory down (`openat` with `O_NOFOLLOW`: a symlink on the
//! way is an error, never followed), so that no name can lead out of the
//! volume's directory even if the names were not checked (they are, at
//! read time: [`super::rules`]). Files are created with their final mode
//! (never wider first); the names a volume got are recorded next to its
//! directory, in the pod's directory (`.VOLUME.files`, which the container
//! does not see), and only those are ever removed.

use super::files::VolumeFiles;
use nix::errno::Errno;
use nix::fcntl::{OFlag, openat, renameat};
use nix::sys::stat::{Mode, fchmod, mkdirat};
use nix::unistd::{UnlinkatFlags, unlinkat};
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::path::Path;

/// Mode of a pod's directory: root's only (the volumes' own directories say
/// who may read them).
const POD_DIR_MODE: u32 = 0o700;
/// Mode of a volume's directory and its subdirectories: what the container
/// sees (its files have their own modes).
const VOLUME_DIR_MODE: u32 = 0o755;
/// Mode of the record of a volume's files.
const RECORD_MODE: u32 = 0o600;

fn io(e: Errno) -> std::io::Error {
    std::io::Error::from(e)
}

fn invalid(what: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidInput, what)
}

/// A single path component podctl may create: no `/`, not `.` or `..`.
fn component(c: &str) -> std::io::Result<&str> {
    if c.is_empty() || c == "." || c == ".." || c.contains('/') || c.contains('\0') {
        return Err(invalid(format!("{c:?} is not a file name")));
    }
    Ok(c)
}

/// Opens a directory under `dir` without following a symlink.
fn open_dir(dir: &OwnedFd, name: &str) -> std::io::Result<OwnedFd> {
    openat(
        dir,
        component(name)?,
        OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC | OFlag::O_RDONLY,
        Mode::empty(),
    )
    .map_err(io)
}

/// Opens `name` under `dir`, made with `mode` if missing, and sets `mode`
/// (it is podctl's own directory).
fn make_dir(dir: &OwnedFd, name: &str, mode: u32) -> std::io::Result<OwnedFd> {
    match mkdirat(dir, component(name)?, Mode::from_bits_truncate(mode)) {
        Ok(()) | Err(Errno::EEXIST) => {}
        Err(e) => return Err(io(e)),
    }
    let fd = open_dir(dir, name)?;
    fchmod(&fd, Mode::from_bits_truncate(mode)).map_err(io)?;
    Ok(fd)
}

/// Replaces `name` in `dir` with `content` atomically (a reader sees old or
/// new content, never a half): a new file created `mode` (O_EXCL, no
/// symlink followed), then renamed over.
fn replace(dir: &OwnedFd, name: &str, content: &[u8], mode: u32) -> std::io::Result<()> {
    let name = component(name)?;
    // `..`: a name no key or path may have (`super::rules`).
    let tmp = format!("..podctl-tmp-{}", std::process::id());
    match unlinkat(dir, tmp.as_str(), UnlinkatFlags::NoRemoveDir) {
        Ok(()) | Err(Errno::ENOENT) => {}
        Err(e) => return Err(io(e)),
    }
    let mode = Mode::from_bits_truncate(mode & 0o777);
    let fd = openat(
        dir,
        tmp.as_str(),
        OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        mode,
    )
    .map_err(io)?;
    // The umask may have narrowed the mode; this sets exactly the one asked.
    fchmod(&fd, mode).map_err(io)?;
    let mut f = std::fs::File::from(fd);
    let written = f.write_all(content).and_then(|()| f.sync_all());
    if let Err(e) = written {
        let _ = unlinkat(dir, tmp.as_str(), UnlinkatFlags::NoRemoveDir);
        return Err(e);
    }
    renameat(dir, tmp.as_str(), dir, name).map_err(io)
}

/// The directory that holds a relative path's file, made as needed, and
/// the file's name.
fn parent_of<'a>(
    volume: &OwnedFd,
    path: &'a str,
    create: bool,
) -> std::io::Result<(OwnedFd, &'a str)> {
    let mut parts: Vec<&str> = path.split('/').collect();
    let leaf = parts.pop().unwrap_or_default();
    let mut dir = volume.try_clone()?;
    for p in parts {
        dir = if create {
            make_dir(&dir, p, VOLUME_DIR_MODE)?
        } else {
            open_dir(&dir, p)?
        };
    }
    Ok((dir, component(leaf)?))
}

/// The paths a volume got last time (none if it has no record).
fn read_record(pod: &OwnedFd, record: &str) -> Vec<String> {
    let Ok(fd) = openat(
        pod,
        record,
        OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    ) else {
        return Vec::new();
    };
    let mut text = String::new();
    // A record larger than this was not written by podctl.
    let _ = std::fs::File::from(fd)
        .take(super::yaml::MAX_FILE_BYTES as u64)
        .read_to_string(&mut text);
    text.lines()
        .filter(|l| super::rules::relative_path(l).is_ok())
        .map(String::from)
        .collect()
}

/// Writes a volume's files into its directory `base/POD/VOLUME` (`base`:
/// [`crate::layout::Layout::kube_files`]; each file replaced atomically: a
/// container that binds the directory sees old or new content, never a
/// half) and removes the files it wrote there before and no longer has
/// (relative to directories it opened, no symlink followed, each file
/// created with its final mode).
pub fn write(base: &Path, v: &VolumeFiles) -> std::io::Result<()> {
    crate::private::create_private_dir(base)?;
    let base_fd = openat(
        nix::fcntl::AT_FDCWD,
        base,
        OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC | OFlag::O_RDONLY,
        Mode::empty(),
    )
    .map_err(io)?;
    let pod = make_dir(&base_fd, &v.pod, POD_DIR_MODE)?;
    let volume = make_dir(&pod, &v.volume, VOLUME_DIR_MODE)?;
    let record = format!(".{}.files", component(&v.volume)?);
    let before = read_record(&pod, &record);
    for f in &v.files {
        super::rules::relative_path(&f.path).map_err(invalid)?;
        let (dir, leaf) = parent_of(&volume, &f.path, true)?;
        replace(&dir, leaf, &f.content, f.mode)?;
    }
    let now: Vec<&str> = v.files.iter().map(|f| f.path.as_str()).collect();
    let mut list = now.join("\n");
    list.push('\n');
    replace(&pod, &record, list.as_bytes(), RECORD_MODE)?;
    for stale in before.iter().filter(|p| !now.contains(&p.as_str())) {
        // Gone already, or under what is no longer a directory: nothing to do.
        let Ok((dir, leaf)) = parent_of(&volume, stale, false) else {
            continue;
        };
        let regular = nix::sys::stat::fstatat(&dir, leaf, nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW)
            .is_ok_and(|st| st.st_mode & libc::S_IFMT == libc::S_IFREG);
        if regular {
            match unlinkat(&dir, leaf, UnlinkatFlags::NoRemoveDir) {
                Ok(()) | Err(Errno::ENOENT) => {}
                Err(e) => return Err(io(e)),
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kube::files::tests::file;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn files_are_written_with_their_modes_and_only_their_own_removed() {
        let base = std::env::temp_dir().join(format!("podctl-kube-files-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let mut v = VolumeFiles {
            pod: "pod".into(),
            volume: "config".into(),
            dir: base.join("pod").join("config"),
            files: vec![
                file("app.conf", "a=1\n", 0o640),
                file("sub/x", "x", 0o400),
                file("old", "o", 0o644),
            ],
        };
        std::fs::create_dir_all(&v.dir).unwrap();
        std::fs::write(v.dir.join("foreign"), "not podctl's").unwrap();
        write(&base, &v).unwrap();
        assert_eq!(
            std::fs::read_to_string(v.dir.join("app.conf")).unwrap(),
            "a=1\n"
        );
        assert_eq!(mode(&v.dir.join("app.conf")), 0o640);
        assert_eq!(mode(&v.dir.join("sub/x")), 0o400);
        assert_eq!(mode(&base.join("pod")), 0o700);
        assert_eq!(std::fs::read_to_string(v.dir.join("sub/x")).unwrap(), "x");
        // Again without `old`: it goes, a file podctl did not write stays.
        v.files.pop();
        write(&base, &v).unwrap();
        assert!(!v.dir.join("old").exists());
        assert!(v.dir.join("foreign").exists());
        assert!(v.dir.join("app.conf").exists());
        // A symlink where a directory is expected is not followed.
        let outside = base.join("outside");
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::remove_dir_all(v.dir.join("sub")).unwrap();
        std::os::unix::fs::symlink(&outside, v.dir.join("sub")).unwrap();
        assert!(write(&base, &v).is_err());
        assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
        std::fs::remove_dir_all(&base).unwrap();
    }
}
