//! YAML documents as a tree whose every node knows where it was written.
//!
//! saphyr-parser gives events with positions; this module builds them into
//! [`Node`]s (scalars resolved by the YAML 1.2 core schema, aliases expanded
//! with a cap on the nodes made), so the converter can locate each problem.

use saphyr_parser::{Event, Marker, Parser, ScalarStyle};

/// One node and the byte offset it starts at.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub value: Value,
    pub offset: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Keys are scalars, unique, in document order.
    Map(Vec<(Node, Node)>),
}

impl Value {
    /// What a value is, for "expected ..., found ..." messages.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}

impl Node {
    /// A scalar's text as a key (`80` and `"80"` alike).
    pub(crate) fn key_text(&self) -> Option<String> {
        match &self.value {
            Value::Str(s) => Some(s.clone()),
            Value::Int(i) => Some(i.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
}

/// A syntax error: where, and the parser's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    pub offset: usize,
    pub message: String,
}

/// Limits on what a manifest may make podctl hold in memory. Expanding
/// aliases can multiply a small file into a huge tree ("billion laughs"):
/// both the number of nodes and the bytes of their text are counted after
/// expansion, and past either limit the stream is refused, before the copy
/// that would pass it is made.
///
/// Nodes of the whole stream, aliases expanded (a large Pod has a few
/// thousand).
const MAX_NODES: usize = 200_000;
/// Bytes of scalar text of the whole stream, aliases expanded (16 MiB:
/// Kubernetes keeps an object under about 1.5 MiB).
pub(crate) const MAX_EXPANDED_BYTES: usize = 16 << 20;
/// Bytes of a manifest file (4 MiB), checked before it is parsed.
pub(crate) const MAX_FILE_BYTES: usize = 4 << 20;

/// Every document of a YAML stream (an empty document is `Null`).
pub(crate) fn parse(src: &str) -> Result<Vec<Node>, SyntaxError> {
    if src.len() > MAX_FILE_BYTES {
        return Err(SyntaxError {
            offset: 0,
            message: too_big(src.len()),
        });
    }
    let offsets = CharOffsets::new(src);
    let mut b = Builder {
        stack: Vec::new(),
        anchors: Vec::new(),
        docs: Vec::new(),
        has_root: false,
        nodes: 0,
        bytes: 0,
    };
    for item in Parser::new_from_str(src) {
        let (event, span) = item.map_err(|e| SyntaxError {
            offset: offsets.byte(e.marker()),
            message: format!("invalid YAML: {}", e.info()),
        })?;
        let offset = offsets.byte(&span.start);
        b.event(event, offset)
            .map_err(|message| SyntaxError { offset, message })?;
    }
    Ok(b.docs)
}

/// saphyr's markers count characters; the sink wants bytes.
struct CharOffsets {
    /// Byte offset of each character, when the text is not ASCII.
    table: Option<Vec<usize>>,
    len: usize,
}

impl CharOffsets {
    fn new(src: &str) -> Self {
        let table = (!src.is_ascii()).then(|| src.char_indices().map(|(i, _)| i).collect());
        CharOffsets {
            table,
            len: src.len(),
        }
    }

    fn byte(&self, m: &Marker) -> usize {
        match &self.table {
            None => m.index().min(self.len),
            Some(t) => t.get(m.index()).copied().unwrap_or(self.len),
        }
    }
}

enum Open {
    Seq(Node, usize),
    /// The mapping, its anchor, and a key waiting for its value.
    Map(Node, usize, Option<Node>),
}

/// The message of a file over [`MAX_FILE_BYTES`].
pub(crate) fn too_big(len: usize) -> String {
    format!("the file has {len} bytes, more than the {MAX_FILE_BYTES} a manifest may have; refused")
}

/// An anchored node, with its size ([`size`]).
struct Anchor {
    id: usize,
    node: Node,
    nodes: usize,
    bytes: usize,
}

struct Builder {
    stack: Vec<Open>,
    anchors: Vec<Anchor>,
    docs: Vec<Node>,
    /// Whether the current document has its root node yet.
    has_root: bool,
    /// Nodes and scalar bytes made so far, aliases expanded.
    nodes: usize,
    bytes: usize,
}

impl Builder {
    fn event(&mut self, event: Event<'_>, offset: usize) -> Result<(), String> {
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                let plain = style == ScalarStyle::Plain;
                let is_str_tag = tag.as_ref().is_some_and(|t| t.suffix.ends_with("str"));
                self.bytes += text.len();
                self.check()?;
                let value = if plain && !is_str_tag {
                    resolve_plain(&text)
                } else {
                    Value::Str(text.into_owned())
                };
                self.add(Node { value, offset }, anchor)?;
            }
            Event::SequenceStart(anchor, _) => self.stack.push(Open::Seq(
                Node {
                    value: Value::Seq(Vec::new()),
                    offset,
                },
                anchor,
            )),
            Event::MappingStart(anchor, _) => self.stack.push(Open::Map(
                Node {
                    value: Value::Map(Vec::new()),
                    offset,
                },
                anchor,
                None,
            )),
            Event::SequenceEnd | Event::MappingEnd => {
                let (node, anchor) = match self.stack.pop() {
                    Some(Open::Seq(n, a)) | Some(Open::Map(n, a, None)) => (n, a),
                    _ => return Err("invalid YAML: unbalanced collection".into()),
                };
                self.add(node, anchor)?;
            }
            Event::Alias(id) => {
                let a = self
                    .anchors
                    .iter()
                    .rev()
                    .find(|a| a.id == id)
                    .ok_or("invalid YAML: an alias to an unknown anchor")?;
                // Counted (and refused) before the copy is made; `add`
                // counts the copy's root.
                self.nodes += a.nodes - 1;
                self.bytes += a.bytes;
                self.check()?;
                let node = Node {
                    offset,
                    ..a.node.clone()
                };
                self.add(node, 0)?;
            }
            Event::DocumentEnd if !self.has_root => self.docs.push(Node {
                value: Value::Null,
                offset,
            }),
            Event::DocumentStart(_) => self.has_root = false,
            _ => {}
        }
        self.check()
    }

