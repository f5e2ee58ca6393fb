//! For pods in a user namespace of their own: every tree their containers'
//! roots and volumes come from must be mountable idmapped on this host
//! (kernel and filesystem), checked before anything is stored or started.

use super::Planned;
use crate::layout::Layout;
use crate::model::{IdMap, VolumeSource};
use std::path::{Path, PathBuf};

/// One message per tree of a planned pod that cannot be idmapped here, as
/// `probe` ([`crate::mount::probe_idmap`]) finds. Each tree is probed once,
/// and a tree found able to once per boot while its filesystem is the same
/// (a mark under `/run/podctl`: what a filesystem supports does not change
/// while it is mounted).
pub fn idmap_support(
    planned: &[Planned],
    paths: &Layout,
    probe: &dyn Fn(&Path, IdMap) -> std::io::Result<()>,
) -> Vec<String> {
    let mut problems = Vec::new();
    let mut probed: Vec<PathBuf> = Vec::new();
    for p in planned {
        let Some(map) = p.plan.userns.map() else {
            continue;
        };
        for tree in trees(p, paths) {
            if probed.contains(&tree) {
                continue;
            }
            let mark = mark(paths, &tree);
            if mark.as_ref().is_some_and(|m| m.exists()) {
                continue;
            }
            match probe(&tree, map) {
                Ok(()) => {
                    if let Some(m) = mark {
                        // Only a shortcut: without it the next apply probes again.
                        let _ = crate::private::create_private_dir(&paths.run.join(MARKS))
                            .and_then(|()| std::fs::write(&m, ""));
                    }
                }
                Err(e) => {
                    let e = crate::mount::IdmapError::new(&tree, &tree, e);
                    problems.push(format!("pod {}: {e}", p.plan.pod));
                }
            }
            probed.push(tree);
        }
    }
    problems
}

/// The trees a planned pod's containers mount idmapped: the image store's
/// layers and each bind and named volume (a directory not made yet: the
/// nearest one that is, whose filesystem it will be on).
fn trees(p: &Planned, paths: &Layout) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if p.plan.containers.iter().any(|c| c.image.is_some()) {
        out.push(existing(&paths.images.join("layers")));
    }
    for v in p.plan.containers.iter().flat_map(|c| &c.volumes) {
        let source = match &v.source {
            VolumeSource::Bind(s) => PathBuf::from(s),
            VolumeSource::Named(n) => paths.oci().volumes().join(n),
            VolumeSource::Scratch(_) | VolumeSource::Tmpfs(_) => continue,
        };
        let tree = existing(&source);
        if !out.contains(&tree) {
            out.push(tree);
        }
    }
    out
}

/// Where the marks of filesystems that can be idmapped are, under `/run/podctl`.
const MARKS: &str = "idmap-ok";

/// The mark of `tree` on the filesystem it is on now (its device number).
fn mark(paths: &Layout, tree: &Path) -> Option<PathBuf> {
    use std::hash::{Hash, Hasher};
    use std::os::unix::fs::MetadataExt;
    let dev = std::fs::metadata(tree).ok()?.dev();
    // Marks live for one boot: the std hasher need not be stable longer.
    let mut h = std::collections::hash_map::DefaultHasher::new();
    tree.hash(&mut h);
    Some(
        paths
            .run
            .join(MARKS)
            .join(format!("{dev:x}-{:016x}", h.finish())),
    )
}

/// `p`, or its nearest ancestor that exists.
fn existing(p: &Path) -> PathBuf {
    p.ancestors()
        .find(|a| a.exists())
        .unwrap_or(Path::new("/"))
        .to_path_buf()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each tree a userns pod mounts is probed once, a host-namespace pod's
    /// never; what cannot be idmapped is named with the way out.
    #[test]
    fn trees_a_user_namespace_cannot_take_are_refused_by_name() {
        let dir = std::env::temp_dir().join(format!("podctl-idmap-check-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let paths = Layout::under(&dir);
        let nfs = dir.join("nfs");
        std::fs::create_dir_all(&nfs).unwrap();
        std::fs::create_dir_all(&paths.lib).unwrap();
        let planned = |name: &str, userns: &str| {
            let text = format!(
                "name = \"{name}\"\n{userns}\n[containers.app]\nimage = \"app:1\"\n\
                 volumes = [\"{}:/a\", \"data:/b\"]\n",
                nfs.display()
            );
            let pod = crate::spec::parse_str(&text, "t.toml", name).unwrap();
            let facts = crate::plan::Facts {
                ids: Some(IdMap {
                    uid: 300_000,
                    gid: 300_000,
                    size: 65_536,
                }),
                ..Default::default()
            };
            Planned {
                plan: crate::plan::assemble(&pod, &facts),
                facts,
                definition: crate::apply::Definition {
                    file: dir.join(format!("{name}.toml")),
                    pod,
                    text,
                    files: Default::default(),
                    secrets: Default::default(),
                    warnings: Vec::new(),
                },
            }
        };
        let probed = std::cell::RefCell::new(Vec::new());
        let probe = |p: &Path, _: IdMap| {
            probed.borrow_mut().push(p.to_path_buf());
            if p == nfs {
                Err(std::io::Error::new(
                    std::io::ErrorKind::Unsupported,
                    std::io::Error::from_raw_os_error(nix::libc::EINVAL),
                ))
            } else {
                Ok(())
            }
        };
        let all = [
            planned("a", ""),
            planned("b", ""),
            planned("h", "userns = \"host\""),
        ];
        let problems = idmap_support(&all, &paths, &probe);
        // The store's layers and the named volume are not made yet: their
        // nearest directory, podctl's lib, stands for both.
        assert_eq!(*probed.borrow(), [paths.lib.clone(), nfs.clone()]);
        assert_eq!(problems.len(), 1, "{problems:?}");
        // Next time, the tree found able is not probed again (the one that
        // is not, is: the host may have changed since).
        probed.borrow_mut().clear();
        let again = idmap_support(&all, &paths, &probe);
        assert_eq!(*probed.borrow(), std::slice::from_ref(&nfs));
        assert_eq!(again, problems);
        assert!(
            problems[0].starts_with(&format!("pod a: cannot mount {} idmapped", nfs.display()))
                && problems[0].contains("userns = \"host\""),
            "{}",
            problems[0]
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
