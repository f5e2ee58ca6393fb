//! ConfigMaps and Secrets in the same file as the Pod, for `env`
//! (`valueFrom`) and `envFrom`.

use super::walk::{self, Cx, fields, join};
use super::yaml::Node;
use base64::Engine;
use std::collections::BTreeMap;

/// Which kind of object a reference names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    ConfigMap,
    Secret,
}

impl Kind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Kind::ConfigMap => "ConfigMap",
            Kind::Secret => "Secret",
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct Refs {
    objects: Vec<(Kind, String, BTreeMap<String, String>)>,
}

const METADATA: [&str; 4] = ["name", "namespace", "labels", "annotations"];

impl Refs {
    /// Reads a ConfigMap or Secret document (its kind is checked already).
    pub(crate) fn read(&mut self, cx: &mut Cx, doc: &Node, at: &str) {
        let is_secret = walk::map(cx, doc, at)
            .unwrap_or_default()
            .iter()
            .any(|(k, v)| {
                k.key_text().as_deref() == Some("kind")
                    && matches!(&v.value, super::yaml::Value::Str(s) if s == "Secret")
            });
        let kind = if is_secret {
            Kind::Secret
        } else {
            Kind::ConfigMap
        };
        let [_, _, metadata, data, string_data, _, _] = fields(
            cx,
            doc,
            at,
            [
                "apiVersion",
                "kind",
                "metadata",
                "data",
                "stringData",
                "type",
                "immutable",
            ],
            &["binaryData"],
        );
        let name = metadata.and_then(|m| {
            let [name, ..] = fields(cx, m, &join(at, "metadata"), METADATA, &[]);
            walk::string(cx, name?, &join(at, "metadata.name"))
        });
        let Some(name) = name else {
            cx.error(
                doc,
                &join(at, "metadata.name"),
                format!("missing: the {}'s name", kind.as_str()),
            );
            return;
        };
        if self.objects.iter().any(|(k, n, _)| *k == kind && n == name) {
            cx.error(
                doc,
                &join(at, "metadata.name"),
                format!("a second {} named {name:?}", kind.as_str()),
            );
            return;
        }
        let mut values = BTreeMap::new();
        if let Some(d) = data {
            for (k, v) in walk::map(cx, d, &join(at, "data")).unwrap_or_default() {
                let key = k.key_text().unwrap_or_default();
                let path = join(at, &format!("data.{key}"));
                if let Err(e) = super::rules::key(&key) {
                    cx.error(k, &path, e);
                    continue;
                }
                let Some(text) = walk::string(cx, v, &path) else {
                    continue;
                };
                let value = if kind == Kind::Secret {
                    match base64::engine::general_purpose::STANDARD
                        .decode(text.trim())
                        .ok()
                        .and_then(|b| String::from_utf8(b).ok())
                    {
                        Some(s) => s,
                        None => {
                            cx.error(v, &path, "not base64 of UTF-8 text (a Secret's data is base64; use stringData for plain text)");
                            continue;
                        }
                    }
                } else {
                    text.to_string()
                };
                values.insert(key, value);
            }
        }
        if let Some(d) = string_data {
            if kind == Kind::ConfigMap {
                cx.error(
                    d,
                    &join(at, "stringData"),
                    "a ConfigMap has data, not stringData",
                );
            }
            for (k, v) in walk::map(cx, d, &join(at, "stringData")).unwrap_or_default() {
                let key = k.key_text().unwrap_or_default();
                let path = join(at, &format!("stringData.{key}"));
                if let Err(e) = super::rules::key(&key) {
                    cx.error(k, &path, e);
                    continue;
                }
                if let Some(text) = walk::string(cx, v, &path) {
                    values.insert(key, text.to_string());
                }
            }
        }
        if kind == Kind::Secret {
            self.check_names(cx, doc, at, name, &values);
        }
        self.objects.push((kind, name.to_string(), values));
    }

    /// Each key of Secret `name` is a podctl secret `NAME.KEY`
    /// ([`super::secret::name`]): one that is too long, or that another
    /// Secret's key is named too (`a.b` + `c`, `a` + `b.c`), is refused.
    fn check_names(
        &self,
        cx: &mut Cx,
        doc: &Node,
        at: &str,
        name: &str,
        values: &BTreeMap<String, String>,
    ) {
        for key in values.keys() {
            let path = join(at, &format!("data.{key}"));
            let Some(full) = super::secret::name(name, key) else {
                cx.error(
                    doc,
                    &path,
                    format!(
                        "the Secret {name:?}'s key {key:?} is the podctl secret {name}.{key}, longer than {} bytes",
                        crate::model::SECRET_NAME_MAX
                    ),
                );
                continue;
            };
            let other = self
                .objects
                .iter()
                .filter(|(k, _, _)| *k == Kind::Secret)
                .flat_map(|(_, n, d)| d.keys().map(move |k| (n, k)))
                .find(|(n, k)| super::secret::name(n, k).as_deref() == Some(full.as_str()));
            if let Some((n, k)) = other {
                cx.error(
                    doc,
                    &path,
                    format!("the podctl secret {full} would be both this key and the Secret {n:?}'s key {k:?}: rename one"),
                );
            }
        }
    }

    /// The values of the file's Secrets as podctl secrets, for apply to
    /// store (an empty value is no secret: it is given as a plain one).
    pub(crate) fn secret_store(&self) -> super::secret::Values {
        let mut out = BTreeMap::new();
        for (_, name, data) in self.objects.iter().filter(|(k, _, _)| *k == Kind::Secret) {
            for (key, value) in data.iter().filter(|(_, v)| !v.is_empty()) {
                if let Some(full) = super::secret::name(name, key) {
                    out.insert(full, value.clone().into_bytes());
                }
            }
        }
        super::secret::Values(out)
    }

    /// Every value of the file's Secrets (not empty), longest first: what
    /// no output may show ([`super::secret`]).
    pub(crate) fn secret_values(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .objects
            .iter()
            .filter(|(k, _, _)| *k == Kind::Secret)
            .flat_map(|(_, _, d)| d.values().filter(|v| !v.is_empty()).cloned())
            .collect();
        v.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
        v.dedup();
        v
    }

    /// The data of an object, if the file holds it.
    pub(crate) fn get(&self, kind: Kind, name: &str) -> Option<&BTreeMap<String, String>> {
        self.objects
            .iter()
            .find(|(k, n, _)| *k == kind && n == name)
            .map(|(_, _, d)| d)
    }
}
