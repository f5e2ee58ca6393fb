//! podctl's secure defaults, as reviewed data: what a container that asks for
//! nothing special gets. Each group says why. The seccomp profile is its own
//! data file, `seccomp.toml`. Compared with Podman's defaults
//! (containers/common `pkg/config/default.go`) and the OCI runtime spec's
//! recommendations: the same or fewer privileges.

/// Capabilities of a root container: Podman's default set of 11 (Docker
/// adds MKNOD, NET_RAW and AUDIT_WRITE; podctl does not). Enough to run
/// services that start as root and drop privileges (chown files, switch
/// user, bind ports below 1024), not enough to mount, load modules, trace
/// other processes, change the network or reach raw devices. A non-root
/// user gets none of them (see `plan::security`).
pub const CAPABILITIES: [&str; 11] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_SETFCAP",
];

/// Layout hidden from the container (an empty read-only tmpfs over a
/// directory, /dev/null over a file): kernel memory and state that leaks
/// host information or lets root in a container poke the host.
pub const MASKED_PATHS: [&str; 14] = [
    // Kernel and physical memory, kernel keyrings, timers and scheduler
    // internals: information leaks about the host and other tenants.
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    // Hardware interfaces the host owns.
    "/proc/acpi",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
    // podctl's own state: other pods' definitions, named volumes, the
    // notify sockets (visible in a host-root container otherwise).
    "/var/lib/podctl",
    "/etc/podctl",
    // The host's persistent journal and its secrets directory.
    "/var/log/journal",
    "/etc/credstore",
];

/// Host secrets hidden from a container without an image, which sees the
/// host's root read-only and, as root with CAP_DAC_OVERRIDE, could read
/// every file there: masked as [`MASKED_PATHS`] are (/dev/null over a file,
/// an empty read-only tmpfs over a directory; a path the host lacks is
/// skipped). Everything else of the host's root stays readable: /etc,
/// /usr, /var, /home (users' files, their ~/.ssh included), /srv, /opt.
/// An image container sees none of the host's files, so none of these.
pub const HOST_SECRETS: [&str; 20] = [
    // Password hashes, current and previous.
    "/etc/shadow",
    "/etc/shadow-",
    "/etc/gshadow",
    "/etc/gshadow-",
    "/etc/security/opasswd",
    // SSH host private keys (the public ones and ssh_config stay readable):
    // with them a container could impersonate the host.
    "/etc/ssh/ssh_host_rsa_key",
    "/etc/ssh/ssh_host_ecdsa_key",
    "/etc/ssh/ssh_host_ed25519_key",
    "/etc/ssh/ssh_host_dsa_key",
    // TLS private keys (Debian's ssl-cert) and Kerberos service keys.
    "/etc/ssl/private",
    "/etc/krb5.keytab",
    // Registry credentials podctl pulls with (containers-auth.json(5)), and
    // root's home: ~/.docker/config.json, ~/.ssh, shell history. (The
    // copy under /run/containers is behind the container's private /run.)
    "/etc/containers/auth.json",
    "/root",
    // systemd's secrets: the host's random seed, the key of encrypted
    // credentials, the encrypted credential store (/etc/credstore is in
    // MASKED_PATHS), and the machine ID, which systemd calls confidential
    // (journal and D-Bus identity, application IDs are derived from it).
    "/var/lib/systemd/random-seed",
    "/var/lib/systemd/credential.secret",
    "/etc/credstore.encrypted",
    "/etc/machine-id",
    // Disk encryption: crypttab and the key files it names.
    "/etc/crypttab",
    "/etc/cryptsetup-keys.d",
    "/etc/luks-keys",
];

/// Layout the container may read but not write: kernel tunables and
/// triggers that are host-wide (a write would change the whole machine).
pub const READONLY_PATHS: [&str; 6] = [
    "/proc/asound",
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// Device nodes in the container's private /dev (the OCI runtime spec's
/// default set: null, zero, full, random, urandom, tty, plus /dev/ptmx and
/// /dev/pts that the runtime always gives). No disk, no /dev/kmsg, no
/// /dev/mem: the host's block devices cannot be opened.
pub const DEVICES: [(&str, i64, i64); 6] = [
    ("/dev/null", 1, 3),
    ("/dev/zero", 1, 5),
    ("/dev/full", 1, 7),
    ("/dev/random", 1, 8),
    ("/dev/urandom", 1, 9),
    ("/dev/tty", 5, 0),
];

/// The devices a container's scope allows (`DeviceAllow=`, with
/// `DevicePolicy=closed`): the nodes of [`DEVICES`], /dev/ptmx and the
/// container's own terminals (`char-pts`, every /dev/pts node).
pub const SCOPE_DEVICES: [&str; 8] = [
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/random",
    "/dev/urandom",
    "/dev/tty",
    "/dev/ptmx",
    "char-pts",
];

/// Host directories hidden behind the container's own `/run` (a private
/// tmpfs): the system bus, systemd's control sockets and journal sockets,
/// podctl's state and the other containers' notify sockets. Listed for the
/// docs (security.md) and the trials; the private /run is what hides them.
pub const HIDDEN_RUN_PATHS: [&str; 4] = [
    "/run/dbus",
    "/run/systemd",
    "/run/podctl",
    "/run/podctl-notify",
];

/// Size of the private /tmp of a host-root container, and of /run.
pub const TMP_SIZE: &str = "size=65536k";

/// Where podctl-pause, the container's init, is bind-mounted read-only
/// (Podman uses `/run/podman-init` for catatonit); the name says what it is.
pub const INIT_PATH: &str = "/run/podctl-pause";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::caps;

    #[test]
    fn the_default_capabilities_are_podmans_at_most() {
        // Podman's default set is CapEff 0x800405fb; podctl's may only be a subset.
        let podman = 0x8004_05fb;
        assert_eq!(caps::mask(CAPABILITIES) & !podman, 0);
        for c in CAPABILITIES {
            assert!(caps::canonical(c) == Some(c), "{c}");
        }
        for dangerous in [
            "CAP_SYS_ADMIN",
            "CAP_SYS_MODULE",
            "CAP_NET_ADMIN",
            "CAP_SYS_PTRACE",
        ] {
            assert!(!CAPABILITIES.contains(&dangerous));
        }
    }
}
