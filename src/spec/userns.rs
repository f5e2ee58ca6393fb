//! `userns = "auto" | "host" | { size = N } | { uid = U, gid = G, size = N }`:
//! the pod's user namespace ([`crate::model::UserNs`]), and what it rules out.

use super::diag::{Sink, join};
use super::tree::{self, Value, fields};
use crate::model::{Container, DEFAULT_USERNS_SIZE, IdMap, MIN_USERNS_SIZE, Namespace, UserNs};

const KEY: &str = "userns";
const FORMS: &str =
    "use \"auto\", \"host\", { size = 65536 } or { uid = 200000, gid = 200000, size = 65536 }";

/// The largest range a pod may ask for: a quarter of the 32-bit ID space.
pub const MAX_USERNS_SIZE: u32 = 1 << 30;

/// The `userns` key as written (`None`: not written).
pub(crate) fn read(sink: &mut Sink, v: &Value<'_>) -> Option<UserNs> {
    if let Some(s) = v.get_ref().as_str() {
        return match s {
            "auto" => Some(UserNs::Auto {
                size: DEFAULT_USERNS_SIZE,
            }),
            "host" => Some(UserNs::Host),
            other => {
                sink.error(
                    v.span(),
                    KEY,
                    format!("{other:?} is not a user namespace mode ({FORMS})"),
                );
                None
            }
        };
    }
    let Some(t) = v.get_ref().as_table() else {
        sink.error(
            v.span(),
            KEY,
            format!("expected a string or a table ({FORMS})"),
        );
        return None;
    };
    let [uid, gid, size] = fields(sink, t, KEY, ["uid", "gid", "size"]);
    let number =
        |sink: &mut Sink, v: &Value<'_>, key: &str, range: std::ops::RangeInclusive<u32>| {
            let n = tree::integer(v.get_ref())
                .and_then(|n| u32::try_from(n).ok())
                .filter(|n| range.contains(n));
            if n.is_none() {
                sink.error(
                    v.span(),
                    &join(KEY, key),
                    format!(
                        "expected a whole number from {} to {}",
                        range.start(),
                        range.end()
                    ),
                );
            }
            n
        };
    let size = match size {
        Some(s) => number(sink, s, "size", MIN_USERNS_SIZE..=MAX_USERNS_SIZE)?,
        None => DEFAULT_USERNS_SIZE,
    };
    let Some(uid_v) = uid else {
        if let Some(g) = gid {
            sink.error(
                g.span(),
                &join(KEY, "gid"),
                "gid needs uid (the first host UID of the range)",
            );
            return None;
        }
        return Some(UserNs::Auto { size });
    };
    // Host ID 0 is host root: a range starting there maps root to root.
    let uid = number(sink, uid_v, "uid", 1..=u32::MAX - size)?;
    let gid = match gid {
        Some(g) => number(sink, g, "gid", 1..=u32::MAX - size)?,
        None => uid,
    };
    Some(UserNs::Fixed(IdMap { uid, gid, size }))
}

/// What a pod gets when its file does not say: a range of its own, unless
/// something in it needs the host's IDs (a container without an image runs
/// on the host's root; a privileged container, or a namespace taken from
/// the host, needs the host's user namespace). A written `userns` other
/// than "host" is checked against the same things: each is an error at
/// the key, naming what needs the host.
pub(crate) fn settle(
    sink: &mut Sink,
    written: Option<(UserNs, std::ops::Range<usize>)>,
    containers: &[Container],
    host: &[Namespace],
) -> UserNs {
    let needs_host = needs_host(containers, host);
    match written {
        None if needs_host.is_empty() => UserNs::Auto {
            size: DEFAULT_USERNS_SIZE,
        },
        None => UserNs::Host,
        Some((UserNs::Host, _)) => UserNs::Host,
        Some((mapped, span)) => {
            for why in needs_host {
                sink.error(
                    span.clone(),
                    KEY,
                    format!("{why}, which needs the host's user namespace: set userns = \"host\""),
                );
            }
            mapped
        }
    }
}

/// Why the pod needs the host's user namespace (empty: it does not).
fn needs_host(containers: &[Container], host: &[Namespace]) -> Vec<String> {
    let mut out = Vec::new();
    for c in containers {
        if c.image.is_none() {
            out.push(format!(
                "container {} has no image: it runs on the host's root",
                c.name
            ));
        }
        if c.security.privileged {
            out.push(format!("container {} is privileged", c.name));
        }
    }
    for ns in host {
        out.push(format!(
            "the pod takes the host's {ns} namespace (host = [\"{ns}\"])"
        ));
    }
    out
}
