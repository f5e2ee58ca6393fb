//! Revisions on disk: `DIR/POD/NUMBER.json`, each written once by rename
//! (a `pending` one rewritten once when its update is proven), the oldest
//! removed beyond what the pod keeps.

use super::{Cause, Revision, RevisionError};
use crate::image::facts::Pins;
use crate::supervise::state::write_atomic;
use std::path::{Path, PathBuf};

/// The most bytes a revision file may have (a pod file is at most 1 MiB).
const FILE_MAX: u64 = 4 << 20;

/// One pod's revisions, in `dir` (`Layout::revisions`/POD).
#[derive(Debug, Clone)]
pub struct Revisions {
    pod: String,
    dir: PathBuf,
}

impl Revisions {
    pub fn of(root: &Path, pod: &str) -> Revisions {
        Revisions {
            pod: pod.to_string(),
            dir: root.join(pod),
        }
    }

    pub fn pod(&self) -> &str {
        &self.pod
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub(super) fn io(
        &self,
        what: &'static str,
        path: &Path,
    ) -> impl FnOnce(std::io::Error) -> RevisionError {
        let (pod, path) = (self.pod.clone(), path.to_path_buf());
        move |source| RevisionError::Io {
            pod,
            what,
            path,
            source,
        }
    }

    fn path(&self, number: u64) -> PathBuf {
        self.dir.join(format!("{number}.json"))
    }

    /// The numbers stored, oldest first.
    fn numbers(&self) -> Result<Vec<u64>, RevisionError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(self.io("read", &self.dir)(e)),
        };
        let mut out: Vec<u64> = entries
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                name.strip_suffix(".json")?.parse().ok()
            })
            .filter(|n| *n > 0)
            .collect();
        out.sort_unstable();
        Ok(out)
    }

    /// Revision `number`.
    pub fn get(&self, number: u64) -> Result<Revision, RevisionError> {
        let path = self.path(number);
        let bytes = match read_capped(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(RevisionError::NoSuch {
                    pod: self.pod.clone(),
                    number,
                });
            }
            Err(e) => return Err(self.io("read", &path)(e)),
        };
        let damaged = |why: String| RevisionError::Damaged {
            pod: self.pod.clone(),
            path: path.clone(),
            why,
        };
        let r: Revision = serde_json::from_slice(&bytes).map_err(|e| damaged(e.to_string()))?;
        if r.number != number {
            return Err(damaged(format!("it says it is revision {}", r.number)));
        }
        Ok(r)
    }

    /// Every kept revision, oldest first.
    pub fn list(&self) -> Result<Vec<Revision>, RevisionError> {
        self.numbers()?.into_iter().map(|n| self.get(n)).collect()
    }

    /// The newest revision: what the pod runs.
    pub fn newest(&self) -> Result<Option<Revision>, RevisionError> {
        match self.numbers()?.last() {
            Some(&n) => self.get(n).map(Some),
            None => Ok(None),
        }
    }

    /// The images the newest revision pins (none without revisions).
    pub fn pins(&self) -> Result<Pins, RevisionError> {
        Ok(self.newest()?.map(|r| r.images).unwrap_or_default())
    }

    /// Stores `text` with `images` as a new revision, unless the newest is
    /// the same (then `None`); keeps the newest `keep`.
    pub fn record(
        &self,
        text: &str,
        images: &Pins,
        cause: Cause,
        pending: bool,
        keep: u32,
    ) -> Result<Option<Revision>, RevisionError> {
        let numbers = self.numbers()?;
        let newest = match numbers.last() {
            Some(&n) => Some(self.get(n)?),
            None => None,
        };
        if newest.as_ref().is_some_and(|r| r.same(text, images)) {
            return Ok(None);
        }
        let r = Revision {
            number: numbers.last().map_or(1, |n| n + 1),
            created: crate::supervise::state::now_secs(),
            cause,
            text: text.to_string(),
            images: images.clone(),
            pending,
        };
        self.write(&r)?;
        let keep = usize::try_from(keep.max(1)).unwrap_or(usize::MAX);
        let all = numbers.len() + 1;
        for n in numbers.iter().take(all.saturating_sub(keep)) {
            let p = self.path(*n);
            std::fs::remove_file(&p).map_err(self.io("remove", &p))?;
        }
        Ok(Some(r))
    }

    /// Marks revision `number` proven (no longer `pending`).
    pub fn confirm(&self, number: u64) -> Result<(), RevisionError> {
        let mut r = self.get(number)?;
        if r.pending {
            r.pending = false;
            self.write(&r)?;
        }
        Ok(())
    }

    /// Clears `pending` on every revision but the newest: an update that
    /// was rolled back is decided, not waiting (only the newest is ever
    /// gated again, so a kill before this leaves nothing to redo).
    pub fn settle_older(&self) -> Result<(), RevisionError> {
        let numbers = self.numbers()?;
        for &n in numbers.iter().rev().skip(1) {
            self.confirm(n)?;
        }
        Ok(())
    }

    fn write(&self, r: &Revision) -> Result<(), RevisionError> {
        let p = self.path(r.number);
        let bytes = serde_json::to_vec_pretty(r).map_err(|e| RevisionError::Damaged {
            pod: self.pod.clone(),
            path: p.clone(),
            why: e.to_string(),
        })?;
        write_atomic(&p, &bytes).map_err(self.io("write", &p))
    }

    /// Removes every revision (`podctl down --purge`).
    pub fn remove_all(&self) -> Result<(), RevisionError> {
        match std::fs::remove_dir_all(&self.dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(self.io("remove", &self.dir)(e))
            }
            _ => Ok(()),
        }
    }
}

/// Every manifest a kept revision of any pod under `root` pins: what a
/// garbage collection of the image store must keep. A revision that cannot
/// be read pins nothing it can name, so an unreadable directory is an
/// error rather than an empty list.
pub fn pinned_manifests(root: &Path) -> Result<Vec<String>, RevisionError> {
    let entries = match std::fs::read_dir(root) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(RevisionError::Io {
                pod: "*".into(),
                what: "read",
                path: root.to_path_buf(),
                source,
            });
        }
    };
    let mut out = Vec::new();
    for e in entries.flatten() {
        let Ok(pod) = e.file_name().into_string() else {
            continue;
        };
        for r in Revisions::of(root, &pod).list()? {
            out.extend(r.images.into_values().map(|p| p.digest));
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// `path`'s bytes, at most [`FILE_MAX`] (more is an error: no revision
/// file podctl writes is that big), never through a symbolic link.
fn read_capped(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)?;
    let mut bytes = Vec::new();
    f.take(FILE_MAX + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > FILE_MAX {
        return Err(std::io::Error::other(format!("over {FILE_MAX} bytes")));
    }
    Ok(bytes)
}
