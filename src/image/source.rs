//! Where a pull reads from: a registry endpoint or an OCI layout. The pull
//! logic ([`super::pull`]) only sees this trait, so tests drive it with
//! in-memory sources.

use super::manifest::Descriptor;
use std::fmt;
use std::io::Write;

/// What went wrong talking to a source, typed so a pull can tell a retry
/// from a final answer and say what the registry answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// 401/403: no or wrong credentials.
    Unauthorized,
    /// 404: no such image, tag or blob.
    NotFound,
    /// The TLS handshake failed (certificate, protocol).
    Tls,
    /// No answer in time.
    Timeout,
    /// Could not connect (refused, unreachable, DNS).
    Connect,
    /// The connection broke mid-transfer.
    Interrupted,
    /// The content does not match its digest.
    Corrupt,
    /// Another HTTP status.
    Status(u16),
    /// Anything else (local I/O, malformed answers).
    Other,
}

impl Failure {
    /// A local file that is missing is NotFound, other I/O errors Other.
    pub fn of_io(e: &std::io::Error) -> Failure {
        if e.kind() == std::io::ErrorKind::NotFound {
            Failure::NotFound
        } else {
            Failure::Other
        }
    }

    /// Worth another try after a pause.
    pub fn is_transient(&self) -> bool {
        match self {
            Failure::Timeout | Failure::Connect | Failure::Interrupted => true,
            Failure::Status(code) => *code >= 500 || *code == 429,
            _ => false,
        }
    }
}

/// A failed source operation: what was asked, the failure kind, details.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{what}: {}{detail}", kind_text(kind))]
pub struct SourceError {
    pub what: String,
    pub kind: Failure,
    pub detail: String,
}

fn kind_text(k: &Failure) -> String {
    match k {
        Failure::Unauthorized => "401 unauthorized (wrong or missing credentials): ".into(),
        Failure::NotFound => "404 not found: ".into(),
        Failure::Tls => "TLS error: ".into(),
        Failure::Timeout => "timed out: ".into(),
        Failure::Connect => "cannot connect: ".into(),
        Failure::Interrupted => "transfer interrupted: ".into(),
        Failure::Corrupt => {
            "corrupt (content does not match its digest; nothing was stored): ".into()
        }
        Failure::Status(c) => format!("HTTP {c}: "),
        Failure::Other => String::new(),
    }
}

impl SourceError {
    pub fn new(what: impl Into<String>, kind: Failure, detail: impl fmt::Display) -> Self {
        SourceError {
            what: what.into(),
            kind,
            detail: detail.to_string(),
        }
    }
}

/// Writes one chunk of blob `what` to `out` and counts it: what every
/// source's [`Source::blob`] does with what it reads.
pub fn deliver(
    out: &mut dyn Write,
    chunk: &[u8],
    what: &str,
    progress: &mut dyn FnMut(u64),
) -> Result<(), SourceError> {
    out.write_all(chunk)
        .map_err(|e| SourceError::new(format!("storing {what}"), Failure::Other, e))?;
    progress(chunk.len() as u64);
    Ok(())
}

/// An image source.
pub trait Source {
    /// For messages: `registry localhost:5000 (https)`, `OCI layout /x`.
    fn describe(&self) -> String;
    /// The manifest or index named by `reference` (a tag or a digest), as
    /// the exact bytes the source holds.
    fn manifest(&mut self, reference: &str) -> Result<Vec<u8>, SourceError>;
    /// Streams blob `d` into `out`, calling `progress` with byte counts.
    fn blob(
        &mut self,
        d: &Descriptor,
        out: &mut dyn Write,
        progress: &mut dyn FnMut(u64),
    ) -> Result<(), SourceError>;
}
