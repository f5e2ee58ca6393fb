//! Name rules: pod and container names, hostnames, environment variables,
//! users; and the "did you mean" suggestion for misspelt keys.

use crate::model::User;

/// What a pod or container name may be, for messages.
pub(crate) const LABEL_RULE: &str = "lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters";

/// The container name that is not free: its scope would be the sandbox's
/// (`pod-POD.sandbox.scope`, [`crate::plan::units::sandbox`]).
pub const SANDBOX: &str = "sandbox";

/// A lowercase DNS label: `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, at most 63 characters.
pub(crate) fn is_dns_label(s: &str) -> bool {
    let b = s.as_bytes();
    let inner = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-';
    !b.is_empty() && b.len() <= 63 && b.iter().all(inner) && b[0] != b'-' && b[b.len() - 1] != b'-'
}

/// An RFC 1123 hostname: labels of letters, digits and `-` (not at either end),
/// separated by dots, at most 64 characters in all.
pub(crate) fn is_hostname(s: &str) -> bool {
    let label = |l: &str| {
        let b = l.as_bytes();
        !b.is_empty()
            && b.len() <= 63
            && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
            && b[0] != b'-'
            && b[b.len() - 1] != b'-'
    };
    !s.is_empty() && s.len() <= 64 && s.split('.').all(label)
}

/// An environment variable name: `[A-Za-z_][A-Za-z0-9_]*`.
pub(crate) fn is_env_name(s: &str) -> bool {
    let mut b = s.bytes();
    matches!(b.next(), Some(c) if c.is_ascii_alphabetic() || c == b'_')
        && b.all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

/// The largest valid uid or gid: `(uid_t)-1` means "no change" to the kernel.
const MAX_ID: u64 = u32::MAX as u64 - 1;

/// A uid (or gid) from a TOML integer.
pub(crate) fn id(n: i64) -> Option<u32> {
    u64::try_from(n)
        .ok()
        .filter(|&n| n <= MAX_ID)
        .map(|n| n as u32)
}

/// A user as written: `name`, `uid` or `uid:gid`.
pub(crate) fn parse_user(s: &str) -> Option<User> {
    let number = |t: &str| {
        if t.is_empty() || !t.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        t.parse::<u64>()
            .ok()
            .filter(|&n| n <= MAX_ID)
            .map(|n| n as u32)
    };
    if let Some((uid, gid)) = s.split_once(':') {
        return Some(User::Id {
            uid: number(uid)?,
            gid: Some(number(gid)?),
        });
    }
    if s.bytes().all(|c| c.is_ascii_digit()) {
        return number(s).map(|uid| User::Id { uid, gid: None });
    }
    // The portable user name set (POSIX), as useradd accepts it, with samba's trailing `$`.
    let body = s.strip_suffix('$').unwrap_or(s);
    let mut b = body.bytes();
    let ok = s.len() <= 32
        && matches!(b.next(), Some(c) if c.is_ascii_alphabetic() || c == b'_')
        && b.all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'));
    ok.then(|| User::Name(s.to_string()))
}

/// Edit distance (insertions, deletions, substitutions) between two strings.
pub(crate) fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let next = (diagonal + usize::from(ca != cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            diagonal = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// The closest candidate within edit distance 2, if any.
pub(crate) fn suggest<'c>(word: &str, candidates: &[&'c str]) -> Option<&'c str> {
    candidates
        .iter()
        .map(|&c| (levenshtein(word, c), c))
        .filter(|&(d, _)| d <= 2)
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        for ok in ["web", "a", "my-web", "0", "a1-b2", &"a".repeat(63)] {
            assert!(is_dns_label(ok), "{ok}");
        }
        for bad in ["", "Web", "-a", "a-", "a_b", "a.b", &"a".repeat(64)] {
            assert!(!is_dns_label(bad), "{bad}");
        }
    }

    #[test]
    fn hostnames() {
        for ok in ["web", "Web-1", "a.example.com", &"a".repeat(63)] {
            assert!(is_hostname(ok), "{ok}");
        }
        let long = format!("{}.{}", "a".repeat(40), "b".repeat(30));
        for bad in ["", "a..b", "-a", "a_b", ".a", "a.", long.as_str()] {
            assert!(!is_hostname(bad), "{bad}");
        }
    }

    #[test]
    fn env_names() {
        assert!(is_env_name("PATH") && is_env_name("_x1") && is_env_name("a"));
        assert!(!is_env_name("1A") && !is_env_name("") && !is_env_name("A-B"));
    }

    #[test]
    fn users() {
        assert_eq!(parse_user("www-data"), Some(User::Name("www-data".into())));
        assert_eq!(
            parse_user("1000"),
            Some(User::Id {
                uid: 1000,
                gid: None
            })
        );
        assert_eq!(
            parse_user("1000:100"),
            Some(User::Id {
                uid: 1000,
                gid: Some(100)
            })
        );
        for bad in ["", "1000:", ":1", "a:b", "-x", "a b", "4294967295", "1x"] {
            assert_eq!(parse_user(bad), None, "{bad}");
        }
        assert_eq!(id(-1), None);
        assert_eq!(id(0), Some(0));
    }

    #[test]
    fn suggestions_within_two_edits() {
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(levenshtein("", "abc"), 3);
        assert_eq!(suggest("comand", &["command", "env"]), Some("command"));
        assert_eq!(
            suggest("contianers", &["containers", "name"]),
            Some("containers")
        );
        assert_eq!(suggest("zzzzzz", &["command", "env"]), None);
    }
}
