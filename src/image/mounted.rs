//! Which stored layers a mounted image root stacks, from the mount tables
//! of the host (pid 1) and of this process (for a user's store: of the
//! user's pods' own mount namespaces): what a garbage collection must not
//! remove while a container runs on it. A root in a pod's user
//! namespace stacks idmapped attachments of the layers
//! (`CONTAINER_DIR/lower/N`): the list beside them says which.

use super::store::Store;
use std::collections::BTreeSet;
use std::path::Path;

/// The stored layers (hex digests) overlay mounts name as lower layers.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Mounted {
    pub layers: BTreeSet<String>,
    /// Some overlay names its layers by `/proc/self/fd/N` (an image of many
    /// layers): which layers it stacks cannot be told, so none may go.
    pub unknown: bool,
}

/// The layers of `store` the mount tables show in use.
pub fn layers(store: &Store) -> Mounted {
    let mut m = Mounted::default();
    let under = store.root().join("layers");
    let read_list = |p: &Path| std::fs::read_to_string(p).ok();
    // A user's containers mount their roots in their pods' own mount
    // namespaces (the holders'), on bundles under the user's runtime
    // directory, never in the host's: every mount namespace the user's
    // processes are in is read once, for the overlays on those bundles
    // (root's, some named by file descriptor, say nothing of this store).
    if let super::store::Access::User(_) = store.access() {
        let runtime = crate::owner::Owner::current()
            .ok()
            .and_then(|o| o.user().map(|u| u.runtime.clone()));
        let Some(runtime) = runtime else {
            // Whose the pods are cannot be told: nothing may go.
            m.unknown = true;
            return m;
        };
        let ours = |point: &str| Path::new(point).starts_with(&runtime);
        for table in own_mount_namespaces(Path::new("/proc")) {
            if let Ok(text) = std::fs::read_to_string(table) {
                parse_where(&text, &under, &read_list, &ours, &mut m);
            }
        }
        return m;
    }
    for table in ["/proc/1/mountinfo", "/proc/self/mountinfo"] {
        if let Ok(text) = std::fs::read_to_string(table) {
            parse(&text, &under, &read_list, &mut m);
        }
    }
    m
}

/// One `PID/mountinfo` under `proc` for each mount namespace that a
/// process of this process's UID is in.
fn own_mount_namespaces(proc: &Path) -> Vec<std::path::PathBuf> {
    use std::os::unix::fs::MetadataExt;
    let uid = nix::unistd::geteuid().as_raw();
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for e in std::fs::read_dir(proc).into_iter().flatten().flatten() {
        let dir = e.path();
        let is_pid = e
            .file_name()
            .to_string_lossy()
            .bytes()
            .all(|b| b.is_ascii_digit());
        if !is_pid || std::fs::metadata(&dir).map(|m| m.uid()).ok() != Some(uid) {
            continue;
        }
        let Ok(ns) = std::fs::read_link(dir.join("ns/mnt")) else {
            continue;
        };
        if seen.insert(ns) {
            out.push(dir.join("mountinfo"));
        }
    }
    out
}

/// Adds the overlay mounts of `mountinfo` (proc(5)) whose lower layers are
/// under `under` to `m`; an idmapped attachment's layers are the ones its
/// container's list names (`read_list`: a file's text, `None` unreadable:
/// then nothing may go).
pub fn parse(
    mountinfo: &str,
    under: &Path,
    read_list: &dyn Fn(&Path) -> Option<String>,
    m: &mut Mounted,
) {
    parse_where(mountinfo, under, read_list, &|_| true, m)
}

/// [`parse`], for the mounts whose mount point `keep` takes only.
pub fn parse_where(
    mountinfo: &str,
    under: &Path,
    read_list: &dyn Fn(&Path) -> Option<String>,
    keep: &dyn Fn(&str) -> bool,
    m: &mut Mounted,
) {
    for line in mountinfo.lines() {
        let Some((head, tail)) = line.split_once(" - ") else {
            continue;
        };
        let point = head.split(' ').nth(4).map(unescape).unwrap_or_default();
        if !keep(&point) {
            continue;
        }
        let mut f = tail.split(' ');
        if f.next() != Some("overlay") {
            continue;
        }
        let options = f.nth(1).unwrap_or_default();
        for o in options.split(',') {
            let Some(lower) = o.strip_prefix("lowerdir=") else {
                continue;
            };
            for dir in lower.split(':').map(unescape) {
                note(Path::new(&dir), under, read_list, m);
            }
        }
    }
}

