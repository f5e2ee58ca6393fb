//! The overlay root against fake mounters: options, modes, many layers.

use super::*;
use crate::model::IdMap;
use std::cell::RefCell;

use crate::mount::fake::{Mount, Mounts};

/// What is mounted in `m`: each overlay's point, data and read-only flag
/// (every one `nodev`).
fn overlays(m: &Mounts) -> Vec<(PathBuf, String, bool)> {
    m.mounted()
        .into_iter()
        .map(|(at, mount)| match mount {
            Mount::Overlay { data, flags } => {
                assert!(flags.ms().contains(nix::mount::MsFlags::MS_NODEV));
                (at, data, flags.read_only)
            }
            other => panic!("{other:?}"),
        })
        .collect()
}

const RW: Flags = Flags {
    read_only: false,
    nosuid: true,
};
const RO: Flags = Flags {
    read_only: true,
    nosuid: true,
};

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("podctl-ovl-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Image `x:1` of two empty layers under `t`.
fn two_layers(t: &Path) -> StoredImage {
    let layers = vec![t.join("l/a"), t.join("l/b")];
    for l in &layers {
        std::fs::create_dir_all(l).unwrap();
    }
    StoredImage {
        name: "x:1".into(),
        digest: String::new(),
        layers,
        exposed_ports: vec![],
    }
}

#[test]
fn writable_and_read_only_roots() {
    use std::os::unix::fs::PermissionsExt;
    let t = tmp("rw");
    let img = two_layers(&t);
    let (containers, rootfs) = (t.join("containers"), t.join("rootfs"));
    let m = Mounts::new();
    mount_root(
        &img,
        &containers,
        ("web", "app"),
        RW,
        None,
        &[],
        &rootfs,
        &m,
    )
    .unwrap();
    // Again (a restart): the old mount goes first, one stays.
    mount_root(
        &img,
        &containers,
        ("web", "app"),
        RW,
        None,
        &[],
        &rootfs,
        &m,
    )
    .unwrap();
    let got = overlays(&m);
    let base = containers.join("web/app");
    assert_eq!(
        got,
        [(
            rootfs.clone(),
            format!(
                "lowerdir={}:{},upperdir={},workdir={}",
                t.join("l/b").display(),
                t.join("l/a").display(),
                base.join("upper").display(),
                base.join("work").display()
            ),
            false
        )]
    );
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&base), 0o700);
    assert_eq!(mode(&containers.join("web")), 0o700);
    assert_eq!(mode(&base.join("upper")), 0o755);
    unmount_root(&rootfs, &m);
    assert!(m.mounted().is_empty());

    // Read-only: no upper; a skeleton of mount points on top.
    let one = StoredImage {
        layers: vec![t.join("l/a")],
        ..img
    };
    let points = [
        MountPoint::Dir("proc".into()),
        MountPoint::Dir("/data/x".into()),
        MountPoint::File("/etc/hosts".into()),
    ];
    mount_root(
        &one,
        &containers,
        ("web", "ro"),
        RO,
        None,
        &points,
        &rootfs,
        &m,
    )
    .unwrap();
    let (_, data, ro) = overlays(&m)[0].clone();
    assert!(ro);
    let skel = containers.join("web/ro/skeleton");
    assert_eq!(
        data,
        format!("lowerdir={}:{}", skel.display(), t.join("l/a").display())
    );
    assert!(skel.join("proc").is_dir() && skel.join("data/x").is_dir());
    assert!(skel.join("etc/hosts").is_file());
    assert!(!containers.join("web/ro/upper").exists());
    std::fs::remove_dir_all(&t).unwrap();
}

/// Records each overlay's lower layers as the kernel would resolve
/// them (`/proc/self/fd/N` followed while the mount call runs).
#[derive(Default)]
struct Resolving {
    lower: RefCell<Vec<Vec<PathBuf>>>,
    data: RefCell<Vec<String>>,
}

