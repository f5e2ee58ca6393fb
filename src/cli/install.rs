//! `podctl install`: put `pod@.service` where systemd finds it, pointing at
//! this podctl binary, create the definition store, and reload systemd.

use crate::runtime::Paths;
use crate::runtime::state::write_atomic_mode;
use anyhow::Context;
use std::path::{Path, PathBuf};

/// Mode of the installed `pod@.service`, as systemd's own unit files.
const UNIT_FILE_MODE: u32 = 0o644;

/// The unit as shipped in units/pod@.service.
pub const TEMPLATE: &str = include_str!("../../units/pod@.service");

/// The unit text with ExecStart pointing at `podctl`.
pub fn unit_text(podctl: &Path) -> String {
    TEMPLATE.replace("/usr/local/bin/podctl", &podctl.display().to_string())
}

pub fn install(unit_dir: &Path) -> anyhow::Result<()> {
    super::require_root("install")?;
    let exe = std::env::current_exe().context("cannot find the podctl binary")?;
    let pause = exe.with_file_name("podctl-pause");
    if !pause.exists() {
        anyhow::bail!(
            "{} is missing: install both binaries (cargo install --path . --root /usr/local)",
            pause.display()
        );
    }
    let unit: PathBuf = unit_dir.join("pod@.service");
    // A unit file is public (0644); the definitions it points at are not.
    write_atomic_mode(&unit, unit_text(&exe).as_bytes(), UNIT_FILE_MODE)
        .with_context(|| format!("cannot write {}", unit.display()))?;
    let store = Paths::from_env().store;
    crate::runtime::create_private_dir(&store)
        .with_context(|| format!("cannot create {}", store.display()))?;
    let mgr = super::connect()?;
    crate::systemd::Manager::reload(&mgr)?;
    println!(
        "installed {} (ExecStart={} up %i); pod definitions go to {}",
        unit.display(),
        exe.display(),
        store.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn unit_points_at_the_given_binary() {
        let text = super::unit_text(std::path::Path::new("/opt/podctl/bin/podctl"));
        assert!(text.contains("ExecStart=/opt/podctl/bin/podctl up %i"));
        assert!(text.contains("Type=notify"));
        assert!(text.contains("WantedBy=multi-user.target"));
    }
}
