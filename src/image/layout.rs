//! `oci:` and `oci-archive:` sources: an OCI image layout directory, or a
//! tar of one (extracted under the store's `tmp/` first).

use super::manifest::{self, Descriptor, ref_name};
use super::source::{Failure, Source, SourceError, deliver};
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// An OCI layout directory.
pub struct Layout {
    dir: PathBuf,
    /// Removed on drop (an extracted archive).
    owned: bool,
}

impl Layout {
    pub fn dir(dir: &Path) -> Layout {
        Layout {
            dir: dir.into(),
            owned: false,
        }
    }

    /// Extracts `archive` into `scratch` (which must not exist) and reads it there.
    pub fn archive(archive: &Path, scratch: &Path) -> Result<Layout, SourceError> {
        let fail = |e: io::Error| {
            SourceError::new(
                format!("OCI archive {}", archive.display()),
                Failure::Other,
                e,
            )
        };
        let f = File::open(archive).map_err(|e| {
            let kind = Failure::of_io(&e);
            SourceError::new(format!("OCI archive {}", archive.display()), kind, e)
        })?;
        std::fs::create_dir(scratch).map_err(fail)?;
        let layout = Layout {
            dir: scratch.into(),
            owned: true,
        };
        // tar's unpack refuses entries that would leave `scratch`.
        tar::Archive::new(io::BufReader::new(f))
            .unpack(scratch)
            .map_err(fail)?;
        Ok(layout)
    }

    fn err(&self, what: &str, kind: Failure, e: impl std::fmt::Display) -> SourceError {
        SourceError::new(format!("{} in {}", what, self.dir.display()), kind, e)
    }

    fn open_blob(&self, digest: &str) -> Result<File, SourceError> {
        let hex = blob_hex(digest)
            .ok_or_else(|| self.err(digest, Failure::Other, "not a sha256 digest"))?;
        let p = self.dir.join("blobs/sha256").join(hex);
        File::open(&p).map_err(|e| self.err(&format!("blob {digest}"), Failure::of_io(&e), e))
    }
}

/// The name of blob `digest` under `blobs/sha256/`, if it is a sha256 digest.
pub(super) fn blob_hex(digest: &str) -> Option<&str> {
    digest
        .strip_prefix("sha256:")
        .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The digest of the manifest tag `reference` names in a layout whose
/// `index.json` is `index` (its `org.opencontainers.image.ref.name`; no tag
/// names a layout's only image). `err` makes the error for `what`.
pub(super) fn tagged(
    index: &[u8],
    reference: &str,
    err: impl Fn(&str, Failure, String) -> SourceError,
) -> Result<String, SourceError> {
    let index = manifest::parse_index(index)
        .map_err(|e| err("index.json", Failure::Other, e.to_string()))?;
    let ms = index.manifests();
    let found = match ms.iter().find(|d| ref_name(d) == Some(reference)) {
        Some(d) => d,
        // An untagged reference to a layout holding one image.
        None if reference.is_empty() && ms.len() == 1 => &ms[0],
        None => {
            return Err(err(
                &format!("tag {reference:?}"),
                Failure::NotFound,
                "no manifest with that org.opencontainers.image.ref.name".into(),
            ));
        }
    };
    Ok(found.digest().to_string())
}

impl Drop for Layout {
    fn drop(&mut self) {
        if self.owned {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

impl Source for Layout {
    fn describe(&self) -> String {
        format!("OCI layout {}", self.dir.display())
    }

    fn manifest(&mut self, reference: &str) -> Result<Vec<u8>, SourceError> {
        let digest = if reference.starts_with("sha256:") {
            reference.to_string()
        } else {
            let p = self.dir.join("index.json");
            let mut bytes = Vec::new();
            File::open(&p)
                .and_then(|f| {
                    f.take(super::unpack::limits::MAX_DOCUMENT + 1)
                        .read_to_end(&mut bytes)
                })
                .map_err(|e| self.err("index.json", Failure::Other, e))?;
            tagged(&bytes, reference, |what, kind, e| self.err(what, kind, e))?
        };
        // One byte past the limit: enough for the pull to refuse it by size.
        let mut out = Vec::new();
        self.open_blob(&digest)?
            .take(super::unpack::limits::MAX_DOCUMENT + 1)
            .read_to_end(&mut out)
            .map_err(|e| self.err(&digest, Failure::Other, e))?;
        Ok(out)
    }

    fn blob(
        &mut self,
        d: &Descriptor,
        out: &mut dyn Write,
        progress: &mut dyn FnMut(u64),
    ) -> Result<(), SourceError> {
        let digest = d.digest().as_ref();
        let mut f = self.open_blob(digest)?;
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = f
                .read(&mut buf)
                .map_err(|e| self.err(digest, Failure::Other, e))?;
            if n == 0 {
                return Ok(());
            }
            deliver(out, &buf[..n], digest, progress)?;
        }
    }
}
