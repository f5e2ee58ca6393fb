use super::*;
use crate::systemd::fake::Shared;

const APP: &str = "[containers.app]\ncommand = [\"/bin/sleep\", \"infinity\"]\n";

/// A pod file `NAME.toml` in `dir` with `head` above its container.
fn file(dir: &std::path::Path, name: &str, head: &str) -> Definition {
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, format!("{head}{APP}")).unwrap();
    Definition::read(&path, crate::kube::Unsupported::Error, &Layout::under(dir)).unwrap()
}

fn setup(name: &str) -> (std::path::PathBuf, Layout) {
    let dir = super::super::tests::temp_dir(name);
    let paths = Layout::under(&dir.join("host"));
    std::fs::create_dir_all(&paths.store).unwrap();
    std::fs::create_dir_all(&paths.units).unwrap();
    (dir, paths)
}

fn planned(definitions: Vec<Definition>) -> Vec<Planned> {
    super::super::assemble_all(
        definitions,
        &crate::image::facts::SystemStore::at(std::path::Path::new("/nonexistent")),
        &None::<crate::model::IdMap>,
    )
    .unwrap()
}

/// web needs db, applied in the other order: the drop-ins are written and
/// read (one daemon-reload) before any start, and db starts first.
#[test]
fn apply_writes_the_dropins_then_starts_what_is_needed_first() {
    let (dir, paths) = setup("needs-order");
    let defs = vec![
        file(&dir, "web", "needs = [\"db\"]\nwants = [\"cache\"]\n"),
        file(&dir, "cache", ""),
        file(&dir, "db", ""),
    ];
    let planned = planned(in_order(defs, &paths).unwrap());
    let mgr = Shared::default();
    let applier = Applier::new(&mgr, &paths);
    applier.write_needs(&planned).unwrap();
    for p in &planned {
        applier.apply(p).unwrap();
    }
    let starts: Vec<String> = mgr
        .calls()
        .into_iter()
        .filter(|c| c == "reload" || c.starts_with("start "))
        .collect();
    assert_eq!(
        starts,
        [
            "reload",
            "start pod@db.service",
            "start pod@cache.service",
            "start pod@web.service"
        ]
    );
    let written = dropin::dir(&paths, "web").join(Part::Needs.file_name());
    assert_eq!(
        std::fs::read_to_string(&written).unwrap(),
        needs::dropin(&planned[2].definition.pod).unwrap()
    );
    assert!(!dropin::dir(&paths, "db").exists(), "db needs nothing");
    // Once all are applied, web starts whenever db does; cache is only wanted.
    let link = paths.units.join("pod@db.service.wants/pod@web.service");
    assert!(link.symlink_metadata().is_err(), "linked before the starts");
    applier.link_needs(&planned).unwrap();
    assert!(link.symlink_metadata().is_ok());
    assert!(!paths.units.join("pod@cache.service.wants").exists());
    assert_eq!(mgr.calls().last().map(String::as_str), Some("reload"));
    // Applied again unchanged: no daemon-reload.
    let before = mgr.calls().len();
    applier.write_needs(&planned).unwrap();
    assert_eq!(mgr.calls().len(), before);
    // web needs nothing any more: its drop-in and link go, systemd rereads.
    let planned = planned_one(&dir, "web", "");
    applier.write_needs(&planned).unwrap();
    assert!(!written.exists());
    assert!(!paths.units.join("pod@db.service.wants").exists());
    assert_eq!(mgr.calls().last().map(String::as_str), Some("reload"));
    let _ = std::fs::remove_dir_all(&dir);
}

fn planned_one(dir: &std::path::Path, name: &str, head: &str) -> Vec<Planned> {
    planned(vec![file(dir, name, head)])
}