impl Mounter for Resolving {
    fn tmpfs(&self, at: &Path, _size: u64, _noexec: bool) -> std::io::Result<()> {
        panic!("an image root mounts no tmpfs ({})", at.display())
    }
    fn overlay(&self, _at: &Path, data: &str, _flags: Flags) -> std::io::Result<()> {
        let lower = data
            .split(',')
            .find_map(|o| o.strip_prefix("lowerdir="))
            .unwrap_or_default();
        let resolved = lower
            .split(':')
            .map(|p| std::fs::read_link(p).unwrap_or_else(|_| PathBuf::from(p)))
            .collect();
        self.lower.borrow_mut().push(resolved);
        self.data.borrow_mut().push(data.to_string());
        Ok(())
    }
    fn detach(&self, _at: &Path) -> std::io::Result<()> {
        Ok(())
    }
    fn is_mounted(&self, _at: &Path) -> bool {
        false
    }
    fn idmapped_bind(&self, _: &Path, at: &Path, _: IdMap) -> std::io::Result<()> {
        panic!("no user namespace here ({})", at.display())
    }
    fn chown(&self, path: &Path, _uid: u32, _gid: u32) -> std::io::Result<()> {
        panic!("no user namespace here ({})", path.display())
    }
}

#[test]
fn many_layers_are_named_by_descriptor_within_a_page() {
    let t = tmp("many");
    let store = t.join("storage/layers");
    let layers = |n: usize| -> Vec<PathBuf> {
        (0..n)
            .map(|i| {
                let l = store.join(format!("{i:064x}"));
                std::fs::create_dir_all(&l).unwrap();
                l
            })
            .collect()
    };
    let image = |layers: Vec<PathBuf>| StoredImage {
        name: "many:1".into(),
        digest: String::new(),
        layers,
        exposed_ports: vec![],
    };
    let containers = t.join("containers");
    let at = t.join("rootfs");
    // A few layers: their paths, as the mount table shows them.
    let m = Resolving::default();
    let few = layers(3);
    mount_root(
        &image(few.clone()),
        &containers,
        ("p", "c"),
        RW,
        None,
        &[],
        &at,
        &m,
    )
    .unwrap();
    assert!(m.data.borrow()[0].starts_with(&format!("lowerdir={}:", few[2].display())));
    // 60 layers: over a page as paths; by descriptor, the same layers
    // in the same order (top first), and the upper layer kept.
    let sixty = layers(60);
    let m = Resolving::default();
    mount_root(
        &image(sixty.clone()),
        &containers,
        ("p", "c"),
        RW,
        None,
        &[],
        &at,
        &m,
    )
    .unwrap();
    let data = m.data.borrow()[0].clone();
    assert!(data.starts_with("lowerdir=/proc/self/fd/"), "{data}");
    assert!(data.len() <= crate::image::rootfs::MOUNT_DATA_MAX);
    assert!(
        data.contains(",upperdir=") && data.contains(",workdir="),
        "{data}"
    );
    let want: Vec<PathBuf> = sixty.iter().rev().cloned().collect();
    assert_eq!(m.lower.borrow()[0], want);
    // Read-only: the skeleton on top, by descriptor too.
    let m = Resolving::default();
    mount_root(
        &image(sixty.clone()),
        &containers,
        ("p", "ro"),
        RO,
        None,
        &[],
        &at,
        &m,
    )
    .unwrap();
    assert_eq!(m.lower.borrow()[0][0], containers.join("p/ro/skeleton"));
    assert_eq!(m.lower.borrow()[0].len(), 61);
    // More than a page even so: a clear error, nothing mounted.
    let m = Resolving::default();
    let e = mount_root(
        &image(layers(300)),
        &containers,
        ("p", "c"),
        RW,
        None,
        &[],
        &at,
        &m,
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("image many:1: 300 layers make overlay mount options of "),
        "{e}"
    );
    assert!(m.data.borrow().is_empty());
    std::fs::remove_dir_all(&t).unwrap();
}

#[test]
fn a_missing_layer_is_named() {
    let t = tmp("missing");
    let img = StoredImage {
        name: "x:1".into(),
        digest: String::new(),
        layers: vec![t.join("nope")],
        exposed_ports: vec![],
    };
    let e = mount_root(
        &img,
        &t,
        ("p", "c"),
        RW,
        None,
        &[],
        &t.join("r"),
        &Mounts::new(),
    )
    .unwrap_err();
    assert!(e.to_string().starts_with("image x:1: layer "), "{e}");
    std::fs::remove_dir_all(&t).unwrap();
}

mod idmap;
