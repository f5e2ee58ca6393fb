//! Property test of the layer unpacker (proptest): random tar headers,
//! paths (absolute, `..`, long, odd bytes), symlinks and hard links aimed
//! outside, sizes (sparse ones up to a terabyte), every entry type, PAX
//! xattrs, whiteouts, plain or gzip, sometimes with bytes flipped. Whatever
//! the layer, the unpacker returns (no panic), writes nothing outside its
//! directory (a sibling canary directory stays empty, the temporary root
//! holds nothing new, no absolute path is created), leaves no device but
//! whiteouts and no overlayfs xattr but the opaque marker, and every
//! refusal is an error with a message. A failure prints the shrunk layer.

use super::build::gzip;
use super::{TestFn, check, tempdir};
use podctl::image::unpack::{Budget, UnpackError, unpack};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

/// A name the generator uses anywhere, absolute or after `..`: found at
/// `/NAME` or next to the temporary root, it escaped.
const ESCAPE: &str = "podctl-prop-escape";

pub const TESTS: &[(&str, TestFn)] = &[(
    "unpack_props::random_layers_stay_inside_and_never_panic",
    random_layers_stay_inside_and_never_panic,
)];

/// Path pieces: ordinary names, the escapes, whiteout markers, odd bytes,
/// and a name long enough to need a GNU long-name entry.
fn piece() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(b"a".to_vec()),
        Just(b"b".to_vec()),
        Just(b"..".to_vec()),
        Just(b".".to_vec()),
        Just(b"".to_vec()),
        Just(b".wh.a".to_vec()),
        Just(b".wh..wh..opq".to_vec()),
        Just(b".wh...".to_vec()),
        Just(b"canary".to_vec()),
        Just(ESCAPE.as_bytes().to_vec()),
        Just(vec![b'l'; 150]),
        prop::collection::vec(1u8..=255, 1..8).prop_map(|v| v
            .into_iter()
            .map(|b| if b == b'/' { b'_' } else { b })
            .collect()),
    ]
}

fn path() -> impl Strategy<Value = Vec<u8>> {
    (any::<bool>(), prop::collection::vec(piece(), 1..4)).prop_map(|(abs, parts)| {
        let mut p = if abs { b"/".to_vec() } else { Vec::new() };
        p.extend(parts.join(&b'/'));
        p
    })
}

#[derive(Debug, Clone)]
enum Kind {
    File(u16),
    Dir,
    Symlink(Vec<u8>),
    Hard(Vec<u8>),
    Char(u32, u32),
    Block(u32, u32),
    Fifo,
    /// full size, offset of 512 data bytes
    Sparse(u64, u64),
    /// a PAX xattr (name, value) on a one-byte file
    Xattr(Vec<u8>, Vec<u8>),
}

fn kind(canary: &'static str) -> impl Strategy<Value = Kind> {
    let target = prop_oneof![
        path(),
        Just(canary.as_bytes().to_vec()),
        Just(b"../canary".to_vec()),
        Just(b"../../canary/x".to_vec()),
    ];
    let xname = prop_oneof![
        Just(b"trusted.overlay.opaque".to_vec()),
        Just(b"trusted.overlay.redirect".to_vec()),
        Just(b"user.overlay.metacopy".to_vec()),
        Just(b"user.podctl".to_vec()),
    ];
    prop_oneof![
        any::<u16>().prop_map(Kind::File),
        Just(Kind::Dir),
        target.clone().prop_map(Kind::Symlink),
        target.prop_map(Kind::Hard),
        (0u32..4, 0u32..4).prop_map(|(a, b)| Kind::Char(a, b)),
        (0u32..9, 0u32..4).prop_map(|(a, b)| Kind::Block(a, b)),
        Just(Kind::Fifo),
        (512u64..(1 << 40), 0u64..(1 << 20)).prop_map(|(s, o)| Kind::Sparse(s.max(o + 512), o)),
        (xname, prop::collection::vec(any::<u8>(), 0..8)).prop_map(|(n, v)| Kind::Xattr(n, v)),
    ]
}

/// The 512-byte blocks of `data`, zero-padded.
fn blocks(out: &mut Vec<u8>, data: &[u8]) {
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(512) * 512, 0);
}

