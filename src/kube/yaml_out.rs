//! A small block-style YAML writer for `kube generate`: maps and lists,
//! strings plain when they read back as the same string, else quoted.

/// A YAML value to write.
#[derive(Debug, Clone)]
pub(crate) enum Y {
    Str(String),
    Int(i64),
    Bool(bool),
    Map(Vec<(String, Y)>),
    Seq(Vec<Y>),
}

/// Builds a mapping, leaving out what is not given.
#[derive(Default)]
pub(crate) struct MapB(pub Vec<(String, Y)>);

impl MapB {
    pub(crate) fn put(&mut self, k: &str, v: Y) -> &mut Self {
        self.0.push((k.to_string(), v));
        self
    }

    pub(crate) fn str(&mut self, k: &str, v: &str) -> &mut Self {
        self.put(k, Y::Str(v.to_string()))
    }

    /// Puts a non-empty mapping or list.
    pub(crate) fn nonempty(&mut self, k: &str, v: Y) -> &mut Self {
        let empty = match &v {
            Y::Map(m) => m.is_empty(),
            Y::Seq(s) => s.is_empty(),
            _ => false,
        };
        if !empty {
            self.put(k, v);
        }
        self
    }

    pub(crate) fn done(&mut self) -> Y {
        Y::Map(std::mem::take(&mut self.0))
    }
}

/// The document's text.
pub(crate) fn render(y: &Y) -> String {
    let mut out = String::new();
    match y {
        Y::Map(pairs) => map(&mut out, pairs, 0),
        other => {
            out.push_str(&inline(other));
            out.push('\n');
        }
    }
    out
}

fn map(out: &mut String, pairs: &[(String, Y)], indent: usize) {
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push_str(&" ".repeat(indent));
        }
        out.push_str(&scalar(k));
        out.push(':');
        match v {
            Y::Map(m) if !m.is_empty() => {
                out.push('\n');
                out.push_str(&" ".repeat(indent + 2));
                map(out, m, indent + 2);
            }
            Y::Seq(s) if !s.is_empty() => {
                out.push('\n');
                // Lists at their key's indentation, as kubectl writes them.
                seq(out, s, indent);
            }
            v => {
                out.push(' ');
                out.push_str(&inline(v));
                out.push('\n');
            }
        }
    }
}

fn seq(out: &mut String, items: &[Y], indent: usize) {
    for item in items {
        out.push_str(&" ".repeat(indent));
        out.push_str("- ");
        match item {
            Y::Map(m) if !m.is_empty() => map(out, m, indent + 2),
            Y::Seq(s) if !s.is_empty() => {
                out.push('\n');
                seq(out, s, indent + 2);
            }
            v => {
                out.push_str(&inline(v));
                out.push('\n');
            }
        }
    }
}

fn inline(y: &Y) -> String {
    match y {
        Y::Str(s) => scalar(s),
        Y::Int(i) => i.to_string(),
        Y::Bool(b) => b.to_string(),
        Y::Map(_) => "{}".into(),
        Y::Seq(_) => "[]".into(),
    }
}

/// A string, plain when the YAML reader gives it back as that string.
pub(crate) fn scalar(s: &str) -> String {
    let plain = s.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '/')
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_./:@-".contains(&b))
        && !s.ends_with(':')
        && matches!(super::yaml::parse(s).as_deref(), Ok([n]) if n.value == super::yaml::Value::Str(s.into()));
    // Single quotes keep TOML values readable: only `'` would need escaping.
    let single =
        !s.is_empty() && !s.contains('\'') && !s.chars().any(char::is_control) && s.trim() == s;
    if plain {
        s.to_string()
    } else if single {
        format!("'{s}'")
    } else {
        serde_json::to_string(s).expect("a string serializes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_read_back_as_written() {
        for s in [
            "nginx", "true", "80", "1.5", "", "a: b", "x # y", "-", "é", "null", "/bin/sh",
            "\n\t\"", "a:",
        ] {
            let text = render(&Y::Map(vec![("k".into(), Y::Str(s.into()))]));
            let docs = super::super::yaml::parse(&text).unwrap();
            let super::super::yaml::Value::Map(p) = &docs[0].value else {
                panic!("{text}")
            };
            assert_eq!(
                p[0].1.value,
                super::super::yaml::Value::Str(s.into()),
                "{text}"
            );
        }
        assert_eq!(scalar("nginx:1.25"), "nginx:1.25");
        assert_eq!(scalar("true"), "'true'");
    }

    #[test]
    fn nesting_is_block_style() {
        let y = MapB::default()
            .put(
                "a",
                Y::Seq(vec![
                    MapB::default().str("name", "x").put("n", Y::Int(1)).done(),
                ]),
            )
            .put("b", MapB::default().put("c", Y::Bool(true)).done())
            .done();
        assert_eq!(render(&y), "a:\n- name: x\n  n: 1\nb:\n  c: true\n");
    }
}
