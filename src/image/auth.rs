//! Registry credentials from the files `podman login`, `skopeo login` and
//! `docker login` write (containers-auth.json(5)): `{"auths": {KEY: {"auth":
//! base64(user:pass)}}}`, where KEY is `host[:port]` or `host[:port]/repo...`.
//! The first file holding a matching key wins; within a file the most
//! specific key does.

use base64::Engine as _;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A user name and password for one registry.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
    /// The file they came from, for error messages.
    pub file: PathBuf,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Credentials({} from {})",
            self.username,
            self.file.display()
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("reading {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a containers auth file: {source}")]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("{path}: entry {key:?}: {why}")]
    Entry {
        path: PathBuf,
        key: String,
        why: String,
    },
}

#[derive(Deserialize)]
struct AuthFile {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
}

#[derive(Deserialize)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
}

/// The keys that can hold credentials for `host/repository`, most specific first.
pub fn keys_for(host: &str, repository: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut path = format!("{host}/{repository}");
    loop {
        keys.push(path.clone());
        match path.rfind('/') {
            Some(i) => path.truncate(i),
            None => break,
        }
    }
    if host == "docker.io" || host == "index.docker.io" || host == "registry-1.docker.io" {
        keys.push("https://index.docker.io/v1/".into());
        keys.push("index.docker.io".into());
        keys.push("docker.io".into());
    }
    keys
}

/// Credentials for `host/repository` from the first of `files` that has any.
pub fn lookup(
    files: &[PathBuf],
    host: &str,
    repository: &str,
) -> Result<Option<Credentials>, AuthError> {
    let keys = keys_for(host, repository);
    for path in files {
        if let Some(c) = lookup_in(path, &keys)? {
            return Ok(Some(c));
        }
    }
    Ok(None)
}

fn lookup_in(path: &Path, keys: &[String]) -> Result<Option<Credentials>, AuthError> {
    let text = match std::fs::read(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(AuthError::Read {
                path: path.into(),
                source,
            });
        }
    };
    let file: AuthFile = serde_json::from_slice(&text).map_err(|source| AuthError::Parse {
        path: path.into(),
        source,
    })?;
    let Some((key, entry)) = keys.iter().find_map(|k| file.auths.get(k).map(|e| (k, e))) else {
        return Ok(None);
    };
    let bad = |why: &str| AuthError::Entry {
        path: path.into(),
        key: key.clone(),
        why: why.into(),
    };
    let (username, password) = match (&entry.auth, &entry.username, &entry.password) {
        (Some(a), _, _) if !a.is_empty() => {
            let raw = base64::engine::general_purpose::STANDARD
                .decode(a.trim())
                .map_err(|_| bad("\"auth\" is not base64"))?;
            let text = String::from_utf8(raw).map_err(|_| bad("\"auth\" is not UTF-8"))?;
            let (u, p) = text
                .split_once(':')
                .ok_or_else(|| bad("\"auth\" is not base64 of user:password"))?;
            (u.to_string(), p.to_string())
        }
        (_, Some(u), Some(p)) => (u.clone(), p.clone()),
        _ => return Ok(None),
    };
    Ok(Some(Credentials {
        username,
        password,
        file: path.into(),
    }))
}
