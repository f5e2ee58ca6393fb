//! Containers run from images: what a container's plan takes from its stored
//! image, decided without touching the host. [`crate::plan::build`] marks an
//! image container with its reference ([`ImagePlan`], not resolved yet);
//! [`resolve_plan`] looks every reference up in the store (never the network:
//! a pod at boot runs what apply pulled) and fills in the effective command
//! (Kubernetes rules, [`super::rootfs::effective_command`]), environment,
//! working directory, user, stop signal and the layers of its root.

use super::resolve::{ImageError, Resolved};
use crate::model::{Container, Pod, User};
use crate::plan::{ContainerPlan, DEFAULT_PATH, Plan};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// A container's image in its plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImagePlan {
    /// As the pod file writes it.
    pub reference: String,
    /// What the store holds under it, once [`resolve_plan`] looked; `None`:
    /// not looked up (a plan only shown, or compared).
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
    /// The image's `ExposedPorts`: shown, never published by themselves
    /// (see [`super::config::ExposedPort`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exposed_ports: Vec<super::config::ExposedPort>,
}

impl ImagePlan {
    pub fn new(reference: &str) -> ImagePlan {
        ImagePlan {
            reference: reference.to_string(),
            stored: None,
        }
    }
}

/// Fills in every image container of `plan` (built from `pod`) from what
/// `lookup` finds in the store; an image not stored is an error naming it.
pub fn resolve_plan(
    pod: &Pod,
    plan: &mut Plan,
    lookup: &mut dyn FnMut(&str) -> Result<Option<Resolved>, ImageError>,
) -> Result<(), ImageError> {
    for c in pod.containers.iter().filter(|c| c.image.is_some()) {
        let reference = c.image.as_deref().unwrap_or_default();
        let resolved = lookup(reference)?.ok_or_else(|| ImageError::NotPulled {
            pod: pod.name.clone(),
            container: c.name.clone(),
            reference: reference.to_string(),
        })?;
        if let Some(p) = plan.containers.iter_mut().find(|p| p.name == c.name) {
            apply_image(p, c, &resolved);
        }
    }
    Ok(())
}

/// [`resolve_plan`] against the system store (never the network): what the
/// supervisor does before it starts or reloads a pod.
pub fn resolve_stored(pod: &Pod, plan: &mut Plan) -> Result<(), ImageError> {
    if pod.containers.iter().all(|c| c.image.is_none()) {
        return Ok(());
    }
    let store = super::Store::open(&super::storage_root())?;
    let host = super::HostConfig::system();
    resolve_plan(pod, plan, &mut |r| super::resolve::stored(&store, &host, r))
}

