//! The container state machine, transition by transition (no root, no
//! processes): each test names the transition it pins down.

mod hooks;

use super::*;
use crate::plan::Property;
use crate::plan::Value;
use crate::plan::diff::Action;

const RESET: Duration = Duration::from_secs(60);

fn policy(restart: Restart) -> Policy {
    Policy {
        restart,
        init: false,
        ready_check: false,
        ready_probe: false,
        live_retries: None,
        backoff_reset: RESET,
        post_start: false,
        pre_stop: false,
    }
}

fn step(life: &Lifecycle, p: &Policy, e: Event) -> (Lifecycle, Vec<Effect>) {
    transition(life, p, e)
}

fn exited(success: bool, now: Instant) -> Event {
    Event::Exited {
        exit: if success { "exited 0" } else { "exited 3" }.into(),
        success,
        now,
    }
}

fn running(p: &Policy, now: Instant) -> Lifecycle {
    step(&Lifecycle::new(now), p, Event::Released { now }).0
}

fn until(life: &Lifecycle) -> Instant {
    match life.phase {
        Phase::Backoff { until } => until,
        ref other => panic!("not backing off: {other:?}"),
    }
}

/// Quick ends restart after 100, 200, 400 ... ms, capped at 30 s; each
/// restart is launched once its delay has passed, not before.
#[test]
fn backoff_doubles_up_to_its_cap() {
    let p = policy(Restart::Always);
    let t0 = Instant::now();
    let mut now = t0;
    let mut life = running(&p, now);
    let mut delays = Vec::new();
    for _ in 0..12 {
        now += Duration::from_millis(10);
        life = step(&life, &p, exited(true, now)).0;
        let at = until(&life);
        delays.push((at - now).as_millis());
        // Not due a moment before; due at `until`, which launches it.
        let early = step(
            &life,
            &p,
            Event::Timer {
                now: at - Duration::from_millis(1),
            },
        )
        .1;
        assert!(early.is_empty(), "{early:?}");
        let due = step(&life, &p, Event::Timer { now: at }).1;
        assert_eq!(due, [Effect::Report(Report::Restarted), Effect::Launch]);
        now = at;
        life = step(&life, &p, Event::Released { now }).0;
    }
    assert_eq!(
        delays,
        [
            100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 30000, 30000, 30000
        ]
    );
}

/// A container that ran for the reset window starts its backoff again.
#[test]
fn backoff_resets_after_a_long_run() {
    let p = policy(Restart::Always);
    let mut now = Instant::now();
    let mut life = running(&p, now);
    for _ in 0..4 {
        now += Duration::from_millis(5);
        life = step(&life, &p, exited(false, now)).0;
        now = until(&life);
        life = step(&life, &p, Event::Released { now }).0;
    }
    assert_eq!(life.backoff, Duration::from_millis(1600));
    // Just short of the window: the backoff keeps growing.
    let short = step(
        &life,
        &p,
        exited(false, now + RESET - Duration::from_millis(1)),
    )
    .0;
    assert_eq!(
        until(&short) - (now + RESET - Duration::from_millis(1)),
        Duration::from_millis(1600)
    );
    // A full window: back to the first delay.
    let long = step(&life, &p, exited(false, now + RESET)).0;
    assert_eq!(until(&long) - (now + RESET), BACKOFF_START);
    assert_eq!(long.backoff, BACKOFF_START * 2);
}

/// A failed launch backs off like an exit, and shows as restarting.
#[test]
fn a_failed_launch_backs_off() {
    let p = policy(Restart::Always);
    let now = Instant::now();
    let (life, effects) = step(&Lifecycle::new(now), &p, Event::LaunchFailed { now });
    assert_eq!(until(&life), now + BACKOFF_START);
    assert_eq!(life.phase.name(), "restarting");
    assert_eq!(effects, [Effect::Entered, Effect::Save]);
    let (life, _) = step(&life, &p, Event::LaunchFailed { now });
    assert_eq!(until(&life), now + BACKOFF_START * 2);
}

/// Restart policies: always, on-failure, never; the phases status shows.
#[test]
fn restart_policies_decide_between_backoff_and_the_end() {
    let now = Instant::now();
    let cases = [
        (Restart::Always, true, "restarting"),
        (Restart::Always, false, "restarting"),
        (Restart::OnFailure, true, "exited"),
        (Restart::OnFailure, false, "restarting"),
        (Restart::Never, true, "exited"),
        (Restart::Never, false, "failed"),
    ];
    for (restart, success, phase) in cases {
        let p = policy(restart);
        let (life, effects) = step(&running(&p, now), &p, exited(success, now));
        assert_eq!(life.phase.name(), phase, "{restart:?} {success}");
        assert_eq!(life.completed, success);
        assert!(effects.contains(&Effect::Report(Report::Exited(
            if success { "exited 0" } else { "exited 3" }.into()
        ))));
    }
}

