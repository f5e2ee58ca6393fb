//! Reading the journal. `podctl events` asks journalctl for the supervisors'
//! event entries (`-o json`: one object per line); behind [`Journal`] so the
//! reading is tested against [`Lines`] with no journald.

use std::cell::RefCell;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("cannot run journalctl")]
    Spawn(#[source] std::io::Error),
    #[error("reading journalctl's output")]
    Read(#[source] std::io::Error),
    #[error("journalctl failed: {0}")]
    Failed(std::process::ExitStatus),
    /// What the caller did with a line failed (writing it out).
    #[error(transparent)]
    Consumer(std::io::Error),
}

/// How the journal names the units of this process's pods: the system
/// manager's (`_SYSTEMD_UNIT`, `-u`, sent by UID 0) for root, a user
/// manager's (`_SYSTEMD_USER_UNIT`, `--user-unit`, sent by the user) for a
/// user (rootless).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnitFields {
    /// The trusted field naming the sender's unit.
    pub field: &'static str,
    /// journalctl's option matching a unit.
    pub flag: &'static str,
    /// The UID the pods' supervisors send as.
    pub uid: u32,
}

impl UnitFields {
    /// For the pods of whoever runs this process.
    pub fn own() -> UnitFields {
        let uid = nix::unistd::geteuid().as_raw();
        match uid {
            0 => UnitFields {
                field: "_SYSTEMD_UNIT",
                flag: "-u",
                uid,
            },
            _ => UnitFields {
                field: "_SYSTEMD_USER_UNIT",
                flag: "--user-unit",
                uid,
            },
        }
    }
}

/// The journal, queried with journalctl's arguments.
pub trait Journal {
    /// Runs the query `args` and hands each line of its output to `each`,
    /// as it comes (`--follow` reads until interrupted). A query that
    /// matched nothing is not an error.
    fn read(
        &self,
        args: &[String],
        each: &mut dyn FnMut(&str) -> std::io::Result<()>,
    ) -> Result<(), JournalError>;
}

/// This host's journal, through `journalctl`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Journalctl;

impl Journal for Journalctl {
    fn read(
        &self,
        args: &[String],
        each: &mut dyn FnMut(&str) -> std::io::Result<()>,
    ) -> Result<(), JournalError> {
        let mut child = Command::new("journalctl")
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .map_err(JournalError::Spawn)?;
        let out = child.stdout.take().expect("stdout is piped");
        for line in BufReader::new(out).lines() {
            let line = line.map_err(JournalError::Read)?;
            each(&line).map_err(JournalError::Consumer)?;
        }
        let status = child.wait().map_err(JournalError::Read)?;
        // journalctl exits 1 when nothing matched ("-- No entries --").
        if !status.success() && status.code() != Some(1) {
            return Err(JournalError::Failed(status));
        }
        Ok(())
    }
}

/// A fake journal: gives its `lines` to every query, and records the queries.
#[derive(Debug, Default)]
pub struct Lines {
    pub lines: Vec<String>,
    /// The arguments of each query, in order.
    pub queries: RefCell<Vec<Vec<String>>>,
}

impl Journal for Lines {
    fn read(
        &self,
        args: &[String],
        each: &mut dyn FnMut(&str) -> std::io::Result<()>,
    ) -> Result<(), JournalError> {
        self.queries.borrow_mut().push(args.to_vec());
        for l in &self.lines {
            each(l).map_err(JournalError::Consumer)?;
        }
        Ok(())
    }
}
