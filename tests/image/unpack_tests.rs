//! The layer unpacker against real files: whiteouts and opaque directories
//! as overlayfs reads them, escapes refused by name, and everything a root
//! filesystem needs kept (links, FIFOs, owners, setuid, xattrs).

use super::build::{E, gzip, tar, zstd};
use super::{TestFn, check, tempdir};
use podctl::image::unpack::{Limits, UnpackError, unpack};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;
use std::process::Command;

pub const TESTS: &[(&str, TestFn)] = &[
    (
        "unpack::whiteouts_and_opaque_dirs_in_overlay",
        whiteouts_and_opaque_dirs_in_overlay,
    ),
    (
        "unpack::escapes_are_refused_by_name",
        escapes_are_refused_by_name,
    ),
    (
        "unpack::keeps_links_fifos_owners_setuid_xattrs",
        keeps_links_fifos_owners_setuid_xattrs,
    ),
    (
        "unpack::gzip_zstd_and_plain_give_the_same_tree",
        gzip_zstd_and_plain_give_the_same_tree,
    ),
];

/// Unpacks `data` into `dir` within the store's default limits.
pub fn unpack_into(dir: &Path, data: &[u8]) -> Result<podctl::image::unpack::Stats, UnpackError> {
    std::fs::create_dir_all(dir).unwrap();
    let budget = Limits::default().budget(data.len() as u64);
    unpack(std::io::BufReader::new(data), dir, &budget)
}

