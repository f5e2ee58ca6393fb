//! The hook phases: `post_start` holds a container's start and readiness
//! and kills it when it fails; `pre_stop` comes between the stop request
//! and the stop signal.

use super::*;
use crate::model::Hook;

fn hooked(post_start: bool, pre_stop: bool) -> Policy {
    let mut p = policy(Restart::Always);
    p.post_start = post_start;
    p.pre_stop = pre_stop;
    p
}

fn ended(hook: Hook, end: HookEnd, now: Instant) -> Event {
    Event::HookEnded { hook, end, now }
}

fn failed(why: &str) -> HookEnd {
    HookEnd::Failed(why.into())
}

/// Released with a `post_start` hook: the hook runs, and the container is
/// neither started (for `after`) nor ready, nor probed, until it passed;
/// then readiness is checked from the hook's end.
#[test]
fn post_start_holds_started_and_ready_until_it_passes() {
    let t0 = Instant::now();
    let p = hooked(true, false);
    let (life, effects) = step(&Lifecycle::new(t0), &p, Event::Released { now: t0 });
    assert_eq!(life.phase, Phase::PostStart);
    assert_eq!(life.phase.name(), "starting");
    assert!(!life.phase.is_final());
    assert_eq!(
        effects,
        [
            Effect::Entered,
            Effect::Report(Report::Started),
            Effect::RunHook(Hook::PostStart),
            Effect::Save
        ]
    );
    for c in [Condition::Started, Condition::Ready] {
        assert!(!life.satisfies(c, &p), "{c:?}");
    }
    assert!(!life.ready(&p));
    assert_eq!(life.due(&p), None);
    // Readiness READY=1 or a probe cannot make it ready meanwhile.
    assert!(step(&life, &p, Event::Ready { how: "probe" }).1.is_empty());
    let t1 = t0 + Duration::from_secs(3);
    let (up, effects) = step(&life, &p, ended(Hook::PostStart, HookEnd::Passed, t1));
    assert_eq!(up.phase, Phase::Running { ready: true });
    assert_eq!(effects, [Effect::Entered, Effect::Save]);
    assert!(up.satisfies(Condition::Started, &p) && up.satisfies(Condition::Ready, &p));
    // With a readiness probe: probed from the hook's end, ready once it passes.
    let mut p = hooked(true, false);
    p.ready_check = true;
    p.ready_probe = true;
    let (life, _) = step(&Lifecycle::new(t0), &p, Event::Released { now: t0 });
    let (up, _) = step(&life, &p, ended(Hook::PostStart, HookEnd::Passed, t1));
    assert_eq!(up.phase, Phase::Running { ready: false });
    assert!(up.satisfies(Condition::Started, &p) && !up.ready(&p));
    assert_eq!(up.due(&p), Some(t1));
}

/// A failed `post_start` hook kills the container; its end is then an
/// exit like any other, restarted (or not) per its policy.
#[test]
fn a_failed_post_start_kills_it_and_its_policy_decides() {
    let now = Instant::now();
    for (restart, phase) in [(Restart::Always, "restarting"), (Restart::Never, "failed")] {
        let mut p = hooked(true, false);
        p.restart = restart;
        let (life, _) = step(&Lifecycle::new(now), &p, Event::Released { now });
        let (killed, effects) = step(&life, &p, ended(Hook::PostStart, failed("exited 1"), now));
        assert_eq!(
            effects,
            [
                Effect::Report(Report::HookFailed(Hook::PostStart, "exited 1".into())),
                Effect::KillScope
            ]
        );
        assert_eq!(killed.phase, Phase::PostStart);
        let exit = Event::Exited {
            exit: "signal 9".into(),
            success: false,
            now,
        };
        let (after, _) = step(&killed, &p, exit);
        assert_eq!(after.phase.name(), phase, "{restart:?}");
        // It never got past its hook: `after = "started"` waits on, or
        // (never restarted) can never hold.
        assert!(!after.satisfies(Condition::Started, &p));
        assert_eq!(
            after.never(Condition::Started, &p),
            restart == Restart::Never
        );
    }
}

