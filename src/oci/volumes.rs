//! Named volumes: `/var/lib/podctl/volumes/NAME`, made when a container
//! that mounts one starts, kept across `down`, `down --purge` and reboots,
//! removed only by `podctl volume rm|prune`. A volume is *used* by every
//! stored pod (`/etc/podctl/pods/*.toml`) whose containers mount it, as a
//! Podman volume is used by its containers, running or not.
//!
//! Deciding is pure ([`Usage`], [`plan_rm`], [`unused`]); reading the
//! directories and removing take them as parameters.

use crate::model::{Pod, VolumeSource};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum VolumeError {
    #[error("{0:?} is not a volume name ({rule})", rule = crate::spec::names::LABEL_RULE)]
    BadName(String),
    #[error("no volume {name:?} ({} does not exist)", path.display())]
    NotFound { name: String, path: PathBuf },
    #[error(
        "volume {name} is used by pod(s) {}; remove them first (podctl down --purge POD) or use --force, which does",
        pods.join(", ")
    )]
    InUse { name: String, pods: Vec<String> },
    #[error(
        "cannot tell which volumes pod {pod} uses: {}: {reason}; fix or remove it first",
        file.display()
    )]
    Unreadable {
        pod: String,
        file: PathBuf,
        reason: String,
    },
    #[error(
        "container {container}: the volume target {target} does not exist on the host, whose {top} a container without an image sees read-only; the runtime would create it on the host. Create it there first, or mount the volume elsewhere (a new top-level directory such as /data is fine)"
    )]
    TargetOnHost {
        container: String,
        target: String,
        top: String,
    },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> VolumeError + '_ {
    move |source| VolumeError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The named volumes a pod's containers mount.
pub fn named_in(pod: &Pod) -> BTreeSet<String> {
    pod.containers
        .iter()
        .flat_map(|c| &c.volumes)
        .filter_map(|v| match &v.source {
            VolumeSource::Named(n) => Some(n.clone()),
            _ => None,
        })
        .collect()
}

/// Which pods use which volumes, and the stored definitions that could not
/// be read (they might use any volume).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Usage {
    users: BTreeMap<String, Vec<String>>,
    /// (pod, file, why): a definition that does not parse.
    pub unreadable: Vec<(String, PathBuf, String)>,
}

impl Usage {
    /// From pods already read (pure).
    pub fn of<'a>(pods: impl IntoIterator<Item = &'a Pod>) -> Usage {
        let mut u = Usage::default();
        for pod in pods {
            for v in named_in(pod) {
                u.users.entry(v).or_default().push(pod.name.clone());
            }
        }
        for pods in u.users.values_mut() {
            pods.sort();
            pods.dedup();
        }
        u
    }

    /// From the stored definitions in `store` (`*.toml`).
    pub fn load(store: &Path) -> Usage {
        let mut files: Vec<PathBuf> = std::fs::read_dir(store)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        let mut pods = Vec::new();
        let mut unreadable = Vec::new();
        for f in files {
            match crate::spec::load(&f) {
                Ok(p) => pods.push(p),
                Err(e) => {
                    let pod = f.file_stem().unwrap_or_default().to_string_lossy().into();
                    unreadable.push((pod, f, e.to_string()));
                }
            }
        }
        Usage {
            unreadable,
            ..Usage::of(&pods)
        }
    }

    /// The pods using `volume`, sorted.
    pub fn users(&self, volume: &str) -> &[String] {
        self.users.get(volume).map_or(&[], |v| v.as_slice())
    }

    /// Fails if some stored definition could not be read: nothing can be
    /// said unused then.
    pub fn complete(&self) -> Result<(), VolumeError> {
        match self.unreadable.first() {
            Some((pod, file, reason)) => Err(VolumeError::Unreadable {
                pod: pod.clone(),
                file: file.clone(),
                reason: reason.clone(),
            }),
            None => Ok(()),
        }
    }
}

/// A volume as `podctl volume ls|inspect` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VolumeInfo {
    pub name: String,
    /// Its directory on the host (what containers mount).
    pub path: PathBuf,
    /// Bytes on disk (allocated blocks; hard links counted once).
    pub size: u64,
    /// Stored pods whose containers mount it.
    pub used_by: Vec<String>,
}

/// Refuses what is not a volume name (it becomes a path under `dir`).
pub fn check_name(name: &str) -> Result<(), VolumeError> {
    if crate::spec::names::is_dns_label(name) && name != "tmpfs" {
        Ok(())
    } else {
        Err(VolumeError::BadName(name.to_string()))
    }
}

