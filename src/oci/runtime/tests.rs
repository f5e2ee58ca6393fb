use super::*;

#[test]
fn a_missing_runtime_names_the_binary_and_the_package() {
    let e = check_installed(&model::Runtime::Crun, "/nonexistent").unwrap_err();
    assert_eq!(
        e.to_string(),
        "the OCI runtime crun is not installed (not found in PATH); install it with `apt-get install crun`"
    );
    let e = check_installed(&model::Runtime::Path("/opt/rt".into()), "").unwrap_err();
    assert_eq!(
        e.to_string(),
        "the OCI runtime /opt/rt is not installed (not found)"
    );
    assert_eq!(
        check_installed(&model::Runtime::Path("/bin/sh".into()), "").unwrap(),
        PathBuf::from("/bin/sh")
    );
    assert!(locate("sh", "/nonexistent:/bin").is_some());
}

#[test]
fn runc_cannot_run_without_cgroupfs() {
    let cli = |rt: &model::Runtime, mode| Cli::new(rt, "/x".into(), "/r".into(), "/l".into(), mode);
    assert!(cli(&model::Runtime::Runc, CgroupMode::Disabled).is_err());
    assert!(cli(&model::Runtime::Crun, CgroupMode::Disabled).is_ok());
    assert!(cli(&model::Runtime::Runc, CgroupMode::Cgroupfs).is_ok());
}

#[test]
fn a_failing_runtime_reports_its_stderr() {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("podctl-rt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Stands in for a runtime that refuses: prints its arguments to stderr.
    let rt = dir.join("rt");
    std::fs::write(&rt, "#!/bin/sh\necho \"refused: $*\" >&2\nexit 1\n").unwrap();
    std::fs::set_permissions(&rt, std::fs::Permissions::from_mode(0o755)).unwrap();
    let cli = Cli::new(
        &model::Runtime::Runc,
        rt.clone(),
        "/r".into(),
        dir.join("log"),
        CgroupMode::Cgroupfs,
    )
    .unwrap();
    let e = cli.start("web.app").unwrap_err().to_string();
    assert_eq!(
        e,
        format!(
            "{} start web.app failed (exit status: 1): refused: --root /r --log {} start web.app",
            rt.display(),
            dir.join("log").display()
        )
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