/// `ls -A` of `dirs` in an overlay of `lowers` (top first), mounted in a
/// private mount namespace so nothing stays mounted.
fn overlay_ls(lowers: &[&Path], dirs: &[&str]) -> Result<String, String> {
    let mnt = tempdir("ovl-mnt");
    let lower: Vec<String> = lowers.iter().map(|p| p.display().to_string()).collect();
    let script = format!(
        "mount -t overlay overlay -o lowerdir={} {m} && for d in {}; do echo \"$d: $(ls -A {m}/$d | tr '\\n' ' ')\"; done",
        lower.join(":"),
        dirs.join(" "),
        m = mnt.display()
    );
    let out = Command::new("unshare")
        .args(["-m", "sh", "-c", &script])
        .output()
        .map_err(|e| format!("unshare: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{script}: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn whiteouts_and_opaque_dirs_in_overlay() -> Result<(), String> {
    let d = tempdir("wh");
    let (l1, l2) = (d.join("l1"), d.join("l2"));
    unpack_into(
        &l1,
        &tar(&[
            E::Dir("etc/"),
            E::File("etc/keep", b"k"),
            E::File("etc/gone", b"g"),
            E::Dir("opt/"),
            E::File("opt/old1", b"1"),
            E::Dir("opt/sub/"),
            E::File("opt/sub/old2", b"2"),
        ]),
    )
    .map_err(|e| e.to_string())?;
    let stats = unpack_into(
        &l2,
        &tar(&[
            E::File("etc/.wh.gone", b""),
            E::Dir("opt/"),
            E::File("opt/.wh..wh..opq", b""),
            E::File("opt/new", b"n"),
        ]),
    )
    .map_err(|e| e.to_string())?;
    check(stats.whiteouts == 1 && stats.opaque == 1, || {
        format!("stats {stats:?}")
    })?;
    // On disk, in overlayfs's own form.
    let wh = std::fs::symlink_metadata(l2.join("etc/gone")).map_err(|e| e.to_string())?;
    check(wh.file_type().is_char_device() && wh.rdev() == 0, || {
        format!("etc/gone in the upper layer is not a 0/0 char device: {wh:?}")
    })?;
    let opq = xattr::get(l2.join("opt"), "trusted.overlay.opaque").map_err(|e| e.to_string())?;
    check(opq.as_deref() == Some(b"y".as_slice()), || {
        format!("opt opaque xattr {opq:?}")
    })?;
    check(
        !l2.join("etc/.wh.gone").exists() && !l2.join("opt/.wh..wh..opq").exists(),
        || "a .wh. marker file was written as a file".into(),
    )?;
    // And as a container sees it.
    let seen = overlay_ls(&[&l2, &l1], &["etc", "opt"])?;
    check(
        seen.contains("etc: keep \n") && seen.contains("opt: new \n"),
        || format!("overlay shows:\n{seen}(want etc: keep, opt: new)"),
    )
}

fn escapes_are_refused_by_name() -> Result<(), String> {
    let d = tempdir("esc");
    let outside = d.join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("../evil", tar(&[E::File("../evil", b"x")])),
        (
            "a/../../evil",
            tar(&[E::Dir("a/"), E::File("a/../../evil", b"x")]),
        ),
        ("/etc/evil", tar(&[E::File("/etc/evil", b"x")])),
        (
            "link/evil",
            tar(&[
                E::Symlink("link", outside.to_str().unwrap()),
                E::File("link/evil", b"x"),
            ]),
        ),
        (
            "rel/evil",
            tar(&[E::Symlink("rel", "../outside"), E::File("rel/evil", b"x")]),
        ),
        ("h", tar(&[E::Hard("h", "../outside/x")])),
        ("d/.wh...", tar(&[E::Dir("d/"), E::File("d/.wh...", b"")])),
        (".wh...", tar(&[E::File(".wh...", b"")])),
        (
            "h2",
            tar(&[
                E::Symlink("s", outside.to_str().unwrap()),
                E::Hard("h2", "s/x"),
            ]),
        ),
        (
            "link/.wh.x",
            tar(&[
                E::Symlink("link", outside.to_str().unwrap()),
                E::File("link/.wh.x", b""),
            ]),
        ),
    ];
    std::fs::write(outside.join("x"), b"secret").unwrap();
    for (i, (entry, data)) in cases.iter().enumerate() {
        let layer = d.join(format!("l{i}"));
        match unpack_into(&layer, data) {
            Err(e @ UnpackError::Escape { .. }) => {
                let msg = e.to_string();
                check(msg.contains(&format!("{entry:?}")), || {
                    format!("error for {entry} does not name it: {msg}")
                })?;
            }
            other => {
                return Err(format!(
                    "entry {entry}: expected an escape error, got {other:?}"
                ));
            }
        }
    }
    let left: Vec<_> = std::fs::read_dir(&outside)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    check(
        left.len() == 1 && !d.join("evil").exists() && !Path::new("/etc/evil").exists(),
        || format!("something was written outside: {left:?}"),
    )
}

fn keeps_links_fifos_owners_setuid_xattrs() -> Result<(), String> {
    let d = tempdir("meta").join("l");
    unpack_into(
        &d,
        &tar(&[
            E::Dir("bin/"),
            E::Owned("bin/su", 0o4755, 0, 0, b"#!/bin/true\n"),
            E::Owned("bin/mine", 0o2640, 1234, 5678, b"m"),
            E::Hard("bin/su-again", "bin/su"),
            E::Symlink("bin/sh", "busybox"),
            E::Dir("dev/"),
            E::Fifo("dev/fifo"),
            E::Xattr("bin/caps", "user.podctl", b"v1"),
        ]),
    )
    .map_err(|e| e.to_string())?;
    let md = |p: &str| std::fs::symlink_metadata(d.join(p)).map_err(|e| format!("{p}: {e}"));
    let su = md("bin/su")?;
    check(su.mode() & 0o7777 == 0o4755, || {
        format!("bin/su mode {:o}", su.mode())
    })?;
    let mine = md("bin/mine")?;
    check(
        (mine.uid(), mine.gid(), mine.mode() & 0o7777) == (1234, 5678, 0o2640),
        || {
            format!(
                "bin/mine uid {} gid {} mode {:o}",
                mine.uid(),
                mine.gid(),
                mine.mode()
            )
        },
    )?;
    let again = md("bin/su-again")?;
    check(again.ino() == su.ino() && su.nlink() == 2, || {
        "hard link is not the same inode".into()
    })?;
    let sh = std::fs::read_link(d.join("bin/sh")).map_err(|e| e.to_string())?;
    check(sh == Path::new("busybox"), || format!("bin/sh -> {sh:?}"))?;
    check(md("dev/fifo")?.file_type().is_fifo(), || {
        "dev/fifo is not a FIFO".into()
    })?;
    let x = xattr::get(d.join("bin/caps"), "user.podctl").map_err(|e| e.to_string())?;
    check(x.as_deref() == Some(b"v1".as_slice()), || {
        format!("user.podctl = {x:?}")
    })?;
    check(md("bin/su")?.mtime() == 1_700_000_000, || {
        "mtime not kept".into()
    })
}

fn listing(dir: &Path) -> Vec<String> {
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "cd {} && find . -printf '%p %y %m %s\\n' | sort",
            dir.display()
        ))
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(String::from)
        .collect()
}

fn gzip_zstd_and_plain_give_the_same_tree() -> Result<(), String> {
    let d = tempdir("comp");
    let big: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let t = tar(&[
        E::Dir("a/"),
        E::File("a/big", &big),
        E::Symlink("a/s", "big"),
    ]);
    unpack_into(&d.join("plain"), &t).map_err(|e| e.to_string())?;
    unpack_into(&d.join("gz"), &gzip(&t)).map_err(|e| e.to_string())?;
    unpack_into(&d.join("zst"), &zstd(&t)).map_err(|e| e.to_string())?;
    let want = listing(&d.join("plain"));
    check(
        want.iter().any(|l| l.contains("./a/big f 644 300000")),
        || format!("{want:?}"),
    )?;
    for c in ["gz", "zst"] {
        let got = listing(&d.join(c));
        check(got == want, || format!("{c}: {got:?} != {want:?}"))?;
        let data = std::fs::read(d.join(c).join("a/big")).unwrap();
        check(data == big, || format!("{c}: a/big differs"))?;
    }
    let mut corrupt = gzip(&t);
    let n = corrupt.len();
    corrupt.truncate(n / 2);
    check(unpack_into(&d.join("bad"), &corrupt).is_err(), || {
        "a truncated gzip layer unpacked".into()
    })
}