    /// Refuses a stream past [`MAX_NODES`] or [`MAX_EXPANDED_BYTES`].
    fn check(&self) -> Result<(), String> {
        if self.nodes > MAX_NODES {
            return Err(format!(
                "the document expands to more than {MAX_NODES} nodes (aliases); refused"
            ));
        }
        if self.bytes > MAX_EXPANDED_BYTES {
            return Err(format!(
                "the document expands to more than {MAX_EXPANDED_BYTES} bytes of text (aliases); refused"
            ));
        }
        Ok(())
    }

    /// Puts a finished node into its parent, or makes it a document.
    fn add(&mut self, node: Node, anchor: usize) -> Result<(), String> {
        self.nodes += 1;
        self.check()?;
        if anchor > 0 {
            let (nodes, bytes) = size(&node);
            self.anchors.push(Anchor {
                id: anchor,
                node: node.clone(),
                nodes,
                bytes,
            });
        }
        match self.stack.last_mut() {
            None => {
                self.docs.push(node);
                self.has_root = true;
            }
            Some(Open::Seq(seq, _)) => {
                if let Value::Seq(items) = &mut seq.value {
                    items.push(node);
                }
            }
            Some(Open::Map(map, _, pending)) => match pending.take() {
                None => {
                    if node.key_text().is_none() {
                        return Err(format!(
                            "a mapping key must be a string or number, not {}",
                            node.value.kind()
                        ));
                    }
                    *pending = Some(node);
                }
                Some(key) => {
                    if let Value::Map(pairs) = &mut map.value {
                        if pairs.iter().any(|(k, _)| k.key_text() == key.key_text()) {
                            return Err(format!(
                                "duplicate key {:?}",
                                key.key_text().unwrap_or_default()
                            ));
                        }
                        pairs.push((key, node));
                    }
                }
            },
        }
        Ok(())
    }
}

/// A node's nodes and bytes of scalar text.
fn size(n: &Node) -> (usize, usize) {
    let add = |(a, b): (usize, usize), (c, d): (usize, usize)| (a + c, b + d);
    match &n.value {
        Value::Seq(items) => items.iter().map(size).fold((1, 0), add),
        Value::Map(pairs) => pairs
            .iter()
            .map(|(k, v)| add(size(k), size(v)))
            .fold((1, 0), add),
        Value::Str(s) => (1, s.len()),
        // Other scalars were counted by their text when read; this is
        // close enough for a bound.
        _ => (1, 8),
    }
}

/// The YAML 1.2 core schema for a plain scalar.
fn resolve_plain(s: &str) -> Value {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    let unsigned = s.strip_prefix(['-', '+']).unwrap_or(s);
    // `0644` is octal, as Kubernetes reads manifests (YAML 1.1): file modes
    // are written so.
    if s.len() > 1
        && s.starts_with('0')
        && s.bytes().all(|b| (b'0'..=b'7').contains(&b))
        && let Ok(i) = i64::from_str_radix(&s[1..], 8)
    {
        return Value::Int(i);
    }
    if !unsigned.is_empty() && unsigned.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse().map_or_else(|_| Value::Str(s.into()), Value::Int);
    }
    if let Some(hex) = s.strip_prefix("0x")
        && let Ok(i) = i64::from_str_radix(hex, 16)
    {
        return Value::Int(i);
    }
    if let Some(oct) = s.strip_prefix("0o")
        && let Ok(i) = i64::from_str_radix(oct, 8)
    {
        return Value::Int(i);
    }
    let float_like = unsigned
        .bytes()
        .all(|b| b.is_ascii_digit() || b".eE+-".contains(&b))
        && unsigned.bytes().any(|b| b.is_ascii_digit())
        && unsigned.starts_with(|c: char| c.is_ascii_digit() || c == '.');
    if float_like && let Ok(f) = s.parse::<f64>() {
        return Value::Float(f);
    }
    Value::Str(s.into())
}

#[cfg(test)]
#[path = "yaml_tests.rs"]
mod tests;
