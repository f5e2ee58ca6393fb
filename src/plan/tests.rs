use super::*;
use crate::model::{Container, Resources};
use std::collections::BTreeMap;

pub(crate) fn pod(share: Vec<Namespace>, host: Vec<Namespace>) -> Pod {
    let c = |name: &str| Container {
        name: name.into(),
        image: None,
        command: Some(vec!["/bin/sleep".into(), "1000".into()]),
        args: None,
        env: BTreeMap::from([("A".into(), "1".into())]),
        workdir: None,
        user: None,
        restart: Restart::Always,
        resources: Resources {
            memory: Some(128 << 20),
            ..Default::default()
        },
        init: false,
        after: vec![],
        ready: None,
        live: None,
        hooks: Default::default(),
        stop_signal: None,
        stop_timeout_ms: 10_000,
        runtime: None,
        security: Default::default(),
        volumes: vec![],
        secrets: Default::default(),
        updates: Default::default(),
        tty: false,
        stdin: false,
    };
    Pod {
        name: "my-web".into(),
        hostname: "my-web".into(),
        share,
        host,
        resources: Resources {
            memory: Some(512 << 20),
            cpu_percent: Some(50),
            tasks: Some(256),
            ..Default::default()
        },
        autostart: true,
        containers: vec![c("app"), c("sidecar")],
        network: Default::default(),
        runtime: Runtime::Crun,
        shm_size: crate::model::DEFAULT_SHM_SIZE,
        start_timeout_ms: crate::model::DEFAULT_START_TIMEOUT_MS,
        volumes: vec![],
        userns: crate::model::UserNs::Host,
        needs: vec![],
        wants: vec![],
        updates: Default::default(),
        groups: Default::default(),
    }
}

#[test]
fn default_pod_shares_net_ipc_uts_and_keeps_mnt_pid_cgroup_private() {
    let p = build(&pod(
        vec![Namespace::Net, Namespace::Ipc, Namespace::Uts],
        vec![],
    ));
    assert_eq!(
        p.sandbox.creates,
        vec![NsKind::Ipc, NsKind::Uts, NsKind::Net]
    );
    for c in &p.containers {
        assert_eq!(c.joins, vec![NsKind::Ipc, NsKind::Uts, NsKind::Net]);
        assert_eq!(c.creates, vec![NsKind::Cgroup, NsKind::Pid, NsKind::Mnt]);
    }
    assert_eq!(p.sandbox.hostname.as_deref(), Some("my-web"));
}

#[test]
fn shared_or_host_pid_means_no_private_pid_namespace() {
    let shared = build(&pod(vec![Namespace::Net, Namespace::Pid], vec![]));
    assert_eq!(shared.containers[0].joins, vec![NsKind::Net, NsKind::Pid]);
    // ipc and uts, in neither list, are each container's own.
    assert_eq!(
        shared.containers[0].creates,
        vec![NsKind::Cgroup, NsKind::Ipc, NsKind::Uts, NsKind::Mnt]
    );
    let host = build(&pod(
        vec![Namespace::Ipc],
        vec![Namespace::Pid, Namespace::Net, Namespace::Uts],
    ));
    assert_eq!(
        host.containers[0].creates,
        vec![NsKind::Cgroup, NsKind::Mnt]
    );
    assert_eq!(host.sandbox.hostname, None);
}

#[test]
fn namespaces_neither_shared_nor_from_the_host_are_private() {
    let p = build(&pod(vec![Namespace::Net], vec![]));
    assert_eq!(p.sandbox.creates, vec![NsKind::Net]);
    for c in &p.containers {
        assert_eq!(c.joins, vec![NsKind::Net]);
        assert_eq!(
            c.creates,
            vec![
                NsKind::Cgroup,
                NsKind::Ipc,
                NsKind::Uts,
                NsKind::Pid,
                NsKind::Mnt
            ]
        );
    }
    // Nothing shared: everything private but what `host` names.
    let p = build(&pod(vec![], vec![Namespace::Uts]));
    assert!(p.sandbox.creates.is_empty());
    assert_eq!(
        p.containers[0].creates,
        vec![
            NsKind::Cgroup,
            NsKind::Ipc,
            NsKind::Net,
            NsKind::Pid,
            NsKind::Mnt
        ]
    );
}

