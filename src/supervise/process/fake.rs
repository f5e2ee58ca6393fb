//! A [`Spawner`] whose processes are entries in a table: it records what is
//! started, released, signalled and killed (one line each in `log`), and
//! its processes exit when the test (or a signal) says so.

use super::{Held, Helper, Process, Spawner};
use crate::supervise::held::ReportError;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io;
use std::os::fd::BorrowedFd;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// First PID handed out (clearly not a real one).
const FIRST_PID: u32 = 90_000;

#[derive(Default)]
struct Table {
    log: Vec<String>,
    next: u32,
    /// Each process's command line.
    started: BTreeMap<u32, String>,
    /// The release body of each released helper.
    bodies: BTreeMap<u32, String>,
    /// Raw wait statuses of the processes that end, and when.
    exits: BTreeMap<u32, (i32, Instant)>,
    /// Those whose end was seen (`try_wait`, `wait`).
    reaped: Vec<u32>,
    /// Processes that do not end on their stop signal (only on SIGKILL).
    stubborn: Vec<u32>,
    /// A release body containing the key makes the helper report the value.
    reports: Vec<(String, String)>,
    /// A helper whose command line or release body contains the key ends
    /// with the status (raw) that long after it is released.
    exit_at_release: Vec<(String, i32, Duration)>,
}

/// The fake; clones share one table.
#[derive(Clone, Default)]
pub struct Processes {
    table: Rc<RefCell<Table>>,
}

impl Processes {
    pub fn new() -> Self {
        let p = Self::default();
        p.table.borrow_mut().next = FIRST_PID;
        p
    }

    /// Every call so far: `held PID CMDLINE`, `spawn PID CMDLINE`, `go PID`,
    /// `signal PID SIGNAL`, `kill PID`, `killpg PID`, `drop PID`, and
    /// `reaped PID` when its end is first seen.
    pub fn log(&self) -> Vec<String> {
        self.table.borrow().log.clone()
    }

    /// The PIDs of the processes whose command line contains `what`, in start order.
    pub fn pids(&self, what: &str) -> Vec<u32> {
        let t = self.table.borrow();
        t.started
            .iter()
            .filter(|(_, c)| c.contains(what))
            .map(|(p, _)| *p)
            .collect()
    }

    /// The release body `pid` got.
    pub fn body(&self, pid: u32) -> Option<String> {
        self.table.borrow().bodies.get(&pid).cloned()
    }

    /// Process `pid` exits with `code`.
    pub fn exit(&self, pid: u32, code: i32) {
        let now = Instant::now();
        self.table.borrow_mut().exits.insert(pid, (code << 8, now));
    }

    /// Process `pid` ignores its stop signal (SIGKILL still ends it).
    pub fn stubborn(&self, pid: u32) {
        self.table.borrow_mut().stubborn.push(pid);
    }

    /// A helper released with a body containing `key` reports `report`.
    pub fn report_for(&self, key: &str, report: &str) {
        let mut t = self.table.borrow_mut();
        t.reports.push((key.into(), report.into()));
    }

    /// A helper whose command line or release body contains `key` (e.g. its
    /// unit's name) exits with `code` once released.
    pub fn exit_at_release(&self, key: &str, code: i32) {
        self.exit_after_release(key, code, Duration::ZERO);
    }

    /// As [`exit_at_release`](Self::exit_at_release), `after` the release.
    pub fn exit_after_release(&self, key: &str, code: i32, after: Duration) {
        let mut t = self.table.borrow_mut();
        t.exit_at_release.push((key.into(), code << 8, after));
    }

    fn start(&self, how: &str, helper: &Helper) -> u32 {
        let mut t = self.table.borrow_mut();
        let pid = t.next;
        t.next += 1;
        // What it was given on stdin counts as its command line here.
        let mut cmd = helper.describe();
        if let Some(input) = &helper.input {
            cmd.push(' ');
            cmd.push_str(&String::from_utf8_lossy(input));
        }
        t.log.push(format!("{how} {pid} {cmd}"));
        t.started.insert(pid, cmd);
        pid
    }

    fn record(&self, line: String) {
        self.table.borrow_mut().log.push(line);
    }

