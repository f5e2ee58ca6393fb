//! Kubernetes' rules for the names a manifest gives to things podctl turns
//! into paths on the host: ConfigMap and Secret keys (file names in a
//! volume), volume names (directories), items' and subPaths' relative paths.
//! A name that breaks them is refused where it is written, so that nothing
//! a manifest says can name a file outside its volume's directory.

/// Longest ConfigMap or Secret key (Kubernetes: a DNS subdomain's length).
pub(crate) const MAX_KEY: usize = 253;
/// Longest volume name (Kubernetes: a DNS-1123 label).
pub(crate) const MAX_VOLUME_NAME: usize = 63;
/// Longest relative path of an item or a subPath (PATH_MAX).
pub(crate) const MAX_PATH: usize = 4096;

/// A ConfigMap or Secret key: `[-._a-zA-Z0-9]+`, at most [`MAX_KEY`]
/// bytes, not `.` and not starting with `..` (Kubernetes reserves those
/// names in a volume). `Err` says why not.
pub(crate) fn key(k: &str) -> Result<(), String> {
    if k.is_empty() {
        return Err("an empty key".into());
    }
    if k.len() > MAX_KEY {
        return Err(format!("a key longer than {MAX_KEY} bytes"));
    }
    if let Some(c) = k
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "-._".contains(*c)))
    {
        return Err(format!(
            "{k:?} is not a valid key: {c:?} is not allowed (keys are file names: letters, digits, `-`, `_` and `.`)"
        ));
    }
    if k == "." || k.starts_with("..") {
        return Err(format!(
            "{k:?} is not a valid key (`.` and names starting with `..` are a volume's own)"
        ));
    }
    Ok(())
}

/// A volume name: a DNS-1123 label (`[a-z0-9]([-a-z0-9]*[a-z0-9])?`, at
/// most [`MAX_VOLUME_NAME`] bytes).
pub(crate) fn volume_name(n: &str) -> Result<(), String> {
    let ok = !n.is_empty()
        && n.len() <= MAX_VOLUME_NAME
        && n.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !n.starts_with('-')
        && !n.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{n:?} is not a valid volume name (a DNS-1123 label: lowercase letters, digits and `-`, at most {MAX_VOLUME_NAME}, starting and ending with a letter or digit)"
        ))
    }
}

/// A path inside a volume: relative, no `..`, `.` or empty component, not
/// starting with `..` (as in Kubernetes), no NUL, at most [`MAX_PATH`]
/// bytes.
pub(crate) fn relative_path(p: &str) -> Result<(), String> {
    let bad = p.is_empty()
        || p.len() > MAX_PATH
        || p.starts_with('/')
        || p.starts_with("..")
        || p.contains('\0')
        || p.split('/').any(|c| c.is_empty() || c == "." || c == "..");
    if bad {
        Err(format!(
            "{p:?} is not a relative path inside the volume (it may not start with `/` or `..`, nor have a `.`, `..` or empty component)"
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_names_and_paths_follow_kubernetes() {
        for good in ["a", "app.conf", "A-b_c.1", ".x", "x..y"] {
            assert!(key(good).is_ok(), "{good}");
        }
        for bad in [
            "", ".", "..", "..x", "/etc/x", "a/b", "../x", "a b", "é", "a\0",
        ] {
            assert!(key(bad).is_err(), "{bad:?}");
        }
        assert!(key(&"a".repeat(MAX_KEY)).is_ok());
        assert!(key(&"a".repeat(MAX_KEY + 1)).is_err());
        for good in ["config", "a", "a-1", "0"] {
            assert!(volume_name(good).is_ok(), "{good}");
        }
        for bad in ["", "/etc", "../../etc", "A", "a_b", "-a", "a-", "a.b", ".."] {
            assert!(volume_name(bad).is_err(), "{bad:?}");
        }
        assert!(volume_name(&"a".repeat(MAX_VOLUME_NAME + 1)).is_err());
        for good in ["x", "sub/x", "x../y"] {
            assert!(relative_path(good).is_ok(), "{good}");
        }
        for bad in [
            "", "/x", "../x", "..x/y", "a/../b", "a//b", "./a", "a/", "a\0b",
        ] {
            assert!(relative_path(bad).is_err(), "{bad:?}");
        }
    }
}