fn raw_name(h: &mut tar::Header, name: &[u8]) {
    let field = &mut h.as_old_mut().name;
    field.fill(0);
    let n = name.len().min(100);
    field[..n].copy_from_slice(&name[..n]);
}

/// One entry as raw tar bytes: no tar writer's checks stand in the way.
fn entry(out: &mut Vec<u8>, name: &[u8], k: &Kind) {
    if name.len() >= 100 {
        let mut l = tar::Header::new_gnu();
        raw_name(&mut l, b"././@LongLink");
        l.set_entry_type(tar::EntryType::GNULongName);
        l.set_size(name.len() as u64 + 1);
        l.set_cksum();
        out.extend_from_slice(l.as_bytes());
        let mut n = name.to_vec();
        n.push(0);
        blocks(out, &n);
    }
    if let Kind::Xattr(key, value) = k {
        let mut rec = b"SCHILY.xattr.".to_vec();
        rec.extend_from_slice(key);
        rec.push(b'=');
        rec.extend_from_slice(value);
        rec.push(b'\n');
        let len = rec.len() + 3; // "NN " prefix, small records only
        let mut line = format!("{len} ").into_bytes();
        line.extend_from_slice(&rec);
        let mut p = tar::Header::new_ustar();
        raw_name(&mut p, b"pax");
        p.set_entry_type(tar::EntryType::XHeader);
        p.set_size(line.len() as u64);
        p.set_cksum();
        out.extend_from_slice(p.as_bytes());
        blocks(out, &line);
    }
    let mut h = tar::Header::new_gnu();
    raw_name(&mut h, name);
    h.set_mode(0o4755);
    h.set_mtime(1_700_000_000);
    h.set_uid(0);
    h.set_gid(0);
    let link = |h: &mut tar::Header, t: &[u8]| {
        let f = &mut h.as_old_mut().linkname;
        f.fill(0);
        let n = t.len().min(100);
        f[..n].copy_from_slice(&t[..n]);
    };
    let (ty, data): (tar::EntryType, Vec<u8>) = match k {
        Kind::File(n) => (tar::EntryType::Regular, vec![b'x'; *n as usize % 3000]),
        Kind::Dir => (tar::EntryType::Directory, vec![]),
        Kind::Symlink(t) => {
            link(&mut h, t);
            (tar::EntryType::Symlink, vec![])
        }
        Kind::Hard(t) => {
            link(&mut h, t);
            (tar::EntryType::Link, vec![])
        }
        Kind::Char(a, b) | Kind::Block(a, b) => {
            h.set_device_major(*a).unwrap();
            h.set_device_minor(*b).unwrap();
            let ty = if matches!(k, Kind::Char(..)) {
                tar::EntryType::Char
            } else {
                tar::EntryType::Block
            };
            (ty, vec![])
        }
        Kind::Fifo => (tar::EntryType::Fifo, vec![]),
        Kind::Sparse(size, off) => {
            let g = h.as_gnu_mut().unwrap();
            g.set_real_size(*size);
            g.sparse[0].set_offset(*off);
            g.sparse[0].set_length(512);
            g.sparse[1].set_offset(*size);
            g.sparse[1].set_length(0);
            (tar::EntryType::GNUSparse, vec![7u8; 512])
        }
        Kind::Xattr(..) => (tar::EntryType::Regular, vec![b'x']),
    };
    h.set_entry_type(ty);
    h.set_size(data.len() as u64);
    h.set_cksum();
    out.extend_from_slice(h.as_bytes());
    blocks(out, &data);
}

#[derive(Debug, Clone)]
struct Layer {
    entries: Vec<(Vec<u8>, Kind)>,
    gzip: bool,
    /// (offset modulo the length, xor mask): a corrupted byte
    flip: Option<(usize, u8)>,
}

fn layer(canary: &'static str) -> impl Strategy<Value = Layer> {
    (
        prop::collection::vec((path(), kind(canary)), 1..10),
        any::<bool>(),
        prop::option::weighted(0.2, (any::<usize>(), 1u8..=255)),
    )
        .prop_map(|(entries, gzip, flip)| Layer {
            entries,
            gzip,
            flip,
        })
}

