//! Every host path podctl uses, in one place: where pods are stored, run
//! and kept, the image store, this program's binaries, and the host's own
//! trees (`/proc`, the cgroup tree, systemd's and journald's sockets).
//! Built once per process from the environment ([`Layout::from_env`]) and
//! passed down; tests build their own.

use crate::owner::{Owner, UserDirs};
use std::path::{Path, PathBuf};

/// podctl's configuration directory on a system: pod definitions,
/// networks, encrypted secrets.
const CONFIG_DIR: &str = "/etc/podctl";

/// The directory that exists when systemd runs as PID 1 (sd_booted(3)).
pub const SYSTEMD_SYSTEM_DIR: &str = "/run/systemd/system";

/// journald's native protocol socket.
pub const JOURNAL_SOCKET: &str = "/run/systemd/journal/socket";
/// journald's stream socket.
pub const JOURNAL_STDOUT: &str = "/run/systemd/journal/stdout";
/// Where the cgroup filesystem is mounted.
pub const CGROUP_MOUNT: &str = "/sys/fs/cgroup";
/// The host's subordinate UIDs (subuid(5)).
pub const SUBUID: &str = "/etc/subuid";
/// The host's subordinate GIDs (subgid(5)).
pub const SUBGID: &str = "/etc/subgid";

/// The host's own trees the supervisor and its helpers read or write to:
/// parameters, so tests point them at temporary directories.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostRoots {
    /// procfs: `/proc` (a sender's cgroup for sd_notify, children of a relay).
    pub proc: PathBuf,
    /// The cgroup hierarchy systemd tracks units in ([`cgroup_root`]).
    pub cgroup: PathBuf,
    /// `/run/systemd/system`: exists when systemd is PID 1.
    pub systemd_system: PathBuf,
    /// journald's native protocol socket (container events).
    pub journal_socket: PathBuf,
    /// journald's stream socket (containers' output, through their relays).
    pub journal_stdout: PathBuf,
    /// The cgroup filesystem's mount point, `/sys/fs/cgroup`: where the OCI
    /// runtime gets the container's cgroup (only when it is the unified
    /// hierarchy: [`crate::oci::cgroup::detect`]).
    pub cgroup_mount: PathBuf,
    /// `/etc/subuid`: its `containers` entries are the host UIDs pods'
    /// user namespaces get ([`crate::ids`]).
    pub subuid: PathBuf,
    /// `/etc/subgid`: the same for GIDs.
    pub subgid: PathBuf,
}

impl HostRoots {
    /// This host's: `/proc`, the cgroup v2 (or hybrid) mount, systemd's
    /// and journald's sockets.
    pub fn system() -> Self {
        HostRoots {
            proc: PathBuf::from("/proc"),
            cgroup: cgroup_root(),
            systemd_system: PathBuf::from(SYSTEMD_SYSTEM_DIR),
            journal_socket: PathBuf::from(JOURNAL_SOCKET),
            journal_stdout: PathBuf::from(JOURNAL_STDOUT),
            cgroup_mount: PathBuf::from(CGROUP_MOUNT),
            subuid: PathBuf::from(SUBUID),
            subgid: PathBuf::from(SUBGID),
        }
    }

    /// Everything under `dir` (`dir/proc`, `dir/cgroup`...): for tests.
    pub fn under(dir: &Path) -> Self {
        HostRoots {
            proc: dir.join("proc"),
            cgroup: dir.join("cgroup"),
            systemd_system: dir.join("run/systemd/system"),
            journal_socket: dir.join("journal/socket"),
            journal_stdout: dir.join("journal/stdout"),
            cgroup_mount: dir.join("sys/fs/cgroup"),
            subuid: dir.join("etc/subuid"),
            subgid: dir.join("etc/subgid"),
        }
    }
}

/// The user namespace ranges' directory under [`Layout::lib`].
const USERNS_DIR: &str = "userns";
/// The configMap volumes' directory under [`Layout::lib`].
const KUBE_FILES_DIR: &str = "kube";
/// Where network definitions live ([`Layout::networks`]).
pub const NETWORKS_DIR: &str = "/etc/podctl/networks";
/// The networks' allocations ([`Layout::net_state`]).
const NET_STATE_DIR: &str = "/var/lib/podctl/networks";
/// Pins and generated files of pods' networks ([`Layout::net_run`]).
const NET_RUN_DIR: &str = "/run/podctl/net";

