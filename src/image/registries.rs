//! `registries.conf` v2 (containers-registries.conf(5)): which registries a
//! short name is tried in, and for a qualified name the endpoints to pull
//! from (mirrors first, then the location), which are plain HTTP
//! (`insecure`) and which are refused (`blocked`).

use crate::model::reference::{DOCKER_HUB, Qualified, RegistryRef};
use serde::Deserialize;
use std::path::Path;

/// The parts of registries.conf podctl uses (other keys are ignored, as the
/// file is shared with Podman).
#[derive(Debug, Default, Clone, Deserialize)]
pub struct RegistriesConf {
    #[serde(default, rename = "unqualified-search-registries")]
    pub search: Vec<String>,
    #[serde(default, rename = "registry")]
    pub registries: Vec<RegistryEntry>,
}

/// One `[[registry]]` table.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct RegistryEntry {
    #[serde(default)]
    pub prefix: Option<String>,
    #[serde(default)]
    pub location: String,
    #[serde(default)]
    pub insecure: bool,
    #[serde(default)]
    pub blocked: bool,
    #[serde(default, rename = "mirror")]
    pub mirrors: Vec<Mirror>,
}

/// One `[[registry.mirror]]` table.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct Mirror {
    pub location: String,
    #[serde(default)]
    pub insecure: bool,
}

/// Where to fetch a qualified image from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `host[:port]` to connect to.
    pub host: String,
    /// The repository on that host.
    pub repository: String,
    /// Plain HTTP (and no certificate checks).
    pub insecure: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum RegistriesError {
    #[error("reading {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Parse {
        path: String,
        source: Box<toml::de::Error>,
    },
    #[error("{image}: registry {prefix:?} is blocked in registries.conf")]
    Blocked { image: String, prefix: String },
}

impl RegistriesConf {
    /// Reads `path`; a missing file is an empty configuration.
    pub fn load(path: &Path) -> Result<RegistriesConf, RegistriesError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(source) => {
                return Err(RegistriesError::Read {
                    path: path.display().to_string(),
                    source,
                });
            }
        };
        Self::parse(&text).map_err(|source| RegistriesError::Parse {
            path: path.display().to_string(),
            source: Box::new(source),
        })
    }

    pub fn parse(text: &str) -> Result<RegistriesConf, toml::de::Error> {
        toml::from_str(text)
    }

    /// The qualified names a reference stands for, in the order to try:
    /// itself when it names a registry, otherwise one per search registry
    /// (Docker Hub when none is configured).
    pub fn candidates(&self, r: &RegistryRef) -> Vec<Qualified> {
        match &r.domain {
            Some(d) => vec![r.qualify(d)],
            None if self.search.is_empty() => vec![r.qualify(DOCKER_HUB)],
            None => self.search.iter().map(|d| r.qualify(d)).collect(),
        }
    }

    /// The `[[registry]]` whose prefix matches `name` (`domain/repo`) longest.
    fn entry_for(&self, name: &str) -> Option<&RegistryEntry> {
        self.registries
            .iter()
            .filter(|e| {
                let p = e.prefix.as_deref().unwrap_or(&e.location);
                !p.is_empty()
                    && name.starts_with(p)
                    && matches!(name.as_bytes().get(p.len()), None | Some(b'/'))
            })
            .max_by_key(|e| e.prefix.as_deref().unwrap_or(&e.location).len())
    }

    /// Endpoints for `q`: its mirrors, then its location (or itself).
    pub fn endpoints(&self, q: &Qualified) -> Result<Vec<Endpoint>, RegistriesError> {
        let name = q.name();
        let Some(e) = self.entry_for(&name) else {
            return Ok(vec![Endpoint {
                host: q.domain.clone(),
                repository: q.repository.clone(),
                insecure: false,
            }]);
        };
        let prefix = e.prefix.as_deref().unwrap_or(&e.location);
        if e.blocked {
            return Err(RegistriesError::Blocked {
                image: q.to_string(),
                prefix: prefix.to_string(),
            });
        }
        let rest = &name[prefix.len()..];
        let mut out: Vec<Endpoint> = e
            .mirrors
            .iter()
            .map(|m| endpoint(&format!("{}{rest}", m.location), m.insecure))
            .collect();
        let location = if e.location.is_empty() {
            prefix
        } else {
            &e.location
        };
        out.push(endpoint(&format!("{location}{rest}"), e.insecure));
        Ok(out)
    }
}

fn endpoint(rewritten: &str, insecure: bool) -> Endpoint {
    let (host, repository) = rewritten.split_once('/').unwrap_or((rewritten, ""));
    Endpoint {
        host: host.to_string(),
        repository: repository.to_string(),
        insecure,
    }
}
