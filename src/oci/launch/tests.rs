use super::*;
use crate::oci::runtime::Fake;

#[test]
fn exec_finds_the_runtime_from_the_cgroup() {
    let tmp = std::env::temp_dir().join(format!("podctl-execinfo-{}", std::process::id()));
    let dirs = Dirs {
        run: tmp.clone(),
        lib: tmp.clone(),
    };
    let info = ExecInfo {
        id: "web.app".into(),
        program: "/usr/bin/crun".into(),
        state_root: "/r".into(),
        log: "/l".into(),
        cgroupfs: true,
        is_crun: true,
    };
    std::fs::create_dir_all(dirs.bundle("web.app")).unwrap();
    std::fs::write(
        dirs.bundle("web.app").join("runtime.json"),
        serde_json::to_vec(&info).unwrap(),
    )
    .unwrap();
    let v2 = "0::/pod.slice/pod-web.slice/pod-web.app.scope/payload\n";
    assert_eq!(ExecInfo::for_cgroup(&dirs, v2), Some(info.clone()));
    let hybrid = "12:pids:/\n1:name=systemd:/pod.slice/pod-web.slice/pod-web.app.scope\n0::/\n";
    assert_eq!(ExecInfo::for_cgroup(&dirs, hybrid), Some(info));
    assert_eq!(
        ExecInfo::for_cgroup(&dirs, "0::/pod.slice/pod-web.slice/pod-web.db.scope\n"),
        None
    );
    std::fs::remove_dir_all(&tmp).unwrap();
}

#[test]
fn create_start_and_pid() {
    let dir = std::env::temp_dir().join(format!("podctl-ocilaunch-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("init.pid"), "4321").unwrap();
    let rt = Fake::default();
    let pid = run(&rt, "web.app", &dir, Stdio::null(), Stdio::null()).unwrap();
    assert_eq!(pid, 4321);
    assert_eq!(
        *rt.calls.borrow(),
        ["delete web.app", "create web.app", "start web.app"]
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_failed_start_leaves_nothing_and_says_why() {
    let rt = Fake {
        fail: vec!["start"],
        ..Default::default()
    };
    let e = run(
        &rt,
        "web.app",
        Path::new("/nonexistent"),
        Stdio::null(),
        Stdio::null(),
    )
    .unwrap_err();
    assert_eq!(e.fault, Fault::Definition);
    assert_eq!(
        e.message,
        "fake start web.app failed (exit status: 1): start refused"
    );
    assert_eq!(
        *rt.calls.borrow(),
        [
            "delete web.app",
            "create web.app",
            "start web.app",
            "delete web.app"
        ]
    );
}
