//! `podctl pull`, `images`, `rmi`, `image prune`: thin wrappers over
//! [`crate::image`] on the system store.

use crate::image::catalog::{self, ImageInfo};
use crate::image::progress::{self, mib};
use crate::image::resolve::{self, ImageError};
use crate::image::{HostConfig, Store};
use crate::layout::Layout;

/// The image store of the layout's owner ([`Layout::images`]: root's, or
/// the user's).
fn store(paths: &Layout) -> anyhow::Result<Store> {
    Ok(Store::of(paths)?)
}

/// The stored pod definitions (those that do not validate use nothing).
fn stored_pods(paths: &Layout) -> Vec<(String, crate::model::Pod)> {
    crate::apply::stored_pods(paths)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|n| Some((n.clone(), crate::spec::load(&paths.definition(&n)).ok()?)))
        .collect()
}

/// Pods whose stored definitions use an image.
fn users(info: &ImageInfo, pods: &[(String, crate::model::Pod)]) -> Vec<String> {
    crate::image::facts::pods_using(&HostConfig::system(), pods, &info.reference)
}

/// `podctl pull IMAGE`: prints `NAME@DIGEST` once stored.
pub fn pull(paths: &Layout, image: &str) -> anyhow::Result<()> {
    super::check_owner("pull")?;
    // Retries are logged (stderr, or the journal under systemd).
    super::init_logging();
    let store = store(paths)?;
    let p = resolve::pull_image(
        &store,
        &HostConfig::system(),
        image,
        &*progress::for_stderr(),
    )?;
    println!("{}@{}", p.name, p.manifest);
    Ok(())
}

/// `podctl images [-o FORMAT]`.
pub fn images(paths: &Layout, format: super::output::Format) -> anyhow::Result<()> {
    let store = store(paths)?;
    let mut list = catalog::list(&store)?;
    let pods = stored_pods(paths);
    for i in &mut list {
        i.used_by = users(i, &pods);
    }
    if super::output::print(format, &list)? {
        return Ok(());
    }
    println!(
        "{:<50} {:<14} {:>10}  USED BY",
        "REFERENCE", "DIGEST", "SIZE"
    );
    for i in &list {
        let short = i.digest.trim_start_matches("sha256:");
        println!(
            "{:<50} {:<14} {:>10}  {}",
            i.reference,
            &short[..12.min(short.len())],
            mib(i.size),
            if i.used_by.is_empty() {
                "-".to_string()
            } else {
                i.used_by.join(",")
            }
        );
    }
    Ok(())
}

/// `podctl rmi IMAGE...`: forgets each name and removes what nothing else
/// uses; every image is checked (stored, unused) before any is removed.
/// `--all`: every image no stored pod uses.
pub fn rmi(paths: &Layout, images: &[String], all: bool) -> anyhow::Result<()> {
    super::check_owner("rmi")?;
    let store = store(paths)?;
    let host = HostConfig::system();
    let pods = stored_pods(paths);
    let list = catalog::list(&store)?;
    let mut names: Vec<(String, String)> = Vec::new();
    if all {
        for info in list.iter().filter(|i| users(i, &pods).is_empty()) {
            names.push((info.reference.clone(), info.digest.clone()));
        }
    }
    for image in images {
        let Some((name, digest)) = resolve::find(&store, &host, image)? else {
            return Err(ImageError::NotStored(image.to_string()).into());
        };
        if let Some(info) = list.iter().find(|i| i.reference == name)
            && let pods = users(info, &pods)
            && !pods.is_empty()
        {
            return Err(ImageError::InUse { image: name, pods }.into());
        }
        if !names.iter().any(|(n, _)| *n == name) {
            names.push((name, digest.to_string()));
        }
    }
    for (name, digest) in &names {
        store.remove_ref(name)?;
        println!("untagged {name}@{digest}");
    }
    let c = catalog::collect(
        &store,
        &crate::revision::pinned_manifests(&paths.revisions)?,
    )?;
    println!(
        "removed {} blobs, {} layers ({} freed)",
        c.blobs,
        c.layers,
        mib(c.bytes)
    );
    Ok(())
}

/// `podctl image prune`: removes images no stored pod uses, then every
/// blob and layer no remaining image reaches.
pub fn prune(paths: &Layout) -> anyhow::Result<()> {
    super::check_owner("image prune")?;
    let store = store(paths)?;
    let pods = stored_pods(paths);
    for info in catalog::list(&store)? {
        if users(&info, &pods).is_empty() {
            store.remove_ref(&info.reference)?;
            println!("untagged {}", info.reference);
        }
    }
    let c = catalog::collect(
        &store,
        &crate::revision::pinned_manifests(&paths.revisions)?,
    )?;
    println!(
        "removed {} blobs, {} layers ({} freed)",
        c.blobs,
        c.layers,
        mib(c.bytes)
    );
    Ok(())
}
