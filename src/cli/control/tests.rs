use super::*;
use crate::apply::select;
use crate::systemd::UnitStatus;
use crate::systemd::fake::Recorder;

/// A store with `stored` definitions and a manager with `running` pods' services active.
fn fixture(tag: &str, stored: &[&str], running: &[&str]) -> (Recorder, Layout, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("podctl-control-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let paths = Layout::under(&dir);
    std::fs::create_dir_all(&paths.store).unwrap();
    for name in stored {
        std::fs::write(paths.definition(name), "").unwrap();
    }
    let mgr = Recorder::new();
    for name in running {
        let unit = units::service(name);
        mgr.units.borrow_mut().insert(
            unit.clone(),
            UnitStatus {
                name: unit,
                active_state: "active".into(),
                ..Default::default()
            },
        );
    }
    (mgr, paths, dir)
}

fn names(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn unknown_pods_are_named_and_nothing_is_done() {
    let (mgr, paths, dir) = fixture("unknown", &["web"], &["db"]);
    let e = select(&mgr, &paths, &names(&["web", "typo"]), false).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("no pod named \"typo\""), "{msg}");
    assert!(
        msg.contains("typo.toml") && msg.contains("pod@typo.service"),
        "{msg}"
    );
    let e = select(&mgr, &paths, &names(&["a", "web", "b"]), false).unwrap_err();
    assert!(e.to_string().contains("\"a\", \"b\""), "{e}");
    assert!(mgr.calls.borrow().is_empty(), "{:?}", mgr.calls.borrow());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn select_names_once_and_all() {
    let (mgr, paths, dir) = fixture("select", &["web", "cache"], &["db", "web"]);
    assert_eq!(
        select(&mgr, &paths, &names(&["db", "web", "db"]), false).unwrap(),
        names(&["db", "web"])
    );
    assert_eq!(
        select(&mgr, &paths, &[], true).unwrap(),
        names(&["cache", "db", "web"])
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn start_stop_restart_ask_systemd_for_the_service() {
    let (mgr, paths, dir) = fixture("actions", &["web", "db"], &["web"]);
    let mut out = Vec::new();
    let pods = names(&["web", "db"]);
    control_with(&mgr, &paths, Action::Stop, &pods, &mut out).unwrap();
    control_with(&mgr, &paths, Action::Start, &pods, &mut out).unwrap();
    control_with(&mgr, &paths, Action::Restart, &pods[..1], &mut out).unwrap();
    assert_eq!(
        mgr.calls.borrow().join("\n"),
        "stop pod@web.service\nreset_failed pod@web.service\n\
         stop pod@db.service\nreset_failed pod@db.service\n\
         start pod@web.service\nstart pod@db.service\n\
         reset_failed pod@web.service\nrestart pod@web.service"
    );
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "web: stopped\ndb: stopped\nweb: started\ndb: started\nweb: restarted\n"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A running pod whose definition is gone can be stopped, not started.
#[test]
fn start_needs_a_definition() {
    let (mgr, paths, dir) = fixture("nodef", &[], &["db"]);
    let mut out = Vec::new();
    let e = control_with(&mgr, &paths, Action::Start, &names(&["db"]), &mut out).unwrap_err();
    assert!(e.to_string().contains("no stored definition"), "{e}");
    control_with(&mgr, &paths, Action::Stop, &names(&["db"]), &mut out).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `start --all` and `restart --all` act on the stored pods only: a removed
/// pod whose unit systemd still has loaded is not an error that stops the
/// others; `stop --all` stops it too.
#[test]
fn start_all_is_the_stored_pods() {
    let (mgr, paths, dir) = fixture("startall", &["web", "cache"], &["removed"]);
    let all = ControlArgs {
        names: vec![],
        all: true,
    };
    for action in [Action::Start, Action::Restart] {
        let pods = targets(&mgr, &paths, action, &all).unwrap();
        assert_eq!(pods, names(&["cache", "web"]), "{}", action.command());
        let mut out = Vec::new();
        control_with(&mgr, &paths, action, &pods, &mut out).unwrap();
    }
    assert_eq!(
        targets(&mgr, &paths, Action::Stop, &all).unwrap(),
        names(&["cache", "removed", "web"])
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// web needs db and was taken down (its link in db's `.wants` removed):
/// `start web` links it again, systemd rereading the link before the start.
#[test]
fn start_links_the_pod_to_what_it_needs_before_starting_it() {
    let (mgr, paths, dir) = fixture("relink", &["db"], &[]);
    std::fs::write(
        paths.definition("web"),
        "needs = [\"db\"]\n[containers.app]\ncommand = [\"/bin/sleep\", \"1\"]\n",
    )
    .unwrap();
    std::fs::create_dir_all(&paths.units).unwrap();
    let link = paths.units.join("pod@db.service.wants/pod@web.service");
    let mut out = Vec::new();
    control_with(&mgr, &paths, Action::Start, &names(&["web"]), &mut out).unwrap();
    assert!(link.symlink_metadata().is_ok(), "start did not link web");
    assert_eq!(
        mgr.calls.borrow().join("\n"),
        "reload\nstart pod@web.service"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
