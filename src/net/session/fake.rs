//! [`Session`]s that record what the supervisor asks of the pod's network,
//! for tests without a network engine or root.

use super::Session;
use crate::net::NetError;
use std::cell::RefCell;
use std::rc::Rc;

/// Hands out sessions and reads what was done with them.
#[derive(Clone, Default)]
pub struct FakeNetwork {
    log: Rc<RefCell<Vec<String>>>,
}

impl FakeNetwork {
    pub fn new() -> Self {
        Self::default()
    }

    /// A session, as [`super::Netavark::begin`] makes one (its reservation
    /// recorded: `begin`).
    pub fn session(&self) -> Box<dyn Session> {
        self.log.borrow_mut().push("begin".into());
        Box::new(FakeSession {
            log: self.log.clone(),
        })
    }

    /// Every step so far: `begin`, `attach HOLDER_PID`, and `end` when a
    /// session was dropped (its network torn down).
    pub fn log(&self) -> Vec<String> {
        self.log.borrow().clone()
    }
}

struct FakeSession {
    log: Rc<RefCell<Vec<String>>>,
}

impl Session for FakeSession {
    fn attach(&mut self, holder_pid: u32) -> Result<(), NetError> {
        self.log.borrow_mut().push(format!("attach {holder_pid}"));
        Ok(())
    }
}

impl Drop for FakeSession {
    fn drop(&mut self) {
        self.log.borrow_mut().push("end".into());
    }
}
