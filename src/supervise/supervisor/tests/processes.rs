//! The supervisor with fake processes ([`fake::Processes`]) and the recording
//! systemd fake: what it starts, releases, signals and kills, in which order.

use super::*;

/// A pod name of its own: the start's cleanup looks for the pod's scratch
/// volumes and bundles by name.
const POD: &str = "fakeprocs";

fn supervisor_of<'m>(
    text: &str,
    mgr: &'m Recorder,
    procs: &'m fake::Processes,
    dir: &std::path::Path,
) -> Supervisor<'m> {
    with_fake_processes(POD, text, mgr, procs, dir)
}

/// The PID of container `name`'s helper (its relay once released).
fn pid_of(sup: &Supervisor<'_>, name: &str) -> u32 {
    let s = sup.slots.iter().find(|s| s.plan.name == name).unwrap();
    s.child.as_ref().map(|c| c.pid()).expect("running")
}

/// Names the PIDs in `procs`' log lines that start with `what`.
fn named(sup: &Supervisor<'_>, procs: &fake::Processes, what: &str) -> Vec<String> {
    let holder = procs.pids(" hold ");
    procs
        .log()
        .iter()
        .filter_map(|l| l.strip_prefix(what))
        .map(|rest| {
            let pid: u32 = rest.split(' ').next().unwrap().parse().unwrap();
            if holder.contains(&pid) {
                return "holder".to_string();
            }
            sup.slots
                .iter()
                .find(|s| s.child.as_ref().is_some_and(|c| c.pid() == pid))
                .map_or(pid.to_string(), |s| s.plan.name.clone())
        })
        .collect()
}

