use super::*;
use crate::supervise::process::{Held, Helper, Output};
use std::path::Path;

fn sleeper() -> HeldChild {
    HeldChild::spawn(Helper::new("sleep", vec!["100".into()]).command().unwrap()).unwrap()
}

/// Dropped while held: killed and reaped (no process, no zombie).
#[test]
fn dropped_while_held_is_killed_and_reaped() {
    let held = sleeper();
    let pid = held.pid();
    assert!(Path::new(&format!("/proc/{pid}")).exists());
    drop(held);
    assert!(!Path::new(&format!("/proc/{pid}")).exists());
}

/// Released: it runs on, the caller's to wait for.
#[test]
fn released_runs_on() {
    let held = Box::new(sleeper());
    let pid = held.pid();
    let mut child = held.into_process();
    assert!(Path::new(&format!("/proc/{pid}")).exists());
    assert!(matches!(child.try_wait(), Ok(None)));
    child.kill().unwrap();
    child.wait().unwrap();
}

/// Attaching goes to the unit's sub-cgroup through systemd.
#[test]
fn attach_names_the_unit_and_pid() {
    let mgr = crate::systemd::fake::Recorder::new();
    let held = sleeper();
    held.attach(&mgr, "pod-t.app.scope", "/relay").unwrap();
    assert_eq!(
        mgr.calls.borrow().as_slice(),
        [format!(
            "attach pod-t.app.scope/relay pids=[{}]",
            held.pid()
        )]
    );
}

/// The helper reads the release message from the descriptor its
/// environment names: `g` and the body, then EOF; its report is read to EOF.
/// (Read through /dev/fd: dash redirects only descriptors 0-9, and a test
/// process running others in parallel has more open.)
#[test]
fn the_release_message_reaches_the_helper() {
    let mut h = Helper::new(
        "/bin/sh",
        vec![
            "-c".into(),
            format!("cat \"/dev/fd/${GO_FD_ENV}\"; echo; echo done"),
        ],
    );
    h.stdout = Output::Report;
    let mut held = HeldChild::spawn(h.command().unwrap()).unwrap();
    held.go(b"{\"ns_pid\":7}").unwrap();
    let report = held.report(None, Some(Duration::from_secs(10))).unwrap();
    assert_eq!(report, "g{\"ns_pid\":7}\ndone\n");
    let mut p = Box::new(held).into_process();
    assert!(p.wait().unwrap().success());
}

/// A report that does not end in time, or a stop request, ends the wait.
#[test]
fn a_report_wait_ends_at_its_timeout_or_interrupt() {
    let mut h = Helper::new("sleep", vec!["100".into()]);
    h.stdout = Output::Report;
    let mut held = HeldChild::spawn(h.command().unwrap()).unwrap();
    let t = Instant::now();
    let r = held.report(None, Some(Duration::from_millis(100)));
    assert!(matches!(r, Err(ReportError::Timeout)), "{r:?}");
    assert!(t.elapsed() < Duration::from_secs(5));
    let mut h = Helper::new("sleep", vec!["100".into()]);
    h.stdout = Output::Report;
    let mut held = HeldChild::spawn(h.command().unwrap()).unwrap();
    let (r, w) = nix::unistd::pipe().unwrap();
    nix::unistd::write(&w, b"x").unwrap();
    let got = held.report(Some(r.as_fd()), None);
    assert!(matches!(got, Err(ReportError::Interrupted)), "{got:?}");
}