/// A container that ends while its `post_start` hook runs takes the hook
/// with it; a hook's end that comes after is stale and changes nothing.
#[test]
fn an_exit_during_post_start_cancels_the_hook() {
    let now = Instant::now();
    let p = hooked(true, false);
    let (life, _) = step(&Lifecycle::new(now), &p, Event::Released { now });
    let (backoff, effects) = step(&life, &p, exited(false, now));
    assert_eq!(effects[0], Effect::CancelHook);
    assert_eq!(backoff.phase.name(), "restarting");
    let (same, effects) = step(&backoff, &p, ended(Hook::PostStart, HookEnd::Passed, now));
    assert_eq!((same, effects), (backoff, vec![]));
}

/// With a `pre_stop` hook a stop (or a reload that restarts or removes
/// it) runs the hook first; its end, passed or failed, sends the stop
/// signal. A container that is not running gets no hook.
#[test]
fn pre_stop_comes_before_the_stop_signal() {
    let now = Instant::now();
    let p = hooked(false, true);
    let run = running(&p, now);
    for event in [
        Event::Stop,
        Event::Reload(Action::Restarted),
        Event::Reload(Action::Removed),
    ] {
        let (stopping, effects) = step(&run, &p, event);
        assert_eq!(stopping.phase, Phase::PreStop);
        assert_eq!(stopping.phase.name(), "stopping");
        assert_eq!(
            effects,
            [
                Effect::Entered,
                Effect::RunHook(Hook::PreStop),
                Effect::Save
            ]
        );
        assert!(!stopping.ready(&p) && !stopping.phase.is_final());
        // A second stop request changes nothing: the hook runs on.
        assert!(step(&stopping, &p, Event::Stop).1.is_empty());
        let (stopped, effects) = step(&stopping, &p, ended(Hook::PreStop, HookEnd::Passed, now));
        assert_eq!(stopped.phase, Phase::Stopped);
        assert_eq!(effects, [Effect::Entered, Effect::Stop]);
        let (_, effects) = step(
            &stopping,
            &p,
            ended(Hook::PreStop, failed("timed out"), now),
        );
        assert_eq!(
            effects,
            [
                Effect::Report(Report::HookFailed(Hook::PreStop, "timed out".into())),
                Effect::Entered,
                Effect::Stop
            ]
        );
    }
    // Held, or waiting to restart: it does not run, so no hook.
    let (s, e) = step(&Lifecycle::new(now), &p, Event::Stop);
    assert_eq!((s.phase, e), (Phase::Stopped, vec![Effect::DropHeld]));
    let (backoff, _) = step(&run, &p, exited(false, now));
    let (s, e) = step(&backoff, &p, Event::Stop);
    assert_eq!((s.phase, e), (Phase::Stopped, vec![]));
}

/// Stopped while its `post_start` hook runs: that hook is cancelled, then
/// the stop goes on as for a running container (its `pre_stop` first).
#[test]
fn a_stop_during_post_start_cancels_it() {
    let now = Instant::now();
    for (pre_stop, then) in [
        (
            true,
            vec![
                Effect::Entered,
                Effect::RunHook(Hook::PreStop),
                Effect::Save,
            ],
        ),
        (false, vec![Effect::Entered, Effect::Stop]),
    ] {
        let p = hooked(true, pre_stop);
        let (life, _) = step(&Lifecycle::new(now), &p, Event::Released { now });
        let (_, effects) = step(&life, &p, Event::Stop);
        assert_eq!(effects[0], Effect::CancelHook);
        assert_eq!(effects[1..], then[..]);
    }
}

/// Without hooks nothing changes: released means started, stop means signal.
#[test]
fn without_hooks_a_container_runs_and_stops_at_once() {
    let now = Instant::now();
    let p = hooked(false, false);
    let life = running(&p, now);
    assert!(life.satisfies(Condition::Started, &p));
    let (_, effects) = step(&life, &p, Event::Stop);
    assert_eq!(effects, [Effect::Entered, Effect::Stop]);
}
