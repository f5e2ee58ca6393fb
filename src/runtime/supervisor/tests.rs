//! The supervisor against the recording fake: what it asks of systemd.

use super::*;
use crate::systemd::UnitStatus;
use crate::systemd::fake::Recorder;

fn supervisor<'m>(mgr: &'m Recorder, dir: &std::path::Path) -> Supervisor<'m> {
    let pod = crate::spec::parse_str(
        "[containers.app]\ncommand = [\"sleep\", \"100\"]\n",
        "t.toml",
        "t",
    )
    .unwrap();
    let plan = crate::plan::build(&pod);
    let paths = Paths {
        store: dir.join("pods"),
        run: dir.join("run"),
        podctl: "/bin/false".into(),
        pause: "/bin/false".into(),
    };
    let mut sup = Supervisor::new(mgr, paths, plan, String::new()).unwrap();
    sup.slots = sup.plan.containers.iter().map(placeholder_slot).collect();
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
