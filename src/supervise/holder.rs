//! Starting the sandbox holder (`podctl-pause hold`), held until its scope exists.

use super::held::ReportError;
use super::process::{Held, Helper, Output, Process, Spawner};
use crate::model::IdMap;
use crate::plan::{SandboxPlan, UserNsPlan};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum HolderError {
    #[error("cannot start the sandbox holder {path}")]
    Spawn {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("sandbox holder (pid {pid}) failed while creating namespaces: {detail}")]
    Setup { pid: u32, detail: String },
}

/// A holder process that has been started but waits for its release.
/// Dropped without release (a start that failed), it is killed and reaped.
pub struct PendingHolder {
    child: Box<dyn Held>,
}

/// Starts `podctl-pause hold NSLIST HOSTNAME`; it does nothing until [`PendingHolder::release`].
pub fn spawn(
    procs: &dyn Spawner,
    pause: &Path,
    plan: &SandboxPlan,
) -> Result<PendingHolder, HolderError> {
    let nslist: Vec<&str> = plan.creates.iter().map(|k| k.proc_name()).collect();
    let mut helper = Helper::new(
        pause,
        vec![
            "hold".into(),
            nslist.join(","),
            plan.hostname.clone().unwrap_or_default(),
        ],
    );
    helper.stdout = Output::Report;
    let child = procs.held(helper).map_err(|source| HolderError::Spawn {
        path: pause.display().to_string(),
        source,
    })?;
    Ok(PendingHolder { child })
}

impl PendingHolder {
    pub fn pid(&self) -> u32 {
        self.child.pid()
    }

    /// Lets the holder create the namespaces (it is in its scope now) and
    /// returns the PID whose `/proc/PID/ns/*` containers join. With `map`,
    /// the holder made a user namespace first (it owns the others): its ID
    /// maps are written through `proc` (procfs) before anything joins it.
    pub fn release(
        mut self,
        userns: &UserNsPlan,
        proc: &Path,
    ) -> Result<(Box<dyn Process>, u32), HolderError> {
        let pid = self.pid();
        let setup = |detail: String| HolderError::Setup { pid, detail };
        self.child
            .go(b"")
            .map_err(|e| setup(format!("cannot signal it to start: {e}")))?;
        // It writes the PID and closes its stdout (or exits).
        let report = self.child.report(None, None).map_err(|e| match e {
            ReportError::Io(e) => setup(format!("cannot read its report: {e}")),
            other => setup(format!("cannot read its report: {other:?}")),
        })?;
        let line = report.lines().next().unwrap_or_default();
        let ns_pid = line.trim().parse::<u32>().map_err(|_| {
            setup(format!(
                "it exited or sent no PID (got {report:?}); see its stderr in the journal"
            ))
        })?;
        match userns {
            UserNsPlan::Mapped(map) => write_maps(proc, ns_pid, *map).map_err(setup)?,
            UserNsPlan::User(map) => crate::ids::new_maps(ns_pid, map).map_err(setup)?,
            UserNsPlan::Host | UserNsPlan::Pending { .. } => {}
        }
        Ok((self.child.into_process(), ns_pid))
    }
}

/// Writes `map` as the ID maps of `pid`'s user namespace (once: the kernel
/// refuses a second write). Host root may map any range; `setgroups` stays
/// allowed, as container root expects.
fn write_maps(proc: &Path, pid: u32, map: IdMap) -> Result<(), String> {
    let dir = proc.join(pid.to_string());
    for (file, line) in [("uid_map", map.uid_map()), ("gid_map", map.gid_map())] {
        let path = dir.join(file);
        std::fs::write(&path, &line)
            .map_err(|e| format!("cannot write {} ({}): {e}", path.display(), line.trim_end()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A holder dropped before release (a start that failed) leaves no zombie.
    #[test]
    fn dropped_pending_holder_is_reaped() {
        // `cat` stands in for podctl-pause: running or exited, dropping it
        // kills and reaps it.
        let plan = SandboxPlan {
            unit: crate::plan::UnitPlan {
                name: "pod-t.sandbox.scope".into(),
                properties: vec![],
            },
            creates: vec![],
            hostname: None,
        };
        let p = spawn(
            &crate::supervise::process::OsProcesses,
            Path::new("/bin/cat"),
            &plan,
        )
        .unwrap();
        let pid = p.pid();
        drop(p);
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "holder {pid} left as a zombie"
        );
    }
}
