//! Hostile layers against the unpacker: device nodes left out, overlayfs's
//! own xattrs refused, file capabilities kept past chown, sparse files kept
//! sparse, and the byte and entry limits refusing with an error that names
//! them. The store's side is in hostile_store_tests.

use super::build::{E, tar, zstd};
use super::unpack_tests::unpack_into;
use super::{TestFn, check, tempdir};
use podctl::image::unpack::{Budget, Limits, UnpackError, unpack};
use std::io::Write;
use std::os::unix::fs::{FileTypeExt, MetadataExt};

pub const TESTS: &[(&str, TestFn)] = &[
    (
        "hostile::device_nodes_are_left_out",
        device_nodes_are_left_out,
    ),
    (
        "hostile::overlay_xattrs_refused_capabilities_kept",
        overlay_xattrs_refused_capabilities_kept,
    ),
    (
        "hostile::sparse_file_stays_sparse",
        sparse_file_stays_sparse,
    ),
    ("hostile::sparse_bomb_is_refused", sparse_bomb_is_refused),
    (
        "hostile::gzip_and_zstd_bombs_are_refused",
        gzip_and_zstd_bombs_are_refused,
    ),
    ("hostile::entry_count_is_limited", entry_count_is_limited),
    (
        "hostile::budget_follows_the_blob_size",
        budget_follows_the_blob_size,
    ),
];

fn expect_too_big(r: Result<impl std::fmt::Debug, UnpackError>, what: &str) -> Result<(), String> {
    match r {
        Err(e @ UnpackError::TooBig { .. }) => {
            let m = e.to_string();
            check(m.contains("limit of") && m.contains("bytes"), || {
                format!("{what}: the error does not state the limit: {m}")
            })
        }
        other => Err(format!("{what}: expected a refusal by size, got {other:?}")),
    }
}

fn device_nodes_are_left_out() -> Result<(), String> {
    let d = tempdir("dev").join("l");
    let stats = unpack_into(
        &d,
        &tar(&[
            E::Dir("dev/"),
            E::Block("dev/loop0", 7, 0),
            E::Char("dev/mem", 1, 1),
            E::Hard("dev/mem-again", "dev/mem"),
            E::Char("gone", 0, 0),
            E::Fifo("dev/fifo"),
        ]),
    )
    .map_err(|e| e.to_string())?;
    for p in ["dev/loop0", "dev/mem", "dev/mem-again"] {
        check(d.join(p).symlink_metadata().is_err(), || {
            format!("{p} is in the layer")
        })?;
    }
    let wh = d
        .join("gone")
        .symlink_metadata()
        .map_err(|e| e.to_string())?;
    check(wh.file_type().is_char_device() && wh.rdev() == 0, || {
        "a 0/0 whiteout device was not kept".into()
    })?;
    check(d.join("dev/fifo").exists(), || "the FIFO was lost".into())?;
    check((stats.devices_dropped, stats.whiteouts) == (3, 1), || {
        format!("{stats:?}")
    })
}

/// A version 2 `security.capability` value granting CAP_NET_RAW.
fn cap_net_raw() -> Vec<u8> {
    [0x0200_0001u32, 1 << 13, 0, 0, 0]
        .iter()
        .flat_map(|w| w.to_le_bytes())
        .collect()
}

fn overlay_xattrs_refused_capabilities_kept() -> Result<(), String> {
    let d = tempdir("xattr").join("l");
    let caps = cap_net_raw();
    let mut t = tar(&[
        E::Dir("d/"),
        E::Xattr("d/redirect", "trusted.overlay.redirect", b"/etc"),
        E::Xattr("d/user", "user.overlay.opaque", b"y"),
        E::Xattr("d/meta", "trusted.overlay.metacopy", b""),
        E::Xattr("d/kept", "user.podctl", b"v"),
    ]);
    // A file owned by a non-root user with a file capability: chown would
    // clear the capability if it were set first.
    let mut b = tar::Builder::new(Vec::new());
    b.append_pax_extensions([("SCHILY.xattr.security.capability", caps.as_slice())])
        .unwrap();
    let mut h = tar::Header::new_ustar();
    h.set_path("ping").unwrap();
    h.set_size(1);
    h.set_mode(0o755);
    h.set_uid(1000);
    h.set_gid(1000);
    h.set_cksum();
    b.append(&h, &b"x"[..]).unwrap();
    let capped = b.into_inner().unwrap();
    t.truncate(t.len() - 1024); // the two end-of-archive blocks
    t.extend_from_slice(&capped);
    let stats = unpack_into(&d, &t).map_err(|e| e.to_string())?;
    for f in ["d/redirect", "d/user", "d/meta"] {
        let names: Vec<_> = xattr::list(d.join(f)).map_err(|e| e.to_string())?.collect();
        check(names.is_empty(), || format!("{f} has {names:?}"))?;
    }
    check(stats.xattrs_dropped == 3, || format!("{stats:?}"))?;
    let kept = xattr::get(d.join("d/kept"), "user.podctl").map_err(|e| e.to_string())?;
    check(kept.as_deref() == Some(b"v".as_slice()), || {
        format!("user.podctl: {kept:?}")
    })?;
    let ping = d.join("ping");
    let uid = ping.metadata().map_err(|e| e.to_string())?.uid();
    let got = xattr::get(&ping, "security.capability").map_err(|e| e.to_string())?;
    check(
        uid == 1000 && got.as_deref() == Some(caps.as_slice()),
        || format!("ping: uid {uid}, security.capability {got:?}"),
    )
}