fn bytes(l: &Layer) -> Vec<u8> {
    let mut t = Vec::new();
    for (name, k) in &l.entries {
        entry(&mut t, name, k);
    }
    t.extend_from_slice(&[0u8; 1024]);
    if let Some((at, mask)) = l.flip {
        let i = at % t.len();
        t[i] ^= mask;
    }
    if l.gzip { gzip(&t) } else { t }
}

/// Every path under `dir` (not following symlinks), sorted.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        out.push(p.clone());
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            walk(&p, out);
        }
    }
}

/// What a finished unpack must have left in `layer`.
fn layer_is_clean(layer: &Path) -> Result<(), String> {
    let mut all = Vec::new();
    walk(layer, &mut all);
    for p in all {
        let md = p.symlink_metadata().map_err(|e| e.to_string())?;
        let t = md.file_type();
        if (t.is_char_device() && md.rdev() != 0) || t.is_block_device() {
            return Err(format!("device node {} in the layer", p.display()));
        }
        if t.is_symlink() {
            continue;
        }
        for name in xattr::list(&p).map_err(|e| e.to_string())? {
            let n = name.as_bytes();
            let overlay = n.starts_with(b"trusted.overlay.") || n.starts_with(b"user.overlay.");
            if overlay && n != b"trusted.overlay.opaque" {
                return Err(format!("{} has xattr {name:?}", p.display()));
            }
        }
    }
    Ok(())
}

fn random_layers_stay_inside_and_never_panic() -> Result<(), String> {
    let root = tempdir("props");
    let canary_dir = root.join("canary");
    // The absolute targets the generator aims at: this run's canary.
    let canary: &'static str = Box::leak(canary_dir.display().to_string().into_boxed_str());
    let escapes = [
        Path::new("/").join(ESCAPE),
        root.parent().unwrap().join(ESCAPE),
    ];
    let mut runner = TestRunner::new(Config {
        cases: std::env::var("UNPACK_PROPS_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(300),
        failure_persistence: None,
        ..Config::default()
    });
    let n = std::cell::Cell::new(0u32);
    let result = runner.run(&layer(canary), |l| {
        n.set(n.get() + 1);
        std::fs::create_dir_all(&canary_dir).unwrap();
        let dir = root.join(format!("case{}", n.get()));
        let dest = dir.join("layer");
        std::fs::create_dir_all(&dest).unwrap();
        let before = std::fs::read_dir(&dir).unwrap().count();
        let data = bytes(&l);
        let r = unpack(&data[..], &dest, &Budget::fixed(64 << 20, 1000));
        let verdict = judge(&r, &dir, &dest, before, &canary_dir, &escapes);
        let _ = std::fs::remove_dir_all(&dir);
        let _ = std::fs::remove_dir_all(&canary_dir);
        verdict
    });
    result.map_err(|e| format!("{e}"))?;
    let outside: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    check(outside.is_empty(), || {
        format!("left in the root: {outside:?}")
    })
}

/// The properties, after one unpack into `dest` (in `dir`).
fn judge(
    r: &Result<podctl::image::unpack::Stats, UnpackError>,
    dir: &Path,
    dest: &Path,
    before: usize,
    canary_dir: &Path,
    escapes: &[PathBuf],
) -> Result<(), TestCaseError> {
    let fail = |m: String| Err(TestCaseError::fail(m));
    match r {
        Err(e) if e.to_string().trim().is_empty() => return fail("an empty error".into()),
        Err(e @ UnpackError::Escape { entry, .. })
            if !e.to_string().contains(&format!("{entry:?}")) =>
        {
            return fail(format!("the refusal does not name its entry: {e}"));
        }
        _ => {}
    }
    let leaked = std::fs::read_dir(canary_dir)
        .map(|d| d.count())
        .unwrap_or(1);
    if leaked != 0 {
        return fail(format!("{leaked} files written into the canary ({r:?})"));
    }
    let after = std::fs::read_dir(dir).unwrap().count();
    if after != before {
        return fail(format!("files written next to the layer ({r:?})"));
    }
    if escapes.iter().any(|p| p.symlink_metadata().is_ok()) {
        return fail("a path outside the layer was created".into());
    }
    if r.is_ok() {
        layer_is_clean(dest).map_err(TestCaseError::fail)?;
    }
    Ok(())
}
