//! From what a user wrote to a stored image: short names through the
//! search registries, each name through its mirrors and location, each
//! endpoint with its credentials; the first endpoint that delivers wins, and
//! when none does the error lists every reference, registry and answer.

use super::HostConfig;
use super::auth;
use super::digest::Digest;
use super::error::StoreError;
use super::layout::Layout;
use super::progress::Progress;
use super::pull::{PullError, Pulled, pull};
use super::registries::{RegistriesConf, RegistriesError};
use super::registry::Registry;
use super::source::{Source, SourceError};
use super::store::Store;
use crate::model::reference::{ImageRef, Qualified, RefError};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error(transparent)]
    Ref(#[from] RefError),
    #[error(transparent)]
    Registries(#[from] RegistriesError),
    #[error(transparent)]
    Auth(#[from] auth::AuthError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{reference}: {error}")]
    Source {
        reference: String,
        error: SourceError,
    },
    #[error("{reference}: {error}")]
    Pull {
        reference: String,
        error: Box<PullError>,
    },
    #[error("cannot pull {reference}: {}", .tried.join("; "))]
    Unpullable {
        reference: String,
        tried: Vec<String>,
    },
    #[error("stored image {reference} is damaged: {why} (podctl rmi it and pull again)")]
    Broken { reference: String, why: String },
    #[error(
        "pod {pod} container {container}: image {reference} is not stored (podctl apply pulls it; a pod never pulls when it starts)"
    )]
    NotPulled {
        pod: String,
        container: String,
        reference: String,
    },
    #[error(
        "short name {reference} matches stored images {}; name one in full (the registries.conf search order no longer decides once several are stored)",
        .stored.join(" and ")
    )]
    Ambiguous {
        reference: String,
        stored: Vec<String>,
    },
    #[error("image {0} is not stored (podctl images lists what is)")]
    NotStored(String),
    #[error(
        "image {image} is used by pod {}; remove {} first (podctl down --purge POD)",
        pods.join(", pod "),
        if pods.len() == 1 { "it" } else { "them" }
    )]
    InUse { image: String, pods: Vec<String> },
}

/// The names a registry reference can be stored under, most likely first.
pub fn stored_names(host: &HostConfig, r: &ImageRef) -> Result<Vec<String>, ImageError> {
    Ok(match r {
        ImageRef::Registry(rr) => RegistriesConf::load(&host.registries_conf)?
            .candidates(rr)
            .iter()
            .map(Qualified::to_string)
            .collect(),
        other => vec![other.to_string()],
    })
}

/// The stored name and manifest of `image`, if it is stored. A short name
/// is looked up under each `unqualified-search-registries` entry; when
/// copies from more than one are stored, which one a pod would run is not
/// for the store's history to decide: that is an error listing them.
pub fn find(
    store: &Store,
    host: &HostConfig,
    image: &str,
) -> Result<Option<(String, Digest)>, ImageError> {
    let r = ImageRef::parse(image)?;
    let refs = store.refs()?;
    let found: Vec<&(String, Digest)> = stored_names(host, &r)?
        .iter()
        .filter_map(|name| refs.iter().find(|(n, _)| n == name))
        .collect();
    match found.as_slice() {
        [] => Ok(None),
        [(n, d)] => Ok(Some((n.clone(), d.clone()))),
        many => Err(ImageError::Ambiguous {
            reference: image.to_string(),
            stored: many.iter().map(|(n, _)| n.clone()).collect(),
        }),
    }
}

/// Pulls `image` into `store`.
pub fn pull_image(
    store: &Store,
    host: &HostConfig,
    image: &str,
    progress: &dyn Progress,
) -> Result<Pulled, ImageError> {
    let r = ImageRef::parse(image)?;
    let _gc = store.lock_shared("gc")?;
    from_sources(
        host,
        image,
        &r,
        |path| Ok(Box::new(Layout::archive(path, &store.tmp_path("archive"))?)),
        |src, reference, pinned, name| pull(store, src, reference, pinned, name, progress),
    )
}

