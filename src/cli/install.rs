//! `podctl install`: put `pod@.service` where systemd finds it, pointing at
//! the `podctl-runtime` binary next to this podctl, create the definition
//! store, and reload systemd.

use crate::runtime::state::write_atomic_mode;
use anyhow::Context;
use std::path::{Path, PathBuf};

/// Mode of the installed `pod@.service`, as systemd's own unit files.
const UNIT_FILE_MODE: u32 = 0o644;

/// The unit as shipped in units/pod@.service.
pub const TEMPLATE: &str = include_str!("../../units/pod@.service");

/// The supervisor's binary in [`TEMPLATE`]'s ExecStart.
const TEMPLATE_RUNTIME: &str = "/usr/local/bin/podctl-runtime";

/// The unit text with ExecStart pointing at `runtime` (podctl-runtime).
pub fn unit_text(runtime: &Path) -> String {
    TEMPLATE.replace(TEMPLATE_RUNTIME, &runtime.display().to_string())
}

pub fn install(paths: &crate::layout::Layout, unit_dir: &Path) -> anyhow::Result<()> {
    super::require_root("install")?;
    let exe = std::env::current_exe().context("cannot find the podctl binary")?;
    let runtime = exe.with_file_name("podctl-runtime");
    for needed in [exe.with_file_name("podctl-pause"), runtime.clone()] {
        if !needed.exists() {
            anyhow::bail!(
                "{} is missing: install all three binaries (cargo install --path . --root /usr/local)",
                needed.display()
            );
        }
    }
    let unit: PathBuf = unit_dir.join("pod@.service");
    // A unit file is public (0644); the definitions it points at are not.
    write_atomic_mode(&unit, unit_text(&runtime).as_bytes(), UNIT_FILE_MODE)
        .with_context(|| format!("cannot write {}", unit.display()))?;
    let store = paths.store.clone();
    crate::private::create_private_dir(&store)
        .with_context(|| format!("cannot create {}", store.display()))?;
    let mgr = super::connect()?;
    crate::systemd::Manager::reload(&mgr)?;
    println!(
        "installed {} (ExecStart={} up %i); pod definitions go to {}",
        unit.display(),
        runtime.display(),
        store.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn unit_points_at_the_given_binary() {
        let text = super::unit_text(std::path::Path::new("/opt/podctl/bin/podctl-runtime"));
        assert!(text.contains("ExecStart=/opt/podctl/bin/podctl-runtime up %i"));
        assert!(!text.contains("/usr/local/bin"));
        assert!(text.contains("Type=notify"));
        assert!(text.contains("WantedBy=multi-user.target"));
    }
}
