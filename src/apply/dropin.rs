//! The drop-ins podctl writes for a pod's service: files in
//! `pod@NAME.service.d/` under the host's unit directory ([`Layout::units`],
//! `/etc/systemd/system`), one per concern, so that systemd itself carries
//! what only it can (ordering on other pods, credentials). podctl touches
//! only its own files there; a drop-in of the administrator's stays.
//!
//! systemd reads drop-ins at its next daemon-reload: [`write`] and
//! [`remove_all`] say whether anything changed, so a caller reloads once
//! ([`crate::systemd::Manager::reload`]) and only when needed.

use crate::layout::Layout;
use crate::plan::units;
use anyhow::Context;
use std::path::PathBuf;

/// One concern of podctl's in a pod's drop-in directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// Ordering on and binding to other pods (`After=`, `Requires=`...).
    Needs,
    /// Credentials the supervisor gets from systemd (`LoadCredentialEncrypted=`).
    Credentials,
}

impl Part {
    /// Every part, for removal.
    pub const ALL: [Part; 2] = [Part::Needs, Part::Credentials];

    /// The file's name in the drop-in directory.
    pub fn file_name(self) -> &'static str {
        match self {
            Part::Needs => "50-podctl-needs.conf",
            Part::Credentials => "50-podctl-credentials.conf",
        }
    }
}

/// `pod@NAME.service.d` under the unit directory.
pub fn dir(paths: &Layout, pod: &str) -> PathBuf {
    paths.units.join(format!("{}.d", units::service(pod)))
}

/// Makes `part` of pod `pod`'s drop-ins read `text`, or removes it for
/// `None` (and the directory, once empty). Returns whether the file changed.
pub fn write(paths: &Layout, pod: &str, part: Part, text: Option<&str>) -> anyhow::Result<bool> {
    let dir = dir(paths, pod);
    let file = dir.join(part.file_name());
    let current = std::fs::read_to_string(&file).ok();
    if current.as_deref() == text {
        return Ok(false);
    }
    match text {
        Some(text) => crate::supervise::state::write_atomic_mode(&file, text.as_bytes(), 0o644)
            .with_context(|| format!("cannot write {}", file.display()))?,
        None => {
            std::fs::remove_file(&file)
                .with_context(|| format!("cannot remove {}", file.display()))?;
            // Only when empty: an administrator's own drop-ins stay.
            let _ = std::fs::remove_dir(&dir);
        }
    }
    Ok(true)
}

/// Removes every drop-in podctl wrote for `pod`; returns whether any was there.
pub fn remove_all(paths: &Layout, pod: &str) -> anyhow::Result<bool> {
    let mut changed = false;
    for part in Part::ALL {
        changed |= write(paths, pod, part, None)?;
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_part_is_written_once_and_removed_with_its_directory() {
        let paths = Layout::under(&super::super::tests::temp_dir("dropin-once"));
        let text = "[Unit]\nAfter=pod@db.service\n";
        assert!(write(&paths, "web", Part::Needs, Some(text)).unwrap());
        let file = dir(&paths, "web").join("50-podctl-needs.conf");
        assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
        assert!(
            !write(&paths, "web", Part::Needs, Some(text)).unwrap(),
            "unchanged"
        );
        assert!(remove_all(&paths, "web").unwrap());
        assert!(!dir(&paths, "web").exists());
        assert!(!remove_all(&paths, "web").unwrap());
    }

    #[test]
    fn an_administrators_drop_in_stays() {
        let paths = Layout::under(&super::super::tests::temp_dir("dropin-admin"));
        write(&paths, "web", Part::Credentials, Some("[Service]\n")).unwrap();
        let own = dir(&paths, "web").join("10-mine.conf");
        std::fs::write(&own, "[Service]\nNice=5\n").unwrap();
        assert!(remove_all(&paths, "web").unwrap());
        assert!(own.exists());
    }
}
