//! What a container run from an image gets, decided without touching the
//! host: the effective command (Kubernetes rules: `command` replaces the
//! image's Entrypoint, `args` its Cmd), environment, working directory and
//! user defaults, and the overlayfs mount options of its root.

use super::config::ImageConfig;
use std::path::{Path, PathBuf};

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
    image: &ImageConfig,
    command: Option<&[String]>,
    args: Option<&[String]>,
) -> Vec<String> {
    match (command, args) {
        (Some(c), a) => c.iter().chain(a.unwrap_or_default()).cloned().collect(),
        (None, Some(a)) => image.entrypoint.iter().chain(a).cloned().collect(),
        (None, None) => image.command(),
    }
}

/// The image's `Env` with the pod file's entries on top (same name: the pod
/// file wins), in the image's order, then the pod file's new names.
pub fn effective_env(image: &ImageConfig, pod: &[(String, String)]) -> Vec<(String, String)> {
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

/// A container's writable layer: `upper` and overlayfs's `work` directory
/// (on the same filesystem), under `/var/lib/podctl/containers/POD/CONTAINER`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Writable {
    pub upper: PathBuf,
    pub work: PathBuf,
}

impl Writable {
    /// The directories for `pod`'s `container` under `containers_dir`.
    pub fn under(containers_dir: &Path, pod: &str, container: &str) -> Writable {
        let base = containers_dir.join(pod).join(container);
        Writable {
            upper: base.join("upper"),
            work: base.join("work"),
        }
    }
}

/// Why an overlay cannot be described.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum OverlayError {
    #[error("an image with no layers has no root filesystem")]
    NoLayers,
    #[error("layer path {0} contains ':' or ',', which overlayfs options cannot carry")]
    BadPath(PathBuf),
    #[error(
        "{layers} layers make overlay mount options of {len} bytes, over the kernel's limit of {MOUNT_DATA_MAX} (one page)"
    )]
    TooLong { layers: usize, len: usize },
}

/// The longest mount(2) data the kernel takes whole: it copies one page
/// (4 KiB here) and cuts the string at its last byte, silently (a cut
/// `workdir=` or lost layer would be the result), so longer data is refused
/// here instead.
pub const MOUNT_DATA_MAX: usize = 4095;

/// The `mount -t overlay` data for `layers` (lowest first, as in the
/// manifest); with `writable`, an upper and work directory, otherwise a
/// read-only overlay (`read_only = true`: no upper layer at all).
pub fn overlay_options(
    layers: &[PathBuf],
    writable: Option<&Writable>,
) -> Result<String, OverlayError> {
    if layers.is_empty() {
        return Err(OverlayError::NoLayers);
    }
    let check = |p: &Path| {
        let s = p.to_string_lossy();
        if s.contains([':', ',']) {
            Err(OverlayError::BadPath(p.to_path_buf()))
        } else {
            Ok(s.into_owned())
        }
    };
    // overlayfs lists lower directories top first.
    let lower: Vec<String> = layers
        .iter()
        .rev()
        .map(|p| check(p))
        .collect::<Result<_, _>>()?;
    let mut opts = format!("lowerdir={}", lower.join(":"));
    if let Some(w) = writable {
        opts.push_str(&format!(
            ",upperdir={},workdir={}",
            check(&w.upper)?,
            check(&w.work)?
        ));
    }
    if opts.len() > MOUNT_DATA_MAX {
        return Err(OverlayError::TooLong {
            layers: layers.len(),
            len: opts.len(),
        });
    }
    Ok(opts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn command_and_args_follow_kubernetes() {
        let img = ImageConfig {
            entrypoint: v(&["/docker-entrypoint.sh"]),
            cmd: v(&["nginx", "-g", "daemon off;"]),
            ..Default::default()
        };
        let c = v(&["/bin/sh"]);
        let a = v(&["-c", "true"]);
        assert_eq!(
            effective_command(&img, None, None),
            v(&["/docker-entrypoint.sh", "nginx", "-g", "daemon off;"])
        );
        assert_eq!(
            effective_command(&img, None, Some(&a)),
            v(&["/docker-entrypoint.sh", "-c", "true"])
        );
        assert_eq!(effective_command(&img, Some(&c), None), v(&["/bin/sh"]));
        assert_eq!(
            effective_command(&img, Some(&c), Some(&a)),
            v(&["/bin/sh", "-c", "true"])
        );
    }

    #[test]
    fn pod_env_overrides_image_env_in_place() {
        let img = ImageConfig {
            env: v(&["PATH=/usr/bin", "A=1", "EMPTY"]),
            ..Default::default()
        };
        let pod = vec![("A".to_string(), "2".to_string()), ("B".into(), "3".into())];
        let got = effective_env(&img, &pod);
        let want: Vec<(String, String)> =
            [("PATH", "/usr/bin"), ("A", "2"), ("EMPTY", ""), ("B", "3")]
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn overlay_lists_layers_top_first_and_read_only_has_no_upper() {
        let layers = vec![PathBuf::from("/s/layers/a"), PathBuf::from("/s/layers/b")];
        let w = Writable::under(Path::new("/var/lib/podctl/containers"), "web", "app");
        assert_eq!(
            overlay_options(&layers, Some(&w)).unwrap(),
            "lowerdir=/s/layers/b:/s/layers/a,upperdir=/var/lib/podctl/containers/web/app/upper,workdir=/var/lib/podctl/containers/web/app/work"
        );
        assert_eq!(
            overlay_options(&layers, None).unwrap(),
            "lowerdir=/s/layers/b:/s/layers/a"
        );
        assert_eq!(overlay_options(&[], None), Err(OverlayError::NoLayers));
        assert!(overlay_options(&[PathBuf::from("/a:b")], None).is_err());
    }

    #[test]
    fn options_longer_than_a_page_are_refused_not_cut() {
        // 40 layers of the store's length fit; 45 do not.
        let layer = |i: usize| PathBuf::from(format!("/var/lib/podctl/storage/layers/{i:064x}"));
        let w = Writable::under(Path::new("/var/lib/podctl/containers"), "web", "app");
        let forty: Vec<PathBuf> = (0..40).map(layer).collect();
        let data = overlay_options(&forty, Some(&w)).unwrap();
        assert!(data.len() <= MOUNT_DATA_MAX, "{}", data.len());
        let many: Vec<PathBuf> = (0..45).map(layer).collect();
        let e = overlay_options(&many, Some(&w)).unwrap_err();
        assert!(matches!(e, OverlayError::TooLong { layers: 45, len } if len > MOUNT_DATA_MAX));
        assert_eq!(
            e.to_string(),
            format!(
                "45 layers make overlay mount options of {} bytes, over the kernel's limit of 4095 (one page)",
                overlay_options(&many[..40], Some(&w)).unwrap().len() + 5 * 96
            )
        );
    }
}