#[test]
fn units_limits_and_dependencies() {
    let p = build(&pod(vec![Namespace::Net], vec![]));
    assert_eq!(p.slice.name, "pod-my\\x2dweb.slice");
    assert_eq!(p.slice.property("MemoryMax"), Some(&Value::U64(512 << 20)));
    assert_eq!(
        p.slice.property("CPUQuotaPerSecUSec"),
        Some(&Value::U64(500_000))
    );
    assert_eq!(p.slice.property("TasksMax"), Some(&Value::U64(256)));
    assert_eq!(
        p.sandbox.unit.property("BindsTo"),
        Some(&Value::Strs(vec!["pod@my-web.service".into()]))
    );
    let app = &p.containers[0];
    let side = &p.containers[1];
    assert_eq!(app.unit.name, "pod-my-web.app.scope");
    assert_eq!(
        side.unit.property("After"),
        Some(&Value::Strs(vec!["pod-my-web.sandbox.scope".into()]))
    );
    for unit in [&p.sandbox.unit, &app.unit, &side.unit] {
        assert_eq!(
            unit.property("Before"),
            Some(&Value::Strs(vec!["pod@my-web.service".into()])),
            "{}",
            unit.name
        );
    }
    assert_eq!(
        app.unit.property("BindsTo"),
        Some(&Value::Strs(vec!["pod-my-web.sandbox.scope".into()]))
    );
    assert_eq!(
        app.unit.property("Slice"),
        Some(&Value::Str(p.slice.name.clone()))
    );
    assert_eq!(app.unit.property("MemoryMax"), Some(&Value::U64(128 << 20)));
}

#[test]
fn environment_has_defaults_and_file_values_win() {
    let mut pd = pod(vec![Namespace::Net], vec![]);
    pd.containers[0]
        .env
        .insert("PATH".into(), "/opt/bin".into());
    let p = build(&pd);
    let env = &p.containers[0].process.env;
    assert!(env.contains(&("PATH".into(), "/opt/bin".into())));
    assert_eq!(env.iter().filter(|(k, _)| k == "PATH").count(), 1);
    assert!(env.contains(&("A".into(), "1".into())));
}

#[test]
fn container_scopes_allow_only_the_standard_devices() {
    let mut p = pod(vec![], vec![]);
    p.containers[1].security.privileged = true;
    let plan = build(&p);
    let app = &plan
        .containers
        .iter()
        .find(|c| c.name == "app")
        .unwrap()
        .unit;
    assert_eq!(
        app.property("DevicePolicy"),
        Some(&Value::Str("closed".into()))
    );
    let Some(Value::Pairs(allow)) = app.property("DeviceAllow") else {
        panic!("no DeviceAllow");
    };
    let paths: Vec<&str> = allow.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(paths, crate::model::defaults::SCOPE_DEVICES);
    assert!(allow.iter().all(|(_, a)| a == "rwm"));
    assert_eq!(app.property("DeviceAllow").unwrap().signature(), "a(ss)");
    // A privileged container has the host's devices.
    let side = &plan
        .containers
        .iter()
        .find(|c| c.name == "sidecar")
        .unwrap()
        .unit;
    assert_eq!(side.property("DevicePolicy"), None);
    assert_eq!(side.property("DeviceAllow"), None);
}

/// Requests are properties of the unit like limits, changed live.
#[test]
fn cpu_weight_and_memory_low_are_unit_properties() {
    let mut pod = pod(vec![Namespace::Net], vec![]);
    pod.containers[0].resources.cpu_weight = Some(40);
    pod.containers[0].resources.memory_low = Some(64 << 20);
    let p = build(&pod);
    let unit = &p.containers[0].unit;
    assert_eq!(unit.property("CPUWeight"), Some(&Value::U64(40)));
    assert_eq!(unit.property("MemoryLow"), Some(&Value::U64(64 << 20)));
    assert!(crate::plan::diff::LIVE_PROPERTIES.contains(&"CPUWeight"));
    assert!(crate::plan::diff::LIVE_PROPERTIES.contains(&"MemoryLow"));
}

/// `pull`, `auto_update`, `update_deadline` and `revision_history` are no
/// part of a plan: a pod file that changes only them is a reload that
/// restarts nothing.
#[test]
fn image_update_settings_restart_nothing() {
    use super::decide::{Changes, Running, Wanted, decide};
    let before =
        "[containers.app]\nimage = \"nginx:1.25\"\n[containers.side]\nimage = \"nginx:1.25\"\n";
    let after = "auto_update = \"registry\"\nupdate_deadline = \"2m\"\nrevision_history = 3\n\
                 [containers.app]\nimage = \"nginx:1.25\"\npull = \"always\"\n\
                 [containers.side]\nimage = \"nginx:1.25\"\npull = \"missing\"\nauto_update = \"disabled\"\n";
    let parse = |text: &str| crate::spec::parse_str(text, "web.toml", "web").unwrap();
    let (old, new) = (parse(before), parse(after));
    assert_ne!(old, new, "the settings are read");
    let (old_plan, new_plan) = (build(&old), build(&new));
    assert_eq!(old_plan, new_plan);
    let running = Running {
        plan: Some(&old_plan),
        definition: before,
        reload_failed: false,
    };
    let wanted = Wanted {
        plan: &new_plan,
        definition: after,
    };
    match decide(Some(running), wanted) {
        Changes::Reload(d) => assert!(d.is_unchanged(), "{d}"),
        other => panic!("{}: {other:?}", other.kind()),
    }
}
