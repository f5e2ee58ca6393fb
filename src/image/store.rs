//! The image store: an OCI image layout (`oci-layout`, `index.json`,
//! `blobs/sha256/HEX`) plus `layers/HEX/`, each layer blob unpacked once
//! into a directory overlayfs can stack.
//!
//! Invariants (what makes a killed pull harmless):
//! - a file under `blobs/` was verified against its name before it was
//!   renamed there; a directory under `layers/` was complete (and synced)
//!   before it was renamed there; `index.json` is replaced by rename and
//!   names only manifests whose blobs and layers are all in place;
//! - everything in progress lives under `tmp/NAME.PID.N` and is removed by the
//!   next [`Store::open`] once PID is gone;
//! - a blob or layer is produced under `locks/HEX.lock` (flock), so two
//!   pulls of the same layer fetch and unpack it once.
//!
//! Whose store it is ([`Access`]) says how layers are written and removed:
//! root's by this process, a user's through the user's namespace
//! ([`super::userns`]), whose IDs its layers' files carry.

mod index;

pub use super::error::StoreError;
use super::error::io_err;

use super::digest::{Capped, Digest, HashingWriter};
use super::unpack::{Budget, Limits, Stats, UnpackError};
use super::userns::{Helper, Userns};
use crate::layout::Layout;
use crate::owner::Owner;
use nix::fcntl::{Flock, FlockArg};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The store root and its files.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
    /// What a layer may unpack to (see [`super::unpack::limits`]).
    limits: Limits,
    access: Access,
}

/// Whose store it is: how its layers are written and removed.
#[derive(Debug, Clone)]
pub enum Access {
    /// root's: by this process, owners as the layers say (left as this
    /// process's own when it is not root: tests).
    Root,
    /// A user's: through the user's namespace, owners mapped to the user's
    /// subordinate IDs (which the user cannot chown to nor remove).
    User(Arc<dyn Userns>),
}

/// A layer that did not unpack: the layer's fault, or the store's.
pub(super) enum LayerFailure {
    Unpack(UnpackError),
    Store(StoreError),
}

static TMP_SEQ: AtomicU64 = AtomicU64::new(0);

impl Store {
    /// Opens (creating if needed) the store at `root` and removes what dead
    /// pulls left in `tmp/`. Its layer limits are the defaults, or what the
    /// `PODCTL_LAYER_*` variables say ([`super::unpack::limits::ENV`]).
    pub fn open(root: &Path) -> Result<Store, StoreError> {
        Store::open_as(root, Access::Root)
    }

    /// The store of `layout`'s owner: root's, or the user's, written
    /// through the user's namespace with the user's mapping
    /// ([`crate::ids::user_map`]) by `layout.podctl`'s helper.
    pub fn of(layout: &Layout) -> Result<Store, StoreError> {
        let access = match &layout.owner {
            Owner::System => Access::Root,
            Owner::User(user) => {
                let map = crate::ids::user_map(&layout.host, user).map_err(Box::new)?;
                Access::User(Arc::new(Helper::new(layout.podctl.clone(), map)))
            }
        };
        Store::open_as(&layout.images, access)
    }