/// The start spawns the holder and every container helper held, creates
/// their units in one batch with their PIDs, releases the holder, then
/// each container once what it waits for holds: db and side (nothing to
/// wait for) together, then app (after db started), then web (after app
/// ready). Each container's release carries the holder's namespace PID.
#[test]
fn start_releases_the_holder_then_each_container_when_its_conditions_hold() {
    let mgr = Recorder::new();
    let procs = fake::Processes::new();
    let dir = temp_dir("fake-start");
    let mut sup = supervisor_of(THREE, &mgr, &procs, &dir);
    assert_eq!(sup.start().unwrap(), Started::Running);
    let holder = procs.pids(" hold ")[0];
    let helpers = procs.pids("__spawn");
    assert_eq!(helpers.len(), 4);
    let calls = mgr.calls.borrow().clone();
    let batch: Vec<&String> = calls
        .iter()
        .filter(|c| c.starts_with("start_transient"))
        .collect();
    assert_eq!(
        batch,
        [
            &format!("start_transient pod-{POD}.slice pids=[]"),
            &format!("start_transient pod-{POD}.sandbox.scope pids=[{holder}]"),
            &format!("start_transient pod-{POD}.db.scope pids=[{}]", helpers[0]),
            &format!("start_transient pod-{POD}.app.scope pids=[{}]", helpers[1]),
            &format!("start_transient pod-{POD}.web.scope pids=[{}]", helpers[2]),
            &format!("start_transient pod-{POD}.side.scope pids=[{}]", helpers[3]),
        ]
    );
    assert_eq!(
        named(&sup, &procs, "go "),
        ["holder", "db", "side", "app", "web"]
    );
    let body = procs.body(pid_of(&sup, "db")).unwrap();
    assert!(body.contains(&format!("\"ns_pid\":{holder}")), "{body}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A stop signals the containers in waves, in reverse dependency order
/// (side and web, then app, then db), then the holder.
#[test]
fn stop_signals_containers_in_waves_then_the_holder() {
    let mgr = Recorder::new();
    let procs = fake::Processes::new();
    let dir = temp_dir("fake-stop");
    let mut sup = supervisor_of(THREE, &mgr, &procs, &dir);
    sup.start().unwrap();
    let holder = procs.pids(" hold ")[0];
    let pids: Vec<(String, u32)> = ["db", "app", "web", "side"]
        .iter()
        .map(|n| (n.to_string(), pid_of(&sup, n)))
        .collect();
    sup.stop().unwrap();
    let name = |pid: u32| {
        pids.iter()
            .find(|(_, p)| *p == pid)
            .map_or(if pid == holder { "holder" } else { "?" }, |(n, _)| {
                n.as_str()
            })
            .to_string()
    };
    let signals: Vec<String> = procs
        .log()
        .iter()
        .filter_map(|l| l.strip_prefix("signal "))
        .map(|rest| {
            let (pid, sig) = rest.split_once(' ').unwrap();
            format!("{} {sig}", name(pid.parse().unwrap()))
        })
        .collect();
    assert_eq!(
        signals,
        [
            "side SIGTERM",
            "web SIGTERM",
            "app SIGTERM",
            "db SIGTERM",
            "holder SIGTERM"
        ]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A container that ignores its stop signal gets SIGKILL (its scope through
/// systemd, its relay directly) once its own stop timeout has passed, well
/// before the pod's stop budget (side's 20 s) is spent.
#[test]
fn a_container_ignoring_its_stop_signal_is_killed_after_its_timeout() {
    let mgr = Recorder::new();
    let procs = fake::Processes::new();
    let dir = temp_dir("fake-kill");
    let text = "[containers.app]\ncommand = [\"sleep\", \"100\"]\nstop_timeout = \"300ms\"\n\
        [containers.side]\ncommand = [\"sleep\", \"100\"]\nstop_timeout = \"20s\"\n";
    let mut sup = supervisor_of(text, &mgr, &procs, &dir);
    sup.start().unwrap();
    let app = pid_of(&sup, "app");
    procs.stubborn(app);
    let t = Instant::now();
    sup.stop().unwrap();
    let took = t.elapsed();
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(5),
        "{took:?}"
    );
    let log = procs.log();
    let signal = log
        .iter()
        .position(|l| *l == format!("signal {app} SIGTERM"));
    let kill = log.iter().position(|l| *l == format!("kill {app}"));
    assert!(signal.is_some() && kill > signal, "{log:?}");
    let calls = mgr.calls.borrow();
    assert!(
        calls.contains(&format!("kill pod-{POD}.app.scope 9")),
        "{calls:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A container that crashed is launched again after its backoff: a new
/// helper, held, in a new scope of the same name, then released.
#[test]
fn a_crashed_container_is_launched_again_after_its_backoff() {
    let mgr = Recorder::new();
    let procs = fake::Processes::new();
    let dir = temp_dir("fake-restart");
    let text = "[containers.app]\ncommand = [\"sleep\", \"100\"]\n";
    let mut sup = supervisor_of(text, &mgr, &procs, &dir);
    sup.start().unwrap();
    let first = pid_of(&sup, "app");
    procs.exit(first, 3);
    sup.reap().unwrap();
    assert!(matches!(sup.slots[0].life.phase, Phase::Backoff { .. }));
    // Its scope goes with its last process.
    mgr.units
        .borrow_mut()
        .remove(&format!("pod-{POD}.app.scope"));
    sup.restart_due();
    assert_eq!(
        procs.pids("__spawn").len(),
        1,
        "relaunched before its backoff"
    );
    std::thread::sleep(BACKOFF_START);
    sup.restart_due();
    let helpers = procs.pids("__spawn");
    assert_eq!(helpers.len(), 2, "{:?}", procs.log());
    assert_eq!(pid_of(&sup, "app"), helpers[1]);
    assert!(procs.log().contains(&format!("go {}", helpers[1])));
    assert!(mgr.calls.borrow().contains(&format!(
        "start_transient pod-{POD}.app.scope pids=[{}]",
        helpers[1]
    )));
    assert!(matches!(sup.slots[0].life.phase, Phase::Running { .. }));
    assert_eq!(sup.slots[0].state.restarts, 1);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Liveness: each attempt is a held `podctl __enter` moved into the
/// container's scope, then released; after `retries` failed attempts in a
/// row the scope is killed.
#[test]
fn failed_liveness_attempts_kill_the_scope() {
    let mgr = Recorder::new();
    let procs = fake::Processes::new();
    let dir = temp_dir("fake-live");
    let text = "[containers.app]\ncommand = [\"sleep\", \"100\"]\n\
        live = { exec = [\"false\"], interval = \"100ms\", retries = 2 }\n";
    let mut sup = supervisor_of(text, &mgr, &procs, &dir);
    procs.exit_at_release("__enter", 1);
    sup.start().unwrap();
    let kill = format!("kill pod-{POD}.app.scope 9");
    sup.probe_liveness();
    assert_eq!(procs.pids("__enter").len(), 1, "{:?}", procs.log());
    assert!(!mgr.calls.borrow().contains(&kill));
    std::thread::sleep(Duration::from_millis(100));
    sup.probe_liveness();
    let attempts = procs.pids("__enter");
    assert_eq!(attempts.len(), 2, "{:?}", procs.log());
    let calls = mgr.calls.borrow();
    assert!(
        calls.contains(&format!(
            "attach pod-{POD}.app.scope pids=[{}]",
            attempts[1]
        )),
        "{calls:?}"
    );
    assert!(calls.contains(&kill), "{calls:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `after = { job = "completed" }`: app is released only once job has
/// exited 0 (200 ms after its release) and was reaped, not when job started.
#[test]
fn a_container_waiting_for_completion_is_released_after_the_exit() {
    let mgr = Recorder::new();
    let procs = fake::Processes::new();
    let dir = temp_dir("fake-completed");
    let text = "[containers.job]\ncommand = [\"true\"]\nrestart = \"never\"\n\
        [containers.app]\ncommand = [\"sleep\", \"100\"]\nafter = { job = \"completed\" }\n";
    let mut sup = supervisor_of(text, &mgr, &procs, &dir);
    // job's launch spec names its journal identifier.
    procs.exit_after_release(&format!("\"{POD}/job\""), 0, Duration::from_millis(200));
    assert_eq!(sup.start().unwrap(), Started::Running);
    assert!(sup.slots[0].life.completed);
    let helpers = procs.pids("__spawn");
    let log = procs.log();
    let at = |line: String| log.iter().position(|l| *l == line);
    let job_reaped = at(format!("reaped {}", helpers[0]));
    assert!(
        job_reaped.is_some() && at(format!("go {}", helpers[1])) > job_reaped,
        "{log:?}"
    );
    let st = PodState::load(&sup.paths.run, POD).expect("state saved");
    assert_eq!(st.containers[0].last_exit.as_deref(), Some("exited 0"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Readiness after a restart: ready through its probe, then not ready
/// once relaunched until its probe passes again.
#[test]
fn a_restarted_container_is_ready_again_only_through_its_probe() {
    let mgr = Recorder::new();
    let procs = fake::Processes::new();
    let dir = temp_dir("fake-ready");
    let text = "[containers.app]\ncommand = [\"sleep\", \"100\"]\n\
        ready = { exec = [\"true\"], interval = \"100ms\" }\n";
    let mut sup = supervisor_of(text, &mgr, &procs, &dir);
    procs.exit_at_release("__enter", 0);
    assert_eq!(sup.start().unwrap(), Started::Running);
    assert!(sup.slots[0].ready());
    assert_eq!(procs.pids("__enter").len(), 1);
    procs.exit(pid_of(&sup, "app"), 3);
    sup.reap().unwrap();
    assert!(!sup.slots[0].ready());
    mgr.units
        .borrow_mut()
        .remove(&format!("pod-{POD}.app.scope"));
    std::thread::sleep(BACKOFF_START);
    sup.restart_due();
    assert!(matches!(sup.slots[0].life.phase, Phase::Running { .. }));
    assert!(!sup.slots[0].ready(), "ready before any probe passed");
    sup.probe_readiness();
    assert!(sup.slots[0].ready());
    assert_eq!(procs.pids("__enter").len(), 2, "{:?}", procs.log());
    let _ = std::fs::remove_dir_all(&dir);
}
