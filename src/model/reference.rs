//! Image references: `[REGISTRY/]REPO[:TAG][@DIGEST]`, `oci:PATH[:TAG]`,
//! `oci-archive:PATH[:TAG]`. Parsing is pure; short names are qualified by
//! [`crate::image::registries`].

use super::digest::Digest;
use std::fmt;
use std::path::PathBuf;

/// Docker Hub's name, and the namespace its one-component names live in.
pub const DOCKER_HUB: &str = "docker.io";
const DOCKER_LIBRARY: &str = "library";
const DEFAULT_TAG: &str = "latest";

/// Where an image comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageRef {
    /// A registry image; `domain` is `None` for a short name.
    Registry(RegistryRef),
    /// An OCI image layout directory; `tag` picks `org.opencontainers.image.ref.name`.
    Layout { path: PathBuf, tag: Option<String> },
    /// A tar archive of an OCI image layout.
    Archive { path: PathBuf, tag: Option<String> },
}

/// A registry reference as written (before short-name resolution).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryRef {
    pub domain: Option<String>,
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<Digest>,
}

/// A registry reference with its registry: what is pulled and stored.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Qualified {
    pub domain: String,
    pub repository: String,
    /// `None` only when pinned by digest.
    pub tag: Option<String>,
    pub digest: Option<Digest>,
}

/// Why a reference cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RefError {
    #[error("invalid image reference {reference:?}: {why}")]
    Invalid { reference: String, why: String },
}

fn invalid(reference: &str, why: impl Into<String>) -> RefError {
    RefError::Invalid {
        reference: reference.to_string(),
        why: why.into(),
    }
}

impl ImageRef {
    /// Parses any reference form.
    pub fn parse(s: &str) -> Result<ImageRef, RefError> {
        if let Some(rest) = s.strip_prefix("oci-archive:") {
            let (path, tag) = path_and_tag(s, rest)?;
            return Ok(ImageRef::Archive { path, tag });
        }
        if let Some(rest) = s.strip_prefix("oci:") {
            let (path, tag) = path_and_tag(s, rest)?;
            return Ok(ImageRef::Layout { path, tag });
        }
        RegistryRef::parse(s).map(ImageRef::Registry)
    }
}

/// `PATH[:TAG]`: the tag is after the last `:` that follows the last `/`.
fn path_and_tag(whole: &str, rest: &str) -> Result<(PathBuf, Option<String>), RefError> {
    let slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (path, tag) = match rest[slash..].rfind(':') {
        Some(i) => (&rest[..slash + i], Some(rest[slash + i + 1..].to_string())),
        None => (rest, None),
    };
    if path.is_empty() {
        return Err(invalid(whole, "no path"));
    }
    if let Some(t) = &tag {
        check_tag(whole, t)?;
    }
    Ok((PathBuf::from(path), tag))
}

fn check_tag(whole: &str, tag: &str) -> Result<(), RefError> {
    let ok = !tag.is_empty()
        && tag.len() <= 128
        && tag
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
        && !tag.starts_with(['.', '-']);
    if ok {
        Ok(())
    } else {
        Err(invalid(
            whole,
            format!("tag {tag:?} must be 1-128 of [A-Za-z0-9_.-], not starting with . or -"),
        ))
    }
}

fn check_repository(whole: &str, repo: &str) -> Result<(), RefError> {
    for part in repo.split('/') {
        let ok = !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
            && part.starts_with(|c: char| c.is_ascii_alphanumeric())
            && part.ends_with(|c: char| c.is_ascii_alphanumeric());
        if !ok {
            return Err(invalid(
                whole,
                format!(
                    "repository component {part:?} must be lowercase letters, digits and . _ - between them"
                ),
            ));
        }
    }
    Ok(())
}

impl RegistryRef {
    pub fn parse(s: &str) -> Result<RegistryRef, RefError> {
        if s.is_empty() {
            return Err(invalid(s, "empty"));
        }
        let (name, digest) = match s.split_once('@') {
            Some((n, d)) => (
                n,
                Some(Digest::parse(d).map_err(|e| invalid(s, e.to_string()))?),
            ),
            None => (s, None),
        };
        let slash = name.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match name[slash..].rfind(':') {
            Some(i) => (&name[..slash + i], Some(name[slash + i + 1..].to_string())),
            None => (name, None),
        };
        if let Some(t) = &tag {
            check_tag(s, t)?;
        }
        let (domain, repository) = match name.split_once('/') {
            Some((first, rest))
                if first.contains(['.', ':']) || first == "localhost" || first.starts_with('[') =>
            {
                (Some(first.to_string()), rest.to_string())
            }
            _ => (None, name.to_string()),
        };
        if let Some(d) = &domain
            && !d
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        {
            return Err(invalid(s, format!("registry {d:?} is not a host[:port]")));
        }
        check_repository(s, &repository)?;
        Ok(RegistryRef {
            domain,
            repository,
            tag,
            digest,
        })
    }

    /// This reference in its registry, or in `search` for a short name
    /// (Docker Hub's one-component names get `library/`; no tag and no
    /// digest means `latest`).
    pub fn qualify(&self, search: &str) -> Qualified {
        let domain = self.domain.as_deref().unwrap_or(search);
        let repository = if domain == DOCKER_HUB && !self.repository.contains('/') {
            format!("{DOCKER_LIBRARY}/{}", self.repository)
        } else {
            self.repository.clone()
        };
        let tag = match (&self.tag, &self.digest) {
            (None, None) => Some(DEFAULT_TAG.to_string()),
            (t, _) => t.clone(),
        };
        Qualified {
            domain: domain.to_string(),
            repository,
            tag,
            digest: self.digest.clone(),
        }
    }
}

impl Qualified {
    /// `domain/repository`, the part registries.conf prefixes match.
    pub fn name(&self) -> String {
        format!("{}/{}", self.domain, self.repository)
    }
}

impl fmt::Display for Qualified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.domain, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (kind, path, tag) = match self {
            ImageRef::Registry(r) => {
                if let Some(d) = &r.domain {
                    write!(f, "{d}/")?;
                }
                f.write_str(&r.repository)?;
                if let Some(t) = &r.tag {
                    write!(f, ":{t}")?;
                }
                if let Some(d) = &r.digest {
                    write!(f, "@{d}")?;
                }
                return Ok(());
            }
            ImageRef::Layout { path, tag } => ("oci", path, tag),
            ImageRef::Archive { path, tag } => ("oci-archive", path, tag),
        };
        write!(f, "{kind}:{}", path.display())?;
        if let Some(t) = tag {
            write!(f, ":{t}")?;
        }
        Ok(())
    }
}
