//! Eviction: the decision (pure), and a pod's run through the fakes until
//! a scratch volume goes past its limit.

use super::*;
use crate::supervise::process::fake;
use crate::supervise::state::PodState;
use crate::systemd::fake::Recorder;
use std::cell::Cell;

#[test]
fn only_a_volume_past_its_limit_evicts() {
    let vol = |name: &str, limit| ScratchVolume {
        name: name.into(),
        size: None,
        limit,
    };
    let scratch = [vol("cache", Some(1 << 20)), vol("free", None)];
    let at = |cache, free| over_limit(&scratch, &[("cache".into(), cache), ("free".into(), free)]);
    assert_eq!(at(1 << 20, 1 << 40), None, "at the limit, and no limit");
    let e = at((1 << 20) + 4096, 0).unwrap();
    assert_eq!(e.volume, "cache");
    assert_eq!(
        e.reason(),
        "scratch volume cache holds 1028K, over its limit of 1M"
    );
}

/// Reports `bytes` for every volume, and how often it was asked.
struct Fixed {
    bytes: Cell<u64>,
    asked: Cell<u32>,
}

impl VolumeUsage for Fixed {
    fn bytes(&self, _dir: &Path) -> std::io::Result<u64> {
        self.asked.set(self.asked.get() + 1);
        Ok(self.bytes.get())
    }
}

#[test]
fn a_volume_past_its_limit_stops_the_pod_and_says_why() {
    const POD: &str = "evicted";
    let mgr = Recorder::new();
    let procs = fake::Processes::new();
    let dir = std::env::temp_dir().join(format!("podctl-sup-evict-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let text = "[volumes]\ncache = { limit = \"1M\" }\n\
        [containers.app]\ncommand = [\"sleep\", \"100\"]\nvolumes = [\"cache:/cache\"]\n\
        [containers.side]\ncommand = [\"sleep\", \"100\"]\n";
    let usage = Fixed {
        bytes: Cell::new(4096),
        asked: Cell::new(0),
    };
    let mut sup =
        super::super::tests::with_fake_processes(POD, text, &mgr, &procs, &dir).with_usage(&usage);
    sup.start().unwrap();
    // Under the limit: measured, nothing happens.
    assert_eq!(sup.measure_volumes(), None);
    std::thread::sleep(USAGE_INTERVAL);
    assert_eq!(sup.measure_volumes(), None);
    assert_eq!(usage.asked.get(), 1, "one measure per interval");
    usage.bytes.set(2 << 20);
    // What the run loop does each turn (a broken decision fails here
    // instead of running on).
    let mut found = None;
    for _ in 0..4 {
        std::thread::sleep(USAGE_INTERVAL);
        found = found.or(sup.measure_volumes());
    }
    let err = sup
        .evict(found.expect("past its limit within an interval"))
        .expect_err("evicted");
    assert!(
        matches!(&err, SupervisorError::Evicted(r) if r == "scratch volume cache holds 2M, over its limit of 1M"),
        "{err}"
    );
    let state = PodState::load(&sup.paths.run, POD).unwrap();
    assert_eq!(state.phase, "evicted");
    assert_eq!(
        state.reason.as_deref(),
        Some("scratch volume cache holds 2M, over its limit of 1M")
    );
    assert!(
        state.containers.iter().all(|c| c.state == "stopped"),
        "{:?}",
        state.containers
    );
    let signals = procs
        .log()
        .iter()
        .filter(|l| l.starts_with("signal ") && l.ends_with("SIGTERM"))
        .count();
    assert_eq!(
        signals,
        3,
        "both containers and the holder: {:?}",
        procs.log()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