/// `after` conditions: started once released, ready once its check
/// passed (or it completed), completed once it exited 0; and when they can
/// no longer hold.
#[test]
fn after_conditions() {
    let now = Instant::now();
    let mut p = policy(Restart::Never);
    p.ready_check = true;
    p.ready_probe = true;
    let held = Lifecycle::new(now);
    let holds = |l: &Lifecycle| {
        [Condition::Started, Condition::Ready, Condition::Completed].map(|c| l.satisfies(c, &p))
    };
    assert_eq!(holds(&held), [false, false, false]);
    let run = running(&p, now);
    assert_eq!(holds(&run), [true, false, false]);
    let (ready, effects) = step(&run, &p, Event::Ready { how: "probe" });
    assert_eq!(holds(&ready), [true, true, false]);
    assert_eq!(
        effects,
        [Effect::Report(Report::Ready("probe")), Effect::Save]
    );
    let (done, _) = step(&ready, &p, exited(true, now));
    assert_eq!(holds(&done), [true, true, true]);
    let (failed, _) = step(&run, &p, exited(false, now));
    assert_eq!(holds(&failed), [true, false, false]);
    assert!(failed.never(Condition::Ready, &p));
    assert!(failed.never(Condition::Completed, &p));
    assert!(!failed.never(Condition::Started, &p));
    // One that restarts may still get there.
    let p2 = policy(Restart::Always);
    let (again, _) = step(&running(&p2, now), &p2, exited(false, now));
    assert!(!again.never(Condition::Completed, &p2));
    assert!(!held.never(Condition::Started, &p));
}

/// An init container completes (or fails) instead of restarting, keeps
/// the readiness it had, and its end is no journal event of its own.
#[test]
fn init_containers_complete_or_fail() {
    let now = Instant::now();
    let mut p = policy(Restart::Always);
    p.init = true;
    let (done, effects) = step(&running(&p, now), &p, exited(true, now));
    assert_eq!(done.phase, Phase::Completed);
    assert!(done.ready(&p));
    assert_eq!(effects, [Effect::Entered, Effect::Save]);
    let (failed, _) = step(&running(&p, now), &p, exited(false, now));
    assert_eq!(
        failed.phase,
        Phase::Failed {
            exit: "exited 3".into()
        }
    );
    assert_eq!(failed.phase.name(), "failed");
}

/// After a restart a container with a readiness check is not ready until
/// the check passes again, and its probe is due at once.
#[test]
fn readiness_is_checked_again_after_a_restart() {
    let t0 = Instant::now();
    let mut p = policy(Restart::Always);
    p.ready_check = true;
    p.ready_probe = true;
    let (ready, _) = step(&running(&p, t0), &p, Event::Ready { how: "probe" });
    assert!(ready.ready(&p));
    assert_eq!(
        ready.due(&p),
        None,
        "a ready container without liveness is not probed"
    );
    let (backoff, _) = step(&ready, &p, exited(false, t0));
    assert!(!backoff.ready(&p));
    let t1 = until(&backoff);
    let (again, _) = step(&backoff, &p, Event::Released { now: t1 });
    assert_eq!(again.phase, Phase::Running { ready: false });
    assert!(!again.satisfies(Condition::Ready, &p));
    assert_eq!(again.due(&p), Some(t1));
    // Without a check it is ready as soon as it runs.
    let p = policy(Restart::Always);
    assert!(running(&p, t0).ready(&p));
}

/// Liveness: `retries` failures in a row kill the scope (once), a pass in
/// between starts the count again.
#[test]
fn liveness_failures_kill_after_retries_in_a_row() {
    let now = Instant::now();
    let mut p = policy(Restart::Always);
    p.live_retries = Some(3);
    let mut life = running(&p, now);
    let mut kills = 0;
    let results = [false, false, true, false, false, false, false];
    for passed in results {
        let (next, effects) = step(&life, &p, Event::Liveness { passed });
        kills += effects.iter().filter(|e| **e == Effect::KillScope).count();
        life = next;
    }
    assert_eq!(kills, 1);
    assert_eq!(life.live_failures, 1);
    let (_, effects) = step(&life, &p, Event::Liveness { passed: false });
    assert_eq!(effects, [Effect::Report(Report::ProbeFailed(2))]);
}

/// Stopping: a running container is signalled (the stop waves), a held one
/// let go, a pending restart cancelled; all end stopped.
#[test]
fn stop_from_each_phase() {
    let now = Instant::now();
    let p = policy(Restart::Always);
    let (s, e) = step(&running(&p, now), &p, Event::Stop);
    assert_eq!(
        (s.phase.name(), e),
        ("stopped", vec![Effect::Entered, Effect::Stop])
    );
    let (s, e) = step(&Lifecycle::new(now), &p, Event::Stop);
    assert_eq!((s.phase, e), (Phase::Stopped, vec![Effect::DropHeld]));
    let (backoff, _) = step(&running(&p, now), &p, exited(false, now));
    let (s, e) = step(&backoff, &p, Event::Stop);
    assert_eq!((s.phase.clone(), e), (Phase::Stopped, vec![]));
    assert!(
        step(
            &s,
            &p,
            Event::Timer {
                now: now + BACKOFF_MAX
            }
        )
        .1
        .is_empty()
    );
}

/// Reload: restarted and removed containers stop, updated ones get their
/// new limits live, unchanged ones are left alone.
#[test]
fn reload_actions() {
    let now = Instant::now();
    let p = policy(Restart::Always);
    let run = running(&p, now);
    for a in [Action::Restarted, Action::Removed] {
        let (s, e) = step(&run, &p, Event::Reload(a));
        assert_eq!(
            (s.phase, e),
            (Phase::Stopped, vec![Effect::Entered, Effect::Stop])
        );
    }
    let props = vec![Property {
        name: "MemoryMax",
        value: Value::U64(1 << 20),
    }];
    let (s, e) = step(&run, &p, Event::Reload(Action::Updated(props.clone())));
    assert_eq!((s, e), (run.clone(), vec![Effect::SetProperties(props)]));
    assert_eq!(
        step(&run, &p, Event::Reload(Action::Unchanged)),
        (run, vec![])
    );
}
