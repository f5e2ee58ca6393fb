//! Test binaries' scratch directories: `$TMPDIR/PREFIX...-PID`, removed
//! together once every trial of the run has ended.

/// Removes this process's directories under the temp dir whose names start
/// with `prefix` (and end with `-PID`).
pub fn remove_run_tempdirs(prefix: &str) {
    let suffix = format!("-{}", std::process::id());
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with(prefix) && name.ends_with(&suffix) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}
