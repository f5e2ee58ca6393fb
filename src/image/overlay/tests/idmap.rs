//! The overlay root in a pod's user namespace, against the fake mounter:
//! idmapped layers, the upper directory's owner, leftovers, failures.

use super::*;

const MAP: IdMap = IdMap {
    uid: 200_000,
    gid: 300_000,
    size: 65_536,
};

/// In a user namespace: the layers are attached idmapped for the mount
/// only, the upper and work directories are the overlay's as they are,
/// and the upper one is the mapping root's.
#[test]
fn in_a_user_namespace_the_layers_are_idmapped_while_mounting() {
    let t = tmp("idmap");
    let img = two_layers(&t);
    let (containers, rootfs) = (t.join("containers"), t.join("rootfs"));
    let m = Mounts::new();
    let app = ("web", "app");
    mount_root(&img, &containers, app, RW, Some(MAP), &[], &rootfs, &m).unwrap();
    let base = containers.join("web/app");
    let lower = |i: usize| base.join(format!("lower/{i}"));
    let upper = base.join("upper");
    assert_eq!(
        m.log(),
        [
            format!("chown {} 200000:300000", upper.display()),
            format!("idmap {} {}", t.join("l/a").display(), lower(0).display()),
            format!("idmap {} {}", t.join("l/b").display(), lower(1).display()),
            format!("overlay {} rw", rootfs.display()),
            format!("detach {}", lower(0).display()),
            format!("detach {}", lower(1).display()),
        ]
    );
    assert_eq!(
        overlays(&m),
        [(
            rootfs.clone(),
            format!(
                "lowerdir={}:{},upperdir={},workdir={}",
                lower(1).display(),
                lower(0).display(),
                upper.display(),
                base.join("work").display()
            ),
            false
        )]
    );
    assert!(m.idmapped().is_empty());
    assert!(!base.join("lower").exists(), "attach points removed");

    // Read-only: the skeleton is a lower layer, idmapped too.
    let m = Mounts::new();
    let points = [MountPoint::Dir("proc".into())];
    mount_root(
        &img,
        &containers,
        ("web", "ro"),
        RO,
        Some(MAP),
        &points,
        &rootfs,
        &m,
    )
    .unwrap();
    let skel = containers.join("web/ro/skeleton");
    let idmapped: Vec<String> = m
        .log()
        .into_iter()
        .filter(|l| l.starts_with("idmap "))
        .collect();
    assert_eq!(idmapped.len(), 3, "{idmapped:?}");
    assert!(idmapped[2].starts_with(&format!("idmap {} ", skel.display())));
    assert!(!m.log().iter().any(|l| l.starts_with("chown")), "no upper");
    let (_, data, _) = overlays(&m)[0].clone();
    let ro_lower = containers.join("web/ro/lower");
    assert!(
        data.starts_with(&format!("lowerdir={}:", ro_lower.join("2").display())),
        "{data}"
    );
    std::fs::remove_dir_all(&t).unwrap();
}

/// Outside one, the layers are mounted as they are: nothing is attached
/// nor given away.
#[test]
fn in_the_host_user_namespace_nothing_is_idmapped() {
    let t = tmp("hostns");
    std::fs::create_dir_all(t.join("l/a")).unwrap();
    let img = StoredImage {
        name: "x:1".into(),
        digest: String::new(),
        layers: vec![t.join("l/a")],
        exposed_ports: vec![],
    };
    let m = Mounts::new();
    mount_root(
        &img,
        &t.join("c"),
        ("p", "c"),
        RW,
        None,
        &[],
        &t.join("r"),
        &m,
    )
    .unwrap();
    assert_eq!(m.log(), [format!("overlay {} rw", t.join("r").display())]);
    std::fs::remove_dir_all(&t).unwrap();
}

