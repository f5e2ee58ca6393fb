//! What a running supervisor publishes about its pod, in `/run/podctl/NAME.json`
//! (written atomically), for `podctl status`, `ps`, `inspect` and `exec`.

use crate::plan::decide::{self, Changes};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerState {
    pub name: String,
    pub unit: String,
    /// PID of the container's main process, the command (0 when not
    /// running): the one to `nsenter -t PID -a`.
    pub pid: u32,
    /// The start time of `pid` ([`super::pin`]: clock ticks since boot), so
    /// that a reused PID is told apart; 0 when not running or not known.
    #[serde(default)]
    pub pid_start: u64,
    /// PID of its relay (the supervisor's child, in the host's PID
    /// namespace, that forwards signals and logs); 0 when not running.
    #[serde(default)]
    pub monitor_pid: u32,
    /// The container's phase ([`crate::supervise::lifecycle::Phase::name`]):
    /// waiting, starting, running, stopping, restarting, completed, exited,
    /// failed, stopped.
    pub state: String,
    /// Its readiness probe passed (or it has none and runs).
    #[serde(default)]
    pub ready: bool,
    pub restarts: u32,
    /// e.g. "exited 0", "exited 3", "signal 9"; None before the first exit.
    pub last_exit: Option<String>,
    /// Unix seconds of the last state change.
    pub since: u64,
    /// Why its last start failed (it is retried with its backoff); None
    /// once it starts.
    #[serde(default)]
    pub last_error: Option<String>,
}

/// What a reload did: the file it read, and per container what happened.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reload {
    /// Identifies this reload (Unix nanoseconds when it was done): `podctl
    /// apply` waits for a reload newer than the one it saw before asking.
    #[serde(default)]
    pub id: u64,
    pub definition: String,
    /// None if it was carried out; otherwise why not (the old pod runs on).
    pub error: Option<String>,
    /// The changes, as `podctl diff` prints them.
    pub summary: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodState {
    pub pod: String,
    pub supervisor_pid: u32,
    /// PID whose namespaces are the pod's shared ones (the holder, or its PID-1 child).
    pub sandbox_pid: u32,
    /// Times the sandbox was lost and the pod recreated.
    #[serde(default)]
    pub sandbox_losses: u32,
    /// The pod's phase ([`crate::supervise::supervisor::PodPhase::name`]):
    /// starting, running, recreating (sandbox lost), failed (start failed),
    /// succeeded / failed (all done), evicted (a scratch volume past its
    /// limit; `reason` says which).
    #[serde(default)]
    pub phase: String,
    /// The pod file text this supervisor runs: what `apply` compares with.
    #[serde(default)]
    pub definition: String,
    /// The facts about its images its plan was assembled from (digests,
    /// layers, the images' defaults): with `definition`, the plan it runs.
    #[serde(default, skip_serializing_if = "crate::plan::Facts::is_empty")]
    pub facts: crate::plan::Facts,
    /// The pod's user namespace mapping; `None`: the host's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub userns: Option<crate::model::IdMap>,
    /// Why the pod ended as it did, when it was made to: its eviction
    /// (`phase` evicted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The outcome of the last reload (`podctl apply` of a changed file).
    #[serde(default)]
    pub last_reload: Option<Reload>,
    pub containers: Vec<ContainerState>,
}

pub fn path(run_dir: &Path, pod: &str) -> PathBuf {
    run_dir.join(format!("{pod}.json"))
}

pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Writes `data` to `path` atomically: temp file in the same directory, fsync, rename.
/// State and definitions hold the pod file, env values included: the file is
/// created `PRIVATE_FILE` (0600) and missing directories `PRIVATE_DIR` (0700),
/// by open(2) and mkdir(2) themselves, never widened first and narrowed later.
pub fn write_atomic(path: &Path, data: &[u8]) -> std::io::Result<()> {
    write_atomic_mode(path, data, crate::private::PRIVATE_FILE)
}

