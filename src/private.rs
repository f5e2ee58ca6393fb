//! podctl's private files and directories on the host (stored definitions,
//! state files, locks, bundles, runtime state): they hold pod files, env
//! values (secrets) included, so they are made for root alone, whatever the
//! umask.

use std::path::Path;

/// Mode of the files podctl stores (state, definitions, locks): they hold
/// the pod file, env values (secrets) included.
pub const PRIVATE_FILE: u32 = 0o600;
/// Mode of the directories holding them (`/etc/podctl/pods`, `/run/podctl`...).
pub const PRIVATE_DIR: u32 = 0o700;

/// Creates `dir` and any missing parent with mode 0700 (mkdir(2) with that
/// mode: never wider, whatever the umask). Existing directories are left as
/// they are.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(PRIVATE_DIR)
        .create(dir)
}