fn sparse_file_stays_sparse() -> Result<(), String> {
    let d = tempdir("sparse").join("l");
    let data = [7u8; 512];
    let size = 48 << 20;
    unpack_into(&d, &tar(&[E::Sparse("big", size, 16 << 20, &data)])).map_err(|e| e.to_string())?;
    let md = d.join("big").metadata().map_err(|e| e.to_string())?;
    check(md.len() == size, || format!("size {}", md.len()))?;
    check(md.blocks() * 512 < 1 << 20, || {
        format!(
            "{} bytes allocated for a file of 512 data bytes",
            md.blocks() * 512
        )
    })?;
    let all = std::fs::read(d.join("big")).map_err(|e| e.to_string())?;
    let at = 16 << 20;
    check(
        all[at..at + 512] == data && all[..at].iter().all(|&b| b == 0),
        || "the data or the holes are wrong".into(),
    )
}

fn sparse_bomb_is_refused() -> Result<(), String> {
    let d = tempdir("sparse-bomb").join("l");
    // 1.5 KB of tar declaring a 1 TiB file.
    let t = tar(&[E::Sparse("bomb", 1 << 40, 0, &[1u8; 512])]);
    let started = std::time::Instant::now();
    expect_too_big(unpack_into(&d, &t), "sparse bomb")?;
    check(started.elapsed().as_secs() < 5, || {
        "the refusal took long".into()
    })
}

/// A gzip stream of a tar holding one file of `size` zeros, built without
/// holding it in memory.
pub fn zero_bomb(size: u64) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut h = tar::Header::new_ustar();
    h.set_path("zeros").unwrap();
    h.set_size(size);
    h.set_mode(0o644);
    h.set_cksum();
    gz.write_all(h.as_bytes()).unwrap();
    let chunk = vec![0u8; 1 << 20];
    for _ in 0..size >> 20 {
        gz.write_all(&chunk).unwrap();
    }
    gz.write_all(&[0u8; 1024]).unwrap();
    gz.finish().unwrap()
}

fn gzip_and_zstd_bombs_are_refused() -> Result<(), String> {
    let d = tempdir("bomb");
    let gz = zero_bomb(80 << 20);
    check(gz.len() < 1 << 20, || {
        format!("the bomb is {} bytes", gz.len())
    })?;
    expect_too_big(unpack_into(&d.join("gz"), &gz), "gzip bomb")?;
    let mut t = vec![0u8; 0];
    let mut h = tar::Header::new_ustar();
    h.set_path("zeros").unwrap();
    h.set_size(70 << 20);
    h.set_mode(0o644);
    h.set_cksum();
    t.extend_from_slice(h.as_bytes());
    t.resize(t.len() + (70 << 20) + 1024, 0);
    expect_too_big(unpack_into(&d.join("zst"), &zstd(&t)), "zstd bomb")?;
    // What was written before the refusal stays within the budget.
    let written: u64 = ["gz", "zst"]
        .iter()
        .filter_map(|l| d.join(l).join("zeros").metadata().ok())
        .map(|m| m.len())
        .sum();
    check(written <= 2 * Limits::default().floor, || {
        format!("{written} bytes written before the refusal")
    })
}

fn entry_count_is_limited() -> Result<(), String> {
    let d = tempdir("entries");
    let names: Vec<String> = (0..11).map(|i| format!("f{i}")).collect();
    let entries: Vec<E> = names.iter().map(|n| E::File(n, b"")).collect();
    let t = tar(&entries);
    let l = d.join("l");
    std::fs::create_dir_all(&l).unwrap();
    let r = unpack(&t[..], &l, &Budget::fixed(1 << 30, 10));
    match r {
        Err(e @ UnpackError::TooManyEntries { limit: 10 }) => {
            check(e.to_string().contains("10 entries"), || e.to_string())?
        }
        other => return Err(format!("11 entries under a limit of 10: {other:?}")),
    }
    let l = d.join("ok");
    std::fs::create_dir_all(&l).unwrap();
    unpack(&t[..], &l, &Budget::fixed(1 << 30, 11))
        .map(|_| ())
        .map_err(|e| format!("11 entries under a limit of 11: {e}"))
}

fn budget_follows_the_blob_size() -> Result<(), String> {
    let l = Limits::default();
    let cases = [
        (0, l.floor),
        (1000, l.floor),
        (10 << 20, (10 << 20) * l.ratio),
        (u64::MAX, l.max_bytes),
    ];
    for (blob, want) in cases {
        let got = l.budget(blob).bytes;
        check(got == want, || {
            format!("blob of {blob}: budget {got}, want {want}")
        })?;
    }
    let m = l.budget(1000).explain();
    check(m.contains("100 x its 1000 compressed bytes"), || m)
}