/// The volumes in `dir` (directories with volume names), sorted.
pub fn names(dir: &Path) -> Result<Vec<String>, VolumeError> {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io(dir)(e)),
    };
    let mut out: Vec<String> = rd
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| check_name(n).is_ok())
        .collect();
    out.sort();
    Ok(out)
}

/// One volume's details.
pub fn inspect(dir: &Path, name: &str, usage: &Usage) -> Result<VolumeInfo, VolumeError> {
    check_name(name)?;
    let path = dir.join(name);
    if !path.is_dir() {
        return Err(VolumeError::NotFound {
            name: name.to_string(),
            path,
        });
    }
    Ok(VolumeInfo {
        name: name.to_string(),
        size: disk_usage(&path),
        used_by: usage.users(name).to_vec(),
        path,
    })
}

/// Every volume's details.
pub fn list(dir: &Path, usage: &Usage) -> Result<Vec<VolumeInfo>, VolumeError> {
    names(dir)?.iter().map(|n| inspect(dir, n, usage)).collect()
}

/// What `volume rm` does to remove `names`: the pods to remove first
/// (with `force`; without it a volume in use is refused, naming its pods).
/// Every name is checked before anything is done.
pub fn plan_rm(
    names: &[String],
    exists: impl Fn(&str) -> bool,
    dir: &Path,
    usage: &Usage,
    force: bool,
) -> Result<Vec<String>, VolumeError> {
    let mut pods = BTreeSet::new();
    for name in names {
        check_name(name)?;
        if !exists(name) {
            return Err(VolumeError::NotFound {
                name: name.clone(),
                path: dir.join(name),
            });
        }
        let users = usage.users(name);
        if !users.is_empty() && !force {
            return Err(VolumeError::InUse {
                name: name.clone(),
                pods: users.to_vec(),
            });
        }
        pods.extend(users.iter().cloned());
    }
    usage.complete()?;
    Ok(pods.into_iter().collect())
}

/// The volumes of `all` that no pod uses.
pub fn unused(all: &[String], usage: &Usage) -> Result<Vec<String>, VolumeError> {
    usage.complete()?;
    Ok(all
        .iter()
        .filter(|n| usage.users(n).is_empty())
        .cloned()
        .collect())
}

/// Removes volume `name` and everything in it.
pub fn remove(dir: &Path, name: &str) -> Result<(), VolumeError> {
    check_name(name)?;
    let path = dir.join(name);
    std::fs::remove_dir_all(&path).map_err(io(&path))
}

/// For a container whose root is the host's (no image): every volume
/// target under a host top-level directory (bound from the host, read-only)
/// exists there already. The runtime makes missing targets before it
/// remounts the binds read-only, that is on the host's own filesystem
/// (seen: crun made `/usr/x` for `/tmp:/usr/x`). Targets in podctl's own
/// root (`/data`, `/tmp/...`, `/run/...`) and inside another volume are fine.
pub fn check_host_targets(
    container: &str,
    volumes: &[crate::model::Volume],
    host_root: &Path,
) -> Result<(), VolumeError> {
    for v in volumes {
        let rel = v.target.trim_start_matches('/');
        let top = rel.split('/').next().unwrap_or_default();
        let in_other = volumes
            .iter()
            .any(|o| v.target.starts_with(&format!("{}/", o.target)));
        if in_other
            || super::config::NOT_FROM_HOST.contains(&top)
            || std::fs::symlink_metadata(host_root.join(top)).is_err()
        {
            continue;
        }
        let on_host = host_root.join(rel);
        if std::fs::symlink_metadata(&on_host).is_err() && !on_host.exists() {
            return Err(VolumeError::TargetOnHost {
                container: container.to_string(),
                target: v.target.clone(),
                top: format!("/{top}"),
            });
        }
    }
    Ok(())
}

/// Bytes allocated under `path` (not following symlinks, hard links
/// once); unreadable parts count 0. (No same-filesystem test: on overlayfs
/// files and directories report different devices.)
pub fn disk_usage(path: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let mut seen = HashSet::new();
    let mut total = 0;
    let mut todo = vec![path.to_path_buf()];
    while let Some(p) = todo.pop() {
        let Ok(m) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        if !seen.insert((m.dev(), m.ino())) {
            continue;
        }
        total += m.blocks() * 512;
        if m.is_dir() {
            todo.extend(
                std::fs::read_dir(&p)
                    .into_iter()
                    .flatten()
                    .flatten()
                    .map(|e| e.path()),
            );
        }
    }
    total
}

/// `4.0 KiB`, `1.5 MiB`: sizes for people.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests;
