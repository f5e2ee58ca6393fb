//! The documents of a manifest: one Pod, and the ConfigMaps and Secrets it
//! uses; other kinds are not supported.

use super::native::Native;
use super::refs;
use super::walk::{self, Cx, join};
use super::yaml::{Node, Value};

/// Lowers the stream's documents; None when nothing can be made of them
/// (the problems are in `cx`).
/// configMap volumes' files go under `files`. Read as one file of a
/// directory (`dir`: the directory's objects and this file's label), the
/// other files' ConfigMaps and Secrets are the Pod's too.
pub(crate) fn lower(
    cx: &mut Cx,
    docs: &[Node],
    files: &std::path::Path,
    dir: Option<(&refs::Directory, &str)>,
) -> Option<Native> {
    let mut pod: Option<&Node> = None;
    let mut objects = refs::Refs::default();
    for (i, doc) in docs.iter().enumerate() {
        let at = if docs.len() > 1 {
            format!("[{i}]")
        } else {
            String::new()
        };
        if doc.value == Value::Null {
            continue;
        }
        let Some(pairs) = walk::map(cx, doc, &at) else {
            continue;
        };
        let field = |k: &str| {
            pairs
                .iter()
                .find(|(key, _)| key.key_text().as_deref() == Some(k))
        };
        let kind = field("kind").and_then(|(_, v)| walk::string(cx, v, &join(&at, "kind")));
        let api =
            field("apiVersion").and_then(|(_, v)| walk::string(cx, v, &join(&at, "apiVersion")));
        match (kind, api) {
            (None, _) => cx.error(
                doc,
                &at,
                "missing kind (podctl reads kind: Pod, ConfigMap and Secret)",
            ),
            (_, None) => cx.error(doc, &at, "missing apiVersion (v1)"),
            (Some(_), Some(api)) if api != "v1" => {
                let (_, v) = field("apiVersion").expect("read above");
                cx.error(
                    v,
                    &join(&at, "apiVersion"),
                    format!("{api:?}: podctl reads apiVersion v1"),
                );
            }
            (Some("Pod"), _) => {
                if pod.is_some() {
                    cx.error(doc, &at, "a second Pod: podctl reads one Pod per file (put each pod in a file of its own)");
                } else {
                    pod = Some(doc);
                }
            }
            (Some("ConfigMap" | "Secret"), _) => objects.read(cx, doc, &at),
            (Some(other), _) => {
                let (k, _) = field("kind").expect("read above");
                let message = format!(
                    "kind {other} (a file holds one Pod and the ConfigMaps and Secrets it uses)"
                );
                cx.unsupported(k, &join(&at, "kind"), &message);
            }
        }
    }
    let Some(pod) = pod else {
        if !cx.errors.has_errors() {
            cx.error_at(0, "", "no Pod in this file (kind: Pod, apiVersion: v1)");
        }
        return None;
    };
    if let Some((dir, file)) = dir {
        objects.adopt(dir, file);
    }
    let mut native = super::pod::lower_pod(cx, pod, &objects, files);
    native.secrets = objects.secret_values();
    native.secret_store = objects.secret_store();
    Some(native)
}
