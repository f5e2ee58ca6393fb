//! One pod's apply or down at a time: an exclusive lock per pod in
//! `/run/podctl/locks`, and concurrent commands wait and say so.

use crate::layout::Layout;
use anyhow::Context;
use std::fs::File;

/// An exclusive lock on one pod's apply/down, held until dropped.
pub struct PodLock(#[allow(dead_code)] nix::fcntl::Flock<File>);

/// `down --purge` removes the lock file (nothing per pod is left in
/// `/run/podctl`), so a lock is only good if its file is still the one at
/// the path once locked; otherwise lock the new file.
pub fn lock_pod(paths: &Layout, name: &str) -> anyhow::Result<PodLock> {
    use nix::fcntl::{Flock, FlockArg};
    use std::os::unix::fs::MetadataExt;
    let dir = paths.run.join("locks");
    crate::private::create_private_dir(&dir)
        .with_context(|| format!("cannot create {}", dir.display()))?;
    let path = dir.join(format!("{name}.lock"));
    let mut said = false;
    loop {
        let file = {
            use std::os::unix::fs::OpenOptionsExt;
            std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(false)
                .mode(crate::private::PRIVATE_FILE)
                .open(&path)
        }
        .with_context(|| format!("cannot open {}", path.display()))?;
        let lock = match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(l) => l,
            Err((file, _)) => {
                if !said {
                    eprintln!(
                        "{name}: another podctl is applying or stopping this pod; waiting for it to finish..."
                    );
                    said = true;
                }
                Flock::lock(file, FlockArg::LockExclusive)
                    .map_err(|(_, e)| anyhow::anyhow!("cannot lock {}: {e}", path.display()))?
            }
        };
        let same = match (lock.metadata(), std::fs::metadata(&path)) {
            (Ok(a), Ok(b)) => a.ino() == b.ino() && a.dev() == b.dev(),
            _ => false,
        };
        if same {
            return Ok(PodLock(lock));
        }
    }
}
