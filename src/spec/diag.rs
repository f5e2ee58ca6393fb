//! Collecting located diagnostics: byte spans to `file:line:column`, and key paths.

use super::Diagnostic;
use std::ops::Range;

/// Collects every problem found in one file, locating each by byte span.
pub(crate) struct Sink<'s> {
    file: &'s str,
    src: &'s str,
    /// Byte offset of the start of each line.
    line_starts: Vec<usize>,
    /// Problems with the byte offset they are at; located in [`Sink::finish`].
    found: Vec<Found>,
}

struct Found {
    offset: usize,
    key: String,
    message: String,
}

impl<'s> Sink<'s> {
    pub(crate) fn new(file: &'s str, src: &'s str) -> Self {
        let line_starts = std::iter::once(0)
            .chain(src.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Sink {
            file,
            src,
            line_starts,
            found: Vec::new(),
        }
    }

    /// Records a problem at the start of `span`; `key` is the dotted key path.
    pub(crate) fn error(&mut self, span: Range<usize>, key: &str, message: impl Into<String>) {
        let mut offset = span.start.min(self.src.len());
        while !self.src.is_char_boundary(offset) {
            offset -= 1;
        }
        self.found.push(Found {
            offset,
            key: key.to_string(),
            message: message.into(),
        });
    }

    /// The source text of a span, as the user wrote it (for messages).
    pub(crate) fn text(&self, span: Range<usize>) -> &'s str {
        self.src.get(span).unwrap_or("")
    }

    pub(crate) fn has_errors(&self) -> bool {
        !self.found.is_empty()
    }

    /// The diagnostics in file order (checks that span several keys, such as
    /// limits, run after the walk, so they are sorted here), located.
    pub(crate) fn finish(mut self) -> Vec<Diagnostic> {
        self.found.sort_by_key(|f| f.offset);
        // In offset order, each column is counted on from the one before, so
        // many problems on one long line cost one pass over it.
        let mut at: Option<(usize, usize, usize)> = None; // (line, offset, column)
        let mut out = Vec::with_capacity(self.found.len());
        for f in self.found {
            let line = self.line_starts.partition_point(|&s| s <= f.offset);
            let column = match at {
                Some((l, offset, column)) if l == line => {
                    column + self.src[offset..f.offset].chars().count()
                }
                _ => {
                    self.src[self.line_starts[line - 1]..f.offset]
                        .chars()
                        .count()
                        + 1
                }
            };
            at = Some((line, f.offset, column));
            out.push(Diagnostic {
                file: self.file.to_string(),
                line,
                column,
                key: f.key,
                message: f.message,
            });
        }
        out
    }
}

/// Appends `key` to a dotted path, quoting it when it is not a bare TOML key.
pub(crate) fn join(prefix: &str, key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    let key = if bare {
        key.to_string()
    } else {
        format!("{key:?}")
    };
    if prefix.is_empty() {
        key
    } else {
        format!("{prefix}.{key}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_and_count_characters() {
        let src = "a = 1\nné = \"x\"\n";
        let mut sink = Sink::new("f.toml", src);
        sink.error(0..1, "a", "m");
        let at = src.find('"').unwrap();
        sink.error(at..at + 3, "né", "m");
        sink.error(src.len()..src.len(), "", "end");
        let d = sink.finish();
        assert_eq!((d[0].line, d[0].column), (1, 1));
        assert_eq!((d[1].line, d[1].column), (2, 6));
        assert_eq!((d[2].line, d[2].column), (3, 1));
    }

    #[test]
    fn problems_recorded_out_of_order_are_located_and_sorted() {
        let src = "é = { a = 1, b = 2 }\nx = 1";
        let mut sink = Sink::new("f.toml", src);
        for key in ["x", "b", "a", "é"] {
            let at = src.find(key).unwrap();
            sink.error(at..at + 1, key, "m");
        }
        let d = sink.finish();
        let at: Vec<(usize, usize, &str)> = d
            .iter()
            .map(|d| (d.line, d.column, d.key.as_str()))
            .collect();
        assert_eq!(at, [(1, 1, "é"), (1, 7, "a"), (1, 14, "b"), (2, 1, "x")]);
    }

    #[test]
    fn join_quotes_keys_that_are_not_bare() {
        assert_eq!(join("", "name"), "name");
        assert_eq!(join("containers", "app"), "containers.app");
        assert_eq!(join("env", "A.B"), "env.\"A.B\"");
    }
}
