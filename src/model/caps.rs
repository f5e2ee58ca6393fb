//! Linux capability names, indexed by number (`capability.h`; Linux 6.1
//! knows 0..=40). `/proc/PID/status` masks (`CapEff`...) have bit N set for
//! `CAPABILITIES[N]`.

/// Every capability podctl knows, canonical `CAP_` names, bit order.
pub const CAPABILITIES: [&str; 41] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

/// `net_admin`, `NET_ADMIN` or `CAP_NET_ADMIN` -> `CAP_NET_ADMIN`; `None`
/// for an unknown name (`ALL` is the caller's business).
pub fn canonical(name: &str) -> Option<&'static str> {
    let upper = name.to_ascii_uppercase();
    let bare = upper.strip_prefix("CAP_").unwrap_or(&upper);
    CAPABILITIES
        .iter()
        .find(|c| c.strip_prefix("CAP_") == Some(bare))
        .copied()
}

/// The `/proc/PID/status` mask of a set of canonical names.
pub fn mask<'a>(names: impl IntoIterator<Item = &'a str>) -> u64 {
    names
        .into_iter()
        .filter_map(|n| CAPABILITIES.iter().position(|c| *c == n))
        .fold(0, |m, bit| m | 1 << bit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_masks() {
        assert_eq!(canonical("net_admin"), Some("CAP_NET_ADMIN"));
        assert_eq!(canonical("CAP_SYS_ADMIN"), Some("CAP_SYS_ADMIN"));
        assert_eq!(canonical("SYS_CHROOT"), Some("CAP_SYS_CHROOT"));
        assert_eq!(canonical("CAP_FLY"), None);
        assert_eq!(canonical("ALL"), None);
        assert_eq!(mask(["CAP_CHOWN", "CAP_KILL"]), 0b10_0001);
        assert_eq!(mask(["CAP_CHECKPOINT_RESTORE"]), 1 << 40);
    }
}
