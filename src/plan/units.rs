//! Unit names derived from pod and container names, with systemd's escaping.

/// Escapes a string the way `systemd-escape` does for a unit name component:
/// `-` and every byte outside `[A-Za-z0-9:_.]` become `\xNN`, a leading `.` too.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, b) in s.bytes().enumerate() {
        let plain = b.is_ascii_alphanumeric() || b == b':' || b == b'_' || (b == b'.' && i > 0);
        if plain {
            out.push(b as char);
        } else if b == b'/' {
            out.push('-');
        } else {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// `pod@NAME.service`: the supervisor of a pod. Instance names keep dashes:
/// systemd unescapes `%i` for us and template instances do not nest.
pub fn service(pod: &str) -> String {
    format!("pod@{pod}.service")
}

/// `pod-NAME.slice`, with NAME escaped so that `my-web` stays a child of `pod.slice`.
pub fn slice(pod: &str) -> String {
    format!("pod-{}.slice", escape(pod))
}

/// `pod-NAME.sandbox.scope`: the sandbox holder. Scopes do not nest, and pod
/// and container names cannot contain dots, so scope names are left readable
/// (`pod-my-web.sandbox.scope`) and still cannot collide.
pub fn sandbox(pod: &str) -> String {
    format!("pod-{pod}.sandbox.scope")
}

/// `pod-NAME.CONTAINER.scope`, e.g. `pod-web.app.scope`.
pub fn container(pod: &str, container: &str) -> String {
    format!("pod-{pod}.{container}.scope")
}

/// The journal identifier of a container's output, e.g. `web/app`.
pub fn log_identifier(pod: &str, container: &str) -> String {
    format!("{pod}/{container}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dashes_are_escaped_so_slices_do_not_nest() {
        assert_eq!(slice("web"), "pod-web.slice");
        assert_eq!(slice("my-web"), "pod-my\\x2dweb.slice");
        assert_eq!(container("my-web", "side-car"), "pod-my-web.side-car.scope");
        assert_eq!(sandbox("web"), "pod-web.sandbox.scope");
        assert_eq!(service("my-web"), "pod@my-web.service");
    }

    #[test]
    fn escape_matches_systemd_escape() {
        // `systemd-escape 'a-b.c_d:e'` prints `a\x2db.c_d:e`; a leading dot is escaped.
        assert_eq!(escape("a-b.c_d:e"), "a\\x2db.c_d:e");
        assert_eq!(escape(".x"), "\\x2ex");
    }
}
