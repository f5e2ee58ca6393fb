//! The supervisor against the recording fake: what it asks of systemd.

use super::*;
use crate::plan::ContainerPlan;
use crate::supervise::lifecycle::{Event, Phase, transition};
use crate::supervise::process::{Helper, Spawner, fake};
use crate::systemd::UnitStatus;
use crate::systemd::fake::Recorder;

mod end_to_end;
mod hooks;
mod processes;

/// The supervisor of pod `pod` defined by `text`, its processes `procs`'
/// fakes, its files under `dir`.
pub(super) fn with_fake_processes<'m>(
    pod: &str,
    text: &str,
    mgr: &'m Recorder,
    procs: &'m fake::Processes,
    dir: &std::path::Path,
) -> Supervisor<'m> {
    let plan = crate::plan::build(&crate::spec::parse_str(text, "t.toml", pod).unwrap());
    let paths = Layout {
        podctl: "podctl".into(),
        pause: "podctl-pause".into(),
        ..Layout::under(dir)
    };
    Supervisor::new(mgr, paths, plan, String::new())
        .unwrap()
        .with_processes(procs)
}

fn supervisor<'m>(mgr: &'m Recorder, dir: &std::path::Path) -> Supervisor<'m> {
    let pod = crate::spec::parse_str(
        "[containers.app]\ncommand = [\"sleep\", \"100\"]\n",
        "t.toml",
        "t",
    )
    .unwrap();
    let plan = crate::plan::build(&pod);
    let paths = Layout::under(dir);
    let mut sup = Supervisor::new(mgr, paths, plan, String::new()).unwrap();
    let reset = sup.backoff_reset;
    sup.slots = sup
        .plan
        .containers
        .iter()
        .map(|c| placeholder_slot(c, reset))
        .collect();
    sup
}

