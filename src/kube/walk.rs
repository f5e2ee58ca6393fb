//! Reading the YAML tree: known fields, fields podctl does not support
//! (errors, or warnings with `--ignore-unsupported`), misspelt fields ("did
//! you mean"), and typed values; every problem located by its node.

use super::yaml::{Node, Value};
use crate::spec::diag::Sink;
use crate::spec::names::suggest;

/// What to do with a Kubernetes field podctl does not support.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Unsupported {
    /// An error: nothing is silently dropped.
    #[default]
    Error,
    /// A warning naming the field; the field is ignored (`--ignore-unsupported`).
    Warn,
}

/// Where problems go while one file is read.
pub(crate) struct Cx<'s> {
    pub errors: Sink<'s>,
    pub warnings: Sink<'s>,
    pub policy: Unsupported,
}

impl<'s> Cx<'s> {
    pub(crate) fn new(file: &'s str, src: &'s str, policy: Unsupported) -> Self {
        Cx {
            errors: Sink::new(file, src),
            warnings: Sink::new(file, src),
            policy,
        }
    }

    pub(crate) fn error(&mut self, at: &Node, path: &str, message: impl Into<String>) {
        self.errors.error(at.offset..at.offset, path, message);
    }

    pub(crate) fn error_at(&mut self, offset: usize, path: &str, message: impl Into<String>) {
        self.errors.error(offset..offset, path, message);
    }

    /// A field (or value) podctl does not support; `what` says more, if anything.
    pub(crate) fn unsupported(&mut self, at: &Node, path: &str, what: &str) {
        let message = if what.is_empty() {
            "not supported by podctl".to_string()
        } else {
            format!("not supported by podctl: {what}")
        };
        match self.policy {
            Unsupported::Error => self.errors.error(at.offset..at.offset, path, message),
            Unsupported::Warn => {
                self.warnings
                    .error(at.offset..at.offset, path, format!("{message} (ignored)"))
            }
        }
    }
}

/// A uid or gid, with its node.
pub(crate) fn id<'a>(cx: &mut Cx, n: Option<&'a Node>, path: &str) -> Option<(i64, &'a Node)> {
    n.and_then(|n| Some((integer(cx, n, path, 0, u32::MAX as i64 - 1)?, n)))
}

/// `prefix.key`, or `key` at the top.
pub(crate) fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// The pairs of a mapping; anything else is reported.
pub(crate) fn map<'a>(cx: &mut Cx, n: &'a Node, path: &str) -> Option<&'a [(Node, Node)]> {
    match &n.value {
        Value::Map(p) => Some(p),
        // An empty value (`resources:`) is an empty mapping.
        Value::Null => Some(&[]),
        v => {
            cx.error(n, path, format!("expected a mapping, found {}", v.kind()));
            None
        }
    }
}

/// Picks the `known` fields of a mapping (in that order). A field in
/// `unsupported` is reported as such, unless written there as `field=value`
/// and set to that value (what podctl does anyway); any other field is
/// misspelt, with the closest known or unsupported name suggested.
pub(crate) fn fields<'a, const N: usize>(
    cx: &mut Cx,
    n: &'a Node,
    path: &str,
    known: [&'static str; N],
    unsupported: &[&'static str],
) -> [Option<&'a Node>; N] {
    let mut found = [None; N];
    let Some(pairs) = map(cx, n, path) else {
        return found;
    };
    for (k, v) in pairs {
        let key = k.key_text().unwrap_or_default();
        let at = join(path, &key);
        if let Some(i) = known.iter().position(|f| *f == key) {
            // `field: null` is the field left out, as Kubernetes reads it.
            if v.value != Value::Null {
                found[i] = Some(v);
            }
        } else if let Some(entry) = unsupported
            .iter()
            .find(|u| u.split(['=', '~']).next() == Some(&key))
        {
            // `field~`: a cluster's business that means nothing on one host
            // (scheduling): accepted, with a note, never silently.
            if entry.ends_with('~') {
                cx.warnings.error(
                    k.offset..k.offset,
                    &at,
                    "has no effect on a single host (ignored)",
                );
                continue;
            }
            // `field=value`: that value is what podctl does anyway (Podman's
            // `kube generate` writes `automountServiceAccountToken: false`).
            let harmless = entry
                .split_once('=')
                .is_some_and(|(_, value)| scalar_is(v, value));
            if !harmless {
                cx.unsupported(k, &at, "");
            }
        } else {
            let all: Vec<&str> = known
                .iter()
                .copied()
                .chain(
                    unsupported
                        .iter()
                        .map(|u| u.split(['=', '~']).next().unwrap_or(u)),
                )
                .collect();
            let message = match suggest(&key, &all) {
                Some(s) => format!("unknown field, did you mean `{s}`?"),
                None => format!("unknown field (podctl reads: {})", known.join(", ")),
            };
            cx.error(k, &at, message);
        }
    }
    found
}

/// Whether a node is the scalar written `text` (`false`, `{}` for an empty mapping).
fn scalar_is(n: &Node, text: &str) -> bool {
    match &n.value {
        Value::Bool(b) => b.to_string() == text,
        Value::Str(s) => s == text,
        Value::Int(i) => i.to_string() == text,
        Value::Map(p) => p.is_empty() && text == "{}",
        Value::Null => text == "{}",
        _ => false,
    }
}

pub(crate) fn seq<'a>(cx: &mut Cx, n: &'a Node, path: &str) -> &'a [Node] {
    match &n.value {
        Value::Seq(items) => items,
        Value::Null => &[],
        v => {
            cx.error(n, path, format!("expected a list, found {}", v.kind()));
            &[]
        }
    }
}

pub(crate) fn string<'a>(cx: &mut Cx, n: &'a Node, path: &str) -> Option<&'a str> {
    match &n.value {
        Value::Str(s) => Some(s),
        v => {
            cx.error(n, path, format!("expected a string, found {}", v.kind()));
            None
        }
    }
}

/// A string list (`command`, `args`).
pub(crate) fn strings<'a>(cx: &mut Cx, n: &'a Node, path: &str) -> Vec<(&'a str, &'a Node)> {
    seq(cx, n, path)
        .iter()
        .enumerate()
        .filter_map(|(i, item)| Some((string(cx, item, &format!("{path}[{i}]"))?, item)))
        .collect()
}

pub(crate) fn boolean(cx: &mut Cx, n: &Node, path: &str) -> Option<bool> {
    match &n.value {
        Value::Bool(b) => Some(*b),
        v => {
            cx.error(
                n,
                path,
                format!("expected true or false, found {}", v.kind()),
            );
            None
        }
    }
}

/// An integer in `min..=max`.
pub(crate) fn integer(cx: &mut Cx, n: &Node, path: &str, min: i64, max: i64) -> Option<i64> {
    match &n.value {
        Value::Int(i) if (min..=max).contains(i) => Some(*i),
        Value::Int(i) => {
            cx.error(n, path, format!("{i} is out of range ({min}-{max})"));
            None
        }
        v => {
            cx.error(n, path, format!("expected an integer, found {}", v.kind()));
            None
        }
    }
}

/// A scalar as text: quantities are written `1`, `0.5` or `"500m"`.
pub(crate) fn scalar_text(cx: &mut Cx, n: &Node, path: &str) -> Option<String> {
    match &n.value {
        Value::Str(s) => Some(s.clone()),
        Value::Int(i) => Some(i.to_string()),
        Value::Float(f) => Some(f.to_string()),
        v => {
            cx.error(n, path, format!("expected a quantity, found {}", v.kind()));
            None
        }
    }
}
