//! `image`, `command` and `args`. Every Kubernetes container has an image;
//! a podctl container that runs the host's binaries has none, and is named
//! in the pod's annotation `podctl.io/host-binaries` instead.

use super::native::{self, Keys, Val, origin, set};
use super::pod_cx::PodCx;
use super::walk::{self, Cx, join};
use super::yaml::Node;
use std::collections::BTreeMap;

/// The pod annotation listing the containers without an image.
pub(crate) const HOST_BINARIES: &str = "podctl.io/host-binaries";

/// `image`, `command` and `args` of container `name`; `$(NAME)` in
/// command and args is expanded with the container's `env`.
pub(crate) fn lower(
    cx: &mut Cx,
    (n, name): (&Node, &str),
    (image, command, args): (Option<&Node>, Option<&Node>, Option<&Node>),
    path: &str,
    pcx: &PodCx,
    env: &BTreeMap<String, String>,
    keys: &mut Keys,
) {
    let host = pcx.host_binaries.iter().any(|h| h == name);
    match (image, host) {
        (Some(i), false) => {
            if let Some(text) = walk::string(cx, i, &join(path, "image")) {
                set(cx, keys, "image", native::string(text), i, &join(path, "image"));
            }
        }
        (Some(i), true) => cx.error(
            i,
            &join(path, "image"),
            format!("the container {name} has an image and is listed in the annotation {HOST_BINARIES} (containers without an image run the host's binaries)"),
        ),
        (None, true) => {}
        (None, false) => cx.error(
            n,
            &join(path, "image"),
            format!("missing: every container has an image (a container that runs the host's binaries is named in the annotation {HOST_BINARIES})"),
        ),
    }
    for (key, v) in [("command", command), ("args", args)] {
        let Some(v) = v else { continue };
        let p = join(path, key);
        let items = walk::strings(cx, v, &p)
            .into_iter()
            .map(|(s, at)| (native::string(&super::env::expand(s, env)), origin(at, &p)))
            .collect();
        let _ = keys.set(key, Val::Array(items), origin(v, &p));
    }
}
