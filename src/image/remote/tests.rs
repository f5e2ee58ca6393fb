//! [`current`] against what [`pull_image`] stores, from an OCI layout, an
//! OCI archive and a registry on a loopback port; and that it stores and
//! fetches nothing.

mod fake;

use super::{Remote, current};
use crate::image::progress::Silent;
use crate::image::resolve::{ImageError, pull_image};
use crate::image::{Digest, HostConfig, Store};
use fake::{Registry, Repo, Tmp};
use std::path::{Path, PathBuf};

/// The host files of a test: `registries.conf` holding `conf`, no
/// credentials, no certificates.
fn host(dir: &Path, conf: &str) -> HostConfig {
    std::fs::write(dir.join("registries.conf"), conf).unwrap();
    HostConfig {
        registries_conf: dir.join("registries.conf"),
        auth_files: vec![],
        certs_d: dir.join("certs.d"),
    }
}

/// Every file under `dir` with its content, sorted.
fn tree(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if e.file_type().unwrap().is_dir() {
                out.push((p.clone(), Vec::new()));
                todo.push(p);
            } else {
                out.push((p.clone(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// Two images, `v1` and `s390`, and `multi`: an index over `s390` (for
/// linux/s390x) and `plain` (for this host). Returns `plain`'s digest.
fn repo() -> (Repo, Digest) {
    let mut repo = Repo::default();
    repo.image("v1", "one");
    let foreign = repo.image("s390", "foreign");
    let plain = repo.image("plain", "plain");
    repo.index("multi", &foreign, &plain);
    (repo, plain)
}

/// `current(image)` with `store` unchanged by it, then `pull_image(image)`:
/// both name the same image, and the store holds that name at that digest.
fn current_then_pull(store: &Store, host: &HostConfig, image: &str) -> Remote {
    let before = tree(store.root());
    let remote = current(host, image).unwrap_or_else(|e| panic!("{image}: {e}"));
    assert!(before == tree(store.root()), "{image}: the store changed");
    let pulled = pull_image(store, host, image, &Silent).unwrap();
    assert_eq!(
        (&pulled.name, &pulled.manifest),
        (&remote.name, &remote.digest)
    );
    let refs = store.refs().unwrap();
    assert!(
        refs.contains(&(remote.name.clone(), remote.digest.clone())),
        "{refs:?}"
    );
    remote
}

#[test]
fn a_layout_tag_names_what_a_pull_stores() {
    let d = Tmp::new("layout");
    let (repo, plain) = repo();
    repo.write_layout(&d.0.join("layout"));
    let host = host(&d.0, "");
    let store = Store::open(&d.0.join("store")).unwrap();
    let spec = |tag: &str| format!("oci:{}:{tag}", d.0.join("layout").display());
    let one = current_then_pull(&store, &host, &spec("v1"));
    assert_eq!(one.digest, repo.tags["v1"]);
    assert_eq!(one.name, spec("v1"));
    // An index: the host's manifest, not the index's digest or the other one's.
    let multi = current_then_pull(&store, &host, &spec("multi"));
    assert_eq!(multi.digest, plain);
}

#[test]
fn an_archive_is_read_in_place_for_what_a_pull_stores() {
    let d = Tmp::new("archive");
    let (repo, plain) = repo();
    let archive = d.0.join("img.tar");
    repo.write_archive(&d.0.join("layout"), &archive);
    let host = host(&d.0, "");
    let store = Store::open(&d.0.join("store")).unwrap();
    let spec = format!("oci-archive:{}:multi", archive.display());
    let outside = tree(&d.0);
    let remote = current(&host, &spec).unwrap();
    assert!(
        outside == tree(&d.0),
        "something was written beside the archive"
    );
    assert_eq!(remote.digest, plain);
    assert_eq!(current_then_pull(&store, &host, &spec), remote);
    let e = current(&host, &format!("oci-archive:{}:nope", archive.display()))
        .unwrap_err()
        .to_string();
    assert!(e.contains("nope") && e.contains("404"), "{e}");
}

#[test]
fn a_registry_tag_names_what_a_pull_stores_and_no_blob_is_fetched() {
    let d = Tmp::new("registry");
    let (repo, plain) = repo();
    // Short names go to the empty registry first, as a pull's do.
    let (empty, full) = (
        Registry::serve(Repo::default(), &[]),
        Registry::serve(repo, &[]),
    );
    let conf = format!(
        "unqualified-search-registries = [{:?}, {:?}]\n[[registry]]\nlocation = {0:?}\ninsecure = true\n[[registry]]\nlocation = {1:?}\ninsecure = true\n",
        empty.host, full.host
    );
    let host = host(&d.0, &conf);
    let remote = current(&host, "app:multi").unwrap();
    assert_eq!(
        remote,
        Remote {
            name: format!("{}/app:multi", full.host),
            digest: plain,
        }
    );
    assert_eq!(full.blob_requests(), Vec::<String>::new());
    let store = Store::open(&d.0.join("store")).unwrap();
    assert_eq!(current_then_pull(&store, &host, "app:multi"), remote);
    assert!(!full.blob_requests().is_empty(), "the pull fetched no blob");
    let one = current(&host, &format!("{}/app:v1", full.host)).unwrap();
    assert_eq!(
        one,
        current_then_pull(&store, &host, &format!("{}/app:v1", full.host))
    );
}

#[test]
fn manifests_are_checked_against_their_digests() {
    let d = Tmp::new("digests");
    let (repo, plain) = repo();
    // A registry that claims another digest for what it sends.
    let liar = Registry::serve(repo.clone(), &["v1"]);
    let conf = format!(
        "[[registry]]\nlocation = {:?}\ninsecure = true\n",
        liar.host
    );
    let host = host(&d.0, &conf);
    let image = format!("{}/app:v1", liar.host);
    let e = current(&host, &image).unwrap_err();
    assert!(matches!(e, ImageError::Unpullable { .. }), "{e}");
    let claimed = fake::claimed().to_string();
    assert!(
        e.to_string().contains(&image) && e.to_string().contains(&claimed),
        "{e}"
    );
    // An index whose entry for this host is not the manifest stored under its digest.
    let mut tampered = repo;
    tampered.blobs.insert(plain.to_string(), b"{}".to_vec());
    tampered.write_layout(&d.0.join("layout"));
    let e = current(
        &host,
        &format!("oci:{}:multi", d.0.join("layout").display()),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains(&format!("hashes to {}", Digest::of(b"{}"))),
        "{e}"
    );
}

#[test]
fn an_unreachable_registry_is_an_error_naming_the_reference() {
    let d = Tmp::new("unreachable");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let conf = format!("[[registry]]\nlocation = \"127.0.0.1:{port}\"\ninsecure = true\n");
    let image = format!("127.0.0.1:{port}/app:1");
    let e = current(&host(&d.0, &conf), &image).unwrap_err();
    let ImageError::Unpullable { reference, tried } = &e else {
        panic!("{e}")
    };
    assert_eq!(reference, &image);
    assert!(
        tried.len() == 1 && tried[0].contains("cannot connect"),
        "{tried:?}"
    );
    assert!(e.to_string().contains(&image), "{e}");
}

#[test]
fn a_digest_reference_is_its_own_answer_without_the_network() {
    let d = Tmp::new("pinned");
    let pin = Digest::of(b"pinned");
    // Nothing listens on port 1: asking it would fail.
    let conf = "unqualified-search-registries = [\"blocked.example\", \"127.0.0.1:1\"]\n[[registry]]\nlocation = \"blocked.example\"\nblocked = true\n";
    let host = host(&d.0, conf);
    let remote = current(&host, &format!("app@{pin}")).unwrap();
    assert_eq!(
        remote,
        Remote {
            name: format!("127.0.0.1:1/app@{pin}"),
            digest: pin,
        }
    );
}
