//! Hostile images against the store and pulls: a refused layer leaves
//! nothing, a blob is cut off at its declared size, oversized descriptors
//! and manifests are refused before anything is fetched, and a short name
//! stored from two search registries is an error, not a guess.

use super::build::{E, Repo, gzip, tar};
use super::hostile_tests::zero_bomb;
use super::source::Mem;
use super::{TestFn, check, tempdir};
use podctl::image::progress::Silent;
use podctl::image::pull::{PullError, pull};
use podctl::image::unpack::Limits;
use podctl::image::{Digest, HostConfig, Store, resolve};

pub const TESTS: &[(&str, TestFn)] = &[
    (
        "hostile_store::refused_layer_leaves_nothing_stored",
        refused_layer_leaves_nothing_stored,
    ),
    (
        "hostile_store::blob_longer_than_its_descriptor_is_cut_off",
        blob_longer_than_its_descriptor_is_cut_off,
    ),
    (
        "hostile_store::oversized_descriptors_and_manifests_are_refused",
        oversized_descriptors_and_manifests_are_refused,
    ),
    (
        "hostile_store::short_name_stored_from_two_registries_is_refused",
        short_name_stored_from_two_registries_is_refused,
    ),
];

/// Limits small enough for quick tests: 10x, at least 1 MiB.
fn small() -> Limits {
    Limits {
        ratio: 10,
        floor: 1 << 20,
        ..Limits::default()
    }
}

fn stored_nothing(store: &Store, layer: &str) -> Result<(), String> {
    let d = Digest::parse(layer).unwrap();
    check(!store.has_blob(&d), || format!("blob {layer} kept"))?;
    check(!store.layer_path(&d).exists(), || {
        format!("layer {layer} kept")
    })?;
    let tmp = super::store_tests::names(&store.root().join("tmp"));
    check(tmp.is_empty(), || format!("left in tmp: {tmp:?}"))?;
    check(store.refs().map_err(|e| e.to_string())?.is_empty(), || {
        "the image was recorded".into()
    })
}

fn refused_layer_leaves_nothing_stored() -> Result<(), String> {
    let bomb = zero_bomb(8 << 20);
    let bomb_digest = Digest::of(&bomb).to_string();
    let mut repo = Repo::default();
    repo.image("v1", std::slice::from_ref(&bomb), "/bin/true");
    // Unpacked while fetched.
    let store = Store::open(&tempdir("refused-stream"))
        .map_err(|e| e.to_string())?
        .with_limits(small());
    let e = pull(
        &store,
        &mut Mem::new(repo.clone()),
        "v1",
        None,
        "x/b:1",
        &Silent,
    )
    .unwrap_err()
    .to_string();
    check(e.contains(&bomb_digest) && e.contains("limit of"), || {
        e.clone()
    })?;
    stored_nothing(&store, &bomb_digest)?;
    // Unpacked from a blob stored earlier (ensure_layer).
    let store = Store::open(&tempdir("refused-stored"))
        .map_err(|e| e.to_string())?
        .with_limits(small());
    let d = Digest::parse(&bomb_digest).unwrap();
    store
        .put_blob(&d, Some(bomb.len() as u64), |w| w.write_all(&bomb))
        .map_err(|e| format!("{e:?}"))?;
    let e = store.ensure_layer(&d).unwrap_err().to_string();
    check(e.contains(&bomb_digest) && e.contains("limit of"), || {
        e.clone()
    })?;
    stored_nothing(&store, &bomb_digest)
}

fn blob_longer_than_its_descriptor_is_cut_off() -> Result<(), String> {
    let store = Store::open(&tempdir("long")).map_err(|e| e.to_string())?;
    let d = Digest::of(b"hello");
    let mut sent = 0u64;
    let r = store.put_blob(&d, Some(5), |w| {
        // An endless answer: stopped as soon as it passes the declared size.
        for _ in 0..1000 {
            w.write_all(&[b'x'; 4096])?;
            sent += 4096;
        }
        Ok::<_, std::io::Error>(())
    });
    check(
        matches!(
            r,
            Err(podctl::image::store::PutError::Store(
                podctl::image::store::StoreError::Size { want: 5, .. }
            ))
        ),
        || format!("{r:?}"),
    )?;
    check(sent == 0, || format!("{sent} bytes accepted past the size"))?;
    check(!store.has_blob(&d), || "the blob was kept".into())
}