/// [`write_atomic`] with the file created `mode` (e.g. 0644 for a unit file);
/// missing directories are still created 0700.
pub fn write_atomic_mode(path: &Path, data: &[u8], mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = path.parent().unwrap_or(Path::new("."));
    crate::private::create_private_dir(dir)?;
    let tmp = dir.join(format!(
        ".{}.tmp.{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("state"),
        std::process::id()
    ));
    // A leftover of a killed writer with our PID keeps its own mode if
    // reopened: remove it and create afresh (O_EXCL, no symlink followed).
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&tmp)?;
    f.write_all(data)?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path)?;
    std::fs::File::open(dir)?.sync_all()
}

impl PodState {
    /// The supervisor adopted its definition but some container of it could
    /// not be started by the last reload: applying the same file again
    /// must retry, not say "unchanged".
    pub fn reload_failed(&self) -> bool {
        self.last_reload
            .as_ref()
            .is_some_and(|r| r.error.is_some() && r.definition == self.definition)
    }

    /// The id of the last reload, 0 if none.
    pub fn last_reload_id(&self) -> u64 {
        self.last_reload.as_ref().map_or(0, |r| r.id)
    }

    pub fn save(&self, run_dir: &Path) -> std::io::Result<()> {
        let data = serde_json::to_vec_pretty(self).expect("state serializes");
        write_atomic(&path(run_dir, &self.pod), &data)
    }

    pub fn load(run_dir: &Path, pod: &str) -> Option<PodState> {
        let data = std::fs::read(path(run_dir, pod)).ok()?;
        serde_json::from_slice(&data).ok()
    }
}

/// What to do to make the pod run `wanted` (its file text `text`, its plan
/// assembled with the images' facts as the store has them), against what
/// its supervisor reports running in `run_dir` (nothing when `running` is
/// false: the service is not active): the plan assembled from the text and
/// the facts it runs. The supervisor decides on the same plans when it
/// reloads ([`decide::decide`], made once). A state file of a podctl
/// that did not keep facts counts as running the images `wanted` was
/// assembled from (`facts`): an upgrade restarts nothing by itself.
pub fn changes_against(
    run_dir: &Path,
    running: bool,
    (wanted, facts): (&crate::plan::Plan, &crate::plan::Facts),
    text: &str,
) -> Changes {
    let state = PodState::load(run_dir, &wanted.pod).filter(|_| running);
    let old = state.as_ref().and_then(|s| {
        let ran = if s.facts.is_empty() { facts } else { &s.facts };
        decide::running_plan(&s.definition, &wanted.pod, ran)
    });
    let running = state.as_ref().map(|s| decide::Running {
        plan: old.as_ref(),
        definition: &s.definition,
        reload_failed: s.reload_failed(),
    });
    decide::decide(
        running,
        decide::Wanted {
            plan: wanted,
            definition: text,
        },
    )
}

/// The first child of `pid`, read in `proc` (procfs), or `pid` itself when
/// it has none: a relay's init (relay -> container init -> command) or an
/// init's command, the container's PID as users mean it.
pub fn first_child(proc: &Path, pid: u32) -> u32 {
    std::fs::read_to_string(proc.join(format!("{pid}/task/{pid}/children")))
        .unwrap_or_default()
        .split_whitespace()
        .find_map(|p| p.parse().ok())
        .unwrap_or(pid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_atomically() {
        let dir = std::env::temp_dir().join(format!("podctl-state-{}", std::process::id()));
        let st = PodState {
            pod: "web".into(),
            supervisor_pid: 1,
            sandbox_pid: 2,
            containers: vec![ContainerState {
                name: "app".into(),
                restarts: 3,
                ..Default::default()
            }],
            ..Default::default()
        };
        st.save(&dir).unwrap();
        assert_eq!(PodState::load(&dir, "web"), Some(st));
        assert_eq!(PodState::load(&dir, "nope"), None);
        let leftovers: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains(".tmp."))
            .collect();
        assert!(leftovers.is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
