//! Pod files: parse TOML, validate, and build a [`crate::model::Pod`].
//!
//! The text is parsed into toml's spanned tree, which this module walks
//! itself (rather than deriving `Deserialize`) so that one pass finds every
//! problem, unknown keys included, each located at `file:line:column`.
//! Modules: [`diag`] locates problems, `tree` reads typed values, `pod`,
//! `container` and `limits` hold the rules, [`names`] and [`size`] the syntax
//! of names and amounts.

mod container;
pub(crate) mod diag;
pub mod dns;
mod env;
mod groups;
pub mod headers;
mod hooks;
pub mod lifecycle;
mod limits;
pub mod names;
mod needs;
mod network;
mod pod;
pub mod schema;
mod secrets;
mod security;
pub mod size;
pub(crate) mod tree;
mod updates;
pub(crate) mod userns;
mod volumes;

pub use network::check_known as check_networks;

use crate::model::Pod;
use std::fmt;
use std::path::Path;

/// One problem in a pod file, located.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: String,
    /// 1-based; 0 when the problem is with the file as a whole.
    pub line: usize,
    pub column: usize,
    /// Dotted key path, e.g. `containers.app.resources.memory`; empty for syntax errors.
    pub key: String,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            // Not about a place in the file (it could not be read).
            write!(f, "{}: {}", self.file, self.message)
        } else if self.key.is_empty() {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file, self.line, self.column, self.message
            )
        } else {
            write!(
                f,
                "{}:{}:{}: {}: {}",
                self.file, self.line, self.column, self.key, self.message
            )
        }
    }
}

/// Every problem found in one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

/// Parses and validates pod file text. `file` labels diagnostics; `default_name`
/// is the pod name when the file sets none (the file name without `.toml`).
pub fn parse_str(src: &str, file: &str, default_name: &str) -> Result<Pod, Diagnostics> {
    let mut sink = diag::Sink::new(file, src);
    let (doc, errors) = toml::de::DeTable::parse_recoverable(src);
    // After a syntax error the rest of the tree is a guess: report only the
    // first error, where the parser lost its way.
    if let Some(e) = errors
        .iter()
        .min_by_key(|e| e.span().map_or(0, |s| s.start))
    {
        let span = e.span().unwrap_or(0..0);
        sink.error(span, "", syntax_message(e.message()));
        return Err(Diagnostics(sink.finish()));
    }
    let pod = pod::read(&mut sink, &doc, default_name);
    if sink.has_errors() {
        Err(Diagnostics(sink.finish()))
    } else {
        Ok(pod)
    }
}

/// toml's messages, as one line.
fn syntax_message(message: &str) -> String {
    format!("invalid TOML: {}", message.trim().replace('\n', " "))
}

/// Reads and validates a pod file.
pub fn load(path: &Path) -> Result<Pod, Diagnostics> {
    load_with_text(path).map(|(pod, _)| pod)
}

/// Reads and validates a pod file; also returns its text (read once).
/// Kubernetes manifests are `crate::kube`'s, which reads either kind.
pub fn load_with_text(path: &Path) -> Result<(Pod, String), Diagnostics> {
    let label = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| {
        Diagnostics(vec![Diagnostic {
            file: label.clone(),
            line: 0,
            column: 0,
            key: String::new(),
            message: format!("cannot read: {e}"),
        }])
    })?;
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("pod");
    parse_bytes(&bytes, &label, stem)
}

/// Like [`parse_str`], for the bytes of a file: text that is not UTF-8 is
/// reported at its first bad byte (`file:line:col: invalid UTF-8`), as TOML
/// requires UTF-8. Also returns the text.
pub fn parse_bytes(
    bytes: &[u8],
    file: &str,
    default_name: &str,
) -> Result<(Pod, String), Diagnostics> {
    match std::str::from_utf8(bytes) {
        Ok(src) => parse_str(src, file, default_name).map(|pod| (pod, src.to_string())),
        Err(e) => {
            // Everything before the bad byte is valid: locate it in there.
            let good = std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default();
            let mut sink = diag::Sink::new(file, good);
            sink.error(good.len()..good.len(), "", "invalid UTF-8");
            Err(Diagnostics(sink.finish()))
        }
    }
}

#[cfg(test)]
mod tests;
