//! `configMap` volumes: the keys of a ConfigMap of the same file as files
//! in a directory of the host ([`crate::layout::Layout::kube_files`]`/POD/VOLUME`,
//! `/var/lib/podctl/kube/POD/VOLUME`), which the container binds read-only.
//! Reading a manifest only says which files (pure); `apply` writes them
//! ([`super::write::write()`]) before it checks and starts the pod.
//! (A Secret's keys are podctl secrets: [`super::secret_volume`].)

use super::refs::{Kind, Refs};
use super::walk::{self, Cx, fields, join};
use super::yaml::Node;
use std::path::{Path, PathBuf};

/// Kubernetes' `defaultMode` of a configMap volume's files.
pub(crate) const DEFAULT_MODE: u32 = 0o644;

/// One file of a volume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    /// Relative to the volume's directory, without `..`.
    pub path: String,
    pub content: Vec<u8>,
    pub mode: u32,
}

/// The files of one configMap volume, and their directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeFiles {
    /// The pod's and the volume's names: `BASE/POD/VOLUME`, BASE
    /// [`crate::layout::Layout::kube_files`].
    pub pod: String,
    pub volume: String,
    /// That directory, the container's bind source.
    pub dir: PathBuf,
    pub files: Vec<File>,
}

/// Reads a `configMap` volume source; its files go under `base`.
pub(crate) fn read(
    cx: &mut Cx,
    n: &Node,
    path: &str,
    (base, pod, volume): (&Path, &str, &str),
    objects: &Refs,
) -> Option<VolumeFiles> {
    let [name, items, mode, optional] = fields(
        cx,
        n,
        path,
        ["name", "items", "defaultMode", "optional"],
        &[],
    );
    let mode = match mode {
        Some(m) => walk::integer(cx, m, &join(path, "defaultMode"), 0, 0o777)? as u32,
        None => DEFAULT_MODE,
    };
    let files = keys(cx, n, path, [name, items, optional], mode, objects)?;
    Some(VolumeFiles {
        pod: pod.to_string(),
        volume: volume.to_string(),
        dir: dir(base, pod, volume),
        files,
    })
}

/// Reads a projected volume's `configMap` source (`name`, `items`,
/// `optional`), its files `mode` unless an item says another.
pub(crate) fn projection(
    cx: &mut Cx,
    n: &Node,
    path: &str,
    mode: u32,
    objects: &Refs,
) -> Option<Vec<File>> {
    let found = fields(cx, n, path, ["name", "items", "optional"], &[]);
    keys(cx, n, path, found, mode, objects)
}

/// The keys of the ConfigMap `name` names as files: all of them, or `items`.
fn keys(
    cx: &mut Cx,
    n: &Node,
    path: &str,
    [name, items, optional]: [Option<&Node>; 3],
    mode: u32,
    objects: &Refs,
) -> Option<Vec<File>> {
    let kind = Kind::ConfigMap;
    let optional = optional
        .and_then(|o| walk::boolean(cx, o, &join(path, "optional")))
        .unwrap_or(false);
    let Some(name) = name.and_then(|x| walk::string(cx, x, &join(path, "name"))) else {
        cx.error(n, path, "missing name");
        return None;
    };
    let Some(data) = objects.get(kind, name) else {
        if !optional {
            cx.error(
                n,
                path,
                format!(
                    "no {} named {name:?} {} ({}, or set optional: true)",
                    kind.as_str(),
                    objects.looked_in(),
                    objects.put_it()
                ),
            );
        }
        return Some(Vec::new());
    };
    let mut files = Vec::new();
    let Some(list) = items else {
        for (k, v) in data {
            files.push(File {
                path: k.clone(),
                content: v.clone().into_bytes(),
                mode,
            });
        }
        return Some(files);
    };
    let p = join(path, "items");
    for (i, item) in walk::seq(cx, list, &p).iter().enumerate() {
        let ip = format!("{p}[{i}]");
        let Some((key, to_text, item_mode)) = item_entry(cx, item, &ip, mode) else {
            continue;
        };
        match data.get(key) {
            Some(v) => files.push(File {
                path: to_text.to_string(),
                content: v.clone().into_bytes(),
                mode: item_mode,
            }),
            None if optional => {}
            None => cx.error(
                item,
                &join(&ip, "key"),
                format!("the {} {name:?} has no key {key:?}", kind.as_str()),
            ),
        }
    }
    Some(files)
}

/// One entry of a volume source's `items` (`key`, `path`, `mode`): its key,
/// its path (relative, checked) and its mode (`mode` when it sets none);
/// None once an error located at it is reported.
pub(crate) fn item_entry<'a>(
    cx: &mut Cx,
    item: &'a Node,
    ip: &str,
    mode: u32,
) -> Option<(&'a str, &'a str, u32)> {
    let [key, to, item_mode] = fields(cx, item, ip, ["key", "path", "mode"], &[]);
    let key = key.and_then(|k| walk::string(cx, k, &join(ip, "key")));
    let to_text = to.and_then(|t| walk::string(cx, t, &join(ip, "path")));
    let (Some(key), Some(to_text)) = (key, to_text) else {
        cx.error(item, ip, "an item needs key and path");
        return None;
    };
    if let Err(e) = super::rules::relative_path(to_text) {
        cx.error(to.expect("set"), &join(ip, "path"), e);
        return None;
    }
    let item_mode = match item_mode {
        Some(m) => walk::integer(cx, m, &join(ip, "mode"), 0, 0o777).map_or(mode, |m| m as u32),
        None => mode,
    };
    Some((key, to_text, item_mode))
}

/// The directory of a pod's volume under `base` (names checked:
/// [`super::rules`]).
pub(crate) fn dir(base: &Path, pod: &str, volume: &str) -> PathBuf {
    pod_dir(base, pod).join(volume)
}

/// The directory of all of a pod's configMap volumes under `base`
/// ([`crate::layout::Layout::kube_files`]): removed with the pod's
/// definition (`down --purge`).
pub fn pod_dir(base: &Path, pod: &str) -> PathBuf {
    base.join(pod)
}

/// Whether a bind source is a directory or file that writing `volumes`
/// makes: the checks before apply look for it before it is written.
pub fn will_exist(volumes: &[VolumeFiles], source: &str) -> bool {
    volumes.iter().any(|v| {
        let Ok(rest) = Path::new(source).strip_prefix(&v.dir) else {
            return false;
        };
        rest.as_os_str().is_empty() || v.files.iter().any(|f| Path::new(&f.path).starts_with(rest))
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A file of a volume (also for `kube::write`'s tests).
    pub(crate) fn file(path: &str, content: &str, mode: u32) -> File {
        File {
            path: path.into(),
            content: content.as_bytes().to_vec(),
            mode,
        }
    }

    #[test]
    fn bind_sources_that_writing_makes_are_known() {
        let base = Path::new("/var/lib/podctl/kube");
        let v = VolumeFiles {
            pod: "p".into(),
            volume: "v".into(),
            dir: dir(base, "p", "v"),
            files: vec![file("sub/x", "", 0o644)],
        };
        let d = dir(base, "p", "v").display().to_string();
        let vs = [v];
        assert!(will_exist(&vs, &d));
        assert!(will_exist(&vs, &format!("{d}/sub")));
        assert!(will_exist(&vs, &format!("{d}/sub/x")));
        assert!(!will_exist(&vs, &format!("{d}/other")));
        assert!(!will_exist(&vs, "/etc"));
    }
}
