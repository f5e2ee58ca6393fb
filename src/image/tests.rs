//! Pure parts of images: references, registries.conf, auth files, manifests
//! and configs. (Unpacking and the store need root: tests/image.rs.)

use super::auth;
use super::config::ImageConfig;
use super::digest::Digest;
use super::manifest::{Document, host_platform, select};
use super::registries::{Endpoint, RegistriesConf};
use crate::model::reference::{ImageRef, RegistryRef};
use std::path::PathBuf;

const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn q(s: &str, domain: &str) -> String {
    RegistryRef::parse(s).unwrap().qualify(domain).to_string()
}

#[test]
fn references_parse_and_qualify() {
    assert_eq!(
        q("docker.io/library/nginx:1.25-alpine", "x"),
        "docker.io/library/nginx:1.25-alpine"
    );
    assert_eq!(q("nginx", "docker.io"), "docker.io/library/nginx:latest");
    assert_eq!(
        q("nginx:alpine", "docker.io"),
        "docker.io/library/nginx:alpine"
    );
    assert_eq!(
        q("curlimages/curl", "docker.io"),
        "docker.io/curlimages/curl:latest"
    );
    assert_eq!(
        q("busybox", "localhost:5000"),
        "localhost:5000/busybox:latest"
    );
    let r = RegistryRef::parse(&format!("localhost:5000/a/b@{D}")).unwrap();
    assert_eq!(r.domain.as_deref(), Some("localhost:5000"));
    assert_eq!(r.repository, "a/b");
    assert_eq!(r.tag, None);
    assert_eq!(r.digest.as_ref().map(Digest::as_str), Some(D));
    assert_eq!(
        r.qualify("localhost:5000").to_string(),
        format!("localhost:5000/a/b@{D}")
    );
    let r = RegistryRef::parse("localhost/x:1").unwrap();
    assert_eq!(
        (r.domain.as_deref(), r.tag.as_deref()),
        (Some("localhost"), Some("1"))
    );
    // A first component without . or : is a namespace, not a registry.
    assert_eq!(RegistryRef::parse("library/nginx").unwrap().domain, None);
}

#[test]
fn bad_references_are_refused_with_the_reason() {
    for (bad, why) in [
        ("", "empty"),
        ("Nginx", "lowercase"),
        ("nginx:", "tag"),
        ("nginx:-x", "tag"),
        ("nginx@sha256:abc", "digest"),
        ("a//b", "repository component"),
        ("oci:", "no path"),
    ] {
        let e = ImageRef::parse(bad).unwrap_err().to_string();
        assert!(e.contains(why), "{bad:?}: {e}");
        assert!(e.contains(&format!("{bad:?}")), "{bad:?}: {e}");
    }
}

#[test]
fn layout_and_archive_references() {
    assert_eq!(
        ImageRef::parse("oci:/srv/img:v1").unwrap(),
        ImageRef::Layout {
            path: "/srv/img".into(),
            tag: Some("v1".into())
        }
    );
    assert_eq!(
        ImageRef::parse("oci-archive:/srv/a.b/img.tar").unwrap(),
        ImageRef::Archive {
            path: "/srv/a.b/img.tar".into(),
            tag: None
        }
    );
    assert_eq!(
        ImageRef::parse("oci:/srv/img:v1").unwrap().to_string(),
        "oci:/srv/img:v1"
    );
}

const CONF: &str = r#"
unqualified-search-registries = ["localhost:5001", "localhost:5000"]

[[registry]]
location = "localhost:5001"
insecure = true

[[registry]]
prefix = "example.com/team"
location = "localhost:5000/mirrored"
[[registry.mirror]]
location = "mirror.local:8443/cache"

[[registry]]
location = "evil.example"
blocked = true
"#;

#[test]
fn short_names_use_the_search_registries_in_order() {
    let c = RegistriesConf::parse(CONF).unwrap();
    let names: Vec<String> = c
        .candidates(&RegistryRef::parse("busybox:1").unwrap())
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        names,
        ["localhost:5001/busybox:1", "localhost:5000/busybox:1"]
    );
    let none = RegistriesConf::default();
    let names: Vec<String> = none
        .candidates(&RegistryRef::parse("nginx:alpine").unwrap())
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(names, ["docker.io/library/nginx:alpine"]);
}

