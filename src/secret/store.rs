//! The encrypted secrets on disk: one file per secret, named after it,
//! root's alone (0600 in a 0700 directory, though encrypted).

use super::{Encrypter, SecretError, VALUE_MAX, check_name};
use crate::layout::Layout;
use serde::Serialize;
use std::path::PathBuf;

/// What [`Store::put`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Put {
    Created,
    Replaced,
    Unchanged,
}

/// A valid name and a value the store holds: not empty, bounded.
fn check_value(name: &str, value: &[u8]) -> Result<(), SecretError> {
    check_name(name)?;
    if value.is_empty() {
        return Err(SecretError::Empty(name.into()));
    }
    if value.len() > VALUE_MAX {
        return Err(SecretError::TooBig { name: name.into() });
    }
    Ok(())
}

/// One stored secret, as `secret ls` and `secret inspect` show it: never
/// its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub name: String,
    /// Bytes of the encrypted credential (not of the value).
    pub size: u64,
    /// When it was made: seconds since the epoch.
    pub created: u64,
    /// Stored pods whose containers use it.
    pub used_by: Vec<String>,
}

/// The secrets of the host's [`Layout::secrets`], encrypted by `enc`.
pub struct Store<'a> {
    pub paths: &'a Layout,
    pub enc: &'a dyn Encrypter,
}

impl Store<'_> {
    /// The encrypted credential's path.
    pub fn path(&self, name: &str) -> PathBuf {
        self.paths.secrets.join(name)
    }

    pub fn exists(&self, name: &str) -> bool {
        check_name(name).is_ok() && self.path(name).is_file()
    }

    /// Encrypts `value` and stores it as `name`, which must be new.
    pub fn create(&self, name: &str, value: &[u8]) -> Result<(), SecretError> {
        check_value(name, value)?;
        let path = self.path(name);
        if path.exists() {
            return Err(SecretError::Exists(name.into()));
        }
        self.seal(name, value)
    }

    /// Stores `value` as `name`: created, replaced when the stored value
    /// differs (decrypted in memory to compare; one that cannot be
    /// decrypted is replaced), left alone when it is the same. A replace is
    /// atomic: a reader finds the old or the new credential, whole.
    pub fn put(&self, name: &str, value: &[u8]) -> Result<Put, SecretError> {
        check_value(name, value)?;
        let path = self.path(name);
        let Ok(sealed) = std::fs::read(&path) else {
            self.seal(name, value)?;
            return Ok(Put::Created);
        };
        if self
            .enc
            .decrypt(name, &sealed)
            .is_ok_and(|old| old == value)
        {
            return Ok(Put::Unchanged);
        }
        self.seal(name, value)?;
        Ok(Put::Replaced)
    }

    /// Encrypts and writes (a new file renamed over: atomic, root's alone).
    fn seal(&self, name: &str, value: &[u8]) -> Result<(), SecretError> {
        let path = self.path(name);
        let sealed = self.enc.encrypt(name, value)?;
        crate::supervise::state::write_atomic_mode(&path, &sealed, crate::private::PRIVATE_FILE)
            .map_err(io(name, "write", &path))
    }

    /// Every stored secret, by name.
    pub fn list(&self) -> Result<Vec<Entry>, SecretError> {
        let Ok(dir) = std::fs::read_dir(&self.paths.secrets) else {
            return Ok(Vec::new());
        };
        let mut names: Vec<String> = dir
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| check_name(n).is_ok())
            .collect();
        names.sort();
        names.iter().map(|n| self.inspect(n)).collect()
    }

    /// What is known of `name` (never its value).
    pub fn inspect(&self, name: &str) -> Result<Entry, SecretError> {
        check_name(name)?;
        let path = self.path(name);
        let meta = match std::fs::symlink_metadata(&path) {
            Ok(m) if m.is_file() => m,
            _ => return Err(SecretError::Missing(name.into())),
        };
        let created = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs());
        Ok(Entry {
            name: name.into(),
            size: meta.len(),
            created,
            used_by: used_by(self.paths, name),
        })
    }

    /// Removes `name`, refused while a stored pod uses it.
    pub fn remove(&self, name: &str) -> Result<(), SecretError> {
        let entry = self.inspect(name)?;
        if !entry.used_by.is_empty() {
            return Err(SecretError::InUse {
                name: name.into(),
                pods: entry.used_by,
            });
        }
        let path = self.path(name);
        std::fs::remove_file(&path).map_err(io(name, "remove", &path))
    }
}

fn io<'p>(
    name: &str,
    what: &'static str,
    path: &'p std::path::Path,
) -> impl FnOnce(std::io::Error) -> SecretError + 'p {
    let name = name.to_string();
    move |source| SecretError::Io {
        name,
        what,
        path: path.to_path_buf(),
        source,
    }
}

/// The stored pods whose containers use secret `name` (a stored pod that
/// no longer reads uses none).
pub fn used_by(paths: &Layout, name: &str) -> Vec<String> {
    let pods = crate::apply::stored_pods(paths).unwrap_or_default();
    pods.into_iter()
        .filter(|pod| {
            let Ok(text) = std::fs::read_to_string(paths.definition(pod)) else {
                return false;
            };
            crate::spec::parse_str(&text, "stored", pod).is_ok_and(|p| {
                p.containers
                    .iter()
                    .any(|c| c.secrets.names().iter().any(|n| n == name))
            })
        })
        .collect()
}