/// Runs `fetch` against where `r` (`image` parsed) is read from, as a pull
/// reads it: an `oci:` layout; an `oci-archive:` opened by `archive`; for a
/// registry reference each name it may stand for (short names through the
/// search registries), each name through its mirrors and location, each
/// endpoint with its credentials. `fetch` is given the source, the
/// manifest reference to ask it (tag or digest), the digest that is pinned
/// and the name a pull stores the image under. The first endpoint whose
/// `fetch` succeeds wins; when none does, the error lists every one tried
/// with its answer.
pub(super) fn from_sources<T>(
    host: &HostConfig,
    image: &str,
    r: &ImageRef,
    archive: impl FnOnce(&Path) -> Result<Box<dyn Source>, SourceError>,
    mut fetch: impl FnMut(&mut dyn Source, &str, Option<&Digest>, &str) -> Result<T, PullError>,
) -> Result<T, ImageError> {
    let pulled = |error| ImageError::Pull {
        reference: image.to_string(),
        error: Box::new(error),
    };
    let rr = match r {
        ImageRef::Layout { path, tag } => {
            let tag = tag.as_deref().unwrap_or("");
            return fetch(&mut Layout::dir(path), tag, None, &r.to_string()).map_err(pulled);
        }
        ImageRef::Archive { path, tag } => {
            let mut src = archive(path).map_err(|error| ImageError::Source {
                reference: image.to_string(),
                error,
            })?;
            let tag = tag.as_deref().unwrap_or("");
            return fetch(src.as_mut(), tag, None, &r.to_string()).map_err(pulled);
        }
        ImageRef::Registry(rr) => rr,
    };
    let conf = RegistriesConf::load(&host.registries_conf)?;
    let mut tried = Vec::new();
    for q in conf.candidates(rr) {
        let endpoints = match conf.endpoints(&q) {
            Ok(e) => e,
            Err(e) => {
                tried.push(e.to_string());
                continue;
            }
        };
        for ep in endpoints {
            let creds = auth::lookup(&host.auth_files, &ep.host, &ep.repository)?;
            let reference = match (&q.digest, &q.tag) {
                (Some(d), _) => d.to_string(),
                (None, Some(t)) => t.clone(),
                (None, None) => "latest".to_string(),
            };
            let attempt = Registry::new(&ep, creds.as_ref(), &host.certs_d)
                .map_err(|error| PullError::Source {
                    source_name: format!("registry {}", ep.host),
                    error,
                })
                .and_then(|mut src| fetch(&mut src, &reference, q.digest.as_ref(), &q.to_string()));
            match attempt {
                Ok(p) => return Ok(p),
                Err(e) => {
                    let who = match &creds {
                        Some(c) => format!(" as {} (from {})", c.username, c.file.display()),
                        None => String::new(),
                    };
                    tried.push(format!("{q} from {}{who}: {e}", ep.host));
                }
            }
        }
    }
    Err(ImageError::Unpullable {
        reference: image.to_string(),
        tried,
    })
}

/// A stored image as a container uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The stored name (`localhost:5000/app:1`).
    pub name: String,
    pub digest: Digest,
    pub config: super::ImageConfig,
    /// Unpacked layer directories, lowest first.
    pub layers: Vec<std::path::PathBuf>,
}

/// `image` from the store only (no network), if stored.
pub fn stored(
    store: &Store,
    host: &HostConfig,
    image: &str,
) -> Result<Option<Resolved>, ImageError> {
    let Some((name, digest)) = find(store, host, image)? else {
        return Ok(None);
    };
    manifest_of(store, name, digest).map(Some)
}

/// The image stored as manifest `digest` (whatever names it now), known
/// as `name`; `None` if the manifest is not in the store.
pub fn by_digest(
    store: &Store,
    name: &str,
    digest: &Digest,
) -> Result<Option<Resolved>, ImageError> {
    if !store.has_blob(digest) {
        return Ok(None);
    }
    let r = manifest_of(store, name.to_string(), digest.clone())?;
    // A layer a collection removed: the image is pulled again.
    Ok(r.layers.iter().all(|l| l.is_dir()).then_some(r))
}

fn manifest_of(store: &Store, name: String, digest: Digest) -> Result<Resolved, ImageError> {
    let broken = |e: super::catalog::CatalogError| ImageError::Broken {
        reference: name.clone(),
        why: e.to_string(),
    };
    let m = super::catalog::manifest(store, &digest).map_err(broken)?;
    let cd = super::manifest::digest_of(m.config()).map_err(|e| ImageError::Broken {
        reference: name.clone(),
        why: e.to_string(),
    })?;
    let config =
        super::ImageConfig::parse(&store.read_blob(&cd)?).map_err(|e| ImageError::Broken {
            reference: name.clone(),
            why: format!("config {cd}: {e}"),
        })?;
    let layers = super::catalog::layer_dirs(store, &digest).map_err(broken)?;
    Ok(Resolved {
        name,
        digest,
        config,
        layers,
    })
}

/// Every image of `images` resolved, pulling those not stored yet: what
/// `apply` calls before it changes anything. The first image that cannot be
/// pulled is the error (with every registry tried and its answer).
pub fn ensure(
    store: &Store,
    host: &HostConfig,
    images: &[&str],
    progress: &dyn Progress,
) -> Result<std::collections::BTreeMap<String, Resolved>, ImageError> {
    let mut out = std::collections::BTreeMap::new();
    for &image in images {
        if out.contains_key(image) {
            continue;
        }
        if stored(store, host, image)?.is_none() {
            pull_image(store, host, image, progress)?;
        }
        let r = stored(store, host, image)?.ok_or_else(|| ImageError::NotStored(image.into()))?;
        out.insert(image.to_string(), r);
    }
    Ok(out)
}
