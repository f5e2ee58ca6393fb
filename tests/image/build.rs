//! Builds layer tars, images and OCI layouts in memory for the image tests,
//! including entries a well-behaved tar writer refuses (`..`, absolute).

use podctl::image::Digest;
use podctl::image::manifest::{Descriptor, MediaType, Platform};
use std::collections::HashMap;
use std::path::Path;

/// One tar entry.
pub enum E<'a> {
    File(&'a str, &'a [u8]),
    Dir(&'a str),
    Symlink(&'a str, &'a str),
    Hard(&'a str, &'a str),
    /// path, mode, uid, gid, content
    Owned(&'a str, u32, u64, u64, &'a [u8]),
    /// A directory: path, mode, uid, gid
    OwnedDir(&'a str, u32, u64, u64),
    Char(&'a str, u32, u32),
    Block(&'a str, u32, u32),
    /// A GNU sparse file: path, full size, offset of the data, the data.
    Sparse(&'a str, u64, u64, &'a [u8]),
    Fifo(&'a str),
    /// path, xattr name, value (a PAX `SCHILY.xattr.` record)
    Xattr(&'a str, &'a str, &'a [u8]),
}

fn header(name: &str, kind: tar::EntryType, size: u64, mode: u32) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(mode);
    h.set_mtime(1_700_000_000);
    h.set_uid(0);
    h.set_gid(0);
    // Raw bytes: tar's set_path refuses ".." and absolute names, and the
    // point is to feed exactly those to the unpacker.
    let raw = &mut h.as_old_mut().name;
    raw.fill(0);
    raw[..name.len()].copy_from_slice(name.as_bytes());
    h
}

/// A GNU sparse header: `len` bytes of data at `offset`, holes elsewhere.
fn sparse(name: &str, size: u64, offset: u64, len: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_path(name).unwrap();
    h.set_entry_type(tar::EntryType::GNUSparse);
    h.set_size(len);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mode(0o644);
    h.set_mtime(1_700_000_000);
    let g = h.as_gnu_mut().unwrap();
    g.set_real_size(size);
    g.sparse[0].set_offset(offset);
    g.sparse[0].set_length(len);
    // The map ends at the full size (an empty run there, as GNU tar writes).
    g.sparse[1].set_offset(size);
    g.sparse[1].set_length(0);
    h
}

fn link(h: &mut tar::Header, target: &str) {
    let raw = &mut h.as_old_mut().linkname;
    raw.fill(0);
    raw[..target.len()].copy_from_slice(target.as_bytes());
}

/// An uncompressed layer tar of `entries`.
pub fn tar(entries: &[E]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        let (mut h, data): (tar::Header, &[u8]) = match e {
            E::File(p, d) => (header(p, tar::EntryType::Regular, d.len() as u64, 0o644), d),
            E::Dir(p) => (header(p, tar::EntryType::Directory, 0, 0o755), b""),
            E::Symlink(p, t) => {
                let mut h = header(p, tar::EntryType::Symlink, 0, 0o777);
                link(&mut h, t);
                (h, b"")
            }
            E::Hard(p, t) => {
                let mut h = header(p, tar::EntryType::Link, 0, 0o644);
                link(&mut h, t);
                (h, b"")
            }
            E::Owned(p, mode, uid, gid, d) => {
                let mut h = header(p, tar::EntryType::Regular, d.len() as u64, *mode);
                h.set_uid(*uid);
                h.set_gid(*gid);
                (h, d)
            }
            E::OwnedDir(p, mode, uid, gid) => {
                let mut h = header(p, tar::EntryType::Directory, 0, *mode);
                h.set_uid(*uid);
                h.set_gid(*gid);
                (h, b"")
            }
            E::Char(p, major, minor) => {
                let mut h = header(p, tar::EntryType::Char, 0, 0o666);
                h.set_device_major(*major).unwrap();
                h.set_device_minor(*minor).unwrap();
                (h, b"")
            }
            E::Block(p, major, minor) => {
                let mut h = header(p, tar::EntryType::Block, 0, 0o666);
                h.set_device_major(*major).unwrap();
                h.set_device_minor(*minor).unwrap();
                (h, b"")
            }
            E::Sparse(p, size, offset, d) => (sparse(p, *size, *offset, d.len() as u64), d),
            E::Fifo(p) => (header(p, tar::EntryType::Fifo, 0, 0o600), b""),
            E::Xattr(p, name, value) => {
                let key = format!("SCHILY.xattr.{name}");
                b.append_pax_extensions([(key.as_str(), *value)]).unwrap();
                (header(p, tar::EntryType::Regular, 1, 0o644), b"x")
            }
        };
        h.set_cksum();
        b.append(&h, data).unwrap();
    }
    b.into_inner().unwrap()
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

pub fn zstd(data: &[u8]) -> Vec<u8> {
    ruzstd::encoding::compress_to_vec(data, ruzstd::encoding::CompressionLevel::Fastest)
}

/// Blobs by digest and manifests by tag: an image repository in memory.
#[derive(Default, Clone)]
pub struct Repo {
    pub blobs: HashMap<String, Vec<u8>>,
    pub tags: HashMap<String, String>,
}

fn desc(media_type: &str, data: &[u8]) -> Descriptor {
    Descriptor::new(
        MediaType::from(media_type),
        data.len() as u64,
        &Digest::of(data),
    )
}

fn platform(os: &str, arch: &str) -> Platform {
    let mut p = Platform::default();
    p.set_os(os.into());
    p.set_architecture(arch.into());
    p
}

impl Repo {
    pub fn add(&mut self, data: Vec<u8>) -> String {
        let d = Digest::of(&data).to_string();
        self.blobs.insert(d.clone(), data);
        d
    }

    /// An image of gzip `layers` with `cmd`, tagged `tag`; returns the manifest digest.
    pub fn image(&mut self, tag: &str, layers: &[Vec<u8>], cmd: &str) -> String {
        let config = format!(
            r#"{{"architecture":"amd64","os":"linux","config":{{"Cmd":["{cmd}"]}},"rootfs":{{"type":"layers","diff_ids":[]}}}}"#
        )
        .into_bytes();
        let cd = desc("application/vnd.oci.image.config.v1+json", &config);
        self.add(config);
        let ls: Vec<Descriptor> = layers
            .iter()
            .map(|l| {
                let d = desc("application/vnd.oci.image.layer.v1.tar+gzip", l);
                self.add(l.clone());
                d
            })
            .collect();
        let m = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": cd, "layers": ls,
        });
        let md = self.add(serde_json::to_vec(&m).unwrap());
        self.tags.insert(tag.into(), md.clone());
        md
    }

    /// An index over `manifest` for the host platform plus a foreign one, tagged `tag`.
    pub fn index(&mut self, tag: &str, manifest: &str) -> String {
        let (os, arch) = podctl::image::manifest::host_platform();
        let size = self.blobs[manifest].len() as u64;
        let mut host = desc("application/vnd.oci.image.manifest.v1+json", b"");
        host.set_digest(manifest.parse().unwrap());
        host.set_size(size);
        host.set_platform(Some(platform(os, arch)));
        let mut foreign = host.clone();
        foreign.set_digest(format!("sha256:{}", "e".repeat(64)).parse().unwrap());
        foreign.set_platform(Some(platform("linux", "s390x")));
        let i = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [foreign, host],
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
        let ms: Vec<serde_json::Value> = self
            .tags
            .iter()
            .map(|(t, d)| {
                serde_json::json!({"mediaType":"application/vnd.oci.image.manifest.v1+json",
                "digest": d, "size": self.blobs[d].len(),
                "annotations": {"org.opencontainers.image.ref.name": t}})
            })
            .collect();
        std::fs::write(
            dir.join("index.json"),
            serde_json::to_vec(&serde_json::json!({"schemaVersion":2,"manifests":ms})).unwrap(),
        )
        .unwrap();
        std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    }
}
