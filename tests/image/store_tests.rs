//! The store and pulls against in-memory sources and OCI layouts: blobs
//! verified before they are kept, layers shared and unpacked once, once-only
//! downloads under concurrency, retries, and a pull killed at any moment.

use super::build::{E, Repo, gzip, tar};
use super::source::Mem;
use super::{TestFn, check, tempdir};
use podctl::image::progress::Silent;
use podctl::image::pull::{PullError, pull};
use podctl::image::store::{PutError, StoreError};
use podctl::image::{Digest, HostConfig, Store, catalog, resolve};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

pub const TESTS: &[(&str, TestFn)] = &[
    (
        "store::corrupt_and_truncated_blobs_are_not_kept",
        corrupt_and_truncated_blobs_are_not_kept,
    ),
    (
        "store::pull_corrupt_layer_stores_nothing_usable",
        pull_corrupt_layer_stores_nothing_usable,
    ),
    (
        "store::shared_layer_fetched_and_unpacked_once",
        shared_layer_fetched_and_unpacked_once,
    ),
    (
        "store::concurrent_pulls_download_a_layer_once",
        concurrent_pulls_download_a_layer_once,
    ),
    (
        "store::transient_failures_are_retried",
        transient_failures_are_retried,
    ),
    (
        "store::index_resolves_to_host_platform",
        index_resolves_to_host_platform,
    ),
    (
        "store::oci_layout_and_archive_sources",
        oci_layout_and_archive_sources,
    ),
    (
        "store::index_json_keeps_its_format",
        index_json_keeps_its_format,
    ),
    (
        "store::rmi_and_gc_remove_only_unreachable",
        rmi_and_gc_remove_only_unreachable,
    ),
    (
        "store::ensure_pulls_missing_then_works_offline",
        ensure_pulls_missing_then_works_offline,
    ),
    (
        "store::pull_killed_at_any_moment_then_pulled_again",
        pull_killed_at_any_moment_then_pulled_again,
    ),
];

