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
/// (`pod-my-web.sandbox.scope`) and still cannot collide: validation rejects
/// a container named `sandbox`.
pub fn sandbox(pod: &str) -> String {
    format!("pod-{pod}.{}.scope", crate::spec::names::SANDBOX)
}

/// `pod-NAME.CONTAINER.scope`, e.g. `pod-web.app.scope`.
pub fn container(pod: &str, container: &str) -> String {
    format!("pod-{pod}.{container}.scope")
}

/// The journal identifier of a container's output, e.g. `web/app`.
pub fn log_identifier(pod: &str, container: &str) -> String {
    format!("{pod}/{container}")
}

/// How many characters of the pod and of the container name a notify
/// socket's name keeps, for people reading `ls`; the hash makes it unique.
const NOTIFY_NAME_KEEP: usize = 16;

/// The file name of a container's NOTIFY_SOCKET: `POD.CONTAINER-HASH` with
/// both names cut to 16 characters and HASH (16 hex digits) of the full
/// pair, so it is unique and at most 50 bytes: `/run/podctl-notify/` plus
/// this fits a unix socket address (108 bytes with its NUL) for any names.
pub fn notify_name(pod: &str, container: &str) -> String {
    // FNV-1a, 64 bits: stable across builds (unlike std's hasher).
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in pod.bytes().chain([b'/']).chain(container.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let cut = |s: &str| s.chars().take(NOTIFY_NAME_KEEP).collect::<String>();
    format!("{}.{}-{h:016x}", cut(pod), cut(container))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (runtime checks the length of the whole socket path.)
    #[test]
    fn notify_names_are_unique_for_any_names() {
        let long = |c: char| std::iter::repeat_n(c, 63).collect::<String>();
        let (pod, ctr) = (long('p'), long('c'));
        // Unique although the names are cut: pairs differing past the cut differ.
        let other = format!("{}x", &ctr[..62]);
        assert_ne!(notify_name(&pod, &ctr), notify_name(&pod, &other));
        assert_ne!(notify_name("a", "b-c"), notify_name("a-b", "c"));
        assert_eq!(notify_name("web", "app"), notify_name("web", "app"));
        assert!(notify_name("web", "app").starts_with("web.app-"));
    }

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
