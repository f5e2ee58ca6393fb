//! Starting the sandbox holder (`podctl-pause hold`), held until its scope exists.

use super::held::HeldChild;
use crate::plan::SandboxPlan;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

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

/// A holder process that has been started but waits on its stdin. Dropped
/// without release (a start that failed), it is killed and reaped.
pub struct PendingHolder {
    child: HeldChild,
    go: Option<ChildStdin>,
    report: BufReader<ChildStdout>,
}

/// Starts `podctl-pause hold NSLIST HOSTNAME`; it does nothing until [`PendingHolder::release`].
pub fn spawn(pause: &Path, plan: &SandboxPlan) -> Result<PendingHolder, HolderError> {
    let nslist: Vec<&str> = plan.creates.iter().map(|k| k.proc_name()).collect();
    let mut child = Command::new(pause)
        .arg("hold")
        .arg(nslist.join(","))
        .arg(plan.hostname.as_deref().unwrap_or(""))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|source| HolderError::Spawn {
            path: pause.display().to_string(),
            source,
        })?;
    let go = child.stdin.take().expect("stdin is piped");
    let report = BufReader::new(child.stdout.take().expect("stdout is piped"));
    Ok(PendingHolder {
        child: HeldChild::new(child),
        go: Some(go),
        report,
    })
}

impl PendingHolder {
    pub fn pid(&self) -> u32 {
        self.child.pid()
    }

    /// Lets the holder create the namespaces (it is in its scope now) and
    /// returns the PID whose `/proc/PID/ns/*` containers join.
    pub fn release(mut self) -> Result<(Child, u32), HolderError> {
        let pid = self.pid();
        let setup = |detail: String| HolderError::Setup { pid, detail };
        let mut go = self.go.take().expect("not released yet");
        go.write_all(b"g")
            .map_err(|e| setup(format!("cannot signal it to start: {e}")))?;
        drop(go);
        let mut line = String::new();
        self.report
            .read_line(&mut line)
            .map_err(|e| setup(format!("cannot read its report: {e}")))?;
        let ns_pid = line.trim().parse::<u32>().map_err(|_| {
            setup(format!(
                "it exited or sent no PID (got {line:?}); see its stderr in the journal"
            ))
        })?;
        Ok((self.child.into_child(), ns_pid))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A holder dropped before release (a start that failed) leaves no zombie.
    #[test]
    fn dropped_pending_holder_is_reaped() {
        // `cat` stands in for podctl-pause: it waits on its stdin as the holder does.
        let plan = SandboxPlan {
            unit: crate::plan::UnitPlan {
                name: "pod-t.sandbox.scope".into(),
                properties: vec![],
            },
            creates: vec![],
            hostname: None,
        };
        let p = spawn(Path::new("/bin/cat"), &plan).unwrap();
        let pid = p.pid();
        drop(p);
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "holder {pid} left as a zombie"
        );
    }
}
