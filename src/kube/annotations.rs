//! podctl's own settings in annotations under `podctl.io/`:
//! `podctl.io/KEY` is the pod file's top-level KEY (`autostart`, `runtime`,
//! `shm_size`, `resources.tasks`, ...), `podctl.io/CONTAINER.KEY` a key of
//! that container (`after`, `stop_signal`, `user`, ...). The value is the
//! key's TOML value (`false`, `{ app = "ready" }`); a value that is not TOML
//! is a string (`runc`, `16M`); `podctl.io/needs` and `podctl.io/wants`
//! are comma-separated names (`super::needs`). All are then checked as in
//! a pod file.
//! Read here ([`apply`]); written by `generate` through [`Annotations`].

use super::image::HOST_BINARIES;
use super::native::{self, Native, Val, origin};
use super::walk::Cx;
use super::yaml::Node;

pub(crate) const PREFIX: &str = "podctl.io/";

/// Annotations, in the order added.
#[derive(Default)]
pub(crate) struct Annotations(pub Vec<(String, String)>);

impl Annotations {
    /// A native value (TOML text) for `podctl.io/KEY`.
    pub(crate) fn toml(&mut self, key: &str, toml_text: String) {
        self.0.push((format!("{PREFIX}{key}"), toml_text));
    }

    /// A native string: written bare when it is not TOML (`runc`, `16M`).
    pub(crate) fn string(&mut self, key: &str, s: &str) {
        let bare = toml::from_str::<toml::Table>(&format!("v = {s}")).is_err()
            && !s.contains(['\n', '\r']);
        let text = if bare {
            s.to_string()
        } else {
            native::string(s)
        };
        self.toml(key, text);
    }
}

/// A TOML array of strings.
pub(crate) fn toml_list<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    let v: Vec<String> = items.into_iter().map(native::string).collect();
    format!("[{}]", v.join(", "))
}

/// The containers named in `podctl.io/host-binaries` (comma-separated).
pub(crate) fn host_binaries(annotations: &[(String, &str, &Node)]) -> Vec<String> {
    annotations
        .iter()
        .filter(|(k, _, _)| k == HOST_BINARIES)
        .flat_map(|(_, v, _)| v.split(','))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Sets the native keys the `podctl.io/` annotations give.
pub(crate) fn apply(cx: &mut Cx, annotations: &[(String, &str, &Node)], out: &mut Native) {
    for (key, value, at) in annotations {
        let Some(rest) = key.strip_prefix(PREFIX) else {
            continue;
        };
        if key == HOST_BINARIES {
            for name in host_binaries(&[(key.clone(), value, at)]) {
                if !out.containers.iter().any(|c| c.name == name) {
                    cx.error(
                        at,
                        &format!("metadata.annotations.{key}"),
                        format!("no container named {name:?}"),
                    );
                }
            }
            continue;
        }
        let path = format!("metadata.annotations.{key}");
        let well_formed = !rest.is_empty()
            && rest.split('.').all(|part| {
                !part.is_empty()
                    && part
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            });
        if !well_formed {
            cx.error(
                at,
                &path,
                "expected podctl.io/KEY or podctl.io/CONTAINER.KEY, KEY a key of the pod file",
            );
            continue;
        }
        if value.contains(['\n', '\r']) {
            cx.error(at, &path, "the value must be one line");
            continue;
        }
        let text = if let Some(list) = super::needs::lower(key, value) {
            list
        } else if toml::from_str::<toml::Table>(&format!("v = {value}")).is_ok() {
            value.to_string()
        } else {
            native::string(value)
        };
        let (head, tail) = rest.split_once('.').unwrap_or((rest, ""));
        let container = out
            .containers
            .iter()
            .position(|c| c.name == head)
            .filter(|_| !tail.is_empty());
        let (keys, native_key) = match container {
            Some(i) => (&mut out.containers[i].keys, tail),
            None => (&mut out.keys, rest),
        };
        if let Err(o) = keys.set(native_key, Val::Raw(text), origin(at, &path)) {
            cx.error(at, &path, format!("also set by {}", o.path));
        }
    }
}