    /// [`Store::open`] with whose it is.
    pub fn open_as(root: &Path, access: Access) -> Result<Store, StoreError> {
        let limits = Limits::from_vars(|v| std::env::var(v).ok())?;
        let user = matches!(access, Access::User(_));
        let s = Store {
            root: root.into(),
            limits,
            access,
        };
        let refused = |p: &Path| {
            let p = p.to_path_buf();
            move |e| super::fs_hint::open_failed(&p, e, user)
        };
        for d in ["blobs/sha256", "layers", "tmp", "locks"] {
            let p = s.root.join(d);
            fs::create_dir_all(&p).map_err(refused(&p))?;
        }
        // Layers hold setuid files: only the owner may reach them.
        fs::set_permissions(&s.root, std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .map_err(refused(&s.root))?;
        let layout = s.root.join("oci-layout");
        if !layout.exists() {
            s.write_atomic(&layout, br#"{"imageLayoutVersion":"1.0.0"}"#)?;
        }
        s.clean_tmp();
        Ok(s)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The same store with other layer limits (tests, tools).
    pub fn with_limits(mut self, limits: Limits) -> Store {
        self.limits = limits;
        self
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    pub fn access(&self) -> &Access {
        &self.access
    }

    /// Unpacks `input` into `dest` (an empty directory of this store) as
    /// this store's owner does.
    pub(super) fn unpack_layer(
        &self,
        input: &mut dyn io::Read,
        dest: &Path,
        budget: &Budget,
    ) -> Result<Stats, LayerFailure> {
        match &self.access {
            Access::Root => {
                let input = io::BufReader::with_capacity(1 << 20, input);
                super::unpack::unpack(input, dest, budget).map_err(LayerFailure::Unpack)
            }
            Access::User(ns) => ns.unpack(input, dest, budget).map_err(|e| match e {
                super::userns::UsernsError::Unpack(e) => LayerFailure::Unpack(e),
                source => LayerFailure::Store(StoreError::Userns {
                    root: self.root.clone(),
                    source: Box::new(source),
                }),
            }),
        }
    }

    /// Removes each of `paths` (under this store) and everything under it;
    /// a missing one is not an error. A user's store removes through the
    /// user's namespace: its layers hold the subordinate IDs' directories.
    pub fn remove_all(&self, paths: &[PathBuf]) -> Result<(), StoreError> {
        match &self.access {
            Access::Root => super::userns::child::remove(paths)
                .map_err(|(path, source)| StoreError::Io { path, source }),
            Access::User(ns) => ns.remove(paths).map_err(|source| StoreError::Userns {
                root: self.root.clone(),
                source: Box::new(source),
            }),
        }
    }

    /// [`Store::remove_all`] of one path, whose failure leaves only litter
    /// (a temporary directory the next [`Store::open`] removes).
    pub(super) fn discard(&self, path: &Path) {
        if let Err(e) = self.remove_all(&[path.to_path_buf()]) {
            tracing::warn!("{}", crate::error_chain(&e));
        }
    }

    pub fn blob_path(&self, d: &Digest) -> PathBuf {
        self.root.join("blobs/sha256").join(d.hex())
    }

    pub fn layer_path(&self, d: &Digest) -> PathBuf {
        self.root.join("layers").join(d.hex())
    }

    pub fn has_blob(&self, d: &Digest) -> bool {
        self.blob_path(d).is_file()
    }

    pub fn read_blob(&self, d: &Digest) -> Result<Vec<u8>, StoreError> {
        let p = self.blob_path(d);
        fs::read(&p).map_err(io_err(&p))
    }

    /// A fresh path under `tmp/` that [`Store::open`] removes once this
    /// process is gone.
    pub fn tmp_path(&self, what: &str) -> PathBuf {
        let n = TMP_SEQ.fetch_add(1, Ordering::Relaxed);
        self.root
            .join("tmp")
            .join(format!("{what}.{}.{n}", std::process::id()))
    }

    fn clean_tmp(&self) {
        let Ok(entries) = fs::read_dir(self.root.join("tmp")) else {
            return;
        };
        let mut dead = Vec::new();
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let pid = name.split('.').nth(1).and_then(|p| p.parse::<i32>().ok());
            let alive = pid.is_some_and(|p| {
                nix::sys::signal::kill(nix::unistd::Pid::from_raw(p), None).is_ok()
            });
            if !alive {
                dead.push(e.path());
            }
        }
        if !dead.is_empty() {
            let _ = self.remove_all(&dead);
        }
    }

    /// Holds `locks/KEY.lock` until dropped.
    pub fn lock(&self, key: &str) -> Result<Flock<File>, StoreError> {
        self.lock_as(key, FlockArg::LockExclusive)
    }

    /// Holds `locks/KEY.lock` shared (pulls hold `gc` shared; a garbage
    /// collection holds it exclusively) until dropped.
    pub fn lock_shared(&self, key: &str) -> Result<Flock<File>, StoreError> {
        self.lock_as(key, FlockArg::LockShared)
    }

    fn lock_as(&self, key: &str, how: FlockArg) -> Result<Flock<File>, StoreError> {
        let p = self.root.join("locks").join(format!("{key}.lock"));
        let f = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&p)
            .map_err(io_err(&p))?;
        Flock::lock(f, how).map_err(|(_, e)| StoreError::Io {
            path: p,
            source: e.into(),
        })
    }

    /// Writes `bytes` to `path` by rename from a synced temporary file.
    pub fn write_atomic(&self, path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
        let tmp = self.tmp_path("file");
        let mut f = File::create(&tmp).map_err(io_err(&tmp))?;
        f.write_all(bytes).map_err(io_err(&tmp))?;
        f.sync_all().map_err(io_err(&tmp))?;
        fs::rename(&tmp, path).map_err(io_err(path))
    }

    /// Stores blob `digest` of `size` bytes (when known) written by `fill`,
    /// unless it is already stored. The content is verified before it is
    /// renamed into `blobs/`; on any error nothing is left. Returns whether
    /// it was fetched (false: already there).
    pub fn put_blob<E>(
        &self,
        digest: &Digest,
        size: Option<u64>,
        fill: impl FnOnce(&mut dyn Write) -> Result<(), E>,
    ) -> Result<bool, PutError<E>> {
        let _lock = self.lock(digest.hex()).map_err(PutError::Store)?;
        let dest = self.blob_path(digest);
        if dest.is_file() {
            return Ok(false);
        }
        let tmp = self.tmp_path("blob");
        let result = self.fill_verified(&tmp, digest, size, fill);
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result?;
        fs::rename(&tmp, &dest)
            .map_err(io_err(&dest))
            .map_err(PutError::Store)?;
        Ok(true)
    }

    fn fill_verified<E>(
        &self,
        tmp: &Path,
        digest: &Digest,
        size: Option<u64>,
        fill: impl FnOnce(&mut dyn Write) -> Result<(), E>,
    ) -> Result<(), PutError<E>> {
        let f = File::create(tmp)
            .map_err(io_err(tmp))
            .map_err(PutError::Store)?;
        let mut w = HashingWriter::new(io::BufWriter::with_capacity(1 << 20, f));
        let mut capped = Capped {
            inner: &mut w,
            left: size.unwrap_or(u64::MAX),
            over: false,
        };
        let filled = fill(&mut capped);
        if capped.over {
            // A source that sends more than the descriptor says is cut off
            // at once: the disk holds at most the declared size.
            let want = size.unwrap_or(u64::MAX);
            return Err(PutError::Store(StoreError::Size {
                digest: digest.clone(),
                got: want.saturating_add(1),
                want,
            }));
        }
        filled.map_err(PutError::Fetch)?;
        let (actual, got, buf) = w.finish();
        let f = buf
            .into_inner()
            .map_err(|e| io_err(tmp)(e.into_error()))
            .map_err(PutError::Store)?;
        if let Some(want) = size
            && want != got
        {
            return Err(PutError::Store(StoreError::Size {
                digest: digest.clone(),
                got,
                want,
            }));
        }
        if &actual != digest {
            return Err(PutError::Store(StoreError::Mismatch {
                digest: digest.clone(),
                actual,
                size: got,
            }));
        }
        f.sync_all().map_err(io_err(tmp)).map_err(PutError::Store)
    }

    /// Unpacks stored layer blob `digest` into `layers/HEX` unless done
    /// already. Returns the directory and whether it was unpacked now.
    pub fn ensure_layer(&self, digest: &Digest) -> Result<(PathBuf, bool), StoreError> {
        let dest = self.layer_path(digest);
        let _lock = self.lock(&format!("layer-{}", digest.hex()))?;
        if dest.is_dir() {
            return Ok((dest, false));
        }
        let blob = self.blob_path(digest);
        let tmp = self.tmp_path("layer");
        fs::create_dir(&tmp).map_err(io_err(&tmp))?;
        let result = File::open(&blob).map_err(io_err(&blob)).and_then(|mut f| {
            let size = f.metadata().map_err(io_err(&blob))?.len();
            let budget = self.limits.budget(size);
            self.unpack_layer(&mut f, &tmp, &budget)
                .map_err(|e| self.layer_failed(digest, e))
        });
        if let Err(e) = result {
            self.discard(&tmp);
            if matches!(e, StoreError::Unpack { .. }) {
                // A blob that cannot be a layer is of no use: not kept.
                let _ = fs::remove_file(&blob);
            }
            return Err(e);
        }
        self.commit_layer(&tmp, digest)?;
        Ok((dest, true))
    }

    /// The store's error for layer `digest` that did not unpack.
    pub(super) fn layer_failed(&self, digest: &Digest, e: LayerFailure) -> StoreError {
        match e {
            LayerFailure::Unpack(source) => {
                let overlay = super::fs_hint::on_overlayfs(&self.root);
                super::fs_hint::unpack_failed(&self.root, overlay, digest, source)
            }
            LayerFailure::Store(e) => e,
        }
    }

    /// Makes the layer unpacked in `tmp` the stored layer `digest`.
    pub(super) fn commit_layer(&self, tmp: &Path, digest: &Digest) -> Result<(), StoreError> {
        let dest = self.layer_path(digest);
        // Everything unpacked reaches the disk before the name says "complete".
        if let Ok(d) = File::open(tmp) {
            let _ = nix::unistd::syncfs(&d);
        }
        fs::rename(tmp, &dest).map_err(io_err(&dest))
    }
}

/// A blob could not be stored: fetching it failed, or the store did.
#[derive(Debug, thiserror::Error)]
pub enum PutError<E> {
    #[error(transparent)]
    Fetch(E),
    #[error(transparent)]
    Store(StoreError),
}
