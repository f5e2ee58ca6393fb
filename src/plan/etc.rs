//! The files a container gets from the pod's network, not its image.

use crate::model::Pod;

/// `/etc/hosts` and `/etc/resolv.conf` from the pod's network directory,
/// for a pod on bridge networks; the host's for an image container of a
/// host-network pod (a host-root container has them already); none
/// otherwise (an image's own files).
pub(super) fn etc_files(pod: &Pod, image: bool) -> Vec<(String, String)> {
    use crate::model::NetworkMode;
    let files = ["hosts", "resolv.conf"];
    match pod.network.mode {
        NetworkMode::Host if image => {
            return files
                .into_iter()
                .map(|f| (format!("/etc/{f}"), format!("/etc/{f}")))
                .collect();
        }
        NetworkMode::Bridge => {}
        _ => return Vec::new(),
    }
    let dir = std::path::Path::new(crate::net::attach::RUN_DIR).join(&pod.name);
    files
        .into_iter()
        .map(|f| (dir.join(f).display().to_string(), format!("/etc/{f}")))
        .collect()
}
