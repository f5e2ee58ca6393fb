//! Step 4 of [`super::launch`] for an image container: the overlay root
//! ([`crate::image::overlay`]) on the bundle's `rootfs`, with the mount
//! points a read-only root needs, and the user resolved in the image.

use super::failure::{Failure, definition, transient};
use super::{Container, Dirs, HostUser};
use std::path::Path;

/// Step 4 of an image container: its overlay root on `rootfs`, and its user
/// resolved in the image's own /etc/passwd and /etc/group.
pub fn mount(
    c: &Container,
    image: &crate::plan::ImagePlan,
    dirs: &Dirs,
    rootfs: &Path,
) -> Result<HostUser, Failure> {
    use crate::image::overlay::{self, MountPoint};
    let mut points: Vec<MountPoint> = overlay::BASE_MOUNT_POINTS
        .iter()
        .map(|d| MountPoint::Dir(d.to_string()))
        .collect();
    points.extend(
        c.etc_files
            .iter()
            .map(|f| MountPoint::File(f.target.clone())),
    );
    for v in &c.volumes {
        let file =
            matches!(&v.source, crate::model::VolumeSource::Bind(s) if !Path::new(s).is_dir());
        points.push(if file {
            MountPoint::File(v.target.clone())
        } else {
            MountPoint::Dir(v.target.clone())
        });
    }
    let stored = image.stored.as_ref().ok_or_else(|| {
        definition(format!(
            "image {} was not looked up in the store before the start",
            image.reference
        ))
    })?;
    overlay::mount_root(
        stored,
        &dirs.containers(),
        (&c.pod, &c.name),
        overlay::Flags::of(&c.security),
        match (c.rootless, c.userns) {
            // A user's store: owners mapped on disk already, overlay
            // mounted in the pod's user namespace with user xattrs.
            (Some(_), _) => overlay::LayerIds::UserStore,
            (None, ids) => ids.into(),
        },
        &points,
        rootfs,
        &crate::mount::SystemMounts,
    )
    .map_err(|e| {
        if e.is_definition() {
            definition(e)
        } else {
            transient("image root", e)
        }
    })?;
    let ids = crate::image::users::resolve(rootfs, c.process.user.as_ref())
        .map_err(|e| definition(format!("image {}: {e}", stored.name)))?;
    Ok(HostUser {
        uid: ids.uid,
        gid: ids.gid,
        additional_gids: ids.groups,
    })
}