#[test]
fn apply_of_a_missing_need_or_a_cycle_changes_nothing() {
    let (dir, paths) = setup("needs-missing");
    let e = in_order(vec![file(&dir, "web", "needs = [\"db\"]\n")], &paths).unwrap_err();
    assert_eq!(
        e.to_string(),
        "pod web: needs \"db\", a pod that is neither stored nor in this apply (apply it first, or together)\nnothing was changed"
    );
    // A stored db will do; a stored db that needs web is a cycle.
    std::fs::write(paths.definition("db"), format!("needs = [\"web\"]\n{APP}")).unwrap();
    let e = in_order(vec![file(&dir, "web", "needs = [\"db\"]\n")], &paths).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("pods need each other in a cycle: web -> db -> web"),
        "{e}"
    );
    std::fs::write(paths.definition("db"), APP).unwrap();
    assert_eq!(
        in_order(vec![file(&dir, "web", "needs = [\"db\"]\n")], &paths)
            .unwrap()
            .len(),
        1
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Pods that need and want nothing are applied in the order given without
/// reading the store: a stored file that cannot be read without blocking
/// (a FIFO with no writer) is never opened.
#[test]
fn apply_of_pods_that_need_nothing_reads_no_stored_pod() {
    let (dir, paths) = setup("needs-none");
    let fifo = paths.definition("other");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let defs = vec![file(&dir, "web", ""), file(&dir, "db", "")];
    let (tx, rx) = std::sync::mpsc::channel();
    let p = paths.clone();
    std::thread::spawn(move || {
        let order =
            in_order(defs, &p).map(|d| d.into_iter().map(|d| d.pod.name).collect::<Vec<_>>());
        let _ = tx.send(order.map_err(|e| e.to_string()));
    });
    let got = rx.recv_timeout(std::time::Duration::from_secs(5));
    if got.is_err() {
        // Unblock the reader before failing.
        let _ = std::fs::OpenOptions::new().write(true).open(&fifo);
    }
    assert_eq!(
        got.expect("in_order read the store").unwrap(),
        ["web", "db"]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn down_of_a_needed_pod_is_refused_while_its_dependent_runs_unless_cascade() {
    let (dir, paths) = setup("needs-down");
    let mgr = Shared::default();
    let applier = Applier::new(&mgr, &paths);
    let defs = vec![
        file(&dir, "db", ""),
        file(&dir, "web", "needs = [\"db\"]\n"),
        file(&dir, "report", "wants = [\"db\"]\n"),
    ];
    let planned = planned(in_order(defs, &paths).unwrap());
    applier.write_needs(&planned).unwrap();
    for p in &planned {
        applier.apply(p).unwrap();
    }
    applier.link_needs(&planned).unwrap();
    let link = paths.units.join("pod@db.service.wants/pod@web.service");
    let db = ["db".to_string()];
    let e = down_order(&mgr, &paths, &db, false, false).unwrap_err();
    assert_eq!(
        e.to_string(),
        "pod db is needed by web: take them down first, or add --cascade to take them down too"
    );
    assert_eq!(
        down_order(&mgr, &paths, &db, false, true).unwrap(),
        ["web", "db"]
    );
    // Stopped, web no longer holds db up; but a purge of db would leave web
    // unable to start.
    applier.down("web", false).unwrap();
    assert!(
        link.symlink_metadata().is_err(),
        "a downed pod came back with db"
    );
    assert_eq!(down_order(&mgr, &paths, &db, false, false).unwrap(), ["db"]);
    assert!(down_order(&mgr, &paths, &db, true, false).is_err());
    // A purge takes podctl's drop-ins, and systemd rereads.
    let web_dir = dropin::dir(&paths, "web");
    assert!(web_dir.exists());
    applier.down("web", true).unwrap();
    assert!(!web_dir.exists());
    assert_eq!(mgr.calls().last().map(String::as_str), Some("reload"));
    assert_eq!(down_order(&mgr, &paths, &db, true, false).unwrap(), ["db"]);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Stores pod `name` (`head` above its container) as applied from `from`.
fn store(paths: &Layout, name: &str, head: &str, from: &str) {
    std::fs::write(paths.definition(name), format!("{head}{APP}")).unwrap();
    std::fs::write(super::super::source_path(paths, name), from).unwrap();
}

#[test]
fn prune_refuses_a_pod_a_staying_pod_needs_and_names_both() {
    let (dir, paths) = setup("needs-prune");
    store(&paths, "db", "", "/srv/pods");
    store(&paths, "web", "needs = [\"db\"]\n", "/srv/other");
    store(&paths, "old", "", "/srv/pods");
    let e = pruned(&paths, "/srv/pods", &[]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "--prune would remove pod db, which web needs: remove the need, or that pod from the directory too\nnothing was changed"
    );
    // web applied from elsewhere without its need: db may go.
    let web = file(&dir, "web", "");
    let mut order = pruned(&paths, "/srv/pods", &[&web.pod]).unwrap();
    order.sort();
    assert_eq!(order, ["db", "old"]);
    // Applied from here with its need, web stays and holds db.
    let web = file(&dir, "web", "needs = [\"db\"]\n");
    assert!(pruned(&paths, "/srv/pods", &[&web.pod]).is_err());
    // web goes too (its directory no longer defines it): web first.
    store(&paths, "web", "needs = [\"db\"]\n", "/srv/pods");
    let order = pruned(&paths, "/srv/pods", &[]).unwrap();
    let at = |n: &str| order.iter().position(|o| o == n).unwrap();
    assert!(at("web") < at("db"), "{order:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// down web took its link; `start` of web (or of db while web runs, after
/// web was started by hand) puts it back, systemd rereading it first; a
/// downed web is not linked by db's start.
#[test]
fn start_links_a_pod_to_what_it_needs_again() {
    let (_dir, paths) = setup("needs-relink");
    store(&paths, "db", "", "/srv/pods");
    store(&paths, "web", "needs = [\"db\"]\n", "/srv/pods");
    let link = paths.units.join("pod@db.service.wants/pod@web.service");
    let mgr = Shared::default();
    relink(&mgr, &paths, "db").unwrap();
    assert!(
        link.symlink_metadata().is_err(),
        "a web that is down was linked"
    );
    assert!(mgr.calls().is_empty(), "{:?}", mgr.calls());
    relink(&mgr, &paths, "web").unwrap();
    assert!(link.symlink_metadata().is_ok(), "start web did not link it");
    assert_eq!(mgr.calls(), ["reload"]);
    // Already linked: no daemon-reload.
    relink(&mgr, &paths, "web").unwrap();
    assert_eq!(mgr.calls(), ["reload"]);
    // web runs without its link (started by hand): db's start links it.
    std::fs::remove_file(&link).unwrap();
    mgr.start_unit("pod@web.service").unwrap();
    relink(&mgr, &paths, "db").unwrap();
    assert!(
        link.symlink_metadata().is_ok(),
        "a running web was not linked"
    );
    assert_eq!(mgr.calls().last().map(String::as_str), Some("reload"));
    let _ = std::fs::remove_dir_all(&_dir);
}
