use super::{UnitFile, Written, unit_files, write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

fn units(dir: &str) -> Vec<UnitFile> {
    unit_files(Path::new(dir), false).unwrap()
}

fn text<'a>(units: &'a [UnitFile], name: &str) -> &'a str {
    &units.iter().find(|u| u.name == name).unwrap().text
}

/// A fresh directory of this test's own.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("podctl-units-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn the_three_units_in_order() {
    let names: Vec<&str> = units("/usr/bin").iter().map(|u| u.name).collect();
    assert_eq!(
        names,
        [
            "pod@.service",
            "podctl-auto-update.service",
            "podctl-auto-update.timer"
        ]
    );
}

#[test]
fn pod_unit_points_at_the_given_binary() {
    let all = units("/opt/podctl/bin");
    let text = text(&all, "pod@.service");
    assert!(text.contains("\nExecStart=/opt/podctl/bin/podctl-supervisor up %i\n"));
    assert!(!text.contains("/usr/local/bin"));
    assert!(text.contains("Type=notify"));
    assert!(text.contains("WantedBy=multi-user.target"));
}

/// A supervisor runs for as long as its pod: glibc keeps no ended thread's
/// stack and no per-thread cache of freed blocks in it, root's or a user's.
#[test]
fn pod_units_keep_no_glibc_caches() {
    let want = "\nEnvironment=GLIBC_TUNABLES=glibc.pthread.stack_cache_size=0:glibc.malloc.tcache_count=0\n";
    for user in [false, true] {
        let all = unit_files(Path::new("/usr/bin"), user).unwrap();
        let text = text(&all, "pod@.service");
        assert!(text.contains(want), "no {want:?} in:\n{text}");
    }
}

#[test]
fn auto_update_service_is_a_oneshot_of_the_given_podctl() {
    let all = units("/opt/podctl/bin");
    let text = text(&all, "podctl-auto-update.service");
    for want in [
        "\nType=oneshot\n",
        "\nExecStart=/opt/podctl/bin/podctl auto-update\n",
        "\nWants=network-online.target\n",
        "\nAfter=network-online.target\n",
        "\nAfter=multi-user.target\n",
        "\nDocumentation=man:podctl-auto-update(8)\n",
        "\nDescription=",
    ] {
        assert!(text.contains(want), "no {want:?} in:\n{text}");
    }
    assert!(!text.contains("/usr/local/bin"));
    // Started by the timer only: nothing to enable.
    assert!(!text.contains("[Install]"));
}

#[test]
fn auto_update_timer_runs_daily_and_is_enabled_by_the_admin() {
    let all = units("/usr/bin");
    let text = text(&all, "podctl-auto-update.timer");
    let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    for want in [
        "[Timer]",
        "OnCalendar=daily",
        "RandomizedDelaySec=900",
        "Persistent=true",
        "[Install]",
        "WantedBy=timers.target",
    ] {
        assert!(lines.contains(&want), "no {want:?} in:\n{text}");
    }
    // It starts the service of its own name (no Unit= elsewhere).
    assert!(!text.contains("Unit="));
}

#[test]
fn a_directory_a_unit_cannot_name_is_refused() {
    for dir in [
        "/opt/my podctl",
        "/opt/100%",
        "/opt/$HOME",
        "/opt/a\"b",
        "bin",
    ] {
        let err = unit_files(Path::new(dir), false).unwrap_err().to_string();
        assert!(err.contains(dir), "{dir}: {err}");
    }
}

#[test]
fn only_the_exec_start_line_changes() {
    let text = "# ExecStart=/usr/local/bin/podctl auto-update\n\
                ExecStart=/usr/local/bin/podctl auto-update\n\
                ExecStartPost=/usr/local/bin/podctl x\n\
                ExecStart=/usr/local/bin/podctl-supervisor up\n";
    assert_eq!(
        super::exec_start_in(text, "podctl", "/usr/bin"),
        "# ExecStart=/usr/local/bin/podctl auto-update\n\
         ExecStart=/usr/bin/podctl auto-update\n\
         ExecStartPost=/usr/local/bin/podctl x\n\
         ExecStart=/usr/local/bin/podctl-supervisor up\n"
    );
}

#[test]
fn a_unit_is_written_once_with_its_mode() {
    let dir = scratch("once").join("system");
    let all = units("/usr/bin");
    let timer = all.iter().find(|u| u.name.ends_with(".timer")).unwrap();
    // A missing unit directory is created public, as systemd's own.
    assert_eq!(write(&dir, timer).unwrap(), Written::Installed);
    let dir_mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
    assert_eq!(dir_mode, 0o755);
    let path = dir.join("podctl-auto-update.timer");
    let before = std::fs::metadata(&path).unwrap();
    assert_eq!(before.permissions().mode() & 0o7777, 0o644);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), timer.text);

    // The same text again: the file is not replaced (same inode).
    assert_eq!(write(&dir, timer).unwrap(), Written::Unchanged);
    assert_eq!(std::fs::metadata(&path).unwrap().ino(), before.ino());

    // Another text, or another mode: replaced.
    std::fs::write(&path, "[Timer]\nOnCalendar=hourly\n").unwrap();
    assert_eq!(write(&dir, timer).unwrap(), Written::Installed);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), timer.text);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert_eq!(write(&dir, timer).unwrap(), Written::Installed);
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode, 0o644);
    let _ = std::fs::remove_dir_all(dir.parent().unwrap());
}

#[test]
fn a_masked_unit_stays_masked() {
    let dir = scratch("mask");
    let all = units("/usr/bin");
    let timer = all.iter().find(|u| u.name.ends_with(".timer")).unwrap();
    let path = dir.join("podctl-auto-update.timer");
    std::os::unix::fs::symlink("/dev/null", &path).unwrap();
    assert_eq!(write(&dir, timer).unwrap(), Written::LinkKept);
    assert_eq!(std::fs::read_link(&path).unwrap(), Path::new("/dev/null"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_users_units_are_the_user_managers() {
    let all = unit_files(Path::new("/opt/podctl/bin"), true).unwrap();
    let names: Vec<&str> = all.iter().map(|u| u.name).collect();
    assert_eq!(
        names,
        [
            "pod@.service",
            "podctl-auto-update.service",
            "podctl-auto-update.timer"
        ]
    );
    let pod = text(&all, "pod@.service");
    assert!(pod.contains("\nWantedBy=default.target\n"), "{pod}");
    assert!(
        pod.contains("\nAssertPathExists=%E/podctl/pods/%i.toml\n"),
        "{pod}"
    );
    let update = text(&all, "podctl-auto-update.service");
    assert!(
        update.contains("\nExecStart=/opt/podctl/bin/podctl auto-update\n"),
        "{update}"
    );
    // The user manager has no network-online.target or multi-user.target.
    for system_only in [
        "network-online.target",
        "multi-user.target",
        "/usr/local/bin",
    ] {
        assert!(!update.contains(system_only), "{system_only} in:\n{update}");
    }
    let timer = text(&all, "podctl-auto-update.timer");
    assert!(timer.contains("\nOnCalendar=daily\n") && timer.contains("\nWantedBy=timers.target\n"));
}
