//! A container's root made of image layers, decided without touching the
//! host: its writable layer's directories and the overlayfs mount options.
//! (What the container runs from its image: [`crate::plan::image`].)

use std::path::{Path, PathBuf};

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
/// read-only overlay (`read_only = true`: no upper layer at all);
/// `userxattr`: overlayfs's xattrs are `user.overlay.*` (a user's store,
/// mounted in the user's namespace).
pub fn overlay_options(
    layers: &[PathBuf],
    writable: Option<&Writable>,
    userxattr: bool,
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
    if userxattr {
        opts.push_str(",userxattr");
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

    #[test]
    fn overlay_lists_layers_top_first_and_read_only_has_no_upper() {
        let layers = vec![PathBuf::from("/s/layers/a"), PathBuf::from("/s/layers/b")];
        let w = Writable::under(Path::new("/var/lib/podctl/containers"), "web", "app");
        assert_eq!(
            overlay_options(&layers, Some(&w), false).unwrap(),
            "lowerdir=/s/layers/b:/s/layers/a,upperdir=/var/lib/podctl/containers/web/app/upper,workdir=/var/lib/podctl/containers/web/app/work"
        );
        assert_eq!(
            overlay_options(&layers, None, false).unwrap(),
            "lowerdir=/s/layers/b:/s/layers/a"
        );
        assert_eq!(
            overlay_options(&[], None, false),
            Err(OverlayError::NoLayers)
        );
        assert!(overlay_options(&[PathBuf::from("/a:b")], None, false).is_err());
    }

    #[test]
    fn options_longer_than_a_page_are_refused_not_cut() {
        // 40 layers of the store's length fit; 45 do not.
        let layer = |i: usize| PathBuf::from(format!("/var/lib/podctl/storage/layers/{i:064x}"));
        let w = Writable::under(Path::new("/var/lib/podctl/containers"), "web", "app");
        let forty: Vec<PathBuf> = (0..40).map(layer).collect();
        let data = overlay_options(&forty, Some(&w), false).unwrap();
        assert!(data.len() <= MOUNT_DATA_MAX, "{}", data.len());
        let many: Vec<PathBuf> = (0..45).map(layer).collect();
        let e = overlay_options(&many, Some(&w), false).unwrap_err();
        assert!(matches!(e, OverlayError::TooLong { layers: 45, len } if len > MOUNT_DATA_MAX));
        assert_eq!(
            e.to_string(),
            format!(
                "45 layers make overlay mount options of {} bytes, over the kernel's limit of 4095 (one page)",
                overlay_options(&many[..40], Some(&w), false).unwrap().len() + 5 * 96
            )
        );
    }
}
