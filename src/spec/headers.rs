//! An http probe's request headers (`headers = { "X-Probe" = "yes" }`):
//! names are HTTP tokens, values have no control characters, both bounded,
//! so that nothing written here can end a header line or the request.

use super::diag::{Sink, join};
use super::tree::{self, Value};
use std::collections::BTreeMap;

/// At most this many headers on one probe.
pub const MAX_HEADERS: usize = 32;
/// Longest header name.
pub const MAX_NAME: usize = 256;
/// Longest header value.
pub const MAX_VALUE: usize = 4096;

/// A header name: an HTTP token (RFC 9110's `tchar`s), 1 to [`MAX_NAME`] bytes.
pub fn name_ok(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// A header value: visible ASCII, spaces and tabs, at most [`MAX_VALUE`] bytes.
pub fn value_ok(value: &str) -> bool {
    value.len() <= MAX_VALUE
        && value
            .bytes()
            .all(|b| b == b'\t' || (b' '..=b'~').contains(&b))
}

/// Reads a `headers` table at `path`.
pub(crate) fn read(sink: &mut Sink, v: &Value<'_>, path: &str) -> Option<BTreeMap<String, String>> {
    let t = tree::table(sink, v, path)?;
    if t.len() > MAX_HEADERS {
        sink.error(v.span(), path, format!("more than {MAX_HEADERS} headers"));
        return None;
    }
    let mut out = BTreeMap::new();
    let mut lower = std::collections::BTreeSet::new();
    for (key, value) in t.iter() {
        let name = key.get_ref().as_ref();
        let at = join(path, name);
        if !name_ok(name) {
            sink.error(
                key.span(),
                &at,
                format!("{name:?} is not a header name (letters, digits and !#$%&'*+-.^_`|~, at most {MAX_NAME})"),
            );
            continue;
        }
        // Header names are case-insensitive: one of each.
        if !lower.insert(name.to_ascii_lowercase()) {
            sink.error(key.span(), &at, "a header given twice (names ignore case)");
            continue;
        }
        let Some(s) = tree::string(sink, value, &at) else {
            continue;
        };
        if !value_ok(s.text) {
            sink.error(
                s.span,
                &at,
                format!("a header value of printable characters, at most {MAX_VALUE} bytes"),
            );
            continue;
        }
        out.insert(name.to_string(), s.text.to_string());
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_tokens_and_values_cannot_end_a_line() {
        assert!(name_ok("X-Custom-Header"));
        for bad in ["", "X Header", "X:Y", "X\r\nY", &"a".repeat(MAX_NAME + 1)] {
            assert!(!name_ok(bad), "{bad:?}");
        }
        assert!(value_ok("Awesome, really\t!"));
        for bad in ["a\r\nEvil: 1", "a\nb", "\u{7f}", "é"] {
            assert!(!value_ok(bad), "{bad:?}");
        }
    }
}
