//! A [`Mounter`] that keeps a mount table of its own: what is mounted
//! where (mounts on one point stack, as on a host), and every call in
//! order (one line each in `log`).

use super::{Flags, Mounter};
use std::cell::RefCell;
use std::path::{Path, PathBuf};

/// A mount in the fake's table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mount {
    Tmpfs { size: u64, noexec: bool },
    Overlay { data: String, flags: Flags },
}

#[derive(Default)]
struct Table {
    mounted: Vec<(PathBuf, Mount)>,
    log: Vec<String>,
}

/// The fake.
#[derive(Default)]
pub struct Mounts {
    table: RefCell<Table>,
}

impl Mounts {
    pub fn new() -> Self {
        Self::default()
    }

    /// What is mounted now, oldest first.
    pub fn mounted(&self) -> Vec<(PathBuf, Mount)> {
        self.table.borrow().mounted.clone()
    }

    /// Every change so far: `tmpfs PATH SIZE`, `overlay PATH ro|rw`,
    /// `detach PATH`.
    pub fn log(&self) -> Vec<String> {
        self.table.borrow().log.clone()
    }

    fn add(&self, at: &Path, m: Mount, line: String) {
        let mut t = self.table.borrow_mut();
        t.log.push(line);
        t.mounted.push((at.to_path_buf(), m));
    }
}

impl Mounter for Mounts {
    fn tmpfs(&self, at: &Path, size: u64, noexec: bool) -> std::io::Result<()> {
        let line = format!("tmpfs {} {size}", at.display());
        self.add(at, Mount::Tmpfs { size, noexec }, line);
        Ok(())
    }

    fn overlay(&self, at: &Path, data: &str, flags: Flags) -> std::io::Result<()> {
        let how = if flags.read_only { "ro" } else { "rw" };
        let line = format!("overlay {} {how}", at.display());
        let data = data.to_string();
        self.add(at, Mount::Overlay { data, flags }, line);
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
}