#[test]
fn endpoints_follow_insecure_mirrors_prefixes_and_blocked() {
    let c = RegistriesConf::parse(CONF).unwrap();
    let ep = |s: &str| {
        let r = RegistryRef::parse(s).unwrap();
        c.endpoints(&r.qualify(r.domain.as_deref().unwrap()))
    };
    assert_eq!(
        ep("localhost:5001/busybox").unwrap(),
        [Endpoint {
            host: "localhost:5001".into(),
            repository: "busybox".into(),
            insecure: true
        }]
    );
    assert_eq!(
        ep("example.com/team/app:2").unwrap(),
        [
            Endpoint {
                host: "mirror.local:8443".into(),
                repository: "cache/app".into(),
                insecure: false
            },
            Endpoint {
                host: "localhost:5000".into(),
                repository: "mirrored/app".into(),
                insecure: false
            }
        ]
    );
    // "example.com/teammate" is not under the prefix "example.com/team".
    assert_eq!(ep("example.com/teammate/x").unwrap()[0].host, "example.com");
    let e = ep("evil.example/x").unwrap_err().to_string();
    assert!(e.contains("blocked") && e.contains("evil.example/x"), "{e}");
}

fn tmpfile(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("podctl-image-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn credentials_come_from_the_first_file_and_most_specific_key() {
    // "alice:s3cret" and "bob:pw:with:colons"
    let a = tmpfile(
        "a.json",
        r#"{"auths":{"localhost:5000":{"auth":"YWxpY2U6czNjcmV0"}}}"#,
    );
    let b = tmpfile(
        "b.json",
        r#"{"auths":{"localhost:5000/team":{"auth":"Ym9iOnB3OndpdGg6Y29sb25z"},
                     "https://index.docker.io/v1/":{"username":"hub","password":"x"}}}"#,
    );
    let missing = PathBuf::from("/nonexistent/auth.json");
    let files = vec![missing.clone(), a.clone(), b.clone()];
    let c = auth::lookup(&files, "localhost:5000", "team/app")
        .unwrap()
        .unwrap();
    assert_eq!(
        (c.username.as_str(), c.password.as_str()),
        ("alice", "s3cret")
    );
    assert_eq!(c.file, a);
    let c = auth::lookup(&[b.clone(), a], "localhost:5000", "team/app")
        .unwrap()
        .unwrap();
    assert_eq!(
        (c.username.as_str(), c.password.as_str()),
        ("bob", "pw:with:colons")
    );
    let c = auth::lookup(std::slice::from_ref(&b), "docker.io", "library/nginx")
        .unwrap()
        .unwrap();
    assert_eq!(c.username, "hub");
    assert_eq!(auth::lookup(&[b], "other:1", "x").unwrap(), None);
    let broken = tmpfile("c.json", r#"{"auths":{"h:1":{"auth":"!!"}}}"#);
    let e = auth::lookup(&[broken], "h:1", "x").unwrap_err().to_string();
    assert!(
        e.contains("c.json") && e.contains("h:1") && e.contains("base64"),
        "{e}"
    );
}