/// An old scope that never goes away: the launch kills what is left of it
/// (a signal, no stop job to wait for) and gives up after a bounded time,
/// naming the unit; it never polls forever.
#[test]
fn a_lingering_scope_is_killed_and_the_launch_gives_up_naming_it() {
    let dir = std::env::temp_dir().join(format!("podctl-sup-{}", std::process::id()));
    let mgr = Recorder::new();
    mgr.units.borrow_mut().insert(
        "pod-t.app.scope".into(),
        UnitStatus {
            name: "pod-t.app.scope".into(),
            active_state: "deactivating".into(),
            ..Default::default()
        },
    );
    let mut sup = supervisor(&mgr, &dir);
    let t = Instant::now();
    let err = sup.launch(0).expect_err("the launch must fail");
    assert!(t.elapsed() < SCOPE_GONE_TIMEOUT * 3, "{:?}", t.elapsed());
    assert!(
        matches!(&err, SupervisorError::ScopeInUse { unit, .. } if unit == "pod-t.app.scope"),
        "{err}"
    );
    let calls = mgr.calls.borrow();
    assert!(
        calls.iter().any(|c| c == "kill pod-t.app.scope 9"),
        "{calls:?}"
    );
    assert!(!calls.iter().any(|c| c.starts_with("stop ")), "{calls:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("podctl-sup-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

const THREE: &str = "[containers.db]\ncommand = [\"sleep\", \"1\"]\n\
    [containers.app]\ncommand = [\"sleep\", \"2\"]\nafter = [\"db\"]\n\
    [containers.web]\ncommand = [\"sleep\", \"3\"]\nafter = { app = \"ready\" }\n\
    [containers.side]\ncommand = [\"sleep\", \"4\"]\n";

fn plan_of(text: &str) -> Plan {
    crate::plan::build(&crate::spec::parse_str(text, "t.toml", "t").unwrap())
}

/// Stop waves go in reverse dependency order: web (waits for app), and side
/// (waited for by nobody) first, then app, then db; within a wave in
/// reverse start order. Only running containers are stopped.
#[test]
fn stop_waves_in_reverse_dependency_order() {
    let plan = plan_of(THREE);
    let names: Vec<&str> = plan.containers.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["db", "app", "web", "side"]);
    let plans: Vec<&ContainerPlan> = plan.containers.iter().collect();
    let waves = |running: &[usize]| -> Vec<Vec<&str>> {
        stop::stop_waves(&plans, running)
            .into_iter()
            .map(|w| w.into_iter().map(|i| names[i]).collect())
            .collect()
    };
    assert_eq!(
        waves(&[0, 1, 2, 3]),
        vec![vec!["side", "web"], vec!["app"], vec!["db"]]
    );
    // web is gone already: app no longer waits for it.
    assert_eq!(waves(&[0, 1, 3]), vec![vec!["side", "app"], vec!["db"]]);
    assert_eq!(waves(&[]), Vec::<Vec<&str>>::new());
}

/// Each scope gets SIGKILL after its own stop timeout, or at the pod's stop
/// deadline when that comes first.
#[test]
fn per_container_stop_timeouts_within_the_pod_budget() {
    let t = Instant::now();
    let s = Duration::from_secs;
    assert_eq!(stop::kill_due(t, s(3), None), t + s(3));
    assert_eq!(stop::kill_due(t, s(3), Some(t + s(10))), t + s(3));
    assert_eq!(stop::kill_due(t, s(30), Some(t + s(10))), t + s(10));
    // The budget: the longest stop_timeout of the pod.
    let mgr = Recorder::new();
    let dir = temp_dir("budget");
    let mut sup = supervisor(&mgr, &dir);
    sup.plan = plan_of(&THREE.replace(
        "[containers.side]\n",
        "[containers.side]\nstop_timeout = \"25s\"\n",
    ));
    let reset = sup.backoff_reset;
    sup.slots = sup
        .plan
        .containers
        .iter()
        .map(|c| placeholder_slot(c, reset))
        .collect();
    assert_eq!(sup.stop_budget(), s(25));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The holder's exit is the sandbox's loss: the supervisor fails (systemd
/// recreates the pod), counts the loss and publishes "recreating".
#[test]
fn sandbox_loss_ends_the_supervisor_and_is_counted() {
    let mgr = Recorder::new();
    let procs = fake::Processes::new();
    let dir = temp_dir("sandbox");
    let mut sup = supervisor(&mgr, &dir).with_processes(&procs);
    let holder = procs
        .spawn(Helper::new("podctl-pause", vec!["hold".into()]))
        .unwrap();
    procs.exit(holder.pid(), 0);
    sup.holder = Some(holder);
    let err = sup.reap().expect_err("the sandbox is gone");
    assert!(
        matches!(err, SupervisorError::SandboxLost(ref e) if e == "exited 0"),
        "{err}"
    );
    assert!(sup.holder.is_none());
    let st = PodState::load(&sup.paths.run, "t").expect("state saved");
    assert_eq!((st.phase.as_str(), st.sandbox_losses), ("recreating", 1));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A reaped container goes through the state machine: its exit is
/// recorded and, per its policy, it backs off (status: restarting).
#[test]
fn a_reaped_container_backs_off() {
    let mgr = Recorder::new();
    let procs = fake::Processes::new();
    let dir = temp_dir("reap");
    let mut sup = supervisor(&mgr, &dir).with_processes(&procs);
    let child = procs
        .spawn(Helper::new("podctl", vec!["__spawn".into()]))
        .unwrap();
    procs.exit(child.pid(), 3);
    sup.slots[0].child = Some(child);
    let now = Instant::now();
    sup.slots[0].life = transition(
        &sup.slots[0].life,
        &sup.slots[0].policy,
        Event::Released { now },
    )
    .0;
    sup.reap().unwrap();
    let st = PodState::load(&sup.paths.run, "t").expect("state saved");
    let app = &st.containers[0];
    assert_eq!(
        (app.state.as_str(), app.last_exit.as_deref()),
        ("restarting", Some("exited 3"))
    );
    assert!(matches!(sup.slots[0].life.phase, Phase::Backoff { .. }));
    assert!(sup.next_due().is_some());
    let _ = std::fs::remove_dir_all(&dir);
}

/// Reload through the supervisor: the stored file is read, the same
/// decision as apply's is made; a live limit is set on the container's
/// scope without a restart, and a pod-level change ends the supervisor.
#[test]
fn reload_sets_live_limits_or_recreates() {
    let mgr = Recorder::new();
    let dir = temp_dir("reload");
    let mut sup = supervisor(&mgr, &dir);
    let now = Instant::now();
    for s in &mut sup.slots {
        s.life = transition(&s.life, &s.policy, Event::Released { now }).0;
    }
    let stored = sup.paths.definition("t");
    std::fs::create_dir_all(stored.parent().unwrap()).unwrap();
    let text =
        "[containers.app]\ncommand = [\"sleep\", \"100\"]\nresources = { memory = \"64M\" }\n";
    std::fs::write(&stored, text).unwrap();
    sup.reload().unwrap();
    let calls = mgr.calls.borrow().clone();
    assert_eq!(calls, ["set_properties pod-t.app.scope [\"MemoryMax\"]"]);
    let r = sup.last_reload.clone().expect("recorded");
    assert_eq!((r.error, r.definition.as_str()), (None, text));
    assert!(matches!(sup.slots[0].life.phase, Phase::Running { .. }));
    std::fs::write(&stored, format!("hostname = \"other\"\n{text}")).unwrap();
    assert!(matches!(sup.reload(), Err(SupervisorError::Recreate)));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A slice left by a previous run (its cgroup still there, the unit still
/// active): the start clears it first, its leftover processes killed (no
/// call to systemd for that, nor at all without a cgroup), then the slice
/// stopped and reset, before any unit is made.
#[test]
fn a_previous_runs_slice_is_cleared_before_the_start() {
    let dir = std::env::temp_dir().join(format!("podctl-sup-left-{}", std::process::id()));
    let mgr = Recorder::new();
    let mut sup = supervisor(&mgr, &dir);
    sup.clear_previous_life().unwrap();
    assert!(mgr.calls.borrow().is_empty(), "{:?}", mgr.calls.borrow());
    let slice = crate::supervise::leftovers::slice_dir(&sup.paths.host.cgroup, "t");
    std::fs::create_dir_all(slice.join("pod-t.app.scope")).unwrap();
    // A child of ours stands for a leftover process in the old scope.
    let mut stray = std::process::Command::new("sleep")
        .arg("100")
        .spawn()
        .unwrap();
    std::fs::write(
        slice.join("pod-t.app.scope/cgroup.procs"),
        format!("{}\n", stray.id()),
    )
    .unwrap();
    mgr.units.borrow_mut().insert(
        "pod-t.slice".into(),
        UnitStatus {
            name: "pod-t.slice".into(),
            active_state: "active".into(),
            ..Default::default()
        },
    );
    // The fake cgroup.procs never empties: the kill goes on for its timeout.
    sup.clear_previous_life().unwrap();
    let deadline = Instant::now() + Duration::from_secs(2);
    let status = loop {
        if let Some(st) = stray.try_wait().unwrap() {
            break st;
        }
        if Instant::now() > deadline {
            let _ = stray.kill();
            let _ = stray.wait();
            panic!("the leftover process was not killed");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(9),
        "the leftover is killed"
    );
    assert!(mgr.calls.borrow().is_empty(), "{:?}", mgr.calls.borrow());
    sup.wait_slice_gone().unwrap();
    assert_eq!(
        *mgr.calls.borrow(),
        vec![
            "stop pod-t.slice".to_string(),
            "reset_failed pod-t.slice".to_string()
        ]
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A restart of pod@NAME.service is propagated to the slice bound to it:
/// the new supervisor may find the slice loaded (activating anew) with no
/// cgroup. It is stopped before the units are made, or the start would
/// fail with UnitExists; one that systemd never lets go fails the start
/// after a bounded wait, naming it.
#[test]
fn a_slice_still_loaded_is_stopped_and_waited_for() {
    let dir = temp_dir("slice-loaded");
    let mgr = Recorder::new();
    let mut sup = supervisor(&mgr, &dir);
    sup.wait_slice_gone().unwrap();
    assert!(mgr.calls.borrow().is_empty(), "{:?}", mgr.calls.borrow());
    let slice = |state: &str| UnitStatus {
        name: "pod-t.slice".into(),
        active_state: state.into(),
        ..Default::default()
    };
    mgr.units
        .borrow_mut()
        .insert("pod-t.slice".into(), slice("activating"));
    sup.wait_slice_gone().unwrap();
    assert_eq!(
        *mgr.calls.borrow(),
        vec!["stop pod-t.slice", "reset_failed pod-t.slice"]
    );
    // The fake keeps a failed unit through reset_failed: it never goes.
    mgr.calls.borrow_mut().clear();
    mgr.units
        .borrow_mut()
        .insert("pod-t.slice".into(), slice("failed"));
    let t = Instant::now();
    let err = sup.wait_slice_gone().expect_err("a slice that stays");
    assert!(t.elapsed() < SCOPE_GONE_TIMEOUT * 3, "{:?}", t.elapsed());
    assert!(
        matches!(&err, SupervisorError::ScopeInUse { unit, .. } if unit == "pod-t.slice"),
        "{err}"
    );
    assert_eq!(*mgr.calls.borrow(), vec!["reset_failed pod-t.slice"]);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `podctl apply` (from the state file the supervisor saved) and the
/// supervisor told to reload (from what it holds) decide the same on the
/// same running and wanted pods, image changes included.
#[test]
fn apply_and_the_supervisor_decide_the_same() {
    use crate::plan::{Facts, ImageFacts};
    let facts = |digest: &str| Facts {
        images: [(
            "app:1".to_string(),
            ImageFacts {
                name: "stored/app:1".into(),
                digest: format!("sha256:{}", digest.repeat(32)),
                layers: vec!["/s/layers/a".into()],
                ..Default::default()
            },
        )]
        .into(),
        ids: None,
        user: None,
    };
    let v1 =
        "[containers.app]\nimage = \"app:1\"\n[containers.side]\ncommand = [\"sleep\", \"9\"]\n";
    let env = "[containers.app]\nimage = \"app:1\"\nenv = { A = \"1\" }\n\
               [containers.side]\ncommand = [\"sleep\", \"9\"]\n";
    let host = "hostname = \"other\"\n[containers.app]\nimage = \"app:1\"\n\
                [containers.side]\ncommand = [\"sleep\", \"9\"]\n";
    let cases = [
        (v1, "ab", "unchanged"),
        (v1, "cd", "reload"),
        (env, "ab", "reload"),
        (host, "ab", "recreate"),
    ];
    for (wanted_text, digest, kind) in cases {
        let dir = temp_dir("same");
        let mgr = Recorder::new();
        let pod = crate::spec::parse_str(v1, "t.toml", "t").unwrap();
        let running = facts("ab");
        let plan = crate::plan::assemble(&pod, &running);
        let sup = Supervisor::new(&mgr, Layout::under(&dir), plan, v1.into())
            .unwrap()
            .with_facts(running);
        sup.save();
        let wanted_pod = crate::spec::parse_str(wanted_text, "t.toml", "t").unwrap();
        let wanted_facts = facts(digest);
        let wanted = crate::plan::assemble(&wanted_pod, &wanted_facts);
        let by_apply = crate::supervise::state::changes_against(
            &sup.paths.run,
            true,
            (&wanted, &wanted_facts),
            wanted_text,
        );
        let (_, by_supervisor) = sup.decide_reload(&wanted_pod, wanted_text, &wanted_facts);
        assert_eq!(by_apply, by_supervisor, "{wanted_text} with {digest}");
        assert_eq!(by_apply.kind(), kind, "{wanted_text} with {digest}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
