use super::*;
use std::path::Path;

const N: u32 = DEFAULT_USERNS_SIZE;

fn ids(subuid: &str, subgid: &str) -> SubIds {
    SubIds::parse(
        Path::new("/etc/subuid"),
        subuid,
        Path::new("/etc/subgid"),
        subgid,
    )
    .unwrap()
}

/// The same entry in both files: `count` IDs from 200000.
fn same(count: u32) -> SubIds {
    let line = format!("containers:200000:{count}\n");
    ids(&line, &line)
}

fn map(uid: u32, gid: u32, size: u32) -> IdMap {
    IdMap { uid, gid, size }
}

fn disjoint(a: &IdMap, b: &IdMap) -> bool {
    let apart = |x: u32, y: u32| x + a.size <= y || y + b.size <= x;
    apart(a.uid, b.uid) && apart(a.gid, b.gid)
}

#[test]
fn two_pods_get_disjoint_ranges_lowest_first() {
    let ids = same(10 * N);
    let mut a = Allocations::default();
    let web = a.assign("web", N, &ids).unwrap();
    let db = a.assign("db", N, &ids).unwrap();
    // 200000 rounded up to a multiple of 65536 is 262144.
    assert_eq!(web, map(262_144, 262_144, N));
    assert_eq!(db, map(327_680, 327_680, N));
    assert!(disjoint(&web, &db));
    assert_eq!(a.pods.len(), 2);
}

#[test]
fn the_same_pod_keeps_its_range() {
    let ids = same(10 * N);
    let mut a = Allocations::default();
    a.assign("a", N, &ids).unwrap();
    let b = a.assign("b", N, &ids).unwrap();
    a.release("a");
    // The lowest is free now, yet b keeps what it has.
    assert_eq!(a.assign("b", N, &ids).unwrap(), b);
    assert_eq!(a.pods["b"], b);
}

#[test]
fn another_size_is_a_new_range_and_frees_the_old() {
    let ids = same(10 * N);
    let mut a = Allocations::default();
    let old = a.assign("web", N, &ids).unwrap();
    let db = a.assign("db", N, &ids).unwrap();
    let big = a.assign("web", 2 * N, &ids).unwrap();
    assert_eq!(big, map(393_216, 393_216, 2 * N));
    assert!(disjoint(&big, &db) && disjoint(&big, &old), "{big}");
    assert_eq!(a.pods.len(), 2);
    // The old range went back: the next pod gets it.
    assert_eq!(a.assign("api", N, &ids).unwrap(), old);
    // Freed before the pick: a range that fits where the old one was
    // starts there (container root stays the same host ID).
    let small = a.assign("web", N, &ids).unwrap();
    assert_eq!(small, map(393_216, 393_216, N));
}

#[test]
fn release_frees_the_lowest_for_the_next_pod() {
    let ids = same(10 * N);
    let mut a = Allocations::default();
    let first = a.assign("a", N, &ids).unwrap();
    a.assign("b", N, &ids).unwrap();
    assert_eq!(a.release("a"), Some(first));
    assert_eq!(a.release("a"), None);
    assert_eq!(a.assign("c", N, &ids).unwrap(), first);
}

#[test]
fn stale_entries_go_stored_or_running_ones_stay() {
    let ids = same(10 * N);
    let mut a = Allocations::default();
    for pod in ["gone", "stopped", "orphan", "me"] {
        a.assign(pod, N, &ids).unwrap();
    }
    let stored = |p: &str| p == "stopped";
    let running = |p: &str| p == "orphan";
    assert_eq!(a.reclaim("me", stored, running), vec!["gone".to_string()]);
    let left: Vec<&str> = a.pods.keys().map(String::as_str).collect();
    assert_eq!(left, ["me", "orphan", "stopped"]);
}

#[test]
fn exhausted_says_how_many_pods_hold_ranges() {
    let ids = same(3 * N);
    let mut a = Allocations::default();
    // 200000..396608 holds 262144..327680 and 327680..393216: two.
    a.assign("a", N, &ids).unwrap();
    a.assign("b", N, &ids).unwrap();
    let e = a.assign("c", N, &ids).unwrap_err();
    assert_eq!(
        e.to_string(),
        "no free range of 65536 IDs left in the `containers` entries of /etc/subuid and \
         /etc/subgid (2 pods hold ranges): give `containers` more IDs there \
         (`containers:2147483647:2147483648` holds 32768 pods of 65536), or remove pods no \
         longer needed"
    );
    assert!(!a.pods.contains_key("c"));
    // A smaller pod still fits below the first aligned range.
    assert_eq!(
        a.assign("c", 1000, &ids).unwrap(),
        map(200_000, 200_000, 1000)
    );
    assert!(matches!(a.assign("d", 0, &ids), Err(IdsError::EmptySize)));
}

#[test]
fn differing_files_give_each_its_lowest() {
    let ids = ids(
        "containers:1000000:1000000\n",
        "containers:3000000:1000000\ncontainers:100000:65536\n",
    );
    let mut a = Allocations::default();
    let web = a.assign("web", N, &ids).unwrap();
    // UIDs from 1000000 aligned (1048576); GIDs: 100000 is unaligned and
    // too short, so 3014656.
    assert_eq!(web, map(1_048_576, 3_014_656, N));
    let db = a.assign("db", N, &ids).unwrap();
    assert_eq!(db, map(1_114_112, 3_080_192, N));
}

#[test]
fn the_same_offset_is_preferred_when_the_entries_match() {
    let ids = same(10 * N);
    let mut a = Allocations::default();
    // A range held from before: UIDs at the first slot, GIDs at the second.
    a.pods.insert("odd".into(), map(262_144, 327_680, N));
    assert_eq!(a.assign("web", N, &ids).unwrap(), map(393_216, 393_216, N));
    // When no offset is free for both, each side takes its lowest.
    let ids = same(3 * N);
    let mut a = Allocations::default();
    a.pods.insert("odd".into(), map(262_144, 327_680, N));
    assert_eq!(a.assign("web", N, &ids).unwrap(), map(327_680, 262_144, N));
}

#[test]
fn sizes_are_aligned_to_themselves_or_to_65536() {
    let ids = same(100 * N);
    let mut a = Allocations::default();
    let small = a.assign("small", 1000, &ids).unwrap();
    assert_eq!(small.uid, 200_000);
    let big = a.assign("big", 3 * N, &ids).unwrap();
    assert_eq!(big.uid % N, 0);
    let next = a.assign("next", 1000, &ids).unwrap();
    assert_eq!(next.uid, 201_000);
    for (x, y) in [(small, big), (small, next), (big, next)] {
        assert!(disjoint(&x, &y), "{x} meets {y}");
    }
}

#[test]
fn a_range_outside_shrunk_entries_is_replaced() {
    let mut a = Allocations::default();
    let old = a.assign("web", N, &same(10 * N)).unwrap();
    let moved = "containers:1000000:1000000\n";
    let new = a.assign("web", N, &ids(moved, moved)).unwrap();
    assert_ne!(new, old);
    assert_eq!(new, map(1_048_576, 1_048_576, N));
}
