//! ConfigMaps and Secrets in the same file as the Pod (or, applied as a
//! directory, in another file of it: [`Directory`]), for `env`
//! (`valueFrom`), `envFrom` and volumes.

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

/// One ConfigMap or Secret: its kind, name, data, and the file it is
/// in when that is another file of the directory.
#[derive(Debug, Clone)]
struct Object {
    kind: Kind,
    name: String,
    data: BTreeMap<String, String>,
    elsewhere: Option<String>,
}

#[derive(Debug, Default)]
pub(crate) struct Refs {
    objects: Vec<Object>,
    /// The file being read, when objects of several files are gathered
    /// (a [`Directory`]'s scan): each object read is marked with it.
    reading: Option<String>,
    /// Read as one file of a directory: the other files' objects are here
    /// too, and a missing one is missing from all of them.
    in_directory: bool,
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
        if let Some(first) = self
            .objects
            .iter()
            .find(|o| o.kind == kind && o.name == name)
        {
            let where_ = match (&first.elsewhere, &self.reading) {
                (Some(f), Some(this)) if f != this => format!(" (the first is in {f})"),
                _ => String::new(),
            };
            cx.error(
                doc,
                &join(at, "metadata.name"),
                format!("a second {} named {name:?}{where_}", kind.as_str()),
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
        self.objects.push(Object {
            kind,
            name: name.to_string(),
            data: values,
            elsewhere: self.reading.clone(),
        });
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
                .filter(|o| o.kind == Kind::Secret)
                .flat_map(|o| o.data.keys().map(move |k| (o, k)))
                .find(|(o, k)| super::secret::name(&o.name, k).as_deref() == Some(full.as_str()));
            if let Some((o, k)) = other {
                let n = &o.name;
                let in_file = match (&o.elsewhere, &self.reading) {
                    (Some(f), Some(this)) if f != this => format!(" (in {f})"),
                    _ => String::new(),
                };
                cx.error(
                    doc,
                    &path,
                    format!("the podctl secret {full} would be both this key and the Secret {n:?}'s key {k:?}{in_file}: rename one"),
                );
            }
        }
    }

    /// The values of the file's Secrets as podctl secrets, for apply to
    /// store (an empty value is no secret: it is given as a plain one).
    pub(crate) fn secret_store(&self) -> super::secret::Values {
        let mut out = BTreeMap::new();
        for o in self.objects.iter().filter(|o| o.kind == Kind::Secret) {
            for (key, value) in o.data.iter().filter(|(_, v)| !v.is_empty()) {
                if let Some(full) = super::secret::name(&o.name, key) {
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
            .filter(|o| o.kind == Kind::Secret)
            .flat_map(|o| o.data.values().filter(|v| !v.is_empty()).cloned())
            .collect();
        v.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
        v.dedup();
        v
    }

    /// The data of an object, if the file (or its directory) holds it.
    pub(crate) fn get(&self, kind: Kind, name: &str) -> Option<&BTreeMap<String, String>> {
        self.objects
            .iter()
            .find(|o| o.kind == kind && o.name == name)
            .map(|o| &o.data)
    }

    /// Where an object was looked for, for a message: "in this file", or
    /// in every file of the directory.
    pub(crate) fn looked_in(&self) -> &'static str {
        if self.in_directory {
            "in this file nor in another file of its directory"
        } else {
            "in this file"
        }
    }

    /// Where an object may be put so that it is found.
    pub(crate) fn put_it(&self) -> &'static str {
        if self.in_directory {
            "put it in one of the directory's files"
        } else {
            "put it in the same file, after a `---`"
        }
    }

    /// Adds the objects of the other files of `dir` (those not in `file`,
    /// whose own were read already).
    pub(crate) fn adopt(&mut self, dir: &Directory, file: &str) {
        self.in_directory = true;
        for o in dir.objects.objects.iter() {
            if o.elsewhere.as_deref() != Some(file) {
                self.objects.push(o.clone());
            }
        }
    }
}

/// The ConfigMaps and Secrets of the manifests of a directory, read before
/// any of its pods, as `kubectl apply -f DIR` creates them all: a Pod finds
/// them in any file of it. Two objects of one kind and name (in one file or
/// two) and Secret keys that would be one podctl secret are refused, located.
#[derive(Debug, Default)]
pub struct Directory {
    objects: Refs,
    /// The files that hold only ConfigMaps and Secrets: no pod.
    objects_only: Vec<String>,
}

impl Directory {
    /// Gathers the objects of `sources` (each file's label and text);
    /// problems are located in their file. A file whose YAML cannot be
    /// read counts as a pod's, whose own read then says why.
    pub fn gather(sources: &[(String, String)]) -> Result<Directory, crate::spec::Diagnostics> {
        let mut dir = Directory::default();
        let mut errors = Vec::new();
        for (label, src) in sources {
            let Ok(docs) = super::yaml::parse(src) else {
                continue;
            };
            let mut pod = false;
            let mut cx = Cx::new(label, src, walk::Unsupported::Error);
            dir.objects.reading = Some(label.clone());
            for (i, doc) in docs.iter().enumerate() {
                let at = if docs.len() > 1 {
                    format!("[{i}]")
                } else {
                    String::new()
                };
                match kind_of(doc).as_deref() {
                    Some("ConfigMap" | "Secret") => dir.objects.read(&mut cx, doc, &at),
                    _ if doc.value == super::yaml::Value::Null => {}
                    // A Pod, or anything else: the file's own read says what it is.
                    _ => pod = true,
                }
            }
            if !pod {
                dir.objects_only.push(label.clone());
            }
            errors.extend(cx.errors.finish());
        }
        dir.objects.reading = None;
        if errors.is_empty() {
            Ok(dir)
        } else {
            Err(crate::spec::Diagnostics(errors))
        }
    }

    /// Whether the file labelled `file` holds only ConfigMaps and Secrets:
    /// it is no pod's.
    pub fn objects_only(&self, file: &str) -> bool {
        self.objects_only.iter().any(|f| f == file)
    }
}

/// A document's `kind`, when it is a string.
fn kind_of(doc: &Node) -> Option<String> {
    match &doc.value {
        super::yaml::Value::Map(pairs) => pairs.iter().find_map(|(k, v)| {
            (k.key_text().as_deref() == Some("kind")).then(|| match &v.value {
                super::yaml::Value::Str(s) => Some(s.clone()),
                _ => None,
            })?
        }),
        _ => None,
    }
}
