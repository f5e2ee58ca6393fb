//! A [`Runtime`] that records its calls, for tests of what drives it.

use super::{NewContainer, Runtime, RuntimeError};
use std::cell::RefCell;
use std::process::Command;

/// Records every call; fails the operations named in `fail`; `create`
/// writes `init_pid` to the pid file, as a runtime does.
#[derive(Debug, Default)]
pub struct Fake {
    pub calls: RefCell<Vec<String>>,
    pub fail: Vec<&'static str>,
    pub init_pid: Option<u32>,
}

impl Fake {
    fn call(&self, op: &'static str, id: &str) -> Result<(), RuntimeError> {
        self.calls.borrow_mut().push(format!("{op} {id}"));
        if self.fail.contains(&op) {
            return Err(RuntimeError::Failed {
                program: "fake".into(),
                op,
                id: id.into(),
                status: "exit status: 1".into(),
                message: format!("{op} refused"),
            });
        }
        Ok(())
    }
}

impl Runtime for Fake {
    fn create(&self, id: &str, new: NewContainer<'_>) -> Result<(), RuntimeError> {
        self.call("create", id)?;
        if let Some(pid) = self.init_pid {
            std::fs::write(new.pid_file, pid.to_string()).expect("the fake's pid file");
        }
        Ok(())
    }
    fn start(&self, id: &str) -> Result<(), RuntimeError> {
        self.call("start", id)
    }
    fn kill(&self, id: &str, signal: i32) -> Result<(), RuntimeError> {
        self.call("kill", &format!("{id} {signal}"))
    }
    fn delete(&self, id: &str, _: bool) -> Result<(), RuntimeError> {
        self.call("delete", id)
    }
    fn exec_command(&self, id: &str, argv: &[String]) -> Command {
        self.calls.borrow_mut().push(format!("exec {id}"));
        let mut c = Command::new("true");
        c.args(argv);
        c
    }
    fn state(&self, id: &str) -> Result<String, RuntimeError> {
        self.call("state", id).map(|_| "running".into())
    }
}