/// Every host path podctl uses, built once per process from the
/// environment ([`Layout::from_env`]) and passed down; tests build their own
/// ([`Layout::under`]).
#[derive(Debug, Clone)]
pub struct Layout {
    /// Stored pod definitions: `/etc/podctl/pods`.
    pub store: PathBuf,
    /// Runtime state: `/run/podctl`.
    pub run: PathBuf,
    /// Persistent data: `/var/lib/podctl` (named and scratch volumes,
    /// containers' writable layers).
    pub lib: PathBuf,
    /// The image store: `/var/lib/podctl/storage`.
    pub images: PathBuf,
    /// This podctl binary (for `__spawn`).
    pub podctl: PathBuf,
    /// The `podctl-pause` binary.
    pub pause: PathBuf,
    /// The user namespace ranges pods hold ([`crate::ids`]):
    /// `/var/lib/podctl/userns`, under `lib`.
    pub userns: PathBuf,
    /// Network definitions ([`crate::net::config`]): `/etc/podctl/networks`.
    pub networks: PathBuf,
    /// The networks' address and port allocations ([`crate::net::ipam`]):
    /// `/var/lib/podctl/networks`.
    pub net_state: PathBuf,
    /// Pods' pinned network namespaces and generated `/etc` files
    /// ([`crate::net::attach`]): `/run/podctl/net` (gone at reboot with the
    /// namespaces they describe).
    pub net_run: PathBuf,
    /// systemd's directory for the administrator's units:
    /// `/etc/systemd/system`, where a pod's service gets podctl's drop-ins
    /// ([`crate::apply::dropin`]).
    pub units: PathBuf,
    /// The encrypted secrets (`podctl secret create`, [`crate::secret`]):
    /// `/etc/podctl/credstore.encrypted`.
    pub secrets: PathBuf,
    /// The files of manifests' configMap volumes ([`crate::kube::files`]):
    /// `/var/lib/podctl/kube`, under `lib`.
    pub kube_files: PathBuf,
    /// Each pod's revisions ([`crate::revision`]): `/var/lib/podctl/revisions`,
    /// under `lib`.
    pub revisions: PathBuf,
    /// systemd's credentials directory of this service
    /// (`$CREDENTIALS_DIRECTORY`, in the supervisor): the pod's secrets,
    /// decrypted, in memory. `None` outside a service with credentials.
    pub credentials: Option<PathBuf>,
    /// `/proc`, the cgroup root, systemd's and journald's sockets,
    /// `/etc/subuid` and `/etc/subgid`.
    pub host: HostRoots,
    /// Whose pods these are: the system's, or a user's (rootless), whose
    /// paths are the user's XDG directories ([`Layout::from_env`]).
    pub owner: Owner,
}

impl Layout {
    /// This host's, each overridable: PODCTL_STORE, PODCTL_RUN, PODCTL_LIB,
    /// PODCTL_STORAGE, PODCTL_PAUSE, PODCTL_UNITS, PODCTL_SECRETS,
    /// PODCTL_NETWORKS_DIR. The only place podctl reads them (and systemd's
    /// CREDENTIALS_DIRECTORY).
    pub fn from_env() -> Self {
        let owner = Owner::current().unwrap_or_else(|_| Owner::User(unnamed_user()));
        let defaults = Defaults::of(&owner);
        let var = |name: &str, default: &Path| {
            std::env::var_os(name)
                .map(PathBuf::from)
                .unwrap_or_else(|| default.to_path_buf())
        };
        // Helpers are this very binary: /proc/self/exe stays valid (and the
        // same version as the running supervisor) even after an upgrade
        // replaces the file on disk.
        let podctl = PathBuf::from("/proc/self/exe");
        let installed =
            std::env::current_exe().unwrap_or_else(|_| PathBuf::from("/usr/local/bin/podctl"));
        let dir = installed.parent().map(PathBuf::from).unwrap_or_default();
        let pause = std::env::var_os("PODCTL_PAUSE")
            .map(PathBuf::from)
            .unwrap_or_else(|| dir.join("podctl-pause"));
        let lib = var("PODCTL_LIB", &defaults.lib);
        let run = var("PODCTL_RUN", &defaults.run);
        let user = owner.is_user();
        Layout {
            store: var("PODCTL_STORE", &defaults.config.join("pods")),
            userns: lib.join(USERNS_DIR),
            images: var("PODCTL_STORAGE", &defaults.lib.join("storage")),
            podctl,
            pause,
            units: var("PODCTL_UNITS", &defaults.units),
            networks: var("PODCTL_NETWORKS_DIR", &defaults.config.join("networks")),
            net_state: if user {
                lib.join("networks")
            } else {
                NET_STATE_DIR.into()
            },
            net_run: if user {
                run.join("net")
            } else {
                NET_RUN_DIR.into()
            },
            secrets: var(
                "PODCTL_SECRETS",
                &defaults.config.join("credstore.encrypted"),
            ),
            kube_files: lib.join(KUBE_FILES_DIR),
            revisions: lib.join("revisions"),
            run,
            lib,
            credentials: std::env::var_os("CREDENTIALS_DIRECTORY").map(PathBuf::from),
            host: HostRoots::system(),
            owner,
        }
    }

