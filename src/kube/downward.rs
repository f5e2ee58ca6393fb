//! Downward API files (a `downwardAPI` volume, or a projected volume's
//! `downwardAPI` source): the pod's name, namespace, labels and annotations
//! (`fieldRef`) and its containers' limits and requests
//! (`resourceFieldRef`), as files with the content the kubelet gives them.
//! The values are the manifest's, known when it is read: the files are
//! written with a configMap volume's ([`super::files`]).

use super::files::{DEFAULT_MODE, File};
use super::walk::{self, Cx, fields, join};
use super::yaml::Node;

/// What the Downward API tells of the pod.
pub(crate) struct Meta<'a> {
    pub name: &'a str,
    pub namespace: &'a str,
    /// `metadata.labels` and `metadata.annotations`, as written.
    pub labels: &'a [(String, String)],
    pub annotations: &'a [(String, String)],
    /// The Pod's spec, whose containers' resources `resourceFieldRef` reads.
    pub spec: &'a Node,
}

/// The fields a volume's `fieldRef` may name (each label or annotation also
/// as `metadata.labels['KEY']`).
const FIELDS: [&str; 4] = [
    "metadata.name",
    "metadata.namespace",
    "metadata.labels",
    "metadata.annotations",
];

/// Reads a `downwardAPI` volume source (`items`, `defaultMode`).
pub(crate) fn read(cx: &mut Cx, n: &Node, path: &str, meta: &Meta<'_>) -> Option<Vec<File>> {
    let [items, mode] = fields(cx, n, path, ["items", "defaultMode"], &[]);
    let mode = match mode {
        Some(m) => walk::integer(cx, m, &join(path, "defaultMode"), 0, 0o777)? as u32,
        None => DEFAULT_MODE,
    };
    Some(items_of(cx, items, path, mode, meta))
}

/// Reads a projected volume's `downwardAPI` source (`items`), its files
/// `mode` unless an item says another.
pub(crate) fn projection(
    cx: &mut Cx,
    n: &Node,
    path: &str,
    mode: u32,
    meta: &Meta<'_>,
) -> Vec<File> {
    let [items] = fields(cx, n, path, ["items"], &[]);
    items_of(cx, items, path, mode, meta)
}

fn items_of(
    cx: &mut Cx,
    items: Option<&Node>,
    path: &str,
    mode: u32,
    meta: &Meta<'_>,
) -> Vec<File> {
    let mut out = Vec::new();
    let Some(list) = items else { return out };
    let p = join(path, "items");
    for (i, item) in walk::seq(cx, list, &p).iter().enumerate() {
        let ip = format!("{p}[{i}]");
        let [to, field, resource, item_mode] = fields(
            cx,
            item,
            &ip,
            ["path", "fieldRef", "resourceFieldRef", "mode"],
            &[],
        );
        let Some(to_text) = to.and_then(|t| walk::string(cx, t, &join(&ip, "path"))) else {
            if to.is_none() {
                cx.error(item, &ip, "an item needs a path");
            }
            continue;
        };
        if let Err(e) = super::rules::relative_path(to_text) {
            cx.error(to.expect("set"), &join(&ip, "path"), e);
            continue;
        }
        let mode = match item_mode {
            Some(m) => {
                walk::integer(cx, m, &join(&ip, "mode"), 0, 0o777).map_or(mode, |m| m as u32)
            }
            None => mode,
        };
        let value = match (field, resource) {
            (Some(f), None) => field_ref(cx, f, &join(&ip, "fieldRef"), meta),
            (None, Some(r)) => {
                let rp = join(&ip, "resourceFieldRef");
                super::resource_env::value(cx, r, &rp, None, meta.spec)
            }
            _ => {
                cx.error(item, &ip, "give one of fieldRef or resourceFieldRef");
                None
            }
        };
        if let Some(v) = value {
            out.push(File {
                path: to_text.to_string(),
                content: v.into_bytes(),
                mode,
            });
        }
    }
    out
}

/// A `fieldRef`'s value.
fn field_ref(cx: &mut Cx, n: &Node, path: &str, meta: &Meta<'_>) -> Option<String> {
    let [fp, _] = fields(cx, n, path, ["fieldPath", "apiVersion"], &[]);
    let Some(fp_node) = fp else {
        cx.error(n, path, "missing fieldPath");
        return None;
    };
    let fp = walk::string(cx, fp_node, &join(path, "fieldPath"))?;
    let one = |list: &[(String, String)], key: &str| {
        list.iter()
            .find(|(k, _)| k == key)
            .map_or(String::new(), |(_, v)| v.clone())
    };
    match fp {
        "metadata.name" => Some(meta.name.to_string()),
        "metadata.namespace" => Some(meta.namespace.to_string()),
        "metadata.labels" => Some(format_map(meta.labels)),
        "metadata.annotations" => Some(format_map(meta.annotations)),
        _ => {
            if let Some(k) = subscript(fp, "metadata.labels") {
                return Some(one(meta.labels, k));
            }
            if let Some(k) = subscript(fp, "metadata.annotations") {
                return Some(one(meta.annotations, k));
            }
            cx.unsupported(
                fp_node,
                &join(path, "fieldPath"),
                &format!(
                    "fieldPath {fp} (podctl gives {}, and one label or annotation as metadata.labels['KEY'])",
                    FIELDS.join(", ")
                ),
            );
            None
        }
    }
}

/// `KEY` of `PREFIX['KEY']`.
fn subscript<'a>(field: &'a str, prefix: &str) -> Option<&'a str> {
    field
        .strip_prefix(prefix)?
        .strip_prefix("['")?
        .strip_suffix("']")
}

/// Labels or annotations as the kubelet writes them: `KEY="VALUE"` lines in
/// key order, each value quoted as Go's `%q` does, no newline after the last.
pub(crate) fn format_map(map: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = map.iter().collect();
    sorted.sort();
    sorted
        .iter()
        .map(|(k, v)| format!("{k}={}", go_quote(v)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A string quoted as Go's `strconv.Quote`: `"` and `\` escaped, control
/// and invalid-to-print characters as `\n`, `\xHH`, `\uHHHH`.
fn go_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x0b' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\x7f' => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if printable(c) => out.push(c),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// Go's `unicode.IsPrint`, for the characters that matter: no control
/// characters, no spaces but ' ', no invisible format characters.
fn printable(c: char) -> bool {
    let format =
        matches!(c as u32, 0xad | 0x200b..=0x200f | 0x2028..=0x202e | 0x2060..=0x2064 | 0xfeff);
    !(c.is_control() || (c.is_whitespace() && c != ' ') || format)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_annotations_are_written_as_the_kubelet_writes_them() {
        let m = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let labels = m(&[
            ("zone", "us-est-coast"),
            ("cluster", "test-cluster1"),
            ("rack", "rack-22"),
        ]);
        assert_eq!(
            format_map(&labels),
            "cluster=\"test-cluster1\"\nrack=\"rack-22\"\nzone=\"us-est-coast\""
        );
        let odd = m(&[("a", "say \"hi\"\\\n\tthere\u{1}é\u{a0}")]);
        assert_eq!(
            format_map(&odd),
            "a=\"say \\\"hi\\\"\\\\\\n\\tthere\\x01é\\u00a0\""
        );
        assert_eq!(format_map(&[]), "");
    }

    #[test]
    fn a_subscript_names_one_key() {
        assert_eq!(
            subscript("metadata.labels['app']", "metadata.labels"),
            Some("app")
        );
        assert_eq!(subscript("metadata.labels", "metadata.labels"), None);
        assert_eq!(subscript("metadata.labelsx['a']", "metadata.labels"), None);
    }
}
