//! Image updates both ways.
//!
//! In: a container's `imagePullPolicy` is its `pull` (`IfNotPresent`, what
//! podctl does unless told otherwise, writes nothing); Podman's
//! annotations `io.containers.autoupdate` (the pod's) and
//! `io.containers.autoupdate/CONTAINER` are `auto_update`, checked as in a
//! pod file. `update_deadline` and `revision_history` are `podctl.io/`
//! annotations, read as any (`annotations`).
//!
//! Out: `imagePullPolicy` whenever Kubernetes' default would differ from
//! the container's `pull`, the autoupdate annotations of the containers
//! `podctl auto-update` moves (the pod's when it is all of them), and the
//! `podctl.io/` annotations of a deadline or history not the default.

use super::annotations::Annotations;
use super::native::{self, Keys, Native, Val, origin, set};
use super::walk::{self, Cx, join};
use super::yaml::Node;
use crate::model::reference::ImageRef;
use crate::model::{Container, DEFAULT_REVISION_HISTORY, Pod, PullPolicy};

/// Podman's annotation: the pod's, or with `/CONTAINER` one container's.
pub(crate) const AUTOUPDATE: &str = "io.containers.autoupdate";
/// `imagePullPolicy` values, and the native `pull` each writes.
const PULL_POLICIES: [(&str, Option<PullPolicy>); 3] = [
    ("IfNotPresent", None),
    ("Always", Some(PullPolicy::Always)),
    ("Never", Some(PullPolicy::Never)),
];

/// A container's `imagePullPolicy` (`policy`) as its `pull`. Left out for
/// an image Kubernetes would pull at every start, a note says podctl
/// does not (`image`: the image's node, if any).
pub(crate) fn lower_pull(
    cx: &mut Cx,
    policy: Option<&Node>,
    image: Option<&Node>,
    path: &str,
    keys: &mut Keys,
) {
    let Some(n) = policy else {
        if let Some(i) = image
            && let super::yaml::Value::Str(text) = &i.value
            && pulled_at_every_start(text)
        {
            cx.warnings.error(
                i.offset..i.offset,
                &join(path, "image"),
                "imagePullPolicy left out: Kubernetes pulls a :latest or untagged image at every start (Always), podctl only when it is not stored (IfNotPresent); write imagePullPolicy: Always to pull it at every apply",
            );
        }
        return;
    };
    let path = join(path, "imagePullPolicy");
    let Some(text) = walk::string(cx, n, &path) else {
        return;
    };
    match PULL_POLICIES.iter().find(|(k, _)| *k == text) {
        Some((_, Some(pull))) => set(cx, keys, "pull", native::string(pull.as_str()), n, &path),
        Some((_, None)) => {}
        None => cx.error(
            n,
            &path,
            format!("{text:?} is not an image pull policy (Always, IfNotPresent, Never)"),
        ),
    }
}

/// Whether Kubernetes pulls `image` at every start when `imagePullPolicy`
/// is left out: its tag is `latest`, or it has neither tag nor digest.
pub(crate) fn pulled_at_every_start(image: &str) -> bool {
    match ImageRef::parse(image) {
        Ok(ImageRef::Registry(r)) => match &r.tag {
            Some(tag) => tag == "latest",
            None => r.digest.is_none(),
        },
        _ => false,
    }
}

/// Sets `auto_update` from Podman's autoupdate annotations.
pub(crate) fn apply(cx: &mut Cx, annotations: &[(String, &str, &Node)], out: &mut Native) {
    for (key, value, at) in annotations {
        let Some(rest) = key.strip_prefix(AUTOUPDATE) else {
            continue;
        };
        let path = format!("metadata.annotations.{key}");
        let keys = match rest.strip_prefix('/') {
            None if rest.is_empty() => &mut out.keys,
            // Another annotation that starts the same.
            None => continue,
            Some(name) => match out.containers.iter_mut().find(|c| c.name == name) {
                Some(c) => &mut c.keys,
                None => {
                    cx.error(at, &path, format!("no container named {name:?}"));
                    continue;
                }
            },
        };
        if *value == "local" {
            cx.unsupported(
                at,
                &path,
                "the auto-update policy \"local\" (podctl updates from a registry: registry, disabled)",
            );
            continue;
        }
        // "registry" or "disabled": checked as the pod file's value.
        let val = Val::Raw(native::string(value));
        if let Err(o) = keys.set("auto_update", val, origin(at, &path)) {
            cx.error(at, &path, format!("also set by {}", o.path));
        }
    }
}

/// A container's `imagePullPolicy`, when Kubernetes' default for its
/// image is not its `pull`.
pub(crate) fn pull_policy(c: &Container) -> Option<&'static str> {
    let image = c.image.as_deref()?;
    match c.updates.pull {
        PullPolicy::Always => Some("Always"),
        PullPolicy::Never => Some("Never"),
        PullPolicy::Missing => pulled_at_every_start(image).then_some("IfNotPresent"),
    }
}

/// The autoupdate annotations, `podctl.io/update_deadline` and
/// `podctl.io/revision_history`.
pub(crate) fn generate(p: &Pod, notes: &mut Annotations) {
    let images: Vec<&Container> = p.containers.iter().filter(|c| c.image.is_some()).collect();
    if !images.is_empty() && images.iter().all(|c| c.updates.auto_update) {
        notes
            .0
            .push((AUTOUPDATE.to_string(), "registry".to_string()));
    } else {
        for c in images.iter().filter(|c| c.updates.auto_update) {
            let key = format!("{AUTOUPDATE}/{}", c.name);
            notes.0.push((key, "registry".to_string()));
        }
    }
    if let Some(ms) = p.updates.deadline_ms {
        notes.string("update_deadline", &super::gen_container::duration(ms));
    }
    if p.updates.history != DEFAULT_REVISION_HISTORY {
        notes.toml("revision_history", p.updates.history.to_string());
    }
}

#[cfg(test)]
mod tests;
