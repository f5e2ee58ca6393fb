//! Why a container did not start, and whether trying again can help: what
//! every step of a start ([`super::launch`], [`super::image_root`]) returns.

/// Whose fault a failed start is (the supervisor retries only transient ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The definition or the host's setup: retrying cannot help.
    Definition,
    Transient,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub fault: Fault,
    pub message: String,
}

pub(super) fn definition(e: impl std::fmt::Display) -> Failure {
    Failure {
        fault: Fault::Definition,
        message: e.to_string(),
    }
}

pub(super) fn transient(what: &str, e: impl std::error::Error) -> Failure {
    Failure {
        fault: Fault::Transient,
        message: format!("{what}: {}", crate::error_chain(&e)),
    }
}
