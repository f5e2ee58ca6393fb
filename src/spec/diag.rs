//! Collecting located diagnostics: byte spans to `file:line:column`, and key paths.

use super::Diagnostic;
use std::ops::Range;

/// Collects every problem found in one file, locating each by byte span.
pub(crate) struct Sink<'s> {
    file: &'s str,
    src: &'s str,
    /// Byte offset of the start of each line.
    line_starts: Vec<usize>,
    diags: Vec<Diagnostic>,
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
            diags: Vec::new(),
        }
    }

    /// Records a problem at the start of `span`; `key` is the dotted key path.
    pub(crate) fn error(&mut self, span: Range<usize>, key: &str, message: impl Into<String>) {
        let (line, column) = self.position(span.start);
        self.diags.push(Diagnostic {
            file: self.file.to_string(),
            line,
            column,
            key: key.to_string(),
            message: message.into(),
        });
    }

    /// The source text of a span, as the user wrote it (for messages).
    pub(crate) fn text(&self, span: Range<usize>) -> &'s str {
        self.src.get(span).unwrap_or("")
    }

    pub(crate) fn has_errors(&self) -> bool {
        !self.diags.is_empty()
    }

    /// The diagnostics in file order (checks that span several keys, such as
    /// limits, run after the walk, so they are sorted here).
    pub(crate) fn finish(mut self) -> Vec<Diagnostic> {
        self.diags.sort_by_key(|d| (d.line, d.column));
        self.diags
    }

    /// 1-based line and column (in characters) of a byte offset.
    fn position(&self, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(self.src.len());
        while !self.src.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.line_starts.partition_point(|&s| s <= offset);
        let start = self.line_starts[line - 1];
        (line, self.src[start..offset].chars().count() + 1)
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
    fn join_quotes_keys_that_are_not_bare() {
        assert_eq!(join("", "name"), "name");
        assert_eq!(join("containers", "app"), "containers.app");
        assert_eq!(join("env", "A.B"), "env.\"A.B\"");
    }
}
