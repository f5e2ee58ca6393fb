use super::*;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};

fn tmp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("podctl-tree-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A group the test may give: any as root, else its own.
fn some_group() -> u32 {
    if nix::unistd::geteuid().is_root() {
        4242
    } else {
        nix::unistd::getegid().as_raw()
    }
}

#[test]
fn usage_counts_blocks_once_and_never_follows_a_link() {
    let d = tmp("usage");
    let vol = d.join("vol");
    std::fs::create_dir_all(vol.join("a/b")).unwrap();
    std::fs::write(vol.join("a/b/big"), vec![1u8; 256 << 10]).unwrap();
    std::fs::hard_link(vol.join("a/b/big"), vol.join("again")).unwrap();
    // Outside the volume: never counted through the link.
    std::fs::write(d.join("outside"), vec![1u8; 1 << 20]).unwrap();
    symlink(&d, vol.join("up")).unwrap();
    let (bytes, walked) = usage(&vol).unwrap();
    assert!(
        (256 << 10..512 << 10).contains(&bytes),
        "{bytes} bytes: one copy of 256 KiB and a few directories"
    );
    assert_eq!(walked.entries, 5, "a, a/b, a/b/big, again, up");
    assert!(!walked.cut);
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn the_group_goes_to_every_entry_and_no_link_is_followed() {
    let d = tmp("group");
    let vol = d.join("vol");
    std::fs::create_dir_all(vol.join("sub")).unwrap();
    std::fs::write(vol.join("sub/f"), "x").unwrap();
    std::fs::set_permissions(vol.join("sub/f"), std::fs::Permissions::from_mode(0o600)).unwrap();
    let outside = d.join("outside");
    std::fs::write(&outside, "host").unwrap();
    std::fs::set_permissions(&outside, std::fs::Permissions::from_mode(0o600)).unwrap();
    symlink(&outside, vol.join("link")).unwrap();
    let before = std::fs::metadata(&outside).unwrap();
    let g = some_group();
    let walked = give_group(&vol, g, FsGroupChange::Always).unwrap().unwrap();
    assert_eq!(walked.entries, 3);
    for (p, mode) in [
        (&vol, 0o2775),
        (&vol.join("sub"), 0o2775),
        (&vol.join("sub/f"), 0o660),
    ] {
        let m = std::fs::metadata(p).unwrap();
        assert_eq!(m.gid(), g, "{}", p.display());
        assert_eq!(m.mode() & 0o7777, mode, "{}", p.display());
    }
    let after = std::fs::metadata(&outside).unwrap();
    assert_eq!((after.gid(), after.mode()), (before.gid(), before.mode()));
    // The top has the group and bits: OnRootMismatch leaves the rest.
    std::fs::set_permissions(vol.join("sub/f"), std::fs::Permissions::from_mode(0o600)).unwrap();
    assert_eq!(
        give_group(&vol, g, FsGroupChange::OnRootMismatch).unwrap(),
        None
    );
    let m = std::fs::metadata(vol.join("sub/f")).unwrap();
    assert_eq!(m.mode() & 0o777, 0o600);
    // Always walks again.
    give_group(&vol, g, FsGroupChange::Always).unwrap();
    let m = std::fs::metadata(vol.join("sub/f")).unwrap();
    assert_eq!(m.mode() & 0o777, 0o660);
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_top_that_is_a_link_is_refused() {
    let d = tmp("toplink");
    std::fs::create_dir_all(d.join("real")).unwrap();
    symlink(d.join("real"), d.join("vol")).unwrap();
    assert!(usage(&d.join("vol")).is_err());
    assert!(give_group(&d.join("vol"), some_group(), FsGroupChange::Always).is_err());
    std::fs::remove_dir_all(&d).unwrap();
}
