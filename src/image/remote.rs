//! What a pull of an image would store now, found without pulling: the
//! manifest its tag names where a pull would read it (the same registries,
//! mirrors, credentials and certificates, in the same order), resolved to
//! the host's platform when it is an index, each manifest checked against
//! its digest as a pull checks it. No blob is fetched, nothing is stored:
//! what `auto-update --dry-run` and `apply --dry-run --pull` ask.
//!
//! Every manifest is refused past [`MAX_DOCUMENT`], as a pull refuses it;
//! a layout's or archive's file is read no further than that, a registry's
//! answer is read whole by the HTTP client first (as a pull's is).

use super::HostConfig;
use super::digest::Digest;
use super::layout::{blob_hex, tagged};
use super::manifest::Descriptor;
use super::pull::platform_manifest;
use super::registries::RegistriesConf;
use super::resolve::{ImageError, from_sources};
use super::source::{Failure, Source, SourceError};
use super::unpack::limits::MAX_DOCUMENT;
use crate::model::reference::ImageRef;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Component, Path, PathBuf};

#[cfg(test)]
mod tests;

/// The image a pull of a reference would store now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remote {
    /// The name a pull stores it under (`localhost:5000/app:1`).
    pub name: String,
    /// The manifest that name would point to: the host platform's
    /// manifest when the reference names an index.
    pub digest: Digest,
}

/// The name and manifest digest a pull of `image` would store on this
/// host now, read from where the pull would read it and fetching no blob.
///
/// A reference pinned by digest (`NAME@sha256:...`) is answered without
/// the network: its digest, under the first name a pull would try. (When
/// that digest names an index, a pull stores the host's manifest of that
/// index under the name, so the digest is not the stored one; what a
/// pinned name points to never changes.)
///
/// Errors are a pull's: [`ImageError::Unpullable`] when no registry
/// delivers (every endpoint tried, with its answer), [`ImageError::Pull`]
/// for an `oci:` layout or `oci-archive:` that does not hold the image or
/// holds a manifest that does not match its digest, and the errors of
/// reading the reference, `registries.conf` and the credential files.
pub fn current(host: &HostConfig, image: &str) -> Result<Remote, ImageError> {
    let r = ImageRef::parse(image)?;
    if let ImageRef::Registry(rr) = &r
        && let Some(digest) = &rr.digest
    {
        let conf = RegistriesConf::load(&host.registries_conf)?;
        // The first name a pull would try (a blocked registry is skipped);
        // with none, the error below is the pull's.
        if let Some(q) = conf
            .candidates(rr)
            .into_iter()
            .find(|q| conf.endpoints(q).is_ok())
        {
            return Ok(Remote {
                name: q.to_string(),
                digest: digest.clone(),
            });
        }
    }
    from_sources(
        host,
        image,
        &r,
        |path| Ok(Box::new(Archive { path: path.into() })),
        |src, reference, pinned, name| {
            let chosen = platform_manifest(src, reference, pinned)?;
            Ok(Remote {
                name: name.to_string(),
                digest: chosen.digest,
            })
        },
    )
}

/// An `oci-archive:` read where it lies: `index.json` and manifests are
/// read out of the tar, nothing is extracted. A pull extracts the archive
/// and reads the same files; the last entry of a name is the one
/// extraction leaves, and one that is not a regular file is refused rather
/// than followed.
struct Archive {
    path: PathBuf,
}

impl Archive {
    fn err(&self, what: &str, kind: Failure, e: impl std::fmt::Display) -> SourceError {
        SourceError::new(
            format!("{what} in OCI archive {}", self.path.display()),
            kind,
            e,
        )
    }

    /// The file `name` (`index.json`, `blobs/sha256/HEX`) of the archive,
    /// at most one byte past [`MAX_DOCUMENT`] (the pull refuses it by size).
    fn read(&self, name: &str) -> Result<Vec<u8>, SourceError> {
        let io_err = |e: io::Error| self.err(name, Failure::of_io(&e), e);
        let f = File::open(&self.path).map_err(io_err)?;
        let mut archive = tar::Archive::new(io::BufReader::new(f));
        let mut found = None;
        // Seeking past the layers' data instead of reading it.
        for entry in archive.entries_with_seek().map_err(io_err)? {
            let mut entry = entry.map_err(io_err)?;
            if !names(&entry.path().map_err(io_err)?, name) {
                continue;
            }
            if !entry.header().entry_type().is_file() {
                found = Some(Err(self.err(
                    name,
                    Failure::Other,
                    "not a regular file (a dry run follows no link)",
                )));
                continue;
            }
            let mut bytes = Vec::new();
            (&mut entry)
                .take(MAX_DOCUMENT + 1)
                .read_to_end(&mut bytes)
                .map_err(io_err)?;
            found = Some(Ok(bytes));
        }
        found.unwrap_or_else(|| Err(self.err(name, Failure::NotFound, "no such file")))
    }
}

/// Whether tar entry `path` extracts to `name`: `./` and a leading `/`
/// dropped, as extraction drops them; a path with `..` extracts nowhere.
fn names(path: &Path, name: &str) -> bool {
    let mut parts = Vec::new();
    for c in path.components() {
        match c {
            Component::Normal(p) => parts.push(p),
            Component::ParentDir => return false,
            Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
        }
    }
    parts
        .iter()
        .map(|p| p.to_str())
        .eq(name.split('/').map(Some))
}

impl Source for Archive {
    fn describe(&self) -> String {
        format!("OCI archive {}", self.path.display())
    }

    fn manifest(&mut self, reference: &str) -> Result<Vec<u8>, SourceError> {
        let digest = if reference.starts_with("sha256:") {
            reference.to_string()
        } else {
            let index = self.read("index.json")?;
            tagged(&index, reference, |what, kind, e| self.err(what, kind, e))?
        };
        let hex = blob_hex(&digest)
            .ok_or_else(|| self.err(&digest, Failure::Other, "not a sha256 digest"))?;
        self.read(&format!("blobs/sha256/{hex}"))
    }

    fn blob(
        &mut self,
        d: &Descriptor,
        _: &mut dyn Write,
        _: &mut dyn FnMut(u64),
    ) -> Result<(), SourceError> {
        Err(self.err(
            &format!("blob {}", d.digest()),
            Failure::Other,
            "only manifests are read from an archive in place",
        ))
    }
}
