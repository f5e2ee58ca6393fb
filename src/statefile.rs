//! A state file: one JSON document in a directory of its own, changed only
//! under an exclusive `flock(2)` on `lock` beside it and replaced atomically
//! (write a temporary file, fsync, rename, fsync the directory). Two writers
//! never interleave, and a reader, or a crash at any point, sees the old
//! document or the new one, never half of one. Display-only readers may
//! [`StateFile::peek`] without the lock.
//!
//! Address bookkeeping ([`crate::net::ipam`]) and user namespace ranges
//! ([`crate::ids`]) are kept this way.

use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fs::File;
use std::io::Write;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

/// The lock file, beside the state file in its directory.
pub const LOCK: &str = "lock";

/// A document kept in a state file; a missing file reads as `Default`.
pub trait State: Serialize + DeserializeOwned + Default {
    /// The file's name in its directory.
    const FILE: &'static str;
    /// Written without indentation (a document read and written often).
    const COMPACT: bool = false;
}

/// The state file of `T` in a directory, and its lock.
#[derive(Debug, Clone)]
pub struct StateFile<T> {
    dir: PathBuf,
    state: PhantomData<fn() -> T>,
}

/// Holds the lock; the file is read and written through it.
pub struct Locked<T> {
    dir: PathBuf,
    _lock: nix::fcntl::Flock<File>,
    state: PhantomData<fn() -> T>,
}

impl<T: State> StateFile<T> {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        StateFile {
            dir: dir.into(),
            state: PhantomData,
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The state file's path.
    pub fn file(&self) -> PathBuf {
        self.dir.join(T::FILE)
    }

    /// Takes the lock (waiting for it), creating the directory (0700) first.
    pub fn lock(&self) -> std::io::Result<Locked<T>> {
        use std::os::unix::fs::OpenOptionsExt;
        crate::private::create_private_dir(&self.dir)?;
        let f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(crate::private::PRIVATE_FILE)
            .open(self.dir.join(LOCK))?;
        let lock = nix::fcntl::Flock::lock(f, nix::fcntl::FlockArg::LockExclusive)
            .map_err(|(_, e)| std::io::Error::from(e))?;
        Ok(Locked {
            dir: self.dir.clone(),
            _lock: lock,
            state: PhantomData,
        })
    }

    /// Reads the file without the lock (for display); missing is empty.
    pub fn peek(&self) -> std::io::Result<T> {
        read(&self.file())
    }
}

/// The document at `path`; missing is `T::default()`. A file that is not
/// such a document is `InvalidData` (the caller names the path).
fn read<T: State>(path: &Path) -> std::io::Result<T> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("not a valid state file: {e}"),
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(T::default()),
        Err(e) => Err(e),
    }
}

impl<T: State> Locked<T> {
    pub fn read(&self) -> std::io::Result<T> {
        read(&self.dir.join(T::FILE))
    }

    /// Replaces the file atomically (write, fsync, rename, fsync the
    /// directory). The temporary file's name is fixed: only the lock holder
    /// writes it.
    pub fn write(&self, state: &T) -> std::io::Result<()> {
        use std::os::unix::fs::OpenOptionsExt;
        let tmp = self.dir.join(format!("{}.tmp", T::FILE));
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .mode(crate::private::PRIVATE_FILE)
            .open(&tmp)?;
        let doc = if T::COMPACT {
            serde_json::to_vec(state)
        } else {
            serde_json::to_vec_pretty(state)
        };
        f.write_all(&doc.map_err(std::io::Error::other)?)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, self.dir.join(T::FILE))?;
        File::open(&self.dir)?.sync_all()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[derive(Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Counts(BTreeMap<String, u32>);

    impl State for Counts {
        const FILE: &'static str = "counts.json";
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("podctl-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn missing_is_default_and_a_write_is_read_back() {
        let dir = temp_dir("statefile");
        let file = StateFile::<Counts>::new(dir.join("sub"));
        assert_eq!(file.peek().unwrap(), Counts::default());
        let c = Counts([("a".to_string(), 1)].into());
        {
            let l = file.lock().unwrap();
            l.write(&Counts::default()).unwrap();
            // A reader of the old file keeps reading it whole: the new
            // one is another file, renamed over it.
            let old = File::open(file.file()).unwrap();
            l.write(&c).unwrap();
            assert_eq!(l.read().unwrap(), c);
            let was: Counts = serde_json::from_reader(old).unwrap();
            assert_eq!(was, Counts::default());
        }
        assert_eq!(file.peek().unwrap(), c);
        // Replaced by rename: no temporary file left behind, private modes.
        use std::os::unix::fs::PermissionsExt;
        let names: Vec<_> = std::fs::read_dir(file.dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
        assert!(names.contains(&"counts.json".to_string()));
        assert!(names.contains(&LOCK.to_string()));
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&file.file()), 0o600);
        assert_eq!(mode(file.dir()), 0o700);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_corrupt_file_is_invalid_data() {
        let dir = temp_dir("statefile-corrupt");
        let file = StateFile::<Counts>::new(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(file.file(), "{\"a\": \"x\"").unwrap();
        let e = file.peek().unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidData);
        assert!(e.to_string().starts_with("not a valid state file: "), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_lock_is_exclusive() {
        let dir = temp_dir("statefile-lock");
        let file = StateFile::<Counts>::new(&dir);
        let held = file.lock().unwrap();
        // Not even a shared lock is granted while it is held.
        let other = File::open(dir.join(LOCK)).unwrap();
        let try_lock = nix::fcntl::Flock::lock(other, nix::fcntl::FlockArg::LockSharedNonblock);
        assert!(try_lock.is_err(), "the lock was shared");
        drop(held);
        let other = File::open(dir.join(LOCK)).unwrap();
        assert!(
            nix::fcntl::Flock::lock(other, nix::fcntl::FlockArg::LockExclusiveNonblock).is_ok()
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
