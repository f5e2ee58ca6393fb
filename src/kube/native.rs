//! The native pod file a manifest lowers to, with where each line came from.
//!
//! The converter fills a [`Native`] (pod keys, scratch volumes, containers,
//! each key's TOML value text and its origin in the YAML); [`Native::render`]
//! writes the TOML text, one key or array element per line, and the origin of
//! every line, so that the pod file reader's diagnostics can be put back at
//! the Kubernetes field they came from.

use super::walk::Cx;
use super::yaml::Node;

/// Where a native key came from: a byte offset in the YAML and its field path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Origin {
    pub offset: usize,
    pub path: String,
}

/// A value: TOML text, or an array written one element per line.
#[derive(Debug, Clone)]
pub(crate) enum Val {
    Raw(String),
    Array(Vec<(String, Origin)>),
}

/// Keys in the order set; a key set twice is refused by [`Keys::set`].
#[derive(Debug, Default)]
pub(crate) struct Keys(pub Vec<(String, Val, Origin)>);

impl Keys {
    /// Sets a dotted native key; if it is set already, returns where.
    pub(crate) fn set(&mut self, key: &str, val: Val, origin: Origin) -> Result<(), Origin> {
        let clash = |k: &str| {
            // `a.b` also clashes with `a` (a table set whole) and `a.b.c`.
            k == key || key.starts_with(&format!("{k}.")) || k.starts_with(&format!("{key}."))
        };
        if let Some((_, _, o)) = self.0.iter().find(|(k, _, _)| clash(k)) {
            return Err(o.clone());
        }
        self.0.push((key.to_string(), val, origin));
        Ok(())
    }

    pub(crate) fn has(&self, key: &str) -> bool {
        self.0.iter().any(|(k, _, _)| k == key)
    }
}

#[derive(Debug)]
pub(crate) struct Container {
    pub name: String,
    pub origin: Origin,
    pub keys: Keys,
    /// A regular container: the pod's restartPolicy is its own (init
    /// containers and sidecars keep theirs).
    pub regular: bool,
}

#[derive(Debug, Default)]
pub(crate) struct Native {
    pub origin: Option<Origin>,
    pub keys: Keys,
    /// `[volumes]`: name, value (`{}` or `{ size = ... }`), origin.
    pub volumes: Vec<(String, String, Origin)>,
    pub containers: Vec<Container>,
    /// The files of configMap volumes, for apply to write.
    pub files: Vec<super::files::VolumeFiles>,
    /// The values of the file's Secrets as podctl secrets, for apply to store.
    pub secret_store: super::secret::Values,
    /// The values of the file's Secrets: a line holding one is marked
    /// ([`super::secret::MARK`]).
    pub secrets: Vec<String>,
}

/// The TOML text and, per line (index = line - 1), its origin.
pub(crate) struct Rendered {
    pub text: String,
    pub origins: Vec<Origin>,
    /// The secret values as they are written in TOML strings.
    secrets: Vec<String>,
}

impl Native {
    pub(crate) fn render(&self, source: &str) -> Rendered {
        let top = self.origin.clone().unwrap_or(Origin {
            offset: 0,
            path: String::new(),
        });
        let mut out = Rendered {
            text: String::new(),
            origins: Vec::new(),
            secrets: self
                .secrets
                .iter()
                .map(|v| {
                    let quoted = string(v);
                    quoted[1..quoted.len() - 1].to_string()
                })
                .collect(),
        };
        out.line(
            &format!("# podctl pod file made from the Kubernetes manifest {source}"),
            &top,
        );
        write_keys(&mut out, &self.keys);
        if !self.volumes.is_empty() {
            out.line("[volumes]", &top);
            for (name, val, o) in &self.volumes {
                out.line(&format!("{} = {val}", key(name)), o);
            }
        }
        for c in &self.containers {
            out.line(&format!("[containers.{}]", key(&c.name)), &c.origin);
            write_keys(&mut out, &c.keys);
        }
        out
    }
}

impl Rendered {
    fn line(&mut self, text: &str, origin: &Origin) {
        // A value never spans lines (strings are escaped), so lines and
        // origins stay in step.
        debug_assert!(!text.contains('\n'));
        self.text.push_str(text);
        if self.secrets.iter().any(|s| text.contains(s.as_str())) {
            self.text.push_str(super::secret::MARK);
        }
        self.text.push('\n');
        self.origins.push(origin.clone());
    }
}

fn write_keys(out: &mut Rendered, keys: &Keys) {
    for (k, val, o) in &keys.0 {
        match val {
            Val::Raw(text) => out.line(&format!("{k} = {text}"), o),
            Val::Array(items) => {
                out.line(&format!("{k} = ["), o);
                for (text, o) in items {
                    out.line(&format!("  {text},"), o);
                }
                out.line("]", o);
            }
        }
    }
}

/// A TOML key: bare when it can be, else a quoted string.
/// Where node `n`, at field `path`, is in the YAML.
pub(crate) fn origin(n: &Node, path: &str) -> Origin {
    Origin {
        offset: n.offset,
        path: path.to_string(),
    }
}

/// Sets a pod key from a node; a clash is reported at the node.
pub(crate) fn set(cx: &mut Cx, keys: &mut Keys, key: &str, text: String, n: &Node, path: &str) {
    if let Err(o) = keys.set(key, Val::Raw(text), origin(n, path)) {
        cx.error(n, path, format!("also set by {}", o.path));
    }
}

pub(crate) fn key(k: &str) -> String {
    let bare = !k.is_empty()
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if bare { k.to_string() } else { string(k) }
}

/// A TOML basic string, every control character escaped.
pub(crate) fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_and_keys_are_toml() {
        assert_eq!(string("a\"b\\c\nd\u{1}"), "\"a\\\"b\\\\c\\nd\\u0001\"");
        assert_eq!(key("app"), "app");
        assert_eq!(key("net.ipv4.x"), "\"net.ipv4.x\"");
        let t: toml::Table =
            toml::from_str(&format!("{} = {}", key("a.b"), string("x\u{7f}\u{0}"))).unwrap();
        assert_eq!(t["a.b"].as_str(), Some("x\u{7f}\u{0}"));
    }

    #[test]
    fn keys_set_twice_or_inside_a_set_table_clash() {
        let o = |p: &str| Origin {
            offset: 0,
            path: p.into(),
        };
        let mut k = Keys::default();
        k.set("resources.memory", Val::Raw("1".into()), o("a"))
            .unwrap();
        assert_eq!(
            k.set("resources.memory", Val::Raw("2".into()), o("b")),
            Err(o("a"))
        );
        assert_eq!(
            k.set("resources", Val::Raw("{}".into()), o("c")),
            Err(o("a"))
        );
        k.set("resources.cpu", Val::Raw("1".into()), o("d"))
            .unwrap();
    }
}