    /// A pod's revisions.
    pub fn revisions_of(&self, pod: &str) -> crate::revision::Revisions {
        crate::revision::Revisions::of(&self.revisions, pod)
    }

    /// Where a pod's definition is stored.
    pub fn definition(&self, pod: &str) -> PathBuf {
        self.store.join(format!("{pod}.toml"))
    }

    /// The containers' host directories (bundles, volumes, writable layers).
    pub fn oci(&self) -> crate::oci::Dirs {
        crate::oci::Dirs {
            run: self.run.clone(),
            lib: self.lib.clone(),
            net: self.net_run.clone(),
        }
    }

    /// Every path under `dir` (`pods/`, `run/`, `host/`), no binary to run:
    /// a test's own tree.
    #[cfg(test)]
    pub fn under(dir: &Path) -> Layout {
        Layout {
            store: dir.join("pods"),
            run: dir.join("run"),
            lib: dir.join("lib"),
            images: dir.join("lib/storage"),
            userns: dir.join("lib").join(USERNS_DIR),
            podctl: "/bin/false".into(),
            pause: "/bin/false".into(),
            units: dir.join("units"),
            networks: dir.join("networks"),
            net_state: dir.join("lib/networks"),
            net_run: dir.join("run/net"),
            secrets: dir.join("credstore.encrypted"),
            kube_files: dir.join("lib").join(KUBE_FILES_DIR),
            revisions: dir.join("lib/revisions"),
            credentials: Some(dir.join("credentials")),
            host: HostRoots::under(&dir.join("host")),
            owner: Owner::System,
        }
    }
}

/// The default directories of an owner's pods, before the environment's
/// overrides.
struct Defaults {
    /// Pod definitions, networks, secrets: `/etc/podctl` or `~/.config/podctl`.
    config: PathBuf,
    /// `/run/podctl` or `$XDG_RUNTIME_DIR/podctl`.
    run: PathBuf,
    /// `/var/lib/podctl` or `~/.local/share/podctl`.
    lib: PathBuf,
    /// `/etc/systemd/system` or `~/.config/systemd/user`.
    units: PathBuf,
}

impl Defaults {
    fn of(owner: &Owner) -> Defaults {
        match owner {
            Owner::System => Defaults {
                config: PathBuf::from(CONFIG_DIR),
                run: PathBuf::from("/run/podctl"),
                lib: PathBuf::from("/var/lib/podctl"),
                units: PathBuf::from("/etc/systemd/system"),
            },
            Owner::User(u) => Defaults {
                config: UserDirs::podctl(&u.config),
                run: UserDirs::podctl(&u.runtime),
                lib: UserDirs::podctl(&u.data),
                units: u.units(),
            },
        }
    }
}

/// A user with no entry in the user database: paths from `$HOME`; the
/// commands that need the user's name say so ([`Owner::current`]).
fn unnamed_user() -> UserDirs {
    let uid = nix::unistd::geteuid().as_raw();
    let home =
        std::env::var_os("HOME").map_or_else(|| PathBuf::from("/nonexistent"), PathBuf::from);
    UserDirs::new(
        uid,
        nix::unistd::getegid().as_raw(),
        uid.to_string(),
        home,
        None,
        None,
        None,
    )
}

/// The cgroup v2 mount (or the hybrid "unified" one) systemd tracks units in.
pub fn cgroup_root() -> PathBuf {
    for p in ["/sys/fs/cgroup", "/sys/fs/cgroup/unified"] {
        if Path::new(p).join("cgroup.procs").exists() {
            return PathBuf::from(p);
        }
    }
    PathBuf::from("/sys/fs/cgroup/systemd")
}
