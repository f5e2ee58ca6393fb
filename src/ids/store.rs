//! The ranges on disk: `ranges.json` under [`Layout::userns`], changed under
//! its lock ([`crate::statefile`]), and the host's subuid and subgid files.
//!
//! Unlike network addresses ([`crate::net::ipam`]), a range names no owner
//! process: it outlives the supervisor on purpose (a restart, a reboot keep
//! it), so a dead owner says nothing. Whether an entry is stale is whether
//! its pod is still stored or running, which the caller knows.

use super::{Allocations, IdsError, SubIds};
use crate::layout::{HostRoots, Layout};
use crate::model::IdMap;
use crate::statefile::{State, StateFile};
use std::collections::BTreeMap;
use std::path::Path;

impl State for Allocations {
    const FILE: &'static str = "ranges.json";
}

fn file(layout: &Layout) -> StateFile<Allocations> {
    StateFile::new(&layout.userns)
}

/// The `containers` entries of the host's subuid and subgid files (a
/// missing file has none).
pub fn read_subids(host: &HostRoots) -> Result<SubIds, IdsError> {
    let read = |path: &Path| match std::fs::read_to_string(path) {
        Ok(text) => Ok(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
        Err(source) => Err(IdsError::Read {
            path: path.to_path_buf(),
            source,
        }),
    };
    SubIds::parse(
        &host.subuid,
        &read(&host.subuid)?,
        &host.subgid,
        &read(&host.subgid)?,
    )
}

/// `pod`'s range of `size` IDs: the one it holds if of that size (and still
/// within the entries), else the lowest free one, recorded.
///
/// First, under the lock, the entries of pods neither `stored` (e.g. no
/// `/etc/podctl/pods/NAME.toml`) nor `running` are dropped: what a crash
/// between removing a pod and [`release`] left behind.
pub fn assign(
    layout: &Layout,
    pod: &str,
    size: u32,
    stored: impl Fn(&str) -> bool,
    running: impl Fn(&str) -> bool,
) -> Result<IdMap, IdsError> {
    let ids = read_subids(&layout.host)?;
    let file = file(layout);
    let err = |source| IdsError::State {
        path: file.file(),
        source,
    };
    let locked = file.lock().map_err(err)?;
    let before = locked.read().map_err(err)?;
    let mut a = before.clone();
    let stale = a.reclaim(pod, stored, running);
    if !stale.is_empty() {
        tracing::info!(
            "user namespace ranges of removed pods freed: {}",
            stale.join(", ")
        );
    }
    let m = a.assign(pod, size, &ids)?;
    if a != before {
        locked.write(&a).map_err(err)?;
    }
    Ok(m)
}

/// Frees `pod`'s range (none held is fine).
pub fn release(layout: &Layout, pod: &str) -> Result<(), IdsError> {
    let file = file(layout);
    if !file.file().exists() {
        // No pod ever got a range: nothing to free, no directory to make.
        return Ok(());
    }
    let err = |source| IdsError::State {
        path: file.file(),
        source,
    };
    let locked = file.lock().map_err(err)?;
    let mut a = locked.read().map_err(err)?;
    if a.release(pod).is_some() {
        locked.write(&a).map_err(err)?;
    }
    Ok(())
}

/// Every pod's range, read without the lock (for display).
pub fn peek(layout: &Layout) -> Result<BTreeMap<String, IdMap>, IdsError> {
    let file = file(layout);
    file.peek()
        .map(|a| a.pods)
        .map_err(|source| IdsError::State {
            path: file.file(),
            source,
        })
}

/// `pod`'s range, if it holds one (read without the lock).
pub fn get(layout: &Layout, pod: &str) -> Result<Option<IdMap>, IdsError> {
    Ok(peek(layout)?.remove(pod))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(name: &str, subuid: &str, subgid: &str) -> (std::path::PathBuf, Layout) {
        let dir = std::env::temp_dir().join(format!("podctl-ids-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let l = Layout::under(&dir);
        std::fs::create_dir_all(l.host.subuid.parent().unwrap()).unwrap();
        std::fs::write(&l.host.subuid, subuid).unwrap();
        std::fs::write(&l.host.subgid, subgid).unwrap();
        (dir, l)
    }

    const ENTRY: &str = "containers:2147483647:2147483648\n";
    const FIRST: u32 = 2_147_483_648;

    #[test]
    fn assign_keep_release_on_disk() {
        let (dir, l) = layout("store", ENTRY, ENTRY);
        let yes = |_: &str| true;
        assert_eq!(peek(&l).unwrap(), BTreeMap::new());
        release(&l, "web").unwrap();
        assert!(!l.userns.exists(), "release made the directory");

        let web = assign(&l, "web", 65_536, yes, yes).unwrap();
        assert_eq!((web.uid, web.gid, web.size), (FIRST, FIRST, 65_536));
        let db = assign(&l, "db", 65_536, yes, yes).unwrap();
        assert_eq!(db.uid, FIRST + 65_536);
        // Another process (a restart) reads the same range back.
        assert_eq!(assign(&l, "web", 65_536, yes, yes).unwrap(), web);
        assert_eq!(get(&l, "db").unwrap(), Some(db));
        let on_disk: Allocations =
            serde_json::from_slice(&std::fs::read(l.userns.join("ranges.json")).unwrap()).unwrap();
        assert_eq!(on_disk.pods.len(), 2);

        release(&l, "web").unwrap();
        assert_eq!(get(&l, "web").unwrap(), None);
        assert_eq!(assign(&l, "api", 65_536, yes, yes).unwrap(), web);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn stale_entries_are_reclaimed_on_assign() {
        let (dir, l) = layout("stale", ENTRY, ENTRY);
        let yes = |_: &str| true;
        let old = assign(&l, "old", 65_536, yes, yes).unwrap();
        assign(&l, "kept", 65_536, yes, yes).unwrap();
        // "old" was removed without release; "kept" is stored but stopped.
        let stored = |p: &str| p == "kept";
        let no = |_: &str| false;
        assert_eq!(assign(&l, "new", 65_536, stored, no).unwrap(), old);
        let pods: Vec<String> = peek(&l).unwrap().into_keys().collect();
        assert_eq!(pods, ["kept", "new"]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn errors_name_the_file() {
        let (dir, l) = layout("errors", "", ENTRY);
        let yes = |_: &str| true;
        let e = assign(&l, "web", 65_536, yes, yes).unwrap_err().to_string();
        assert!(
            e.starts_with(&format!("{} has no", l.host.subuid.display())),
            "{e}"
        );
        std::fs::remove_file(&l.host.subgid).unwrap();
        std::fs::write(&l.host.subuid, ENTRY).unwrap();
        let e = assign(&l, "web", 65_536, yes, yes).unwrap_err().to_string();
        assert!(
            e.starts_with(&format!("{} has no", l.host.subgid.display())),
            "{e}"
        );

        std::fs::write(&l.host.subgid, ENTRY).unwrap();
        std::fs::create_dir_all(&l.userns).unwrap();
        std::fs::write(l.userns.join("ranges.json"), "[").unwrap();
        let path = l.userns.join("ranges.json").display().to_string();
        for e in [
            assign(&l, "web", 65_536, yes, yes).unwrap_err(),
            release(&l, "web").unwrap_err(),
            peek(&l).unwrap_err(),
        ] {
            let text = e.to_string();
            assert!(
                text.starts_with(&format!("user namespace ranges {path}: not a valid")),
                "{text}"
            );
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
