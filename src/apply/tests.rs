use super::*;
use crate::image::facts::ImageSource;
use crate::image::resolve::ImageError;
use crate::model::Pod;
use crate::plan::image::ImageFacts;
use crate::systemd::fake::Shared;
use std::cell::RefCell;
use std::collections::BTreeMap;

/// A store that knows every image, and counts how often each pod's
/// images are looked up.
#[derive(Default)]
struct Counting {
    lookups: RefCell<BTreeMap<String, u32>>,
}

impl ImageSource for Counting {
    fn facts(&self, pod: &Pod) -> Result<Facts, ImageError> {
        *self
            .lookups
            .borrow_mut()
            .entry(pod.name.clone())
            .or_default() += 1;
        let images = pod
            .containers
            .iter()
            .filter_map(|c| c.image.clone())
            .map(|r| {
                let f = ImageFacts {
                    name: format!("stored/{r}"),
                    digest: format!("sha256:{}", "cd".repeat(32)),
                    layers: vec!["/s/layers/a".into()],
                    ..Default::default()
                };
                (r, f)
            })
            .collect();
        Ok(Facts {
            images,
            ids: None,
            user: None,
        })
    }
}

pub(super) fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("podctl-apply-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const MANIFEST: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  \
    containers:\n  - name: app\n    image: nginx:alpine\n  - name: side\n    image: busybox:1\n";

/// A manifest is read once: its file is gone after [`Definition::read`] and
/// the apply still goes through; its images are looked up once and its
/// plan is assembled once, and that plan is the one apply decides on.
#[test]
fn a_manifest_is_read_once_and_its_plan_assembled_once() {
    let dir = temp_dir("once");
    let file = dir.join("web.yaml");
    std::fs::write(&file, MANIFEST).unwrap();
    let definition =
        Definition::read(&file, crate::kube::Unsupported::Error, &Layout::under(&dir)).unwrap();
    std::fs::remove_file(&file).unwrap();

    let images = Counting::default();
    let range = crate::model::IdMap {
        uid: 2_147_549_184,
        gid: 2_147_549_184,
        size: 65_536,
    };
    let planned = assemble_all(vec![definition], &images, &Some(range)).unwrap();
    assert_eq!(images.lookups.borrow()["web"], 1);
    let plan = &planned[0].plan;
    // Its range of IDs is a fact too: the plan runs it, the state keeps it.
    assert_eq!(plan.userns, crate::plan::UserNsPlan::Mapped(range));
    assert_eq!(planned[0].facts.ids, Some(range));
    assert!(
        plan.containers
            .iter()
            .all(|c| c.image.as_ref().is_some_and(|i| i.stored.is_some())),
        "every image container is assembled with its image: {plan:?}"
    );

    let mgr = Shared::default();
    let paths = Layout::under(&dir);
    let applier = Applier::new(&mgr, &paths);
    let changes = applier.apply(&planned[0]).unwrap();
    assert_eq!(changes.kind(), "create");
    assert!(mgr.calls().contains(&"start pod@web.service".to_string()));
    let stored = std::fs::read_to_string(paths.definition("web")).unwrap();
    assert_eq!(stored, planned[0].definition.text);
    assert_eq!(images.lookups.borrow()["web"], 1, "looked up again");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Each apply that changes the file or a digest records a revision with
/// every image's pin and the applier's cause, before systemd is asked;
/// the same apply again records nothing.
#[test]
fn an_apply_that_changes_records_a_revision() {
    let dir = temp_dir("revision");
    let paths = Layout::under(&dir);
    let mgr = Shared::default();
    let plan_of = |text: &str| {
        let pod = crate::spec::parse_str(text, "web.toml", "web").unwrap();
        let definition = Definition {
            file: dir.join("web.toml"),
            pod,
            text: text.into(),
            files: vec![],
            secrets: Default::default(),
            warnings: vec![],
        };
        assemble_all(vec![definition], &Counting::default(), &None).unwrap()
    };
    let one = "[containers.app]\nimage = \"app:1\"\n";
    let applier = Applier::new(&mgr, &paths);
    applier.apply(&plan_of(one)[0]).unwrap();
    applier.apply(&plan_of(one)[0]).unwrap();
    let revisions = paths.revisions_of("web");
    let list = revisions.list().unwrap();
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0].cause, crate::revision::Cause::Apply);
    assert_eq!(list[0].text, one);
    let pin = &list[0].images["app:1"];
    assert_eq!(pin.name, "stored/app:1");
    assert_eq!(pin.digest, format!("sha256:{}", "cd".repeat(32)));
    let two = "[containers.app]\nimage = \"app:1\"\nenv = { A = \"1\" }\n";
    let rollback = Applier {
        cause: crate::revision::Cause::Rollback { to: 1, why: None },
        pending: true,
        ..Applier::new(&mgr, &paths)
    };
    rollback.apply(&plan_of(two)[0]).unwrap();
    let newest = revisions.newest().unwrap().unwrap();
    assert_eq!((newest.number, newest.pending), (2, true));
    assert_eq!(
        newest.cause,
        crate::revision::Cause::Rollback { to: 1, why: None }
    );
    // down --purge forgets them.
    applier.down("web", true).unwrap();
    assert!(revisions.list().unwrap().is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

/// The pod runs what its state file says (text and facts): the same file
/// with the same images is unchanged; a tag that now names another digest
/// restarts the container that uses it, and only that one.
#[test]
fn a_moved_tag_restarts_only_its_container() {
    let dir = temp_dir("moved");
    let paths = Layout::under(&dir);
    let text = "[containers.app]\nimage = \"app:1\"\n[containers.side]\nimage = \"side:1\"\n";
    let pod = crate::spec::parse_str(text, "web.toml", "web").unwrap();
    let running = Counting::default().facts(&pod).unwrap();
    let state = PodState {
        pod: "web".into(),
        definition: text.into(),
        facts: running.clone(),
        ..Default::default()
    };
    state.save(&paths.run).unwrap();
    let decide = |facts: &Facts| {
        let wanted = crate::plan::assemble(&pod, facts);
        changes_against(&paths.run, true, (&wanted, facts), text)
    };
    assert_eq!(decide(&running).kind(), "unchanged");
    let mut moved = running.clone();
    moved.images.get_mut("app:1").unwrap().digest = format!("sha256:{}", "ef".repeat(32));
    let changes = decide(&moved);
    assert_eq!(changes.kind(), "reload");
    assert_eq!(
        changes.report(),
        "web: updated\n  app: restarted\n  side: unchanged"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A pod started by a podctl that kept no facts in its state file: the
/// same file applied again restarts nothing (the images are taken as the
/// ones the store has now).
#[test]
fn a_state_without_facts_restarts_nothing() {
    let dir = temp_dir("nofacts");
    let paths = Layout::under(&dir);
    let text = "[containers.app]\nimage = \"app:1\"\n";
    let pod = crate::spec::parse_str(text, "web.toml", "web").unwrap();
    let state = PodState {
        pod: "web".into(),
        definition: text.into(),
        ..Default::default()
    };
    state.save(&paths.run).unwrap();
    let facts = Counting::default().facts(&pod).unwrap();
    let wanted = crate::plan::assemble(&pod, &facts);
    let changes = changes_against(&paths.run, true, (&wanted, &facts), text);
    assert_eq!(changes.kind(), "unchanged");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Both run, `a` on another thread, at the same time.
#[test]
fn side_by_side_runs_both_at_once() {
    use std::sync::mpsc::channel;
    let (to_b, from_a) = channel();
    let here = std::thread::current().id();
    // `b` hears from `a` while `b` runs: one after the other, it would not.
    let (a, heard) = side_by_side(
        move || {
            to_b.send(()).unwrap();
            std::thread::current().id()
        },
        || from_a.recv_timeout(Duration::from_secs(5)).is_ok(),
    );
    assert!(heard, "a did not run while b did");
    assert_ne!(a, here, "a ran on the caller's thread");
}
