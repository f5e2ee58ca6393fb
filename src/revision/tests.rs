use super::*;
use crate::image::facts::Pin;

fn dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("podctl-rev-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn pins(digest: char) -> Pins {
    [(
        "app:1".to_string(),
        Pin {
            name: "localhost:5000/app:1".into(),
            digest: format!("sha256:{}", digest.to_string().repeat(64)),
        },
    )]
    .into()
}

/// A revision is stored only when the file or a digest changes; numbers
/// grow; the newest pins what the pod runs.
#[test]
fn a_revision_per_change() {
    let root = dir("change");
    let r = Revisions::of(&root, "web");
    assert!(r.newest().unwrap().is_none());
    assert!(r.pins().unwrap().is_empty());
    let one = r.record("a", &pins('a'), Cause::Apply, false, 10).unwrap();
    assert_eq!(one.unwrap().number, 1);
    assert!(
        r.record("a", &pins('a'), Cause::Apply, false, 10)
            .unwrap()
            .is_none()
    );
    let two = r
        .record("a", &pins('b'), Cause::AutoUpdate, true, 10)
        .unwrap()
        .unwrap();
    assert_eq!((two.number, two.pending), (2, true));
    let three = r
        .record("b", &pins('b'), Cause::Apply, false, 10)
        .unwrap()
        .unwrap();
    assert_eq!(three.number, 3);
    assert_eq!(r.pins().unwrap(), pins('b'));
    let all = r.list().unwrap();
    assert_eq!(all.iter().map(|r| r.number).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(all[1].cause, Cause::AutoUpdate);
    r.confirm(2).unwrap();
    assert!(!r.get(2).unwrap().pending);
    // Rolled back: the update before the newest is decided, the newest kept as is.
    r.record("c", &pins('a'), Cause::AutoUpdate, true, 10)
        .unwrap();
    r.record("c", &pins('c'), Cause::AutoUpdate, true, 10)
        .unwrap();
    r.settle_older().unwrap();
    let pending: Vec<bool> = r.list().unwrap().iter().map(|r| r.pending).collect();
    assert_eq!(pending, [false, false, false, false, true]);
    // Private: the pod file may hold secrets in env values.
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(r.dir()), 0o700);
    assert_eq!(mode(&r.dir().join("1.json")), 0o600);
    std::fs::remove_dir_all(&root).unwrap();
}

/// Only the newest `keep` stay; numbers are never reused.
#[test]
fn the_oldest_go_beyond_the_history() {
    let root = dir("keep");
    let r = Revisions::of(&root, "web");
    for (i, d) in ['a', 'b', 'c', 'd'].into_iter().enumerate() {
        let n = r
            .record("t", &pins(d), Cause::Apply, false, 2)
            .unwrap()
            .unwrap();
        assert_eq!(n.number, i as u64 + 1);
    }
    let kept: Vec<u64> = r.list().unwrap().iter().map(|r| r.number).collect();
    assert_eq!(kept, [3, 4]);
    assert!(matches!(
        r.get(1),
        Err(RevisionError::NoSuch { number: 1, .. })
    ));
    std::fs::remove_dir_all(&root).unwrap();
}

/// Every kept revision's manifests, across pods, for the store's
/// collection; bad digests are remembered per reference.
#[test]
fn pinned_manifests_and_bad_digests() {
    let root = dir("pinned");
    Revisions::of(&root, "web")
        .record("t", &pins('a'), Cause::Apply, false, 5)
        .unwrap();
    Revisions::of(&root, "web")
        .record("t", &pins('b'), Cause::Apply, false, 5)
        .unwrap();
    Revisions::of(&root, "db")
        .record("t", &pins('a'), Cause::Apply, false, 5)
        .unwrap();
    let all = pinned_manifests(&root).unwrap();
    assert_eq!(
        all,
        [
            pins('a')["app:1"].digest.clone(),
            pins('b')["app:1"].digest.clone()
        ]
    );
    assert!(pinned_manifests(&root.join("none")).unwrap().is_empty());
    let web = Revisions::of(&root, "web");
    assert!(!web.bad().unwrap().contains("app:1", "sha256:x"));
    web.mark_bad(&[("app:1".into(), "sha256:x".into())])
        .unwrap();
    assert!(web.bad().unwrap().contains("app:1", "sha256:x"));
    assert!(!web.bad().unwrap().contains("app:2", "sha256:x"));
    // bad.json is not a revision.
    assert_eq!(web.list().unwrap().len(), 2);
    std::fs::remove_dir_all(&root).unwrap();
}

/// A damaged or oversized file is an error naming it, never a guess.
#[test]
fn a_damaged_revision_is_named() {
    let root = dir("damaged");
    let r = Revisions::of(&root, "web");
    r.record("t", &pins('a'), Cause::Apply, false, 5).unwrap();
    std::fs::write(r.dir().join("1.json"), "{").unwrap();
    let e = r.newest().unwrap_err().to_string();
    assert!(
        e.starts_with("pod web: revision file ") && e.contains("1.json is damaged"),
        "{e}"
    );
    std::fs::write(r.dir().join("1.json"), vec![b' '; 5 << 20]).unwrap();
    assert!(
        r.newest()
            .unwrap_err()
            .to_string()
            .contains("over 4194304 bytes")
    );
    std::fs::remove_dir_all(&root).unwrap();
}