/// What `apply` does before it stops or changes anything: every image the
/// pods name is stored afterwards, the missing ones pulled. The first that
/// cannot be pulled is the error, naming pod, container, reference, and
/// each registry tried with its answer.
pub fn ensure_images(
    pods: &[&Pod],
    progress: &dyn super::progress::Progress,
) -> Result<(), String> {
    let images: Vec<(&Pod, &Container, &str)> = pods
        .iter()
        .flat_map(|p| p.containers.iter().map(move |c| (*p, c)))
        .filter_map(|(p, c)| Some((p, c, c.image.as_deref()?)))
        .collect();
    if images.is_empty() {
        return Ok(());
    }
    let store = super::Store::open(&super::storage_root()).map_err(|e| e.to_string())?;
    let host = super::HostConfig::system();
    for (pod, c, image) in images {
        super::resolve::ensure(&store, &host, &[image], progress).map_err(|e| {
            format!(
                "pod {} container {}: {}",
                pod.name,
                c.name,
                crate::error_chain(&e)
            )
        })?;
    }
    Ok(())
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

/// For `apply --dry-run` and `podctl exec`: fills in the image containers
/// whose image is stored already (nothing is pulled, no store is created);
/// the others stay unresolved, and the plan says so.
pub fn resolve_if_stored(pod: &Pod, plan: &mut Plan) {
    let root = super::storage_root();
    if pod.containers.iter().all(|c| c.image.is_none()) || !root.join("oci-layout").exists() {
        return;
    }
    let Ok(store) = super::Store::open(&root) else {
        return;
    };
    let host = super::HostConfig::system();
    for c in pod.containers.iter() {
        let Some(reference) = c.image.as_deref() else {
            continue;
        };
        if let Ok(Some(r)) = super::resolve::stored(&store, &host, reference)
            && let Some(p) = plan.containers.iter_mut().find(|p| p.name == c.name)
        {
            apply_image(p, c, &r);
        }
    }
}

/// What container `c` runs from image `r`, into its plan `p`: the pod file's
/// keys where it sets them, else the image's config.
pub fn apply_image(p: &mut ContainerPlan, c: &Container, r: &Resolved) {
    let cfg = &r.config;
    p.process.argv = super::rootfs::effective_command(cfg, c.command.as_deref(), c.args.as_deref());
    let pod_env: Vec<(String, String)> =
        c.env.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let mut env = super::rootfs::effective_env(cfg, &pod_env);
    if !env.iter().any(|(k, _)| k == "PATH") {
        env.insert(0, ("PATH".into(), DEFAULT_PATH.into()));
    }
    if !env.iter().any(|(k, _)| k == "container") {
        env.push(("container".into(), "podctl".into()));
    }
    p.process.env = env;
    p.process.workdir = c
        .workdir
        .clone()
        .or_else(|| cfg.working_dir.clone().filter(|w| w.starts_with('/')))
        .unwrap_or_else(|| "/".into());
    let user = c.user.clone().or_else(|| image_user(cfg.user.as_deref()));
    if user != c.user {
        // The capability sets depend on whether it runs as root.
        let mut as_image = c.clone();
        as_image.user = user.clone();
        p.security = crate::plan::security::build(&as_image);
    }
    p.process.user = user;
    p.stop_signal = c
        .stop_signal
        .or_else(|| cfg.stop_signal.as_deref().and_then(parse_signal))
        .unwrap_or(crate::model::DEFAULT_STOP_SIGNAL);
    p.image = Some(ImagePlan {
        reference: c.image.clone().unwrap_or_default(),
        stored: Some(StoredImage {
            name: r.name.clone(),
            digest: r.digest.to_string(),
            layers: r.layers.clone(),
            exposed_ports: cfg.exposed(),
        }),
    });
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::{Digest, ImageConfig};

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    fn nginx() -> Resolved {
        Resolved {
            name: "docker.io/library/nginx:alpine".into(),
            digest: Digest::parse(&format!("sha256:{}", "ab".repeat(32))).unwrap(),
            config: ImageConfig {
                entrypoint: v(&["/docker-entrypoint.sh"]),
                cmd: v(&["nginx", "-g", "daemon off;"]),
                env: v(&["PATH=/usr/local/sbin:/usr/bin", "NGINX_VERSION=1.25"]),
                working_dir: Some("/srv".into()),
                user: Some("101:101".into()),
                stop_signal: Some("SIGQUIT".into()),
                exposed_ports: v(&["80/tcp"]),
                ..Default::default()
            },
            layers: vec!["/s/layers/a".into(), "/s/layers/b".into()],
        }
    }

    fn plan_of(src: &str) -> (Pod, Plan) {
        let pod = crate::spec::parse_str(src, "t.toml", "t").unwrap();
        let plan = crate::plan::build(&pod);
        (pod, plan)
    }

    #[test]
    fn a_silent_pod_file_takes_everything_from_the_image() {
        let (pod, mut plan) = plan_of("[containers.web]\nimage = \"nginx:alpine\"\n");
        assert_eq!(
            plan.containers[0].image,
            Some(ImagePlan::new("nginx:alpine"))
        );
        resolve_plan(&pod, &mut plan, &mut |_| Ok(Some(nginx()))).unwrap();
        let p = &plan.containers[0];
        assert_eq!(
            p.process.argv,
            v(&["/docker-entrypoint.sh", "nginx", "-g", "daemon off;"])
        );
        assert_eq!(p.process.workdir, "/srv");
        assert_eq!(
            p.process.user,
            Some(User::Id {
                uid: 101,
                gid: Some(101)
            })
        );
        assert!(
            p.security.effective.is_empty(),
            "a non-root image user gets no capabilities"
        );
        assert_eq!(p.stop_signal, 3);
        assert_eq!(
            p.process.env[0],
            ("PATH".to_string(), "/usr/local/sbin:/usr/bin".to_string())
        );
        assert!(
            p.process
                .env
                .contains(&("container".into(), "podctl".into()))
        );
        let stored = p.image.as_ref().unwrap().stored.as_ref().unwrap();
        assert_eq!(stored.layers.len(), 2);
        let http = crate::image::config::ExposedPort {
            port: 80,
            protocol: crate::net::ports::Protocol::Tcp,
        };
        assert_eq!(stored.exposed_ports, [http]);
    }

    #[test]
    fn dry_run_shows_exposed_ports_and_whether_the_pod_publishes_them() {
        let shown = |src: &str| {
            let (pod, mut plan) = plan_of(src);
            resolve_plan(&pod, &mut plan, &mut |_| Ok(Some(nginx()))).unwrap();
            crate::plan::render::human(&plan)
        };
        let image = "[containers.web]\nimage = \"nginx:alpine\"\n";
        let quiet = shown(image);
        assert!(
            quiet.contains(
                "\n    exposes: 80/tcp (not published); the image's ExposedPorts publish nothing by themselves: the pod's `ports` do\n"
            ),
            "{quiet}"
        );
        let published = shown(&format!("ports = [\"8080:80\"]\n{image}"));
        assert!(
            published.contains("\n    exposes: 80/tcp (published as 8080:80/tcp)\n"),
            "{published}"
        );
        // Exposing publishes nothing: the pod's ports are what the file says.
        let (pod, _) = plan_of(image);
        assert!(pod.network.ports.is_empty());
    }

    #[test]
    fn the_pod_file_wins_where_it_speaks() {
        let (pod, mut plan) = plan_of(
            "[containers.web]\nimage = \"nginx:alpine\"\nargs = [\"-v\"]\nworkdir = \"/\"\n\
             user = 0\nstop_signal = \"TERM\"\nenv = { NGINX_VERSION = \"x\" }\n",
        );
        resolve_plan(&pod, &mut plan, &mut |_| Ok(Some(nginx()))).unwrap();
        let p = &plan.containers[0];
        assert_eq!(p.process.argv, v(&["/docker-entrypoint.sh", "-v"]));
        assert_eq!(p.process.workdir, "/");
        assert_eq!(p.process.user, Some(User::Id { uid: 0, gid: None }));
        assert!(!p.security.effective.is_empty());
        assert_eq!(p.stop_signal, 15);
        assert!(
            p.process
                .env
                .contains(&("NGINX_VERSION".into(), "x".into()))
        );
    }

    #[test]
    fn an_image_not_stored_is_named() {
        let (pod, mut plan) = plan_of("[containers.web]\nimage = \"nginx:alpine\"\n");
        let e = resolve_plan(&pod, &mut plan, &mut |_| Ok(None)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "pod t container web: image nginx:alpine is not stored (podctl apply pulls it; a pod never pulls when it starts)"
        );
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
            (name.to_string(), plan_of(&src).0)
        };
        let host_pod = (
            "h".to_string(),
            plan_of("[containers.a]\ncommand = [\"true\"]\n").0,
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

    #[test]
    fn image_users_and_signals() {
        assert_eq!(image_user(Some("")), None);
        assert_eq!(image_user(Some("nginx")), Some(User::Name("nginx".into())));
        assert_eq!(
            image_user(Some("nginx:www")),
            Some(User::Name("nginx:www".into()))
        );
        assert_eq!(parse_signal("SIGQUIT"), Some(3));
        assert_eq!(parse_signal("winch"), Some(28));
        assert_eq!(parse_signal("9"), Some(9));
        assert_eq!(parse_signal("SIGNOPE"), None);
    }
}