/// A host that cannot idmap a layer: a definition error naming the layer
/// and the way out; nothing left mounted or attached.
#[test]
fn a_layer_that_cannot_be_idmapped_is_named_with_the_way_out() {
    let t = tmp("noidmap");
    std::fs::create_dir_all(t.join("l/a")).unwrap();
    std::fs::create_dir_all(t.join("l/b")).unwrap();
    let img = StoredImage {
        name: "x:1".into(),
        digest: String::new(),
        layers: vec![t.join("l/a"), t.join("l/b")],
        exposed_ports: vec![],
    };
    let m = Mounts::without_idmap();
    let (containers, rootfs) = (t.join("c"), t.join("r"));
    let e = mount_root(
        &img,
        &containers,
        ("p", "c"),
        RW,
        Some(MAP),
        &[],
        &rootfs,
        &m,
    )
    .unwrap_err();
    assert!(e.is_definition(), "{e}");
    let text = e.to_string();
    assert!(
        text.starts_with(&format!(
            "image x:1: cannot mount {} idmapped (",
            t.join("l/a").display()
        )),
        "{text}"
    );
    assert!(
        text.contains("Linux 5.12") && text.contains("userns = \"host\""),
        "{text}"
    );
    assert!(m.mounted().is_empty() && m.idmapped().is_empty());
    assert!(!containers.join("p/c/lower").exists());
    std::fs::remove_dir_all(&t).unwrap();
}

/// Attachments an interrupted start left are detached before the next
/// mount makes its own, and by [`detach_layers`] before removal.
#[test]
fn leftover_attachments_are_detached() {
    let t = tmp("leftover");
    std::fs::create_dir_all(t.join("l/a")).unwrap();
    let img = StoredImage {
        name: "x:1".into(),
        digest: String::new(),
        layers: vec![t.join("l/a")],
        exposed_ports: vec![],
    };
    let containers = t.join("c");
    let left = containers.join("p/c/lower/0");
    std::fs::create_dir_all(&left).unwrap();
    let m = Mounts::new();
    m.idmapped_bind(&t.join("l/a"), &left, MAP).unwrap();
    mount_root(
        &img,
        &containers,
        ("p", "c"),
        RW,
        Some(MAP),
        &[],
        &t.join("r"),
        &m,
    )
    .unwrap();
    assert!(m.idmapped().is_empty(), "{:?}", m.idmapped());
    assert_eq!(m.log()[1], format!("detach {}", left.display()));
    // And on teardown.
    std::fs::create_dir_all(&left).unwrap();
    m.idmapped_bind(&t.join("l/a"), &left, MAP).unwrap();
    detach_layers(&containers.join("p/c"), &m);
    assert!(m.idmapped().is_empty());
    assert!(!containers.join("p/c/lower").exists());
    std::fs::remove_dir_all(&t).unwrap();
}

/// A user's store, mounted in the user's pod's namespaces: its layers as
/// they are (their files carry the namespace's IDs already), nothing
/// chowned, overlayfs told to read `user.overlay.*` (`userxattr`), with an
/// upper layer or read-only alike.
#[test]
fn a_users_store_is_stacked_as_it_is_with_userxattr() {
    let t = tmp("userstore");
    let img = two_layers(&t);
    let (containers, rootfs) = (t.join("containers"), t.join("rootfs"));
    let m = Mounts::new();
    let app = ("web", "app");
    let user = LayerIds::UserStore;
    mount_root(&img, &containers, app, RW, user, &[], &rootfs, &m).unwrap();
    let base = containers.join("web/app");
    assert_eq!(m.log(), [format!("overlay {} rw", rootfs.display())]);
    let (_, data, _) = &overlays(&m)[0];
    assert_eq!(
        *data,
        format!(
            "lowerdir={}:{},upperdir={},workdir={},userxattr",
            t.join("l/b").display(),
            t.join("l/a").display(),
            base.join("upper").display(),
            base.join("work").display()
        )
    );
    unmount_root(&rootfs, &m);
    mount_root(&img, &containers, app, RO, user, &[], &rootfs, &m).unwrap();
    let (_, data, _) = &overlays(&m)[0];
    assert!(
        data.ends_with(",userxattr") && !data.contains("upperdir"),
        "{data}"
    );
    // An `Option<IdMap>` still says what it said.
    assert_eq!(LayerIds::from(None), LayerIds::Host);
    assert_eq!(LayerIds::from(Some(MAP)), LayerIds::Idmapped(MAP));
    std::fs::remove_dir_all(&t).unwrap();
}
