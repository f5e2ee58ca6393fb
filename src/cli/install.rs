//! `podctl install`: put `pod@.service` and the auto-update service and
//! timer where systemd finds them, pointing at the binaries next to this
//! podctl (`units`), create the definition store, give `containers`
//! subordinate IDs for pods' user namespaces (as the package does), and
//! reload systemd. Nothing is enabled or started: the timer is the admin's
//! to enable.

mod units;

use crate::supervise::state::write_atomic_mode;
use anyhow::Context;
use std::path::Path;
use units::Written;

/// Mode of /etc/subuid and /etc/subgid when podctl creates them (shadow's).
const SUBID_FILE_MODE: u32 = 0o644;

pub fn install(paths: &crate::layout::Layout, unit_dir: &Path) -> anyhow::Result<()> {
    let exe = std::env::current_exe().context("cannot find the podctl binary")?;
    let supervisor = exe.with_file_name("podctl-supervisor");
    for needed in [exe.with_file_name("podctl-pause"), supervisor.clone()] {
        if !needed.exists() {
            anyhow::bail!(
                "{} is missing: install all three binaries (cargo install --path . --root /usr/local)",
                needed.display()
            );
        }
    }
    let bin_dir = exe.parent().context("the podctl binary has no directory")?;
    let user = paths.owner.user();
    for unit in units::unit_files(bin_dir, user.is_some())? {
        let path = unit_dir.join(unit.name);
        match units::write(unit_dir, &unit)? {
            Written::Installed => println!("installed {}", path.display()),
            Written::Unchanged => println!("{} is up to date", path.display()),
            Written::LinkKept => println!(
                "{} is a link (masked or linked by the admin): left as it is",
                path.display()
            ),
        }
    }
    let store = paths.store.clone();
    crate::private::create_private_dir(&store)
        .with_context(|| format!("cannot create {}", store.display()))?;
    if let Some(user) = user {
        return finish_for_user(paths, user, &supervisor);
    }
    for file in [&paths.host.subuid, &paths.host.subgid] {
        if add_containers_entry(file)? {
            println!(
                "added `{}` to {}: the host IDs of pods' user namespaces",
                crate::ids::SUGGESTED_ENTRY,
                file.display()
            );
        }
    }
    let mgr = super::connect()?;
    crate::systemd::Manager::reload(&mgr)?;
    println!(
        "pod@.service runs {} up %i; pod definitions go to {}",
        supervisor.display(),
        store.display()
    );
    println!(
        "install enables nothing: `systemctl enable --now podctl-auto-update.timer` updates pods' images daily"
    );
    Ok(())
}

/// A user's install: the user's subordinate IDs are the administrator's to
/// give (checked, with the command that gives them), lingering is said
/// when off, and the user manager reloads.
fn finish_for_user(
    paths: &crate::layout::Layout,
    user: &crate::owner::UserDirs,
    supervisor: &Path,
) -> anyhow::Result<()> {
    let map = crate::ids::user_map(&paths.host, user)?;
    println!("your pods' user namespace: {map}");
    let mgr = super::connect()?;
    crate::systemd::Manager::reload(&mgr)?;
    println!(
        "pod@.service (your manager's) runs {} up %i; pod definitions go to {}",
        supervisor.display(),
        paths.store.display()
    );
    if !Path::new(LINGER_DIR).join(&user.name).exists() {
        println!(
            "lingering is off for {0}: your pods stop when you log out and do not start at boot; `loginctl enable-linger {0}` keeps them",
            user.name
        );
    }
    println!(
        "install enables nothing: `systemctl --user enable --now podctl-auto-update.timer` updates your pods' images daily"
    );
    Ok(())
}

/// logind's record of the users whose manager runs without a login.
pub const LINGER_DIR: &str = "/var/lib/systemd/linger";

/// A subuid or subgid file's text with a `containers` entry: as it is
/// when it has one (never rewritten: the admin's choice stands), else with
/// [`crate::ids::SUGGESTED_ENTRY`] on a line of its own at the end.
pub fn with_containers_entry(text: &str) -> String {
    if crate::ids::subid::has_entry(text) {
        return text.to_string();
    }
    let sep = if text.is_empty() || text.ends_with('\n') {
        ""
    } else {
        "\n"
    };
    format!("{text}{sep}{}\n", crate::ids::SUGGESTED_ENTRY)
}

/// Adds the `containers` entry to `path` (created if missing) unless it has
/// one, keeping the file's mode; whether it wrote.
fn add_containers_entry(path: &Path) -> anyhow::Result<bool> {
    use std::os::unix::fs::PermissionsExt;
    let (text, mode) = match std::fs::read_to_string(path) {
        Ok(text) => {
            let mode = std::fs::metadata(path).map(|m| m.permissions().mode() & 0o7777);
            (text, mode.unwrap_or(SUBID_FILE_MODE))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (String::new(), SUBID_FILE_MODE),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let new = with_containers_entry(&text);
    if new == text {
        return Ok(false);
    }
    write_atomic_mode(path, new.as_bytes(), mode)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_containers_entry_is_added_once() {
        use super::with_containers_entry as add;
        let entry = "containers:2147483647:2147483648\n";
        assert_eq!(add(""), entry);
        assert_eq!(
            add("alice:100000:65536\n"),
            format!("alice:100000:65536\n{entry}")
        );
        // A last line without its newline is not joined to the entry.
        assert_eq!(
            add("alice:100000:65536"),
            format!("alice:100000:65536\n{entry}")
        );
        assert_eq!(
            add(&add("alice:100000:65536\n")),
            add("alice:100000:65536\n")
        );
        // An existing entry stands as written, whatever its range.
        let own = "# mine\ncontainers:300000:65536\nalice:100000:65536";
        assert_eq!(add(own), own);
        assert_eq!(
            add("# containers:1:2\n"),
            format!("# containers:1:2\n{entry}")
        );
    }

    #[test]
    fn the_file_is_written_once_keeping_its_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("podctl-install-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("subuid");
        std::fs::write(&file, "alice:100000:65536\n").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).unwrap();
        assert!(super::add_containers_entry(&file).unwrap());
        assert!(!super::add_containers_entry(&file).unwrap());
        let text = std::fs::read_to_string(&file).unwrap();
        assert_eq!(
            text,
            "alice:100000:65536\ncontainers:2147483647:2147483648\n"
        );
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
        let missing = dir.join("subgid");
        assert!(super::add_containers_entry(&missing).unwrap());
        let mode = std::fs::metadata(&missing).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
