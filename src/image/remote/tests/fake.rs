//! Images built in memory, written as an OCI layout or archive, or served
//! by a registry on a loopback port that answers the distribution API's
//! GETs and logs each request.

use crate::image::Digest;
use crate::image::manifest::host_platform;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// A temporary directory, removed when dropped.
pub struct Tmp(pub PathBuf);

impl Tmp {
    pub fn new(tag: &str) -> Tmp {
        let d = std::env::temp_dir().join(format!("podctl-remote-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Tmp(d)
    }
}

impl Drop for Tmp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

fn descriptor(media_type: &str, digest: &Digest, size: usize) -> Value {
    json!({"mediaType": media_type, "digest": digest.as_str(), "size": size})
}

/// Blobs by digest and manifests by tag.
#[derive(Default, Clone)]
pub struct Repo {
    pub blobs: HashMap<String, Vec<u8>>,
    pub tags: BTreeMap<String, Digest>,
}

impl Repo {
    pub fn add(&mut self, data: Vec<u8>) -> Digest {
        let d = Digest::of(&data);
        self.blobs.insert(d.to_string(), data);
        d
    }

    /// An image of one plain tar layer holding `/hello` (`content`), tagged `tag`.
    pub fn image(&mut self, tag: &str, content: &str) -> Digest {
        let mut layer = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(content.len() as u64);
        h.set_mode(0o644);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(1_700_000_000);
        layer
            .append_data(&mut h, "hello", content.as_bytes())
            .unwrap();
        let layer = layer.into_inner().unwrap();
        let config = br#"{"architecture":"amd64","os":"linux","config":{"Cmd":["/hello"]},"rootfs":{"type":"layers","diff_ids":[]}}"#.to_vec();
        let (ls, cs) = (layer.len(), config.len());
        let m = json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": descriptor("application/vnd.oci.image.config.v1+json", &self.add(config), cs),
            "layers": [descriptor("application/vnd.oci.image.layer.v1.tar", &self.add(layer), ls)],
        });
        let d = self.add(serde_json::to_vec(&m).unwrap());
        self.tags.insert(tag.into(), d.clone());
        d
    }

    /// An index tagged `tag`: `foreign` for linux/s390x first, then `host` for this host.
    pub fn index(&mut self, tag: &str, foreign: &Digest, host: &Digest) -> Digest {
        let (os, arch) = host_platform();
        let entry = |d: &Digest, os: &str, arch: &str| {
            let mut e = descriptor(OCI_MANIFEST, d, self.blobs[d.as_str()].len());
            e["platform"] = json!({"os": os, "architecture": arch});
            e
        };
        let i = json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [entry(foreign, "linux", "s390x"), entry(host, os, arch)],
        });
        let d = self.add(serde_json::to_vec(&i).unwrap());
        self.tags.insert(tag.into(), d.clone());
        d
    }

    /// Writes this repository as an OCI layout at `dir`.
    pub fn write_layout(&self, dir: &Path) {
        std::fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
        for (d, data) in &self.blobs {
            std::fs::write(dir.join("blobs/sha256").join(&d[7..]), data).unwrap();
        }
        let ms: Vec<Value> = self
            .tags
            .iter()
            .map(|(t, d)| {
                let mut e = descriptor(OCI_MANIFEST, d, self.blobs[d.as_str()].len());
                e["annotations"] = json!({"org.opencontainers.image.ref.name": t});
                e
            })
            .collect();
        let index = json!({"schemaVersion": 2, "manifests": ms});
        std::fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
        std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    }

    /// Writes the layout at `dir` as the tar `archive`, its names under
    /// `./` as `tar -C dir -cf archive .` writes them.
    pub fn write_archive(&self, dir: &Path, archive: &Path) {
        self.write_layout(dir);
        let mut b = tar::Builder::new(std::fs::File::create(archive).unwrap());
        b.append_dir_all(".", dir).unwrap();
        b.finish().unwrap();
    }
}

/// The digest a lying registry claims for every manifest.
pub fn claimed() -> Digest {
    Digest::of(b"something else")
}

/// A registry serving `repo` as repository `app` over plain HTTP.
pub struct Registry {
    /// `127.0.0.1:PORT`.
    pub host: String,
    /// `GET PATH` of every request, in order.
    pub log: Arc<Mutex<Vec<String>>>,
}

impl Registry {
    /// Serves `repo`; a manifest named in `lie` is answered with a
    /// `Docker-Content-Digest` that is not its digest.
    pub fn serve(repo: Repo, lie: &[&str]) -> Registry {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let host = listener.local_addr().unwrap().to_string();
        let log = Arc::new(Mutex::new(Vec::new()));
        let l = log.clone();
        let lie: Vec<String> = lie.iter().map(|s| s.to_string()).collect();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                answer(conn, &repo, &lie, &l);
            }
        });
        Registry { host, log }
    }

    /// The requests that asked for a blob.
    pub fn blob_requests(&self) -> Vec<String> {
        let log = self.log.lock().unwrap();
        log.iter()
            .filter(|r| r.contains("/blobs/"))
            .cloned()
            .collect()
    }
}

fn answer(conn: TcpStream, repo: &Repo, lie: &[String], log: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(conn);
    let mut first = String::new();
    if reader.read_line(&mut first).is_err() {
        return;
    }
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) if line == "\r\n" => break,
            Ok(_) => {}
        }
    }
    let path = first.split(' ').nth(1).unwrap_or("").to_string();
    log.lock().unwrap().push(format!("GET {path}"));
    let not_found = (
        "404 Not Found",
        "application/json".to_string(),
        String::new(),
        br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"unknown"}]}"#.to_vec(),
    );
    let (status, content_type, digest, body) = if path == "/v2/" {
        (
            "200 OK",
            "application/json".into(),
            String::new(),
            b"{}".to_vec(),
        )
    } else if let Some(r) = path.strip_prefix("/v2/app/manifests/") {
        let d = repo.tags.get(r).map_or(r.to_string(), |d| d.to_string());
        match repo.blobs.get(&d) {
            Some(body) => {
                let media_type = serde_json::from_slice::<Value>(body).unwrap()["mediaType"]
                    .as_str()
                    .unwrap()
                    .to_string();
                let claimed = if lie.iter().any(|l| l == r) {
                    claimed().to_string()
                } else {
                    d
                };
                let header = format!("Docker-Content-Digest: {claimed}\r\n");
                ("200 OK", media_type, header, body.clone())
            }
            None => not_found,
        }
    } else if let Some(d) = path.strip_prefix("/v2/app/blobs/") {
        match repo.blobs.get(d) {
            Some(body) => (
                "200 OK",
                "application/octet-stream".into(),
                String::new(),
                body.clone(),
            ),
            None => not_found,
        }
    } else {
        not_found
    };
    let mut conn = reader.into_inner();
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n{digest}Connection: close\r\n\r\n",
        body.len()
    );
    let _ = conn.write_all(head.as_bytes());
    let _ = conn.write_all(&body);
}
