//! Carrying out plans: the supervisor (`podctl up`), the sandbox holder, the
//! container helper (`podctl __spawn`) and the namespace steps they share.

pub mod cgroup;
pub mod container;
pub mod enter;
pub mod entry;
pub mod events;
pub mod held;
pub mod holder;
pub mod hook;
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
pub mod report;
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
