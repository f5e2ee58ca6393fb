//! A [`Manager`] that records calls and keeps a toy unit table, for tests
//! that check what podctl asks of systemd and in which order.

use super::{Error, JobKind, Manager, Transient, UnitStatus};
use crate::plan::Property;
use std::cell::RefCell;
use std::collections::BTreeMap;

#[derive(Default)]
pub struct Recorder {
    /// One line per call, e.g. `start_transient pod-web.slice pids=[]`.
    pub calls: RefCell<Vec<String>>,
    /// Units that are "loaded", with their state.
    pub units: RefCell<BTreeMap<String, UnitStatus>>,
    /// A start of this unit fails with result "failed".
    pub fail_unit: RefCell<Option<String>>,
}

impl Recorder {
    pub fn new() -> Self {
        Self::default()
    }

    fn record(&self, line: String) {
        self.calls.borrow_mut().push(line);
    }

    fn set_state(&self, name: &str, state: &str) {
        let mut units = self.units.borrow_mut();
        let u = units.entry(name.to_string()).or_insert_with(|| UnitStatus {
            name: name.to_string(),
            ..Default::default()
        });
        u.active_state = state.into();
    }

    fn check(&self, name: &str, kind: JobKind) -> Result<(), Error> {
        if self.fail_unit.borrow().as_deref() == Some(name) {
            return Err(Error::Job {
                unit: name.to_string(),
                kind,
                result: "failed".into(),
            });
        }
        Ok(())
    }
}

fn glob_match(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((pre, post)) => {
            name.len() >= pre.len() + post.len() && name.starts_with(pre) && name.ends_with(post)
        }
    }
}

impl Manager for Recorder {
    fn start_transient(&self, units: &[Transient<'_>]) -> Result<(), Error> {
        for t in units {
            self.record(format!("start_transient {} pids={:?}", t.unit.name, t.pids));
            self.check(&t.unit.name, JobKind::Start)?;
            self.set_state(&t.unit.name, "active");
        }
        Ok(())
    }

    fn start_unit(&self, name: &str) -> Result<(), Error> {
        self.record(format!("start {name}"));
        self.check(name, JobKind::Start)?;
        self.set_state(name, "active");
        Ok(())
    }

    fn reload_unit(&self, name: &str) -> Result<(), Error> {
        self.record(format!("reload {name}"));
        self.check(name, JobKind::Reload)
    }

    fn restart_unit(&self, name: &str) -> Result<(), Error> {
        self.record(format!("restart {name}"));
        self.check(name, JobKind::Restart)?;
        self.set_state(name, "active");
        Ok(())
    }

    fn stop_unit(&self, name: &str) -> Result<(), Error> {
        self.record(format!("stop {name}"));
        self.units.borrow_mut().remove(name);
        Ok(())
    }

    fn kill_unit(&self, name: &str, signal: i32) -> Result<(), Error> {
        self.record(format!("kill {name} {signal}"));
        Ok(())
    }

    fn reset_failed(&self, name: &str) -> Result<(), Error> {
        self.record(format!("reset_failed {name}"));
        Ok(())
    }

    fn status(&self, name: &str) -> Result<Option<UnitStatus>, Error> {
        Ok(self.units.borrow().get(name).cloned())
    }

    fn list_units(&self, patterns: &[&str]) -> Result<Vec<UnitStatus>, Error> {
        Ok(self
            .units
            .borrow()
            .values()
            .filter(|u| patterns.iter().any(|p| glob_match(p, &u.name)))
            .cloned()
            .collect())
    }

    fn attach(&self, name: &str, pids: &[u32]) -> Result<(), Error> {
        self.record(format!("attach {name} pids={pids:?}"));
        Ok(())
    }

    fn attach_sub(&self, name: &str, subcgroup: &str, pids: &[u32]) -> Result<(), Error> {
        self.record(format!("attach {name}{subcgroup} pids={pids:?}"));
        Ok(())
    }

    fn set_properties(&self, name: &str, props: &[Property]) -> Result<(), Error> {
        let names: Vec<&str> = props.iter().map(|p| p.name).collect();
        self.record(format!("set_properties {name} {names:?}"));
        Ok(())
    }

    fn reload(&self) -> Result<(), Error> {
        self.record("reload".into());
        Ok(())
    }

    fn unit_file_state(&self, name: &str) -> Result<Option<String>, Error> {
        Ok(name.starts_with("pod@").then(|| "disabled".to_string()))
    }

    fn set_enabled(&self, name: &str, enabled: bool) -> Result<(), Error> {
        self.record(format!("set_enabled {name} {enabled}"));
        Ok(())
    }
}

/// A [`Recorder`] that threads share: for code that asks systemd two
/// things at once (`podctl apply`, `down`).
#[derive(Default)]
pub struct Shared(pub std::sync::Mutex<Recorder>);

impl Shared {
    /// The calls recorded so far.
    pub fn calls(&self) -> Vec<String> {
        self.lock().calls.borrow().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Recorder> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Manager for Shared {
    fn start_transient(&self, units: &[Transient<'_>]) -> Result<(), Error> {
        self.lock().start_transient(units)
    }
    fn start_unit(&self, name: &str) -> Result<(), Error> {
        self.lock().start_unit(name)
    }
    fn reload_unit(&self, name: &str) -> Result<(), Error> {
        self.lock().reload_unit(name)
    }
    fn restart_unit(&self, name: &str) -> Result<(), Error> {
        self.lock().restart_unit(name)
    }
    fn stop_unit(&self, name: &str) -> Result<(), Error> {
        self.lock().stop_unit(name)
    }
    fn kill_unit(&self, name: &str, signal: i32) -> Result<(), Error> {
        self.lock().kill_unit(name, signal)
    }
    fn reset_failed(&self, name: &str) -> Result<(), Error> {
        self.lock().reset_failed(name)
    }
    fn status(&self, name: &str) -> Result<Option<UnitStatus>, Error> {
        self.lock().status(name)
    }
    fn list_units(&self, patterns: &[&str]) -> Result<Vec<UnitStatus>, Error> {
        self.lock().list_units(patterns)
    }
    fn attach(&self, name: &str, pids: &[u32]) -> Result<(), Error> {
        self.lock().attach(name, pids)
    }
    fn attach_sub(&self, name: &str, subcgroup: &str, pids: &[u32]) -> Result<(), Error> {
        self.lock().attach_sub(name, subcgroup, pids)
    }
    fn set_properties(&self, name: &str, props: &[Property]) -> Result<(), Error> {
        self.lock().set_properties(name, props)
    }
    fn reload(&self) -> Result<(), Error> {
        self.lock().reload()
    }
    fn unit_file_state(&self, name: &str) -> Result<Option<String>, Error> {
        self.lock().unit_file_state(name)
    }
    fn set_enabled(&self, name: &str, enabled: bool) -> Result<(), Error> {
        self.lock().set_enabled(name, enabled)
    }
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    #[test]
    fn globs() {
        assert!(glob_match("pod@*.service", "pod@web.service"));
        assert!(!glob_match("pod@*.service", "pod-web.slice"));
        assert!(glob_match("pod-web.slice", "pod-web.slice"));
    }
}
