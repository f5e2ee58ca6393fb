//! The pod's user namespace ([`UserNs`]) both ways: `spec.hostUsers`, and
//! `podctl.io/userns` for the range, which Kubernetes cannot say.
//!
//! In: `hostUsers: false` is `userns = "auto"` (a range of the pod's own),
//! `hostUsers: true` is `userns = "host"`. Left out, nothing is written and
//! podctl's default applies: a range of its own unless the pod needs the
//! host's IDs. This differs from Kubernetes, where a missing hostUsers
//! means the host's user namespace. `podctl.io/userns` holds the pod file's
//! value (`{ size = 1024 }`, `{ uid = 200000, gid = 200000, size = 65536 }`)
//! and is read as any `podctl.io/` key; hostUsers beside it must agree.
//!
//! Out: the host's is `hostUsers: true`; a range of its own is
//! `hostUsers: false`, with `podctl.io/userns` unless it is the default
//! automatic range.

use super::annotations::Annotations;
use super::image::HOST_BINARIES;
use super::native::{self, Native, Val, set};
use super::walk::{self, Cx};
use super::yaml::Node;
use super::yaml_out::{MapB, Y};
use crate::model::{DEFAULT_USERNS_SIZE, Pod, UserNs};

const PATH: &str = "spec.hostUsers";
/// The native key, and the annotation's name under `podctl.io/`.
const KEY: &str = "userns";

/// `spec.hostUsers` (the value node, when written) as the native `userns`
/// key; run once the containers and annotations are lowered, to see what
/// they set. `host_binaries`: the containers without an image.
pub(crate) fn lower(
    cx: &mut Cx,
    host_users: Option<&Node>,
    host_binaries: &[String],
    out: &mut Native,
) {
    let Some(n) = host_users else {
        // Not Kubernetes' default (the host's): podctl's, see above.
        return;
    };
    let Some(host) = walk::boolean(cx, n, PATH) else {
        return;
    };
    let annotated = out.keys.0.iter().find_map(|(k, v, o)| match v {
        Val::Raw(text) if k == KEY => Some((text.clone(), o.path.clone())),
        _ => None,
    });
    match annotated {
        Some((text, at)) if is_host(&text) != host => {
            let what = if host {
                "a user namespace of its own"
            } else {
                "the host's user namespace"
            };
            cx.error(
                n,
                PATH,
                format!("{host}, but {at} gives the pod {what}; remove one, or make them agree"),
            );
            return;
        }
        // The annotation says which range (or "host"): the key is its.
        Some(_) => {}
        None => {
            let mode = if host { "host" } else { "auto" };
            set(cx, &mut out.keys, KEY, native::string(mode), n, PATH);
        }
    }
    if !host {
        needs_host(cx, n, host_binaries, out);
    }
}

/// Whether a `userns` value (TOML text) is the host's.
fn is_host(text: &str) -> bool {
    toml::from_str::<toml::Table>(&format!("v = {text}"))
        .is_ok_and(|t| t.get("v").and_then(|v| v.as_str()) == Some("host"))
}

/// `hostUsers: false` with what needs the host's user namespace, in the
/// manifest's terms: the host's namespaces, privileged containers and
/// containers without an image (the pod file reader refuses the same
/// things with `userns`, and still checks what annotations set).
fn needs_host(cx: &mut Cx, n: &Node, host_binaries: &[String], out: &Native) {
    let mut why = Vec::new();
    match out.keys.0.iter().find(|(k, _, _)| k == "host") {
        // hostNetwork, hostPID, hostIPC: one item each.
        Some((_, Val::Array(items), _)) => {
            for (ns, o) in items {
                let ns = ns.trim_matches('"');
                why.push(format!(
                    "the pod takes the host's {ns} namespace ({}: true)",
                    o.path
                ));
            }
        }
        // podctl.io/host (a list the pod file reader checks).
        Some((_, Val::Raw(text), o)) => {
            let list = toml::from_str::<toml::Table>(&format!("v = {text}")).ok();
            let names = list
                .as_ref()
                .and_then(|t| t.get("v")?.as_array())
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str());
            for ns in names {
                why.push(format!(
                    "the pod takes the host's {ns} namespace ({})",
                    o.path
                ));
            }
        }
        None => {}
    }
    for c in &out.containers {
        let privileged = c
            .keys
            .0
            .iter()
            .find(|(k, v, _)| k == "privileged" && matches!(v, Val::Raw(t) if t == "true"));
        if let Some((_, _, o)) = privileged {
            why.push(format!(
                "container {} is privileged ({}: true)",
                c.name, o.path
            ));
        }
        if host_binaries.contains(&c.name) && !c.keys.has("image") {
            why.push(format!(
                "container {} has no image: it runs on the host's root ({HOST_BINARIES})",
                c.name
            ));
        }
    }
    for w in why {
        cx.error(
            n,
            PATH,
            format!("{w}, which a pod with a user namespace of its own (hostUsers: false) cannot have; remove it, or set hostUsers: true"),
        );
    }
}

/// `hostUsers`, and `podctl.io/userns` for a range that is not the default.
pub(crate) fn generate(p: &Pod, spec: &mut MapB, notes: &mut Annotations) {
    let range = match p.userns {
        UserNs::Host => None,
        UserNs::Auto { size } if size == DEFAULT_USERNS_SIZE => None,
        UserNs::Auto { size } => Some(format!("{{ size = {size} }}")),
        UserNs::Fixed(m) => Some(format!(
            "{{ uid = {}, gid = {}, size = {} }}",
            m.uid, m.gid, m.size
        )),
    };
    spec.put("hostUsers", Y::Bool(p.userns == UserNs::Host));
    if let Some(r) = range {
        notes.toml(KEY, r);
    }
}

#[cfg(test)]
#[path = "userns_tests.rs"]
mod tests;
