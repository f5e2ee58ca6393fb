//! A [`Mounter`] that keeps a mount table of its own: what is mounted
//! where (mounts on one point stack, as on a host), and every call in
//! order (one line each in `log`).

use super::{Flags, Mounter};
use crate::model::IdMap;
use std::cell::RefCell;
use std::path::{Path, PathBuf};

/// A mount in the fake's table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mount {
    Tmpfs { size: u64, noexec: bool },
    Overlay { data: String, flags: Flags },
}

/// An idmapped attachment in the fake's table: a clone of `source`'s tree
/// with `map`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Idmapped {
    pub source: PathBuf,
    pub map: IdMap,
}

/// An entry of the table: a filesystem mounted, or a tree attached.
#[derive(Debug, Clone)]
enum Entry {
    Mount(Mount),
    Idmapped(Idmapped),
}

#[derive(Default)]
struct Table {
    mounted: Vec<(PathBuf, Entry)>,
    log: Vec<String>,
}

/// The fake.
#[derive(Default)]
pub struct Mounts {
    table: RefCell<Table>,
    no_idmap: bool,
}

impl Mounts {
    pub fn new() -> Self {
        Self::default()
    }

    /// A host whose kernel or filesystems cannot idmap: every
    /// [`Mounter::idmapped_bind`] fails as mount_setattr(2) does (EINVAL).
    pub fn without_idmap() -> Self {
        Mounts {
            no_idmap: true,
            ..Self::default()
        }
    }

    /// The filesystems mounted now, oldest first (idmapped attachments:
    /// [`Mounts::idmapped`]).
    pub fn mounted(&self) -> Vec<(PathBuf, Mount)> {
        let t = self.table.borrow();
        t.mounted
            .iter()
            .filter_map(|(at, e)| match e {
                Entry::Mount(m) => Some((at.clone(), m.clone())),
                Entry::Idmapped(_) => None,
            })
            .collect()
    }

    /// The idmapped attachments now, oldest first.
    pub fn idmapped(&self) -> Vec<(PathBuf, Idmapped)> {
        let t = self.table.borrow();
        t.mounted
            .iter()
            .filter_map(|(at, e)| match e {
                Entry::Idmapped(i) => Some((at.clone(), i.clone())),
                Entry::Mount(_) => None,
            })
            .collect()
    }

    /// Every change so far: `tmpfs PATH SIZE`, `overlay PATH ro|rw`,
    /// `idmap SOURCE PATH`, `detach PATH`, `chown PATH UID:GID`.
    pub fn log(&self) -> Vec<String> {
        self.table.borrow().log.clone()
    }

    fn add(&self, at: &Path, e: Entry, line: String) {
        let mut t = self.table.borrow_mut();
        t.log.push(line);
        t.mounted.push((at.to_path_buf(), e));
    }
}

impl Mounter for Mounts {
    fn tmpfs(&self, at: &Path, size: u64, noexec: bool) -> std::io::Result<()> {
        let line = format!("tmpfs {} {size}", at.display());
        self.add(at, Entry::Mount(Mount::Tmpfs { size, noexec }), line);
        Ok(())
    }

    fn overlay(&self, at: &Path, data: &str, flags: Flags) -> std::io::Result<()> {
        let how = if flags.read_only { "ro" } else { "rw" };
        let line = format!("overlay {} {how}", at.display());
        let data = data.to_string();
        self.add(at, Entry::Mount(Mount::Overlay { data, flags }), line);
        Ok(())
    }

    /// The latest mount on `at` goes; nothing mounted there is EINVAL, as
    /// umount2(2) says.
    fn detach(&self, at: &Path) -> std::io::Result<()> {
        let mut t = self.table.borrow_mut();
        let Some(i) = t.mounted.iter().rposition(|(p, _)| p == at) else {
            return Err(std::io::Error::from_raw_os_error(nix::libc::EINVAL));
        };
        t.mounted.remove(i);
        t.log.push(format!("detach {}", at.display()));
        Ok(())
    }

    fn is_mounted(&self, at: &Path) -> bool {
        self.table.borrow().mounted.iter().any(|(p, _)| p == at)
    }

    fn idmapped_bind(&self, source: &Path, at: &Path, map: IdMap) -> std::io::Result<()> {
        if self.no_idmap {
            let e = std::io::Error::from_raw_os_error(nix::libc::EINVAL);
            return Err(std::io::Error::new(std::io::ErrorKind::Unsupported, e));
        }
        let line = format!("idmap {} {}", source.display(), at.display());
        let source = source.to_path_buf();
        self.add(at, Entry::Idmapped(Idmapped { source, map }), line);
        Ok(())
    }

    fn chown(&self, path: &Path, uid: u32, gid: u32) -> std::io::Result<()> {
        let line = format!("chown {} {uid}:{gid}", path.display());
        self.table.borrow_mut().log.push(line);
        Ok(())
    }
}
