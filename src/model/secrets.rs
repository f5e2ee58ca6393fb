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
    /// Mounted read-only, in file order; each target once.
    pub files: Vec<SecretFile>,
    /// Environment variables set from a secret: (variable, secret), sorted
    /// by variable.
    pub env: Vec<(String, String)>,
}

/// Where a container finds a secret file unless it says where.
pub const SECRETS_TARGET: &str = "/run/secrets";

/// The mode of a secret file unless it says another: its user's, read-only.
pub const SECRET_FILE_MODE: u32 = 0o400;

/// One secret as a file in a container: `"NAME"` (at
/// `/run/secrets/NAME`, 0400) or `{ name, target, mode }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretFile {
    pub name: String,
    /// An absolute path in the container.
    pub target: String,
    /// Permission bits (at most 0777); the file is the container user's.
    pub mode: u32,
}

impl SecretFile {
    /// `NAME` at `/run/secrets/NAME`, 0400.
    pub fn at_default(name: &str) -> SecretFile {
        SecretFile {
            name: name.to_string(),
            target: format!("{SECRETS_TARGET}/{name}"),
            mode: SECRET_FILE_MODE,
        }
    }

    /// Its file's name on the host, as entry `i` of its container's
    /// secrets: the secret's name, or `NAME@I` for one with its own target
    /// or mode (`@` is in no secret name: two never meet).
    pub fn host_file(&self, i: usize) -> String {
        if self.is_default() {
            self.name.clone()
        } else {
            format!("{}@{i}", self.name)
        }
    }

    /// Whether it is written as a bare name (`"NAME"`) in a pod file.
    pub fn is_default(&self) -> bool {
        *self == SecretFile::at_default(&self.name)
    }
}

impl Secrets {
    pub fn is_empty(&self) -> bool {
        self.files.is_empty() && self.env.is_empty()
    }

    /// Every secret used, sorted, once each.
    pub fn names(&self) -> Vec<String> {
        let mut all: Vec<String> = self.files.iter().map(|f| f.name.clone()).collect();
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
            files: vec![SecretFile::at_default("b"), SecretFile::at_default("a")],
            env: vec![("X".into(), "b".into()), ("Y".into(), "c".into())],
        };
        assert_eq!(s.names(), ["a", "b", "c"]);
    }
}
