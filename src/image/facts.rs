//! The facts a pod's plan is assembled from, as the image store has them
//! ([`crate::plan::assemble`] fills the containers from them), and what
//! `apply` does before it changes anything: every image stored.

use super::resolve::{ImageError, Resolved};
use crate::model::Pod;
use crate::plan::Facts;
use crate::plan::image::ImageFacts;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The manifest an image reference of a pod means: its revision's pin
/// ([`crate::revision`]), whatever the tag names in the store now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pin {
    /// The stored name it was pulled as (`localhost:5000/app:1`).
    pub name: String,
    /// The manifest digest (`sha256:...`).
    pub digest: String,
}

/// Per image reference as the pod file writes it, its pin.
pub type Pins = BTreeMap<String, Pin>;

/// The pins of the images `facts` were gathered from.
pub fn pins_of(facts: &Facts) -> Pins {
    facts
        .images
        .iter()
        .map(|(r, f)| {
            let pin = Pin {
                name: f.name.clone(),
                digest: f.digest.clone(),
            };
            (r.clone(), pin)
        })
        .collect()
}

/// Where a pod's image facts come from: the system store, or a fake.
pub trait ImageSource {
    /// Every image the pod's containers name, looked up in the store only
    /// (never the network: a pod at boot runs what apply pulled); an image
    /// not stored is an error naming pod, container and reference.
    fn facts(&self, pod: &Pod) -> Result<Facts, ImageError>;
}

/// The images stored on this host, in the store at `root`
/// ([`crate::layout::Layout::images`]), each reference of a pod in `pins`
/// meaning its pinned manifest.
#[derive(Debug, Clone)]
pub struct SystemStore {
    pub root: std::path::PathBuf,
    /// Per pod, the pins apply settled on.
    pub pins: BTreeMap<String, Pins>,
}

impl SystemStore {
    pub fn at(root: &std::path::Path) -> SystemStore {
        SystemStore {
            root: root.to_path_buf(),
            pins: BTreeMap::new(),
        }
    }
}

impl ImageSource for SystemStore {
    fn facts(&self, pod: &Pod) -> Result<Facts, ImageError> {
        let none = Pins::new();
        stored(&self.root, pod, self.pins.get(&pod.name).unwrap_or(&none))
    }
}

/// The facts of one stored image.
pub fn of(r: &Resolved) -> ImageFacts {
    let c = &r.config;
    ImageFacts {
        name: r.name.clone(),
        digest: r.digest.to_string(),
        layers: r.layers.clone(),
        defaults: c.process.clone(),
        exposed_ports: c.exposed(),
    }
}

/// The facts of every image `pod` names, from what `lookup` finds; an
/// image not found is an error naming it.
pub fn gather(
    pod: &Pod,
    lookup: &mut dyn FnMut(&str) -> Result<Option<Resolved>, ImageError>,
) -> Result<Facts, ImageError> {
    let mut facts = Facts::default();
    for c in &pod.containers {
        let Some(reference) = c.image.as_deref() else {
            continue;
        };
        if facts.images.contains_key(reference) {
            continue;
        }
        let resolved = lookup(reference)?.ok_or_else(|| ImageError::NotPulled {
            pod: pod.name.clone(),
            container: c.name.clone(),
            reference: reference.to_string(),
        })?;
        facts.images.insert(reference.to_string(), of(&resolved));
    }
    Ok(facts)
}

/// [`gather`] against the store at `root`, a pinned reference meaning its
/// pinned manifest: what the supervisor and `apply` assemble their plans
/// from.
pub fn stored(root: &std::path::Path, pod: &Pod, pins: &Pins) -> Result<Facts, ImageError> {
    if pod.containers.iter().all(|c| c.image.is_none()) {
        return Ok(Facts::default());
    }
    let store = super::Store::open(root)?;
    let host = super::HostConfig::system();
    gather(pod, &mut |r| lookup(&store, &host, pins, r))
}

/// `reference` in `store`: its pinned manifest if `pins` has one, else
/// what the tag names.
pub fn lookup(
    store: &super::Store,
    host: &super::HostConfig,
    pins: &Pins,
    reference: &str,
) -> Result<Option<Resolved>, ImageError> {
    match pins.get(reference) {
        Some(pin) => {
            let digest = super::Digest::parse(&pin.digest).map_err(|e| ImageError::Broken {
                reference: pin.name.clone(),
                why: format!("pinned digest {}: {e}", pin.digest),
            })?;
            super::resolve::by_digest(store, &pin.name, &digest)
        }
        None => super::resolve::stored(store, host, reference),
    }
}