pub fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|r| {
            r.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn layer(name: &str, content: &[u8]) -> Vec<u8> {
    gzip(&tar(&[
        E::Dir("data/"),
        E::File(&format!("data/{name}"), content),
    ]))
}

fn corrupt_and_truncated_blobs_are_not_kept() -> Result<(), String> {
    let store = Store::open(&tempdir("blobs")).map_err(|e| e.to_string())?;
    let d = Digest::of(b"hello world");
    let r = store.put_blob(&d, Some(11), |w| w.write_all(b"hello worle"));
    match r {
        Err(PutError::Store(e @ StoreError::Mismatch { .. })) => {
            let m = e.to_string();
            check(m.contains(d.as_str()) && m.contains("corrupt"), || {
                m.clone()
            })?
        }
        other => return Err(format!("flipped byte: {other:?}")),
    }
    let r = store.put_blob(&d, Some(11), |w| w.write_all(b"hello"));
    check(
        matches!(
            r,
            Err(PutError::Store(StoreError::Size {
                got: 5,
                want: 11,
                ..
            }))
        ),
        || format!("truncated: {r:?}"),
    )?;
    check(names(&store.root().join("blobs/sha256")).is_empty(), || {
        "a bad blob was kept".into()
    })?;
    check(names(&store.root().join("tmp")).is_empty(), || {
        "temporary files left".into()
    })?;
    let r = store.put_blob(&d, Some(11), |w| w.write_all(b"hello world"));
    check(matches!(r, Ok(true)) && store.has_blob(&d), || {
        format!("good blob: {r:?}")
    })
}

fn pull_corrupt_layer_stores_nothing_usable() -> Result<(), String> {
    let store = Store::open(&tempdir("corrupt")).map_err(|e| e.to_string())?;
    let mut repo = Repo::default();
    let good = layer("a", b"aaaa");
    let bad = layer("b", b"bbbb");
    repo.image("v1", &[good.clone(), bad.clone()], "/bin/true");
    let bad_digest = Digest::of(&bad).to_string();
    let mut flipped = bad.clone();
    let last = flipped.len() - 5;
    flipped[last] ^= 0xff;
    repo.blobs.insert(bad_digest.clone(), flipped);
    let mut src = Mem::new(repo);
    let e = pull(&store, &mut src, "v1", None, "x/y:v1", &Silent).unwrap_err();
    let msg = e.to_string();
    check(msg.contains(&bad_digest) && msg.contains("corrupt"), || {
        format!("error: {msg}")
    })?;
    check(store.refs().map_err(|e| e.to_string())?.is_empty(), || {
        "the image was recorded".into()
    })?;
    check(
        !store.has_blob(&Digest::parse(&bad_digest).unwrap()),
        || "bad blob kept".into(),
    )?;
    // Unpacked while fetched, the layer of a blob that failed verification
    // is not kept either.
    check(
        !store
            .layer_path(&Digest::parse(&bad_digest).unwrap())
            .exists(),
        || "the bad blob's layer was kept".into(),
    )?;
    check(names(&store.root().join("tmp")).is_empty(), || {
        "temporary files left".into()
    })
}

fn shared_layer_fetched_and_unpacked_once() -> Result<(), String> {
    let store = Store::open(&tempdir("shared")).map_err(|e| e.to_string())?;
    let mut repo = Repo::default();
    let base = layer("base", b"shared base");
    repo.image("a", &[base.clone(), layer("a", b"a")], "/a");
    repo.image("b", &[base.clone(), layer("b", b"b")], "/b");
    let mut src = Mem::new(repo);
    let pa = pull(&store, &mut src, "a", None, "r/a:1", &Silent).map_err(|e| e.to_string())?;
    let pb = pull(&store, &mut src, "b", None, "r/b:1", &Silent).map_err(|e| e.to_string())?;
    let bd = Digest::of(&base);
    check(src.count(bd.as_str()) == 1, || {
        format!("base fetched {} times", src.count(bd.as_str()))
    })?;
    check(pa.layers[0] == pb.layers[0], || {
        "images do not share the layer".into()
    })?;
    // One directory for the shared layer, three in all.
    let layers = names(&store.root().join("layers"));
    check(layers.len() == 3, || format!("layers/: {layers:?}"))?;
    let (_, unpacked_now) = store.ensure_layer(&bd).map_err(|e| e.to_string())?;
    check(!unpacked_now, || {
        "the shared layer was unpacked again".into()
    })?;
    check(pb.config.process.cmd == ["/b"], || {
        format!("config {:?}", pb.config)
    })?;
    use std::os::unix::fs::MetadataExt;
    let mode = std::fs::metadata(store.root())
        .map_err(|e| e.to_string())?
        .mode()
        & 0o777;
    check(mode == 0o700, || {
        format!("store root mode {mode:o}, want 700 (layers hold setuid files)")
    })?;
    let content =
        std::fs::read(store.layer_path(&bd).join("data/base")).map_err(|e| e.to_string())?;
    check(content == b"shared base", || "layer content".into())
}

fn concurrent_pulls_download_a_layer_once() -> Result<(), String> {
    let root = tempdir("concurrent");
    let mut repo = Repo::default();
    let base = layer("base", &vec![7u8; 1 << 20]);
    repo.image("a", &[base.clone(), layer("a", b"a")], "/a");
    repo.image("b", &[base.clone(), layer("b", b"b")], "/b");
    let mut src = Mem::new(repo);
    src.delay = Duration::from_millis(300);
    let threads: Vec<_> = ["a", "b"]
        .into_iter()
        .map(|tag| {
            let (root, mut src) = (root.clone(), src.clone());
            std::thread::spawn(move || {
                let store = Store::open(&root).map_err(|e| e.to_string())?;
                pull(&store, &mut src, tag, None, &format!("r/{tag}:1"), &Silent)
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            })
        })
        .collect();
    for t in threads {
        t.join().map_err(|_| "pull thread panicked".to_string())??;
    }
    let n = src.count(Digest::of(&base).as_str());
    check(n == 1, || {
        format!("shared layer downloaded {n} times by two concurrent pulls")
    })
}

fn transient_failures_are_retried() -> Result<(), String> {
    let store = Store::open(&tempdir("retry")).map_err(|e| e.to_string())?;
    let mut repo = Repo::default();
    repo.image("v", &[layer("a", b"a")], "/a");
    let mut src = Mem::new(repo);
    *src.flaky.lock().unwrap() = 2;
    pull(&store, &mut src, "v", None, "r/v:1", &Silent).map_err(|e| e.to_string())?;
    *src.flaky.lock().unwrap() = 10;
    let store2 = Store::open(&tempdir("retry2")).map_err(|e| e.to_string())?;
    let e = pull(&store2, &mut src, "v", None, "r/v:1", &Silent).unwrap_err();
    check(
        matches!(e, PullError::Source { .. }) && e.to_string().contains("interrupted"),
        || format!("after too many failures: {e}"),
    )
}

fn index_resolves_to_host_platform() -> Result<(), String> {
    let store = Store::open(&tempdir("index")).map_err(|e| e.to_string())?;
    let mut repo = Repo::default();
    let m = repo.image("plain", &[layer("a", b"a")], "/a");
    let idx = repo.index("multi", &m);
    let mut src = Mem::new(repo);
    let p = pull(&store, &mut src, "multi", None, "r/m:1", &Silent).map_err(|e| e.to_string())?;
    check(p.manifest.as_str() == m, || {
        format!("resolved {} not {m}", p.manifest)
    })?;
    let pinned = Digest::parse(&idx).unwrap();
    pull(&store, &mut src, &idx, Some(&pinned), "r/m@x", &Silent).map_err(|e| e.to_string())?;
    let wrong = Digest::of(b"other");
    let e = pull(&store, &mut src, &idx, Some(&wrong), "r/m@y", &Silent).unwrap_err();
    check(matches!(e, PullError::ManifestDigest { .. }), || {
        format!("wrong pin: {e}")
    })
}

fn host(dir: &Path) -> HostConfig {
    HostConfig {
        registries_conf: dir.join("registries.conf"),
        auth_files: vec![],
        certs_d: dir.join("certs.d"),
    }
}

fn oci_layout_and_archive_sources() -> Result<(), String> {
    let d = tempdir("layout");
    let mut repo = Repo::default();
    repo.image("v1", &[layer("a", b"from layout")], "/a");
    repo.write_layout(&d.join("layout"));
    let store = Store::open(&d.join("store")).map_err(|e| e.to_string())?;
    let spec = format!("oci:{}:v1", d.join("layout").display());
    let p = resolve::pull_image(&store, &host(&d), &spec, &Silent).map_err(|e| e.to_string())?;
    check(p.name == spec, || format!("stored as {}", p.name))?;
    let st = Command::new("tar")
        .args([
            "-C",
            d.join("layout").to_str().unwrap(),
            "-cf",
            d.join("img.tar").to_str().unwrap(),
            ".",
        ])
        .status()
        .map_err(|e| e.to_string())?;
    check(st.success(), || "tar failed".into())?;
    let spec2 = format!("oci-archive:{}:v1", d.join("img.tar").display());
    let p2 = resolve::pull_image(&store, &host(&d), &spec2, &Silent).map_err(|e| e.to_string())?;
    check(p2.manifest == p.manifest, || {
        "archive and layout differ".into()
    })?;
    check(names(&store.root().join("tmp")).is_empty(), || {
        "extracted archive left in tmp".into()
    })?;
    let e = resolve::pull_image(
        &store,
        &host(&d),
        &format!("oci:{}:nope", d.join("layout").display()),
        &Silent,
    )
    .unwrap_err()
    .to_string();
    check(e.contains("nope") && e.contains("404"), || {
        format!("missing tag: {e}")
    })
}

/// `index.json` as stores have always held it, `b` named before `a`.
fn index_json(a: &Digest, b: &Digest) -> String {
    let entry = |d: &Digest, size: u64, name: &str| {
        format!(
            "    {{\n      \"mediaType\": \"application/vnd.oci.image.manifest.v1+json\",\n      \"digest\": \"{d}\",\n      \"size\": {size},\n      \"annotations\": {{\n        \"org.opencontainers.image.ref.name\": \"{name}\"\n      }}\n    }}"
        )
    };
    format!(
        "{{\n  \"schemaVersion\": 2,\n  \"manifests\": [\n{},\n{}\n  ]\n}}",
        entry(a, 10, "localhost/a:1"),
        entry(b, 20, "localhost/b:1")
    )
}

/// A store's names read and written: an existing `index.json` is read as
/// it is, and rewritten byte for byte as before (sorted by name).
fn index_json_keeps_its_format() -> Result<(), String> {
    let dir = tempdir("index-format");
    let store = Store::open(&dir).map_err(|e| e.to_string())?;
    let (a, b) = (Digest::of(b"a"), Digest::of(b"b"));
    let path = dir.join("index.json");
    std::fs::write(&path, index_json(&a, &b)).map_err(|e| e.to_string())?;
    let refs = store.refs().map_err(|e| e.to_string())?;
    let want = vec![
        ("localhost/a:1".to_string(), a.clone()),
        ("localhost/b:1".to_string(), b.clone()),
    ];
    check(refs == want, || format!("refs {refs:?}"))?;
    store
        .remove_ref("localhost/a:1")
        .map_err(|e| e.to_string())?;
    store
        .set_ref("localhost/a:1", &a, 10)
        .map_err(|e| e.to_string())?;
    let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
    check(text == index_json(&a, &b), || {
        format!("index.json:\n{text}")
    })?;
    store
        .remove_ref("localhost/a:1")
        .map_err(|e| e.to_string())?;
    store
        .remove_ref("localhost/b:1")
        .map_err(|e| e.to_string())?;
    let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
    check(
        text == "{\n  \"schemaVersion\": 2,\n  \"manifests\": []\n}",
        || format!("index.json:\n{text}"),
    )
}

fn rmi_and_gc_remove_only_unreachable() -> Result<(), String> {
    let store = Store::open(&tempdir("gc")).map_err(|e| e.to_string())?;
    let mut repo = Repo::default();
    let base = layer("base", b"base");
    repo.image("a", &[base.clone(), layer("a", b"a")], "/a");
    repo.image("b", std::slice::from_ref(&base), "/b");
    let mut src = Mem::new(repo);
    pull(&store, &mut src, "a", None, "r/a:1", &Silent).map_err(|e| e.to_string())?;
    pull(&store, &mut src, "b", None, "r/b:1", &Silent).map_err(|e| e.to_string())?;
    store.remove_ref("r/a:1").map_err(|e| e.to_string())?;
    let c = catalog::collect(&store, &[]).map_err(|e| e.to_string())?;
    // a's manifest, config and own layer go; the shared base stays.
    check(c.blobs == 3 && c.layers == 1, || format!("collected {c:?}"))?;
    check(store.layer_path(&Digest::of(&base)).is_dir(), || {
        "shared layer removed".into()
    })?;
    let list = catalog::list(&store).map_err(|e| e.to_string())?;
    check(list.len() == 1 && list[0].reference == "r/b:1", || {
        format!("{list:?}")
    })
}

/// Every blob hashes to its name; every layer directory is complete (its
/// file listing and sizes equal `reference`'s unpack of the same blob);
/// every recorded image has all its blobs and layers.
fn store_is_consistent(root: &Path, reference: &Path) -> Result<(), String> {
    let store = Store::open(root).map_err(|e| e.to_string())?;
    for name in names(&root.join("blobs/sha256")) {
        let data = std::fs::read(root.join("blobs/sha256").join(&name)).unwrap();
        check(Digest::of(&data).hex() == name, || {
            format!("blob {name} does not match its name")
        })?;
    }
    for name in names(&root.join("layers")) {
        let (got, want) = (
            tree(&root.join("layers").join(&name)),
            tree(&reference.join(&name)),
        );
        check(got == want, || {
            format!("layer {name} is incomplete: {got:?} != {want:?}")
        })?;
    }
    for (r, d) in store.refs().map_err(|e| e.to_string())? {
        let dirs = catalog::layer_dirs(&store, &d).map_err(|e| format!("{r}: {e}"))?;
        for l in dirs {
            check(l.is_dir(), || format!("{r}: layer {} missing", l.display()))?;
        }
    }
    Ok(())
}

/// `path type size` of everything under `dir`.
fn tree(dir: &Path) -> Vec<String> {
    let out = Command::new("find")
        .arg(dir)
        .args(["-mindepth", "1", "-printf", "%P %y %s\\n"])
        .output()
        .unwrap();
    let mut v: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(String::from)
        .collect();
    v.sort();
    v
}

fn pull_killed_at_any_moment_then_pulled_again() -> Result<(), String> {
    let d = tempdir("kill");
    let mut repo = Repo::default();
    // ~12 MB of incompressible content across two layers.
    let noise = |seed: u64, n: usize| {
        let mut x = seed;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect::<Vec<u8>>()
    };
    let layers = [
        layer("one", &noise(1, 6 << 20)),
        layer("two", &noise(2, 6 << 20)),
    ];
    repo.image("v1", &layers, "/a");
    repo.write_layout(&d.join("layout"));
    // What complete layer directories look like.
    let reference = d.join("reference");
    for l in &layers {
        let dir = reference.join(Digest::of(l).hex());
        std::fs::create_dir_all(&dir).unwrap();
        podctl::image::unpack::unpack(
            std::io::BufReader::new(&l[..]),
            &dir,
            &podctl::image::unpack::Limits::default().budget(l.len() as u64),
        )
        .map_err(|e| e.to_string())?;
    }
    let spec = format!("oci:{}:v1", d.join("layout").display());
    let root = d.join("store");
    let podctl = env!("CARGO_BIN_EXE_podctl");
    let run = |kill_after: Option<Duration>| -> Result<std::process::Output, String> {
        let mut child = Command::new(podctl)
            .args(["pull", &spec])
            .env("PODCTL_STORAGE", &root)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .map_err(|e| e.to_string())?;
        if let Some(t) = kill_after {
            std::thread::sleep(t);
            let _ = child.kill(); // SIGKILL
        }
        child.wait_with_output().map_err(|e| e.to_string())
    };
    // How long a whole pull takes here, to spread the kills over it.
    let start = std::time::Instant::now();
    run(None)?;
    let whole = start.elapsed();
    for i in 0..8u32 {
        let _ = std::fs::remove_dir_all(&root);
        let at = whole * (2 * i + 1) / 16;
        let out = run(Some(at))?;
        store_is_consistent(&root, &reference)
            .map_err(|e| format!("after a kill at {at:?} of {whole:?}: {e}"))?;
        // Then a second kill later on top of what the first left.
        if !out.status.success() {
            run(Some(whole / 2))?;
            store_is_consistent(&root, &reference)
                .map_err(|e| format!("after kills at {at:?} and {:?}: {e}", whole / 2))?;
        }
    }
    let out = run(None)?;
    check(out.status.success(), || {
        format!("final pull: {}", String::from_utf8_lossy(&out.stderr))
    })?;
    store_is_consistent(&root, &reference)?;
    let store = Store::open(&root).map_err(|e| e.to_string())?;
    let (_, m) = store
        .refs()
        .map_err(|e| e.to_string())?
        .pop()
        .ok_or("nothing recorded")?;
    let dirs = catalog::layer_dirs(&store, &m).map_err(|e| e.to_string())?;
    let two = std::fs::read(dirs[1].join("data/two")).map_err(|e| e.to_string())?;
    check(two == noise(2, 6 << 20), || {
        "layer content differs after the final pull".into()
    })?;
    check(names(&root.join("tmp")).is_empty(), || {
        format!("tmp/ holds {:?}", names(&root.join("tmp")))
    })
}

fn ensure_pulls_missing_then_works_offline() -> Result<(), String> {
    let d = tempdir("ensure");
    let mut repo = Repo::default();
    repo.image("v1", &[layer("a", b"a"), layer("b", b"b")], "/a");
    repo.write_layout(&d.join("layout"));
    let store = Store::open(&d.join("store")).map_err(|e| e.to_string())?;
    let spec = format!("oci:{}:v1", d.join("layout").display());
    let missing = format!("oci:{}:v1", d.join("nowhere").display());
    let e = resolve::ensure(&store, &host(&d), &[&spec, &missing], &Silent).unwrap_err();
    check(e.to_string().contains(&missing), || format!("error: {e}"))?;
    let got = resolve::ensure(&store, &host(&d), &[&spec], &Silent).map_err(|e| e.to_string())?;
    let r = &got[&spec];
    check(
        r.layers.len() == 2 && r.layers.iter().all(|l| l.is_dir()),
        || format!("{r:?}"),
    )?;
    check(r.layers[1].join("data/b").is_file(), || {
        "layers not lowest first".into()
    })?;
    check(r.config.process.cmd == ["/a"], || {
        format!("config {:?}", r.config)
    })?;
    // The source is gone: the stored image is all a start needs.
    std::fs::remove_dir_all(d.join("layout")).unwrap();
    let again = resolve::ensure(&store, &host(&d), &[&spec], &Silent).map_err(|e| e.to_string())?;
    check(again[&spec] == *r, || "offline resolve differs".into())
}