/// Adds the stored layer lower layer `p` is (or stacks) to `m`.
fn note(p: &Path, under: &Path, read_list: &dyn Fn(&Path) -> Option<String>, m: &mut Mounted) {
    if p.starts_with("/proc/self/fd") {
        m.unknown = true;
    } else if let Some(container) = attached_in(p) {
        match read_list(&container.join(crate::image::overlay::LAYER_LIST)) {
            Some(text) => {
                for layer in text.lines() {
                    note(Path::new(layer), under, &|_| None, m);
                }
            }
            None => m.unknown = true,
        }
    } else if let Ok(rest) = p.strip_prefix(under)
        && let Some(hex) = rest.components().next()
    {
        m.layers
            .insert(hex.as_os_str().to_string_lossy().into_owned());
    }
}

/// The container directory of an idmapped layer's attach point
/// (`CONTAINER_DIR/lower/N`).
fn attached_in(p: &Path) -> Option<&Path> {
    let lower = p.parent()?;
    (lower.file_name()? == crate::image::overlay::LOWER).then(|| lower.parent())?
}

/// mountinfo's octal escapes (`\\040` for a space).
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && let Some(v) = std::str::from_utf8(&b[i + 1..i + 4])
                .ok()
                .and_then(|o| u8::from_str_radix(o, 8).ok())
        {
            out.push(v);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each mount namespace of this UID's processes is read once: this
    /// process's among them, a namespace shared by many listed once.
    #[test]
    fn every_own_mount_namespace_once() {
        let tables = own_mount_namespaces(Path::new("/proc"));
        let ns = |t: &Path| std::fs::read_link(t.with_file_name("ns").join("mnt")).ok();
        let own = std::fs::read_link("/proc/self/ns/mnt").unwrap();
        let found: Vec<_> = tables.iter().filter_map(|t| ns(t)).collect();
        assert!(found.contains(&own), "{tables:?}");
        let unique: BTreeSet<_> = found.iter().collect();
        assert_eq!(unique.len(), found.len(), "{tables:?}");
    }

    #[test]
    fn overlay_lower_layers_under_the_store_are_in_use() {
        let text = "\
36 35 0:30 / /run/b/rootfs rw,nodev - overlay overlay rw,lowerdir=/s/layers/aa:/s/layers/bb/,upperdir=/c/u,workdir=/c/w
37 35 0:31 / /other rw - overlay overlay rw,lowerdir=/elsewhere/cc
38 35 0:32 / /x rw - ext4 /dev/sda1 rw,lowerdir=/s/layers/dd
";
        let mut m = Mounted::default();
        let no_list = |_: &Path| None;
        parse(text, Path::new("/s/layers"), &no_list, &mut m);
        let want: BTreeSet<String> = ["aa", "bb"].map(String::from).into();
        assert_eq!(m.layers, want);
        assert!(!m.unknown);
        parse(
            "40 35 0:33 / /y rw - overlay overlay ro,lowerdir=/proc/self/fd/7:/proc/self/fd/8\n",
            Path::new("/s/layers"),
            &no_list,
            &mut m,
        );
        assert!(m.unknown);
    }

    /// In a user's pod's mount namespace only the overlays on the user's
    /// bundles count: the copy of the host's mounts it also holds (root's
    /// roots, some named by file descriptor) says nothing of the user's
    /// store.
    #[test]
    fn a_users_namespace_counts_its_own_roots_only() {
        let text = "\
36 35 0:30 / /run/user/1500/podctl/oci/p.a/rootfs rw - overlay overlay rw,lowerdir=/s/layers/aa,upperdir=/c/u,workdir=/c/w,userxattr
40 35 0:33 / /run/podctl/oci/q.b/rootfs rw - overlay overlay ro,lowerdir=/proc/self/fd/7:/proc/self/fd/8
";
        let mut m = Mounted::default();
        let ours = |point: &str| Path::new(point).starts_with("/run/user/1500");
        parse_where(text, Path::new("/s/layers"), &|_| None, &ours, &mut m);
        assert_eq!(m.layers, BTreeSet::from(["aa".to_string()]));
        assert!(!m.unknown);
    }

    /// A root in a pod's user namespace stacks attachments of the layers:
    /// its container's list says which; without the list none may go.
    #[test]
    fn idmapped_layers_are_in_use_by_their_containers_list() {
        let text = "41 35 0:34 / /run/b/rootfs rw - overlay overlay rw,lowerdir=/c/p/app/lower/1:/c/p/app/lower/0,upperdir=/c/p/app/upper,workdir=/c/p/app/work\n";
        let list = |p: &Path| {
            (p == Path::new("/c/p/app/layers")).then(|| "/s/layers/aa\n/s/layers/bb\n".to_string())
        };
        let mut m = Mounted::default();
        parse(text, Path::new("/s/layers"), &list, &mut m);
        let want: BTreeSet<String> = ["aa", "bb"].map(String::from).into();
        assert_eq!(m.layers, want);
        assert!(!m.unknown);
        let mut m = Mounted::default();
        parse(text, Path::new("/s/layers"), &|_| None, &mut m);
        assert!(m.unknown && m.layers.is_empty());
    }
}
