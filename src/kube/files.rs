//! `configMap` and `secret` volumes: the keys of a ConfigMap or Secret of
//! the same file as files in a directory of the host
//! (`/var/lib/podctl/kube/POD/VOLUME`), which the container binds read-only.
//! Reading a manifest only says which files (pure); `apply` writes them
//! ([`write()`]) before it checks and starts the pod.

use super::refs::{Kind, Refs};
use super::walk::{self, Cx, fields, join};
use super::yaml::Node;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Where the files of manifests' configMap and secret volumes live.
pub const FILES_DIR: &str = "/var/lib/podctl/kube";
/// Kubernetes' `defaultMode`.
const DEFAULT_MODE: i64 = 0o644;

/// One file of a volume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    /// Relative to the volume's directory, without `..`.
    pub path: String,
    pub content: Vec<u8>,
    pub mode: u32,
}

/// The files of one configMap or secret volume, and their directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeFiles {
    pub dir: PathBuf,
    pub files: Vec<File>,
}

/// Reads a `configMap` (`name`) or `secret` (`secretName`) volume source.
pub(crate) fn read(
    cx: &mut Cx,
    n: &Node,
    path: &str,
    kind: Kind,
    dir: PathBuf,
    objects: &Refs,
) -> Option<VolumeFiles> {
    let name_key = if kind == Kind::Secret {
        "secretName"
    } else {
        "name"
    };
    let [name, items, mode, optional] = fields(
        cx,
        n,
        path,
        [name_key, "items", "defaultMode", "optional"],
        &[],
    );
    let optional = optional
        .and_then(|o| walk::boolean(cx, o, &join(path, "optional")))
        .unwrap_or(false);
    let mode = match mode {
        Some(m) => walk::integer(cx, m, &join(path, "defaultMode"), 0, 0o777)?,
        None => DEFAULT_MODE,
    };
    let Some(name) = name.and_then(|x| walk::string(cx, x, &join(path, name_key))) else {
        cx.error(n, path, format!("missing {name_key}"));
        return None;
    };
    let Some(data) = objects.get(kind, name) else {
        if !optional {
            cx.error(
                n,
                path,
                format!(
                    "no {} named {name:?} in this file (put it in the same file, after a `---`, or set optional: true)",
                    kind.as_str()
                ),
            );
        }
        return Some(VolumeFiles {
            dir,
            files: Vec::new(),
        });
    };
    let mut files = Vec::new();
    match items {
        None => {
            for (k, v) in data {
                files.push(File {
                    path: k.clone(),
                    content: v.clone().into_bytes(),
                    mode: mode as u32,
                });
            }
        }
        Some(list) => {
            let p = join(path, "items");
            for (i, item) in walk::seq(cx, list, &p).iter().enumerate() {
                let ip = format!("{p}[{i}]");
                let [key, to, item_mode] = fields(cx, item, &ip, ["key", "path", "mode"], &[]);
                let key = key.and_then(|k| walk::string(cx, k, &join(&ip, "key")));
                let to_text = to.and_then(|t| walk::string(cx, t, &join(&ip, "path")));
                let (Some(key), Some(to_text)) = (key, to_text) else {
                    cx.error(item, &ip, "an item needs key and path");
                    continue;
                };
                let bad = to_text.starts_with('/')
                    || to_text.split('/').any(|c| c.is_empty() || c == "..")
                    || to_text.contains('\0');
                if bad {
                    cx.error(
                        to.expect("set"),
                        &join(&ip, "path"),
                        format!("{to_text:?} is not a relative path inside the volume"),
                    );
                    continue;
                }
                let item_mode = match item_mode {
                    Some(m) => walk::integer(cx, m, &join(&ip, "mode"), 0, 0o777).unwrap_or(mode),
                    None => mode,
                };
                match data.get(key) {
                    Some(v) => files.push(File {
                        path: to_text.to_string(),
                        content: v.clone().into_bytes(),
                        mode: item_mode as u32,
                    }),
                    None if optional => {}
                    None => cx.error(
                        item,
                        &join(&ip, "key"),
                        format!("the {} {name:?} has no key {key:?}", kind.as_str()),
                    ),
                }
            }
        }
    }
    Some(VolumeFiles { dir, files })
}

/// The directory of a pod's volume.
pub(crate) fn dir(pod: &str, volume: &str) -> PathBuf {
    pod_dir(pod).join(volume)
}

/// The directory of all of a pod's configMap and secret volumes: removed
/// with the pod's definition (`down --purge`).
pub fn pod_dir(pod: &str) -> PathBuf {
    Path::new(FILES_DIR).join(pod)
}

/// Writes a volume's files (each replaced atomically: a container that
/// binds the directory sees old or new content, never a half) and removes
/// the files it no longer has. The pod's directory is root's only (secrets);
/// the volume's directory is what the container sees.
pub fn write(v: &VolumeFiles) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    if let Some(pod_dir) = v.dir.parent() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(pod_dir)?;
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(&v.dir)?;
    std::fs::set_permissions(&v.dir, std::fs::Permissions::from_mode(0o755))?;
    for f in &v.files {
        let target = v.dir.join(&f.path);
        if let Some(parent) = target.parent() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o755)
                .create(parent)?;
        }
        let tmp = target.with_file_name(format!(".podctl-tmp-{}", std::process::id()));
        let mut out = std::fs::File::create(&tmp)?;
        out.write_all(&f.content)?;
        out.set_permissions(std::fs::Permissions::from_mode(f.mode))?;
        out.sync_all()?;
        std::fs::rename(&tmp, &target)?;
    }
    for entry in std::fs::read_dir(&v.dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let kept = v
            .files
            .iter()
            .any(|f| f.path == name || f.path.starts_with(&format!("{name}/")));
        if !kept && entry.file_type()?.is_file() {
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_written_with_their_modes_and_stale_ones_removed() {
        use std::os::unix::fs::PermissionsExt;
        let base = std::env::temp_dir().join(format!("podctl-kube-files-{}", std::process::id()));
        let v = VolumeFiles {
            dir: base.join("pod").join("config"),
            files: vec![
                File {
                    path: "app.conf".into(),
                    content: b"a=1\n".to_vec(),
                    mode: 0o640,
                },
                File {
                    path: "sub/x".into(),
                    content: b"x".to_vec(),
                    mode: 0o644,
                },
            ],
        };
        std::fs::create_dir_all(&v.dir).unwrap();
        std::fs::write(v.dir.join("stale"), "old").unwrap();
        write(&v).unwrap();
        assert_eq!(
            std::fs::read_to_string(v.dir.join("app.conf")).unwrap(),
            "a=1\n"
        );
        let mode = std::fs::metadata(v.dir.join("app.conf"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o640);
        assert_eq!(std::fs::read_to_string(v.dir.join("sub/x")).unwrap(), "x");
        assert!(!v.dir.join("stale").exists());
        std::fs::remove_dir_all(&base).unwrap();
    }
}
