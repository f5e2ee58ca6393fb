//! The unit files `podctl install` puts where systemd finds them:
//! `pod@.service` and the auto-update service and timer, as shipped in
//! `units/`, each `ExecStart=` pointing at the binaries next to this podctl.
//! Their text is made here with no I/O ([`unit_files`]); [`write`] puts one
//! in a unit directory, leaving a file that already says the same alone.

use crate::supervise::state::write_atomic_mode;
use anyhow::Context;
use std::path::Path;

/// Mode of an installed unit file and of a unit directory podctl creates,
/// as systemd's own: a unit file is public (the definitions it points at are
/// not).
const UNIT_FILE_MODE: u32 = 0o644;
const UNIT_DIR_MODE: u32 = 0o755;

/// Where the binaries are in the shipped units' `ExecStart=` lines.
const TEMPLATE_BIN_DIR: &str = "/usr/local/bin";

/// A unit as shipped in `units/`: its file name, its text, and the binary
/// its `ExecStart=` runs (in [`TEMPLATE_BIN_DIR`]), if any.
struct Template {
    name: &'static str,
    text: &'static str,
    binary: Option<&'static str>,
}

/// Every unit `podctl install` writes, the service a timer starts before
/// the timer.
const TEMPLATES: &[Template] = &[
    Template {
        name: "pod@.service",
        text: include_str!("../../../units/pod@.service"),
        binary: Some("podctl-supervisor"),
    },
    Template {
        name: "podctl-auto-update.service",
        text: include_str!("../../../units/podctl-auto-update.service"),
        binary: Some("podctl"),
    },
    Template {
        name: "podctl-auto-update.timer",
        text: include_str!("../../../units/podctl-auto-update.timer"),
        binary: None,
    },
];

/// What `podctl install` writes for a user's pods (rootless), in the
/// user's unit directory: the user manager's `pod@.service` and
/// auto-update service and timer.
const USER_TEMPLATES: &[Template] = &[
    Template {
        name: "pod@.service",
        text: include_str!("../../../units/user/pod@.service"),
        binary: Some("podctl-supervisor"),
    },
    Template {
        name: "podctl-auto-update.service",
        text: include_str!("../../../units/user/podctl-auto-update.service"),
        binary: Some("podctl"),
    },
    Template {
        name: "podctl-auto-update.timer",
        text: include_str!("../../../units/user/podctl-auto-update.timer"),
        binary: None,
    },
];

/// A unit file to install: its name in the unit directory and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitFile {
    pub name: &'static str,
    pub text: String,
}

/// What [`write`] did with one unit file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// Created, or replaced because its text or mode differed.
    Installed,
    /// Already the same text and mode: not touched.
    Unchanged,
    /// A symbolic link (`systemctl mask` or `link`): the admin's, kept.
    LinkKept,
}

/// The units with `ExecStart=` pointing at the binaries in `bin_dir` (the
/// directory of this podctl, which has podctl-supervisor next to it).
/// Refused when `bin_dir` cannot be written into a unit file as it is.
pub fn unit_files(bin_dir: &Path, user: bool) -> anyhow::Result<Vec<UnitFile>> {
    let dir = unit_safe(bin_dir)?;
    let templates = if user { USER_TEMPLATES } else { TEMPLATES };
    Ok(templates
        .iter()
        .map(|t| UnitFile {
            name: t.name,
            text: match t.binary {
                Some(binary) => exec_start_in(t.text, binary, dir),
                None => t.text.to_string(),
            },
        })
        .collect())
}

/// `text` with every `ExecStart=` of [`TEMPLATE_BIN_DIR`]`/binary` running
/// `dir/binary` instead; every other line as it is.
fn exec_start_in(text: &str, binary: &str, dir: &str) -> String {
    let from = format!("ExecStart={TEMPLATE_BIN_DIR}/{binary}");
    let to = format!("ExecStart={dir}/{binary}");
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        match line.strip_prefix(&from) {
            Some(rest) if rest.is_empty() || rest.starts_with([' ', '\n']) => {
                out.push_str(&to);
                out.push_str(rest);
            }
            _ => out.push_str(line),
        }
    }
    out
}

/// `dir` as text a unit's `ExecStart=` takes as one absolute path: no
/// whitespace (a separator there), quote, backslash, `%` (a specifier) or
/// `$` (a variable).
fn unit_safe(dir: &Path) -> anyhow::Result<&str> {
    let text = dir.to_str().filter(|t| t.starts_with('/')).ok_or_else(|| {
        anyhow::anyhow!(
            "{}: a unit's ExecStart= needs an absolute UTF-8 path",
            dir.display()
        )
    })?;
    if let Some(c) = text
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || "\"'\\%$".contains(*c))
    {
        anyhow::bail!(
            "{text}: the binaries' directory has {c:?}, which a unit's ExecStart= would not take \
             as part of a path; install podctl in a directory without it"
        );
    }
    Ok(text)
}

/// Puts `unit` into `dir` (created 0755 if missing) with mode 0644,
/// atomically, unless the file there already has its text and mode, or is
/// a symbolic link (a masked unit stays masked).
pub fn write(dir: &Path, unit: &UnitFile) -> anyhow::Result<Written> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    let path = dir.join(unit.name);
    match std::fs::symlink_metadata(&path) {
        Ok(meta) if meta.file_type().is_symlink() => return Ok(Written::LinkKept),
        Ok(meta) if meta.is_file() && meta.permissions().mode() & 0o7777 == UNIT_FILE_MODE => {
            let text =
                std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
            if text == unit.text.as_bytes() {
                return Ok(Written::Unchanged);
            }
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(UNIT_DIR_MODE)
        .create(dir)
        .with_context(|| format!("cannot create {}", dir.display()))?;
    write_atomic_mode(&path, unit.text.as_bytes(), UNIT_FILE_MODE)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(Written::Installed)
}

#[cfg(test)]
mod tests;
