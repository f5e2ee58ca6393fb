//! What an image container's plan takes from its image. The facts about
//! each image (its stored name, digest, layers and the defaults its config
//! sets) are gathered first, by the image store ([`crate::image::facts`]);
//! [`super::assemble`] then fills every image container from them, here,
//! without touching the host: the effective command (Kubernetes rules),
//! environment, working directory, user, stop signal and the layers of its
//! root. Nothing changes a plan after it is assembled.

use crate::model::ports::{PortMapping, Protocol};
use crate::model::{Container, User};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// What the host says about a pod before its plan is assembled: the images
/// as the image store has them, by the reference the pod file writes
/// (`nginx:alpine`; empty for a pod of host-root containers, or when nothing
/// was looked up: a plan only shown), and the range of IDs the pod's user
/// namespace was given (`userns = "auto"`; `None`: none allocated yet, or
/// the pod uses the host's or a fixed range).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Facts {
    pub images: BTreeMap<String, ImageFacts>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ids: Option<crate::model::IdMap>,
    /// A user's pods (rootless): the user's mapping, every pod's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<crate::model::UserMap>,
}

impl Facts {
    pub fn is_empty(&self) -> bool {
        self.images.is_empty() && self.ids.is_none() && self.user.is_none()
    }
}

/// A state file written before pods had user namespaces holds the images
/// alone (a map by reference); both forms read.
impl<'de> Deserialize<'de> for Facts {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Current {
            images: BTreeMap<String, ImageFacts>,
            #[serde(default)]
            ids: Option<crate::model::IdMap>,
            #[serde(default)]
            user: Option<crate::model::UserMap>,
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            Current(Current),
            Images(BTreeMap<String, ImageFacts>),
        }
        Ok(match Either::deserialize(d)? {
            Either::Current(c) => Facts {
                images: c.images,
                ids: c.ids,
                user: c.user,
            },
            Either::Images(images) => Facts {
                images,
                ids: None,
                user: None,
            },
        })
    }
}

/// One stored image, as a container's plan uses it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageFacts {
    /// The stored name (`docker.io/library/nginx:alpine`).
    pub name: String,
    /// The manifest digest (`sha256:...`).
    pub digest: String,
    /// Unpacked layer directories, lowest first.
    pub layers: Vec<PathBuf>,
    /// What the image's config sets for the process.
    #[serde(default)]
    pub defaults: ImageDefaults,
    /// The image's `ExposedPorts`, typed and sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exposed_ports: Vec<ExposedPort>,
}

/// The process defaults of an image's config (empty: not set).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageDefaults {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entrypoint: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cmd: Vec<String>,
    /// `KEY=VALUE` entries, in the image's order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_signal: Option<String>,
}

/// A container's image in its plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImagePlan {
    /// As the pod file writes it.
    pub reference: String,
    /// What the store holds under it; `None`: not looked up (a plan only
    /// shown, of an image not pulled yet).
    #[serde(default)]
    pub stored: Option<StoredImage>,
}

/// The stored image a container's root is made of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredImage {
    /// The stored name (`docker.io/library/nginx:alpine`).
    pub name: String,
    /// The manifest digest (`sha256:...`).
    pub digest: String,
    /// Unpacked layer directories, lowest first.
    pub layers: Vec<PathBuf>,
    /// The image's `ExposedPorts`: shown, never published by themselves.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exposed_ports: Vec<ExposedPort>,
}

impl ImagePlan {
    pub fn new(reference: &str) -> ImagePlan {
        ImagePlan {
            reference: reference.to_string(),
            stored: None,
        }
    }
}

/// What container `c` runs from image `f`, into its plan `p`: the pod
/// file's keys where it sets them, else the image's config.
pub(super) fn fill(p: &mut super::ContainerPlan, c: &Container, f: &ImageFacts) {
    let d = &f.defaults;
    p.process.argv = effective_command(d, c.command.as_deref(), c.args.as_deref());
    let pod_env: Vec<(String, String)> =
        c.env.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let mut env = effective_env(d, &pod_env);
    if !env.iter().any(|(k, _)| k == "PATH") {
        env.insert(0, ("PATH".into(), super::DEFAULT_PATH.into()));
    }
    if !env.iter().any(|(k, _)| k == "container") {
        env.push(("container".into(), "podctl".into()));
    }
    p.process.env = env;
    p.process.workdir = c
        .workdir
        .clone()
        .or_else(|| d.working_dir.clone().filter(|w| w.starts_with('/')))
        .unwrap_or_else(|| "/".into());
    let user = c.user.clone().or_else(|| image_user(d.user.as_deref()));
    if user != c.user {
        // The capability sets depend on whether it runs as root.
        let mut as_image = c.clone();
        as_image.user = user.clone();
        p.security = super::security::build(&as_image);
    }
    p.process.user = user;
    p.stop_signal = c
        .stop_signal
        .or_else(|| d.stop_signal.as_deref().and_then(parse_signal))
        .unwrap_or(crate::model::DEFAULT_STOP_SIGNAL);
    p.image = Some(ImagePlan {
        reference: c.image.clone().unwrap_or_default(),
        stored: Some(StoredImage {
            name: f.name.clone(),
            digest: f.digest.clone(),
            layers: f.layers.clone(),
            exposed_ports: f.exposed_ports.clone(),
        }),
    });
}

