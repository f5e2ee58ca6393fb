//! A user's store's unpacker in this process ([`InProcess`], the helper's
//! code without the namespace): what a hostile layer becomes. Entries
//! are owned by this process's own IDs (chown to them needs no privilege)
//! or by IDs past the mapping.

use super::*;
use std::os::unix::fs::MetadataExt;

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("podctl-userns-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// One entry: path, kind, uid, gid, mode, PAX xattrs.
type Entry<'a> = (
    &'a str,
    tar::EntryType,
    u32,
    u32,
    u32,
    &'a [(&'a str, &'a [u8])],
);

/// A tar of `entries`.
fn layer(entries: &[Entry<'_>]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, kind, uid, gid, mode, xattrs) in entries {
        if !xattrs.is_empty() {
            let recs: Vec<(String, &[u8])> = xattrs
                .iter()
                .map(|(k, v)| (format!("SCHILY.xattr.{k}"), *v))
                .collect();
            b.append_pax_extensions(recs.iter().map(|(k, v)| (k.as_str(), *v)))
                .unwrap();
        }
        let mut h = tar::Header::new_ustar();
        h.set_path(path).unwrap();
        h.set_entry_type(*kind);
        h.set_size(0);
        h.set_mode(*mode);
        h.set_uid((*uid).into());
        h.set_gid((*gid).into());
        h.set_cksum();
        b.append(&h, std::io::empty()).unwrap();
    }
    b.into_inner().unwrap()
}

fn me() -> (u32, u32) {
    (
        nix::unistd::geteuid().as_raw(),
        nix::unistd::getegid().as_raw(),
    )
}

/// The opaque marker becomes the `user.` xattr (the overlay is mounted
/// with `userxattr`), a layer's `trusted.` and overlay xattrs are left
/// out, owners are set as the layer says and modes after them.
#[test]
fn a_users_layer_takes_user_xattrs_its_owners_and_modes() {
    use tar::EntryType::{Directory, Regular};
    let (uid, gid) = me();
    let t = tmp("marks");
    let dest = t.join("layer");
    std::fs::create_dir(&dest).unwrap();
    let tar = layer(&[
        ("srv/", Directory, uid, gid, 0o755, &[]),
        ("srv/.wh..wh..opq", Regular, uid, gid, 0o644, &[]),
        (
            "srv/app",
            Regular,
            uid,
            gid,
            0o6755,
            &[
                ("trusted.md5", b"x"),
                ("user.overlay.opaque", b"y"),
                ("user.keep", b"1"),
            ],
        ),
    ]);
    let h = InProcess::new(u32::MAX - 1);
    let budget = Budget::fixed(1 << 20, 100);
    let stats = h.unpack(&mut &tar[..], &dest, &budget).unwrap();
    assert_eq!((stats.opaque, stats.xattrs_dropped), (1, 2), "{stats:?}");
    let srv = dest.join("srv");
    assert_eq!(
        xattr::get(&srv, "user.overlay.opaque").unwrap().as_deref(),
        Some(&b"y"[..])
    );
    assert_eq!(
        xattr::get(&srv, "trusted.overlay.opaque").ok().flatten(),
        None
    );
    let app = dest.join("srv/app");
    let m = app.symlink_metadata().unwrap();
    assert_eq!((m.uid(), m.gid(), m.mode() & 0o7777), (uid, gid, 0o6755));
    assert_eq!(
        xattr::get(&app, "user.keep").unwrap().as_deref(),
        Some(&b"1"[..])
    );
    assert_eq!(xattr::get(&app, "user.overlay.opaque").unwrap(), None);
    assert_eq!(h.calls(), vec![format!("unpack {}", dest.display())]);
    h.remove(std::slice::from_ref(&dest)).unwrap();
    assert!(!dest.exists());
    std::fs::remove_dir_all(&t).unwrap();
}

/// An owner past the user's subordinate IDs refuses the layer, naming the
/// entry and the ID; a hard link's own header owner is not an owner.
#[test]
fn an_owner_past_the_mapping_refuses_the_layer() {
    use tar::EntryType::{Directory, Regular};
    let (uid, gid) = me();
    let t = tmp("unmapped");
    let count = uid.max(gid);
    let tar = layer(&[
        ("etc/", Directory, uid, gid, 0o755, &[]),
        ("etc/shadow", Regular, count + 1, gid, 0o640, &[]),
    ]);
    let h = InProcess::new(count);
    let e = h
        .unpack(&mut &tar[..], &t, &Budget::fixed(1 << 20, 100))
        .unwrap_err();
    let UsernsError::Unpack(UnpackError::Unmapped { entry, uid: u, .. }) = &e else {
        panic!("{e}");
    };
    assert_eq!((entry.as_str(), *u), ("etc/shadow", u64::from(count) + 1));
    assert!(e.to_string().contains("usermod --add-subuids"), "{e}");
    std::fs::remove_dir_all(&t).unwrap();
}

/// A helper that cannot be started says which program and why.
#[test]
fn a_helper_that_cannot_start_names_itself() {
    let h = Helper::new(
        "/nonexistent/podctl".into(),
        UserMap {
            uid: 1000,
            gid: 1000,
            sub_uid: 100_000,
            sub_gid: 100_000,
            count: 65_536,
        },
    );
    let e = h.remove(&[PathBuf::from("/nonexistent/x")]).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("cannot start /nonexistent/podctl __store-userns"),
        "{e}"
    );
    // Nothing to remove: no helper at all.
    h.remove(&[]).unwrap();
}