/// For `apply --dry-run`, `diff` and `validate`: the facts of the images
/// stored already (nothing is pulled, no store is created), pinned ones as
/// pinned; the others are left out, and their containers' plans say so.
pub fn if_stored(root: &std::path::Path, pod: &Pod, pins: &Pins) -> Facts {
    let mut facts = Facts::default();
    if pod.containers.iter().all(|c| c.image.is_none()) || !root.join("oci-layout").exists() {
        return facts;
    }
    let Ok(store) = super::Store::open(root) else {
        return facts;
    };
    let host = super::HostConfig::system();
    for reference in pod.containers.iter().filter_map(|c| c.image.as_deref()) {
        if let Ok(Some(r)) = lookup(&store, &host, pins, reference) {
            facts.images.insert(reference.to_string(), of(&r));
        }
    }
    facts
}

/// The pods of `pods` (name, definition) with a container whose image is
/// stored as `stored_name`, sorted.
pub fn pods_using(
    host: &super::HostConfig,
    pods: &[(String, Pod)],
    stored_name: &str,
) -> Vec<String> {
    let mut out: Vec<String> = pods
        .iter()
        .filter(|(_, pod)| {
            pod.containers.iter().any(|c| {
                c.image.as_deref().is_some_and(|r| {
                    super::ImageRef::parse(r)
                        .ok()
                        .and_then(|r| super::resolve::stored_names(host, &r).ok())
                        .is_some_and(|names| names.iter().any(|n| n == stored_name))
                })
            })
        })
        .map(|(name, _)| name.clone())
        .collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::{Digest, ImageConfig};

    fn pod_of(src: &str) -> Pod {
        crate::spec::parse_str(src, "t.toml", "t").unwrap()
    }

    #[test]
    fn an_image_not_stored_is_named() {
        let pod = pod_of("[containers.web]\nimage = \"nginx:alpine\"\n");
        let e = gather(&pod, &mut |_| Ok(None)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "pod t container web: image nginx:alpine is not stored (podctl apply pulls it; a pod never pulls when it starts)"
        );
    }

    #[test]
    fn each_reference_is_looked_up_once_and_kept_whole() {
        let pod = pod_of(
            "[containers.a]\nimage = \"nginx:alpine\"\n[containers.b]\nimage = \"nginx:alpine\"\n",
        );
        let mut lookups = 0;
        let facts = gather(&pod, &mut |r| {
            lookups += 1;
            Ok(Some(Resolved {
                name: format!("docker.io/library/{r}"),
                digest: Digest::parse(&format!("sha256:{}", "ab".repeat(32))).unwrap(),
                config: ImageConfig {
                    process: crate::plan::image::ImageDefaults {
                        cmd: vec!["nginx".into()],
                        user: Some("101".into()),
                        ..Default::default()
                    },
                    exposed_ports: vec!["80/tcp".into()],
                    ..Default::default()
                },
                layers: vec!["/s/layers/a".into()],
            }))
        })
        .unwrap();
        assert_eq!(lookups, 1);
        let f = &facts.images["nginx:alpine"];
        assert_eq!(f.name, "docker.io/library/nginx:alpine");
        assert_eq!(f.defaults.cmd, ["nginx"]);
        assert_eq!(f.defaults.user.as_deref(), Some("101"));
        assert_eq!(f.exposed_ports.len(), 1);
    }

    #[test]
    fn pods_using_an_image_by_any_name() {
        let host = crate::image::HostConfig {
            registries_conf: "/nonexistent/registries.conf".into(),
            auth_files: vec![],
            certs_d: "/nonexistent".into(),
        };
        let pod = |name: &str, image: &str| {
            let src = format!("[containers.a]\nimage = \"{image}\"\n");
            (name.to_string(), pod_of(&src))
        };
        let host_pod = (
            "h".to_string(),
            pod_of("[containers.a]\ncommand = [\"true\"]\n"),
        );
        let pods = vec![
            pod("web", "nginx:alpine"),
            pod("api", "docker.io/library/nginx:alpine"),
            pod("other", "nginx:latest"),
            host_pod,
        ];
        assert_eq!(
            pods_using(&host, &pods, "docker.io/library/nginx:alpine"),
            ["api", "web"]
        );
        assert!(pods_using(&host, &pods, "docker.io/library/busybox:1").is_empty());
    }
}
