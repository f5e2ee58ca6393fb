//! Carrying out plans: the supervisor (`podctl up`), the sandbox holder, the
//! container helper (`podctl __spawn`) and the namespace steps they share.

pub mod container;
pub mod enter;
pub mod holder;
pub mod launch;
pub mod ns;
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
        let podctl = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("/usr/local/bin/podctl"));
        let pause = std::env::var_os("PODCTL_PAUSE")
            .map(PathBuf::from)
            .unwrap_or_else(|| podctl.with_file_name("podctl-pause"));
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