fn oversized_descriptors_and_manifests_are_refused() -> Result<(), String> {
    let store = Store::open(&tempdir("oversized")).map_err(|e| e.to_string())?;
    let mut repo = Repo::default();
    let layer = gzip(&tar(&[E::File("a", b"a")]));
    let layer_digest = Digest::of(&layer).to_string();
    let md = repo.image("v1", &[layer], "/bin/true");
    // A config descriptor claiming 5 MiB.
    let mut m: serde_json::Value = serde_json::from_slice(&repo.blobs[&md]).unwrap();
    m["config"]["size"] = (5u64 << 20).into();
    let big = repo.add(serde_json::to_vec(&m).unwrap());
    repo.tags.insert("bigconfig".into(), big);
    // A layer descriptor past the layer limit.
    let mut m2: serde_json::Value = serde_json::from_slice(&repo.blobs[&md]).unwrap();
    m2["layers"][0]["size"] = (Limits::default().max_bytes + 1).into();
    let huge = repo.add(serde_json::to_vec(&m2).unwrap());
    repo.tags.insert("hugelayer".into(), huge);
    // A manifest of 5 MiB.
    let mut padded = repo.blobs[&md].clone();
    padded.pop();
    padded.extend_from_slice(br#","annotations":{"pad":""#);
    padded.resize(padded.len() + (5 << 20), b'a');
    padded.extend_from_slice(br#""}}"#);
    let fat = repo.add(padded);
    repo.tags.insert("fat".into(), fat);
    let mut src = Mem::new(repo);
    for (tag, want) in [
        ("bigconfig", "image config"),
        ("hugelayer", "layer"),
        ("fat", "manifest"),
    ] {
        match pull(&store, &mut src, tag, None, "x/o:1", &Silent) {
            Err(e @ PullError::TooBig { .. }) => {
                let msg = e.to_string();
                check(
                    msg.contains(want) && msg.contains("more than the limit"),
                    || format!("{tag}: {msg}"),
                )?;
            }
            other => return Err(format!("{tag}: expected a refusal by size, got {other:?}")),
        }
    }
    check(src.count(&layer_digest) == 0, || {
        "a layer was fetched for an oversized descriptor".into()
    })?;
    check(store.refs().map_err(|e| e.to_string())?.is_empty(), || {
        "an image was recorded".into()
    })
}

fn short_name_stored_from_two_registries_is_refused() -> Result<(), String> {
    let d = tempdir("short");
    std::fs::write(
        d.join("registries.conf"),
        "unqualified-search-registries = [\"a.example\", \"b.example\"]\n",
    )
    .unwrap();
    let host = HostConfig {
        registries_conf: d.join("registries.conf"),
        auth_files: vec![],
        certs_d: d.join("certs.d"),
    };
    let store = Store::open(&d.join("store")).map_err(|e| e.to_string())?;
    let mut repo = Repo::default();
    repo.image("1", &[gzip(&tar(&[E::File("f", b"b")]))], "/b");
    let mut src = Mem::new(repo);
    pull(&store, &mut src, "1", None, "b.example/app:1", &Silent).map_err(|e| e.to_string())?;
    let found = resolve::find(&store, &host, "app:1").map_err(|e| e.to_string())?;
    check(
        found.as_ref().is_some_and(|(n, _)| n == "b.example/app:1"),
        || format!("one copy stored: {found:?}"),
    )?;
    pull(&store, &mut src, "1", None, "a.example/app:1", &Silent).map_err(|e| e.to_string())?;
    match resolve::find(&store, &host, "app:1") {
        Err(e @ resolve::ImageError::Ambiguous { .. }) => {
            let m = e.to_string();
            check(
                m.contains("a.example/app:1") && m.contains("b.example/app:1"),
                || format!("the error does not list both: {m}"),
            )?
        }
        other => return Err(format!("two copies stored: {other:?}")),
    }
    let full = resolve::find(&store, &host, "b.example/app:1").map_err(|e| e.to_string())?;
    check(full.is_some(), || "a full name is not found".into())
}