#[test]
fn index_picks_the_host_platform() {
    let (os, arch) = host_platform();
    let idx = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
        {{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{D}","size":1,"platform":{{"os":"linux","architecture":"s390x"}}}},
        {{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:{}","size":2,"platform":{{"os":"{os}","architecture":"{arch}"}}}}]}}"#,
        "f".repeat(64)
    );
    let Document::Index(i) = Document::parse(idx.as_bytes(), "x").unwrap() else {
        panic!("not an index")
    };
    assert_eq!(select(&i, os, arch).unwrap().size(), 2);
    assert!(select(&i, "linux", "mips").is_none());
}

#[test]
fn image_config_keeps_the_runtime_defaults() {
    let c = ImageConfig::parse(
        br#"{"architecture":"amd64","config":{"Entrypoint":["/docker-entrypoint.sh"],
        "Cmd":["nginx","-g","daemon off;"],"Env":["PATH=/usr/bin"],"WorkingDir":"/srv",
        "User":"101:101","StopSignal":"SIGQUIT","ExposedPorts":{"80/tcp":{}},"Labels":{"a":"b"}},
        "rootfs":{"type":"layers","diff_ids":["sha256:aa"]}}"#,
    )
    .unwrap();
    assert_eq!(
        c.command(),
        ["/docker-entrypoint.sh", "nginx", "-g", "daemon off;"]
    );
    assert_eq!(c.process.env, ["PATH=/usr/bin"]);
    assert_eq!(c.process.working_dir.as_deref(), Some("/srv"));
    assert_eq!(c.process.user.as_deref(), Some("101:101"));
    assert_eq!(c.process.stop_signal.as_deref(), Some("SIGQUIT"));
    assert_eq!(c.exposed_ports, ["80/tcp"]);
    assert_eq!(c.diff_ids, ["sha256:aa"]);
    assert_eq!(ImageConfig::parse(b"{}").unwrap(), ImageConfig::default());
}

#[test]
fn digests_are_validated() {
    assert!(Digest::parse(D).is_ok());
    assert!(Digest::parse(&D.to_uppercase()).is_err());
    assert!(Digest::parse("sha512:00").is_err());
    assert_eq!(
        Digest::of(b"").as_str(),
        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
}

/// A manifest as `json`, parsed.
fn doc(json: &str) -> Result<Document, super::manifest::ManifestError> {
    Document::parse(json.as_bytes(), "sha256:x")
}

fn descriptor(media_type: &str, digest: &str) -> String {
    format!(r#"{{"mediaType":"{media_type}","digest":"{digest}","size":3}}"#)
}

#[test]
fn docker_schema_2_manifests_and_lists_are_read_as_podman_reads_them() {
    let layer = descriptor("application/vnd.docker.image.rootfs.diff.tar.gzip", D);
    let config = descriptor("application/vnd.docker.container.image.v1+json", D);
    let m = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{config},"layers":[{layer},{layer}]}}"#
    );
    let Document::Manifest(m) = doc(&m).unwrap() else {
        panic!("not a manifest")
    };
    assert_eq!(m.layers().len(), 2);
    assert_eq!(
        m.layers()[0].media_type().as_ref(),
        "application/vnd.docker.image.rootfs.diff.tar.gzip"
    );
    assert_eq!(m.config().digest().as_ref(), D);
    let (os, arch) = host_platform();
    let list = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":[
        {{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","digest":"{D}","size":7,"platform":{{"os":"{os}","architecture":"{arch}","variant":"v8"}}}}]}}"#
    );
    let Document::Index(i) = doc(&list).unwrap() else {
        panic!("not an index")
    };
    assert_eq!(select(&i, os, arch).unwrap().size(), 7);
}

#[test]
fn documents_are_told_apart_by_shape_and_tolerate_missing_media_types() {
    // No mediaType anywhere, no schemaVersion in the manifest: accepted as
    // before (an empty descriptor media type).
    let m = format!(
        r#"{{"config":{{"digest":"{D}","size":1}},"layers":[{{"digest":"{D}","size":2}}]}}"#
    );
    let Document::Manifest(m) = doc(&m).unwrap() else {
        panic!("not a manifest")
    };
    assert_eq!(m.layers()[0].media_type().as_ref(), "");
    assert_eq!(m.layers()[0].size(), 2);
    let i = format!(r#"{{"schemaVersion":2,"manifests":[{{"digest":"{D}","size":1}}]}}"#);
    let Document::Index(i) = doc(&i).unwrap() else {
        panic!("not an index")
    };
    // One entry without a platform is the image for every host.
    assert_eq!(select(&i, "linux", "mips").unwrap().size(), 1);
}

#[test]
fn unknown_media_types_and_bad_digests_are_refused() {
    for media_type in [
        "application/vnd.docker.distribution.manifest.v1+prettyjws",
        "application/vnd.oci.artifact.manifest.v1+json",
        "text/html",
    ] {
        let e = doc(&format!(r#"{{"mediaType":"{media_type}","manifests":[]}}"#))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("unsupported media type") && e.contains(media_type),
            "{e}"
        );
    }
    let good = descriptor("application/vnd.oci.image.layer.v1.tar+gzip", D);
    // sha512 is a valid OCI digest, but the store keeps sha256 only.
    for (what, bad) in [
        ("config", D.to_uppercase()),
        ("layer", format!("sha512:{}", "a".repeat(128))),
        ("layer", "sha256:../../etc/passwd".to_string()),
    ] {
        let bad = descriptor("application/vnd.oci.image.layer.v1.tar+gzip", &bad);
        let (config, layer) = if what == "config" {
            (&bad, &good)
        } else {
            (&good, &bad)
        };
        let m = format!(r#"{{"schemaVersion":2,"config":{config},"layers":[{good},{layer}]}}"#);
        let e = doc(&m).unwrap_err().to_string();
        assert!(e.contains(&format!("{what} has invalid digest")), "{e}");
    }
    // Any malformed digest in an index refuses the whole index.
    let i = format!(
        r#"{{"schemaVersion":2,"manifests":[{},{}]}}"#,
        descriptor(super::manifest::OCI_MANIFEST, D),
        descriptor(super::manifest::OCI_MANIFEST, "sha256:zz"),
    );
    assert!(doc(&i).is_err());
    for broken in [
        "",
        "[]",
        "{",
        r#"{"mediaType":5,"config":{}}"#,
        r#"{"layers":[]}"#,
    ] {
        assert!(doc(broken).is_err(), "{broken:?}");
    }
}
