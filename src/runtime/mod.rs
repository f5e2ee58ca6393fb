//! Carrying out plans: the supervisor (`podctl up`), the sandbox holder, the
//! container helper (`podctl __spawn`) and the namespace steps they share.

pub mod cgroup;
pub mod container;
pub mod enter;
pub mod entry;
pub mod events;
pub mod held;
pub mod holder;
pub mod journal;
pub mod launch;
pub mod leftovers;
pub mod lifecycle;
pub mod logging;
pub mod notify;
pub mod ns;
pub mod pin;
pub mod probe;
pub mod process;
pub mod ratelimit;
pub mod state;
pub mod supervisor;

use std::path::{Path, PathBuf};

/// The directory of the containers' NOTIFY_SOCKETs: `/run/podctl-notify` next
/// to `/run/podctl` (a sibling of the run directory), not inside it: a
/// container may run as any user and must reach its socket, while the run
/// directory is 0700.
pub fn notify_dir(run: &Path) -> PathBuf {
    let name = run
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "podctl".into());
    run.with_file_name(format!("{name}-notify"))
}

/// A container's NOTIFY_SOCKET: `/run/podctl-notify/` plus a name of bounded
/// length ([`crate::plan::units::notify_name`]), so that the path fits in a
/// unix socket address (108 bytes) whatever the pod and container names.
pub fn notify_socket(run: &Path, pod: &str, container: &str) -> PathBuf {
    notify_dir(run).join(crate::plan::units::notify_name(pod, container))
}

/// The directory that exists when systemd runs as PID 1 (sd_booted(3)).
pub const SYSTEMD_SYSTEM_DIR: &str = "/run/systemd/system";

/// journald's stream socket.
pub const JOURNAL_STDOUT: &str = "/run/systemd/journal/stdout";
/// Where the cgroup filesystem is mounted.
pub const CGROUP_MOUNT: &str = "/sys/fs/cgroup";

/// The host's own trees the supervisor and its helpers read or write to:
/// parameters, so tests point them at temporary directories.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostRoots {
    /// procfs: `/proc` (a sender's cgroup for sd_notify, children of a relay).
    pub proc: PathBuf,
    /// The cgroup hierarchy systemd tracks units in ([`cgroup::root`]).
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
}

impl HostRoots {
    /// This host's: `/proc`, the cgroup v2 (or hybrid) mount, systemd's
    /// and journald's sockets.
    pub fn system() -> Self {
        HostRoots {
            proc: PathBuf::from("/proc"),
            cgroup: cgroup::root(),
            systemd_system: PathBuf::from(SYSTEMD_SYSTEM_DIR),
            journal_socket: PathBuf::from(events::JOURNAL_SOCKET),
            journal_stdout: PathBuf::from(JOURNAL_STDOUT),
            cgroup_mount: PathBuf::from(CGROUP_MOUNT),
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
        }
    }
}

/// Every host path podctl uses, built once per process from the
/// environment ([`Paths::from_env`]) and passed down; tests build their own
/// ([`Paths::under`]).
#[derive(Debug, Clone)]
pub struct Paths {
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
    /// `/proc`, the cgroup root, systemd's and journald's sockets.
    pub host: HostRoots,
}

impl Paths {
    /// This host's, each overridable: PODCTL_STORE, PODCTL_RUN, PODCTL_LIB,
    /// PODCTL_STORAGE, PODCTL_PAUSE. The only place podctl reads them.
    pub fn from_env() -> Self {
        let var = |name: &str, default: &str| {
            std::env::var_os(name)
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(default))
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
        Paths {
            store: var("PODCTL_STORE", "/etc/podctl/pods"),
            run: var("PODCTL_RUN", "/run/podctl"),
            lib: var("PODCTL_LIB", "/var/lib/podctl"),
            images: var("PODCTL_STORAGE", crate::image::STORAGE_ROOT),
            podctl,
            pause,
            host: HostRoots::system(),
        }
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
        }
    }

    /// Every path under `dir` (`pods/`, `run/`, `host/`), no binary to run:
    /// a test's own tree.
    #[cfg(test)]
    pub fn under(dir: &Path) -> Paths {
        Paths {
            store: dir.join("pods"),
            run: dir.join("run"),
            lib: dir.join("lib"),
            images: dir.join("lib/storage"),
            podctl: "/bin/false".into(),
            pause: "/bin/false".into(),
            host: HostRoots::under(&dir.join("host")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::private::{PRIVATE_DIR, PRIVATE_FILE, create_private_dir};
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
    }

    /// State and definitions are created 0600 in 0700 directories, with the
    /// most permissive umask too (so the modes come from open/mkdir, not
    /// from the umask), and a stale temp file cannot widen them.
    #[test]
    fn notify_socket_paths_fit_a_unix_address_for_any_names() {
        // sun_path is 108 bytes, NUL included.
        const SUN_PATH: usize = 108;
        let long = |c: char| std::iter::repeat_n(c, 63).collect::<String>();
        let (pod, ctr) = (long('p'), long('c'));
        let path = notify_socket(Path::new("/run/podctl"), &pod, &ctr);
        let len = path.as_os_str().len();
        assert!(len < SUN_PATH, "{} is {len} bytes", path.display());
        assert!(
            path.starts_with("/run/podctl-notify/"),
            "{}",
            path.display()
        );
    }

    #[test]
    fn stored_files_and_directories_are_private_from_creation() {
        let root = std::env::temp_dir().join(format!("podctl-modes-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let old = nix::sys::stat::umask(nix::sys::stat::Mode::empty());
        let file = root.join("run/podctl/web.json");
        let first = state::write_atomic(&file, b"{\"env\":\"secret\"}");
        let stale =
            root.join("run/podctl/.web.json.tmp.".to_string() + &std::process::id().to_string());
        std::fs::write(&stale, b"").unwrap();
        std::fs::set_permissions(&stale, std::fs::Permissions::from_mode(0o644)).unwrap();
        let second = state::write_atomic(&file, b"{\"env\":\"secret2\"}");
        let locks = root.join("run/podctl/locks");
        let dir = create_private_dir(&locks);
        nix::sys::stat::umask(old);
        first.unwrap();
        second.unwrap();
        dir.unwrap();
        assert_eq!(mode(&file), PRIVATE_FILE, "{}", file.display());
        for d in [root.join("run"), root.join("run/podctl"), locks] {
            assert_eq!(mode(&d), PRIVATE_DIR, "{}", d.display());
        }
        assert_eq!(std::fs::read(&file).unwrap(), b"{\"env\":\"secret2\"}");
        assert!(!stale.exists());
        std::fs::remove_dir_all(&root).unwrap();
    }
}
