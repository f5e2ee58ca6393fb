//! Carrying out plans: the supervisor (`podctl up`), the sandbox holder, the
//! container helper (`podctl __spawn`) and the namespace steps they share.

pub mod cgroup;
pub mod container;
pub mod enter;
pub mod events;
pub mod holder;
pub mod launch;
pub mod notify;
pub mod ns;
pub mod probe;
pub mod state;
pub mod supervisor;

use std::path::PathBuf;

/// Host paths podctl uses; parameters so tests can point them elsewhere.
#[derive(Debug, Clone)]
pub struct Paths {
    /// Stored pod definitions: `/etc/podctl/pods`.
    pub store: PathBuf,
    /// Runtime state: `/run/podctl`.
    pub run: PathBuf,
    /// This podctl binary (for `__spawn`).
    pub podctl: PathBuf,
    /// The `podctl-pause` binary.
    pub pause: PathBuf,
}

impl Paths {
    /// Defaults, overridable with PODCTL_STORE, PODCTL_RUN, PODCTL_PAUSE.
    pub fn from_env() -> Self {
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
            store: std::env::var_os("PODCTL_STORE")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("/etc/podctl/pods")),
            run: std::env::var_os("PODCTL_RUN")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("/run/podctl")),
            podctl,
            pause,
        }
    }

    /// Where a pod's definition is stored.
    pub fn definition(&self, pod: &str) -> PathBuf {
        self.store.join(format!("{pod}.toml"))
    }
}
