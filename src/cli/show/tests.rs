use super::*;
use std::path::Path;

#[test]
fn formats() {
    assert_eq!(human_bytes(512), "512B");
    assert_eq!(human_bytes(3 << 20), "3.0M");
    assert_eq!(human_age(59), "59s");
    assert_eq!(human_age(3600 * 25), "1d1h");
    assert_eq!(pod_name_of("pod@my-web.service"), Some("my-web"));
    assert_eq!(pod_name_of("pod-web.slice"), None);
}

fn fixture() -> (crate::systemd::fake::Recorder, Layout, std::path::PathBuf) {
    use crate::supervise::state::ContainerState;
    let dir = std::env::temp_dir().join(format!(
        "podctl-show-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    let paths = Layout::under(&dir);
    let state = PodState {
        pod: "web".into(),
        supervisor_pid: 100,
        sandbox_pid: 101,
        phase: "running".into(),
        userns: Some(crate::model::IdMap {
            uid: 2_147_483_648,
            gid: 2_147_483_648,
            size: 65_536,
        }),
        containers: vec![
            ContainerState {
                name: "app".into(),
                unit: "pod-web.app.scope".into(),
                pid: 102,
                monitor_pid: 103,
                state: "running".into(),
                ready: true,
                restarts: 1,
                last_exit: Some("signal 9".into()),
                since: 1_700_000_000,
                ..Default::default()
            },
            ContainerState {
                name: "job".into(),
                unit: "pod-web.job.scope".into(),
                state: "exited".into(),
                last_exit: Some("exited 0".into()),
                since: 1_700_000_000,
                ..Default::default()
            },
        ],
        ..Default::default()
    };
    state.save(&paths.run).unwrap();
    let mgr = crate::systemd::fake::Recorder::new();
    for (unit, st) in [
        ("pod@web.service", "active"),
        ("pod-web.sandbox.scope", "active"),
        ("pod-web.app.scope", "active"),
        ("pod@db.service", "failed"),
    ] {
        mgr.units.borrow_mut().insert(
            unit.into(),
            UnitStatus {
                name: unit.into(),
                active_state: st.into(),
                ..Default::default()
            },
        );
    }
    (mgr, paths, dir)
}

fn expected(name: &str) -> serde_json::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/json")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

#[test]
fn status_and_ps_json() {
    let (mgr, paths, dir) = fixture();
    let st = serde_json::to_value(status_with(&mgr, &paths, "web").unwrap()).unwrap();
    assert_eq!(st, expected("status.json"), "{st:#}");
    let ps = serde_json::to_value(ps_json(&mgr, &paths, false).unwrap()).unwrap();
    assert_eq!(ps, expected("ps.json"), "{ps:#}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A failed pod's last state file says `app` runs: status says it does not.
#[test]
fn a_failed_pods_containers_are_not_running() {
    let (mgr, paths, dir) = fixture();
    mgr.units
        .borrow_mut()
        .get_mut("pod@web.service")
        .unwrap()
        .active_state = "failed".into();
    let st = status_with(&mgr, &paths, "web").unwrap();
    let app = &st.containers[0];
    assert_eq!(
        (app.state.as_str(), app.pid, app.monitor_pid, app.ready),
        ("stopped", 0, 0, false)
    );
    assert_eq!(st.containers[1].state, "exited");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `ps --all`: stored pods that are down are listed as inactive, once.
#[test]
fn ps_all_lists_stored_pods_that_are_down() {
    let (mgr, paths, dir) = fixture();
    std::fs::create_dir_all(&paths.store).unwrap();
    for name in ["cache", "web"] {
        std::fs::write(paths.definition(name), "").unwrap();
    }
    let stored = crate::apply::stored_pods(&paths).unwrap();
    let running = pods_table(&mgr, &paths, &[], &[]).unwrap();
    assert!(!running.contains("cache"), "{running}");
    let all = pods_table(&mgr, &paths, &[], &stored).unwrap();
    let cache: Vec<&str> = all.lines().filter(|l| l.starts_with("cache ")).collect();
    assert_eq!(cache.len(), 1, "{all}");
    assert!(cache[0].contains(" inactive "), "{all}");
    assert_eq!(
        all.lines().filter(|l| l.starts_with("web ")).count(),
        1,
        "{all}"
    );
    let names = |all| {
        ps_json(&mgr, &paths, all)
            .unwrap()
            .into_iter()
            .map(|p| format!("{}={}", p.name, p.state))
            .collect::<Vec<_>>()
    };
    assert_eq!(names(false), ["db=failed", "web=active"]);
    assert_eq!(names(true), ["cache=inactive", "db=failed", "web=active"]);
    std::fs::remove_dir_all(&dir).unwrap();
}
