//! A user's manager that does not run: nothing is loaded, so a reading
//! command (`podctl ps`) lists no running pod instead of failing; anything
//! that would change a unit says the manager does not run.

use super::{Error, Manager, Transient, UnitStatus};
use crate::plan::Property;
use std::path::PathBuf;

/// The user whose manager's socket is `socket` (absent).
pub struct Absent {
    pub socket: PathBuf,
    pub user: String,
}

impl Absent {
    fn refuse<T>(&self) -> Result<T, Error> {
        Err(Error::NoUserManager {
            socket: self.socket.clone(),
            user: self.user.clone(),
        })
    }
}

impl Manager for Absent {
    fn start_transient(&self, _: &[Transient<'_>]) -> Result<(), Error> {
        self.refuse()
    }
    fn start_unit(&self, _: &str) -> Result<(), Error> {
        self.refuse()
    }
    fn reload_unit(&self, _: &str) -> Result<(), Error> {
        self.refuse()
    }
    fn restart_unit(&self, _: &str) -> Result<(), Error> {
        self.refuse()
    }
    /// Nothing runs: every unit is stopped.
    fn stop_unit(&self, _: &str) -> Result<(), Error> {
        Ok(())
    }
    fn kill_unit(&self, _: &str, _: i32) -> Result<(), Error> {
        self.refuse()
    }
    fn reset_failed(&self, _: &str) -> Result<(), Error> {
        Ok(())
    }
    fn status(&self, _: &str) -> Result<Option<UnitStatus>, Error> {
        Ok(None)
    }
    fn list_units(&self, _: &[&str]) -> Result<Vec<UnitStatus>, Error> {
        Ok(Vec::new())
    }
    fn attach(&self, _: &str, _: &[u32]) -> Result<(), Error> {
        self.refuse()
    }
    fn attach_sub(&self, _: &str, _: &str, _: &[u32]) -> Result<(), Error> {
        self.refuse()
    }
    fn set_properties(&self, _: &str, _: &[Property]) -> Result<(), Error> {
        self.refuse()
    }
    fn reload(&self) -> Result<(), Error> {
        self.refuse()
    }
    fn unit_file_state(&self, _: &str) -> Result<Option<String>, Error> {
        self.refuse()
    }
    fn set_enabled(&self, _: &str, _: bool) -> Result<(), Error> {
        self.refuse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_nothing_and_refuses_changes_naming_the_fix() {
        let a = Absent {
            socket: "/run/user/1500/systemd/private".into(),
            user: "ann".into(),
        };
        assert!(a.list_units(&["pod@*.service"]).unwrap().is_empty());
        assert!(a.status("pod@web.service").unwrap().is_none());
        let e = a.start_unit("pod@web.service").unwrap_err().to_string();
        assert!(e.contains("loginctl enable-linger ann"), "{e}");
        assert!(e.contains("/run/user/1500/systemd/private"), "{e}");
    }
}