    fn released(&self, pid: u32) {
        let mut t = self.table.borrow_mut();
        let cmd = t.started[&pid].clone();
        let body = t.bodies.get(&pid).cloned().unwrap_or_default();
        let matches = |k: &String| cmd.contains(k.as_str()) || body.contains(k.as_str());
        if let Some(&(_, code, after)) = t.exit_at_release.iter().find(|(k, ..)| matches(k)) {
            t.exits.insert(pid, (code, Instant::now() + after));
        }
    }
}

impl Spawner for Processes {
    fn held(&self, helper: Helper) -> io::Result<Box<dyn Held>> {
        let pid = self.start("held", &helper);
        Ok(Box::new(FakeHeld {
            fake: self.clone(),
            pid,
            taken: false,
        }))
    }

    fn spawn(&self, helper: Helper) -> io::Result<Box<dyn Process>> {
        let pid = self.start("spawn", &helper);
        self.released(pid);
        Ok(Box::new(FakeProcess {
            fake: self.clone(),
            pid,
        }))
    }
}

struct FakeHeld {
    fake: Processes,
    pid: u32,
    taken: bool,
}

impl Held for FakeHeld {
    fn pid(&self) -> u32 {
        self.pid
    }

    fn go(&mut self, body: &[u8]) -> io::Result<()> {
        self.fake.record(format!("go {}", self.pid));
        let body = String::from_utf8_lossy(body).into_owned();
        self.fake.table.borrow_mut().bodies.insert(self.pid, body);
        self.fake.released(self.pid);
        Ok(())
    }

    /// A helper whose body matches a [`Processes::report_for`] key reports
    /// that; the holder its own PID; a container helper that the container
    /// started, its init being the helper itself.
    fn report(
        &mut self,
        _interrupt: Option<BorrowedFd<'_>>,
        _timeout: Option<Duration>,
    ) -> Result<String, ReportError> {
        let t = self.fake.table.borrow();
        let body = t.bodies.get(&self.pid).cloned().unwrap_or_default();
        if let Some((_, r)) = t.reports.iter().find(|(k, _)| body.contains(k)) {
            return Ok(r.clone());
        }
        if t.started[&self.pid].contains(" hold ") {
            return Ok(format!("{}\n", self.pid));
        }
        Ok(crate::supervise::report::Report::started(self.pid))
    }

    fn into_process(mut self: Box<Self>) -> Box<dyn Process> {
        self.taken = true;
        Box::new(FakeProcess {
            fake: self.fake.clone(),
            pid: self.pid,
        })
    }
}

impl Drop for FakeHeld {
    fn drop(&mut self) {
        if !self.taken {
            self.fake.record(format!("drop {}", self.pid));
        }
    }
}

struct FakeProcess {
    fake: Processes,
    pid: u32,
}

impl Process for FakeProcess {
    fn pid(&self) -> u32 {
        self.pid
    }

    fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        let mut t = self.fake.table.borrow_mut();
        let Some(&(status, at)) = t.exits.get(&self.pid) else {
            return Ok(None);
        };
        if Instant::now() < at {
            return Ok(None);
        }
        if !t.reaped.contains(&self.pid) {
            t.reaped.push(self.pid);
            t.log.push(format!("reaped {}", self.pid));
        }
        Ok(Some(ExitStatus::from_raw(status)))
    }

    fn wait(&mut self) -> io::Result<ExitStatus> {
        self.try_wait()?
            .ok_or_else(|| io::Error::other("a fake process that runs cannot be waited for"))
    }

    fn signal(&self, signal: nix::sys::signal::Signal) -> io::Result<()> {
        self.fake
            .record(format!("signal {} {}", self.pid, signal.as_str()));
        let mut t = self.fake.table.borrow_mut();
        if !t.stubborn.contains(&self.pid) {
            t.exits
                .entry(self.pid)
                .or_insert((signal as i32, Instant::now()));
        }
        Ok(())
    }

    fn kill(&mut self) -> io::Result<()> {
        self.fake.record(format!("kill {}", self.pid));
        let mut t = self.fake.table.borrow_mut();
        t.exits.entry(self.pid).or_insert((9, Instant::now()));
        Ok(())
    }

    fn kill_group(&mut self) {
        self.fake.record(format!("killpg {}", self.pid));
        let mut t = self.fake.table.borrow_mut();
        t.exits.entry(self.pid).or_insert((9, Instant::now()));
    }
}