/// The process a container runs: the pod file's `command`/`args` over the
/// image's `Entrypoint`/`Cmd`.
///
/// | command | args | runs |
/// | --- | --- | --- |
/// | - | - | Entrypoint + Cmd |
/// | - | A | Entrypoint + A |
/// | C | - | C |
/// | C | A | C + A |
pub fn effective_command(
    image: &ImageDefaults,
    command: Option<&[String]>,
    args: Option<&[String]>,
) -> Vec<String> {
    match (command, args) {
        (Some(c), a) => c.iter().chain(a.unwrap_or_default()).cloned().collect(),
        (None, Some(a)) => image.entrypoint.iter().chain(a).cloned().collect(),
        (None, None) => image.entrypoint.iter().chain(&image.cmd).cloned().collect(),
    }
}

/// The image's `Env` with the pod file's entries on top (same name: the pod
/// file wins), in the image's order, then the pod file's new names.
pub fn effective_env(image: &ImageDefaults, pod: &[(String, String)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = image
        .env
        .iter()
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (kv.clone(), String::new()),
        })
        .collect();
    for (k, v) in pod {
        match out.iter_mut().find(|(ok, _)| ok == k) {
            Some(slot) => slot.1 = v.clone(),
            None => out.push((k.clone(), v.clone())),
        }
    }
    out
}

/// The image config's `User`: `name`, `uid`, `uid:gid`, `name:group`
/// (names are looked up in the image's own /etc/passwd and /etc/group when
/// the container starts). Empty: root.
pub fn image_user(user: Option<&str>) -> Option<User> {
    let u = user.map(str::trim).filter(|u| !u.is_empty())?;
    Some(crate::spec::names::parse_user(u).unwrap_or_else(|| User::Name(u.to_string())))
}

/// `SIGQUIT`, `QUIT`, `3`: what images write in `StopSignal`.
pub fn parse_signal(s: &str) -> Option<i32> {
    let s = s.trim();
    if let Ok(n) = s.parse::<i32>() {
        return (1..=64).contains(&n).then_some(n);
    }
    let up = s.to_ascii_uppercase();
    let name = up.strip_prefix("SIG").unwrap_or(&up);
    nix::sys::signal::Signal::iterator()
        .find(|sig| sig.as_str().strip_prefix("SIG") == Some(name))
        .map(|sig| sig as i32)
}

/// A port the image's `ExposedPorts` names: what the image says it listens
/// on, in the pod's network namespace. It publishes nothing by itself: only
/// the pod's `ports` do (Podman publishes them only with `-P`, Kubernetes
/// never); `apply --dry-run` shows each and whether `ports` publishes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ExposedPort {
    pub port: u16,
    pub protocol: Protocol,
}

impl ExposedPort {
    /// `80/tcp`, `53/udp`, `9/sctp`, or `80` (tcp, as Docker reads it).
    pub fn parse(s: &str) -> Option<ExposedPort> {
        let (port, proto) = s.trim().split_once('/').unwrap_or((s.trim(), "tcp"));
        let protocol = Protocol::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(proto))?;
        let port: u16 = port.parse().ok().filter(|p| *p > 0)?;
        Some(ExposedPort { port, protocol })
    }

    /// Whether `m` forwards a host port to this one.
    pub fn published_by(&self, m: &PortMapping) -> bool {
        m.protocol == self.protocol
            && (m.container_port..=m.container_port.saturating_add(m.range - 1))
                .contains(&self.port)
    }
}

impl std::fmt::Display for ExposedPort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.port, self.protocol)
    }
}

/// How `apply --dry-run` shows an image's exposed ports against the pod's
/// `ports`: `80/tcp (published as 8080:80/tcp), 443/tcp (not published)`,
/// with a hint when one is not published; None when the image exposes none.
pub fn exposure(exposed: &[ExposedPort], published: &[PortMapping]) -> Option<String> {
    if exposed.is_empty() {
        return None;
    }
    let mut unpublished = false;
    let items: Vec<String> = exposed
        .iter()
        .map(|e| {
            let by: Vec<String> = published
                .iter()
                .filter(|m| e.published_by(m))
                .map(|m| m.to_string())
                .collect();
            if by.is_empty() {
                unpublished = true;
                format!("{e} (not published)")
            } else {
                format!("{e} (published as {})", by.join(", "))
            }
        })
        .collect();
    let mut out = format!("exposes: {}", items.join(", "));
    if unpublished {
        out.push_str(
            "; the image's ExposedPorts publish nothing by themselves: the pod's `ports` do",
        );
    }
    Some(out)
}

#[cfg(test)]
mod tests;
