//! Hooks with fake processes: a `post_start` hook holds the start (and the
//! containers that wait for it) until it passes, and kills its container
//! when it fails; a `pre_stop` hook comes before the stop signal, cut
//! short at the stop timeout, the signal keeping its grace.

use super::*;

/// A pod name of its own (the start's cleanup looks for its files by name).
const POD: &str = "fakehooks";

fn supervisor_of<'m>(
    text: &str,
    mgr: &'m Recorder,
    procs: &'m fake::Processes,
    dir: &std::path::Path,
) -> Supervisor<'m> {
    with_fake_processes(POD, text, mgr, procs, dir)
}

fn at(log: &[String], line: String) -> usize {
    log.iter()
        .position(|l| *l == line)
        .unwrap_or_else(|| panic!("no {line:?} in {log:?}"))
}

/// The hook is a held `podctl __enter` moved into the container's scope,
/// released after the container; the start (and `web`, which waits for
/// app to be started) goes on only once it exited 0, 300 ms later.
#[test]
fn post_start_holds_the_start_until_it_passes() {
    let mgr = Recorder::new();
    let procs = fake::Processes::new();
    let dir = temp_dir("hooks-post-start");
    let text = "[containers.app]\ncommand = [\"sleep\", \"100\"]\n\
        hooks.post_start = { exec = [\"touch\", \"/tmp/up\"] }\n\
        [containers.web]\ncommand = [\"sleep\", \"100\"]\nafter = [\"app\"]\n";
    let mut sup = supervisor_of(text, &mgr, &procs, &dir);
    procs.exit_after_release("__enter", 0, Duration::from_millis(300));
    let t = Instant::now();
    assert_eq!(sup.start().unwrap(), Started::Running);
    assert!(
        t.elapsed() >= Duration::from_millis(300),
        "{:?}",
        t.elapsed()
    );
    let [app, web] = procs.pids("__spawn")[..] else {
        panic!("{:?}", procs.log())
    };
    let hook = procs.pids("__enter");
    assert_eq!(hook.len(), 1, "{:?}", procs.log());
    let hook = hook[0];
    let log = procs.log();
    assert!(at(&log, format!("go {app}")) < at(&log, format!("go {hook}")));
    assert!(at(&log, format!("reaped {hook}")) < at(&log, format!("go {web}")));
    assert!(
        mgr.calls
            .borrow()
            .contains(&format!("attach pod-{POD}.app.scope pids=[{hook}]")),
        "{:?}",
        mgr.calls.borrow()
    );
    assert!(sup.slots[0].ready() && sup.slots[0].life.up);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A `post_start` hook that fails kills the container's scope; its end
/// (here: not restarted) is then an exit like any other.
#[test]
fn a_failing_post_start_kills_the_container() {
    let mgr = Recorder::new();
    let procs = fake::Processes::new();
    let dir = temp_dir("hooks-post-start-fails");
    let text = "[containers.app]\ncommand = [\"sleep\", \"100\"]\nrestart = \"never\"\n\
        hooks.post_start = { exec = [\"false\"] }\n";
    let mut sup = supervisor_of(text, &mgr, &procs, &dir);
    procs.exit_at_release("__enter", 1);
    // The fake container does not die of the kill: it ends 200 ms after its release.
    procs.exit_after_release(&format!("\"{POD}/app\""), 137, Duration::from_millis(200));
    assert_eq!(sup.start().unwrap(), Started::Running);
    assert!(
        mgr.calls
            .borrow()
            .contains(&format!("kill pod-{POD}.app.scope 9")),
        "{:?}",
        mgr.calls.borrow()
    );
    assert_eq!(
        sup.slots[0].life.phase,
        Phase::Failed {
            exit: "signal 9".into()
        }
    );
    assert!(!sup.slots[0].life.up);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Stop: the `pre_stop` hook runs first (a held `__enter` in the scope);
/// the stop signal goes only once it has exited, 300 ms later.
#[test]
fn pre_stop_runs_before_the_stop_signal() {
    let mgr = Recorder::new();
    let procs = fake::Processes::new();
    let dir = temp_dir("hooks-pre-stop");
    let text = "[containers.app]\ncommand = [\"sleep\", \"100\"]\n\
        hooks.pre_stop = { exec = [\"drain\"] }\n";
    let mut sup = supervisor_of(text, &mgr, &procs, &dir);
    sup.start().unwrap();
    assert!(
        procs.pids("__enter").is_empty(),
        "a pre_stop hook ran at the start"
    );
    let app = procs.pids("__spawn")[0];
    procs.exit_after_release("__enter", 0, Duration::from_millis(300));
    let t = Instant::now();
    sup.stop().unwrap();
    assert!(
        t.elapsed() >= Duration::from_millis(300),
        "{:?}",
        t.elapsed()
    );
    let hook = procs.pids("__enter")[0];
    let log = procs.log();
    assert!(at(&log, format!("go {hook}")) < at(&log, format!("reaped {hook}")));
    assert!(at(&log, format!("reaped {hook}")) < at(&log, format!("signal {app} SIGTERM")));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A `pre_stop` hook that outlasts the stop timeout is cut short (its
/// process group killed) at the timeout; the signal then still gets its
/// grace before SIGKILL.
#[test]
fn a_pre_stop_hook_is_cut_at_the_stop_timeout() {
    let mgr = Recorder::new();
    let procs = fake::Processes::new();
    let dir = temp_dir("hooks-pre-stop-cut");
    let text = "[containers.app]\ncommand = [\"sleep\", \"100\"]\nstop_timeout = \"400ms\"\n\
        hooks.pre_stop = { exec = [\"sleep\", \"100\"] }\n";
    let mut sup = supervisor_of(text, &mgr, &procs, &dir);
    sup.start().unwrap();
    let app = procs.pids("__spawn")[0];
    procs.stubborn(app);
    let t = Instant::now();
    sup.stop().unwrap();
    let took = t.elapsed();
    let hook = procs.pids("__enter")[0];
    let log = procs.log();
    let cut = at(&log, format!("killpg {hook}"));
    let signal = at(&log, format!("signal {app} SIGTERM"));
    let kill = at(&log, format!("kill {app}"));
    assert!(cut < signal && signal < kill, "{log:?}");
    let least = Duration::from_millis(400) + super::super::scopes::GRACE_AFTER_HOOK;
    assert!(took >= least && took < least * 3, "{took:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `sleep`: no process, only time between the stop request and the signal.
#[test]
fn a_pre_stop_sleep_delays_the_signal() {
    let mgr = Recorder::new();
    let procs = fake::Processes::new();
    let dir = temp_dir("hooks-pre-stop-sleep");
    let text = "[containers.app]\ncommand = [\"sleep\", \"100\"]\n\
        hooks.pre_stop = { sleep = \"300ms\" }\n";
    let mut sup = supervisor_of(text, &mgr, &procs, &dir);
    sup.start().unwrap();
    let before = procs.log().len();
    let t = Instant::now();
    sup.stop().unwrap();
    assert!(
        t.elapsed() >= Duration::from_millis(300),
        "{:?}",
        t.elapsed()
    );
    let app = procs.pids("__spawn")[0];
    let new = procs.log()[before..].to_vec();
    assert!(
        new.iter()
            .all(|l| !l.starts_with("held") && !l.starts_with("spawn")),
        "{new:?}"
    );
    assert!(procs.log().contains(&format!("signal {app} SIGTERM")));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A reload that restarts a container runs its `pre_stop` hook before its
/// stop signal, then launches the new one.
#[test]
fn a_reload_restart_runs_pre_stop_first() {
    let mgr = Recorder::new();
    let procs = fake::Processes::new();
    let dir = temp_dir("hooks-reload");
    let text = "[containers.app]\ncommand = [\"sleep\", \"100\"]\nenv = { A = \"1\" }\n\
        hooks.pre_stop = { exec = [\"drain\"] }\n";
    let mut sup = supervisor_of(text, &mgr, &procs, &dir);
    sup.start().unwrap();
    let app = procs.pids("__spawn")[0];
    procs.exit_after_release("__enter", 0, Duration::from_millis(200));
    let stored = sup.paths.definition(POD);
    std::fs::create_dir_all(stored.parent().unwrap()).unwrap();
    std::fs::write(&stored, text.replace("\"1\"", "\"2\"")).unwrap();
    // The fake's units do not follow processes: the old scope is taken as gone.
    mgr.units
        .borrow_mut()
        .remove(&format!("pod-{POD}.app.scope"));
    sup.reload().unwrap();
    let r = sup.last_reload.clone().expect("recorded");
    assert_eq!(r.error, None, "{}", r.summary);
    let hook = procs.pids("__enter")[0];
    let app2 = procs.pids("__spawn")[1];
    let log = procs.log();
    let order = [
        at(&log, format!("go {hook}")),
        at(&log, format!("reaped {hook}")),
        at(&log, format!("signal {app} SIGTERM")),
        at(&log, format!("go {app2}")),
    ];
    assert!(order.is_sorted(), "{log:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
