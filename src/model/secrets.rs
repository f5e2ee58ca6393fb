//! Secrets a container uses: values kept encrypted by systemd
//! (`podctl secret create`), named here and never held in a pod file.

use serde::{Deserialize, Serialize};

/// The longest secret name (a file name in the credential store and in
/// systemd's credentials directory, with room to spare).
pub const SECRET_NAME_MAX: usize = 253;

/// What a secret name may be, for messages.
pub const SECRET_NAME_RULE: &str = "1 to 253 of A-Z a-z 0-9 . _ -, not starting with a dot";

/// Whether `name` is a valid secret name: bounded, of `[A-Za-z0-9._-]`,
/// not starting with a dot (so never `.`, `..` or a hidden file), no `/`.
pub fn is_secret_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= SECRET_NAME_MAX
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// A container's secrets, by name only (their values never reach a plan).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Secrets {
    /// Mounted read-only at `/run/secrets/NAME`, in file order, unique.
    pub files: Vec<String>,
    /// Environment variables set from a secret: (variable, secret), sorted
    /// by variable.
    pub env: Vec<(String, String)>,
}

/// Where a container finds a secret file.
pub const SECRETS_TARGET: &str = "/run/secrets";

impl Secrets {
    pub fn is_empty(&self) -> bool {
        self.files.is_empty() && self.env.is_empty()
    }

    /// Every secret used, sorted, once each.
    pub fn names(&self) -> Vec<String> {
        let mut all = self.files.clone();
        all.extend(self.env.iter().map(|(_, s)| s.clone()));
        all.sort();
        all.dedup();
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_bounded_plain_and_never_hidden() {
        for ok in ["db-password", "a", "tls.key", "A_B-1", &"x".repeat(253)] {
            assert!(is_secret_name(ok), "{ok}");
        }
        for bad in [
            "",
            ".",
            "..",
            ".hidden",
            "a/b",
            "../x",
            "a b",
            "é",
            "a\0",
            &"x".repeat(254),
        ] {
            assert!(!is_secret_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn names_are_every_secret_once() {
        let s = Secrets {
            files: vec!["b".into(), "a".into()],
            env: vec![("X".into(), "b".into()), ("Y".into(), "c".into())],
        };
        assert_eq!(s.names(), ["a", "b", "c"]);
    }
}
