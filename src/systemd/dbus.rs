//! [`Manager`] over one D-Bus connection to `org.freedesktop.systemd1` with
//! zbus: systemd's private socket or the system bus (see [`super::connect`]).
//!
//! Job completion is observed through `JobRemoved` signals: the match is
//! installed before any call that creates jobs, so no completion is missed.
//! On the private socket systemd sends its signals to every client (direct
//! connections are subscribed from the start) with a sender that is not a
//! bus name (rewritten in [`super::private`]); the match is local there and
//! names no sender.

use super::timer::within;
use super::{Error, JobKind, Manager, Transient, UnitStatus};
use crate::plan::{Property, Value};
use futures_util::StreamExt;
use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::time::Duration;
use zbus::message::Type as MsgType;
use zbus::{Connection, MatchRule, MessageStream, OwnedObjectPath, OwnedVariant, Variant};

mod calls;

const DEST: &str = "org.freedesktop.systemd1";
const PATH: &str = "/org/freedesktop/systemd1";
const MANAGER: &str = "org.freedesktop.systemd1.Manager";
const UNIT: &str = "org.freedesktop.systemd1.Unit";
const PROPS: &str = "org.freedesktop.DBus.Properties";
const JOB: &str = "org.freedesktop.systemd1.Job";

/// How long systemd may take to answer one method call (D-Bus's default
/// reply timeout); then the call fails, naming its unit.
const CALL_TIMEOUT: Duration = Duration::from_secs(25);
/// While waiting for jobs, how often to ask systemd whether they still
/// exist. A job lasts as long as its unit's own timeouts allow (a pod's stop
/// may rightly take its longest stop_timeout), so the wait itself has no
/// cap; it fails when systemd stops answering (CALL_TIMEOUT) or when a job
/// is gone twice in a row without its JobRemoved having arrived.
const JOB_CHECK: Duration = Duration::from_secs(5);

/// A connection to systemd: private socket (peer to peer) or system bus.
/// Clones share the connection (calls from several threads interleave).
#[derive(Clone)]
pub struct Client {
    conn: Connection,
}

type JobRemoved = (u32, OwnedObjectPath, String, String);

fn to_variant(v: &Value) -> Variant<'static> {
    match v {
        Value::Str(s) => Variant::from(s.clone()),
        Value::U64(n) => Variant::from(*n),
        Value::Bool(b) => Variant::from(*b),
        Value::Strs(list) => Variant::from(list.clone()),
        Value::Pairs(list) => Variant::from(list.clone()),
    }
}

fn properties(props: &[Property], pids: &[u32]) -> Vec<(&'static str, Variant<'static>)> {
    let mut out: Vec<(&'static str, Variant<'static>)> = props
        .iter()
        .map(|p| (p.name, to_variant(&p.value)))
        .collect();
    if !pids.is_empty() {
        out.push(("PIDs", Variant::from(pids.to_vec())));
    }
    out
}

fn is_no_such_unit(e: &zbus::Error) -> bool {
    match e {
        zbus::Error::MethodError(name, _, _) => {
            name.as_str() == "org.freedesktop.systemd1.NoSuchUnit"
        }
        _ => false,
    }
}

fn prop_str(map: &HashMap<String, OwnedVariant>, key: &str) -> String {
    map.get(key)
        .and_then(|v| String::try_from(v.clone()).ok())
        .unwrap_or_default()
}

fn prop_u64(map: &HashMap<String, OwnedVariant>, key: &str) -> Option<u64> {
    map.get(key).and_then(|v| u64::try_from(v.clone()).ok())
}

fn type_interface(unit: &str) -> Option<&'static str> {
    match unit.rsplit('.').next()? {
        "service" => Some("org.freedesktop.systemd1.Service"),
        "scope" => Some("org.freedesktop.systemd1.Scope"),
        "slice" => Some("org.freedesktop.systemd1.Slice"),
        _ => None,
    }
}

impl Manager for Client {
    fn start_transient(&self, units: &[Transient<'_>]) -> Result<(), Error> {
        zbus::block_on(async {
            let mut stream = self.job_stream().await?;
            // Every call goes out before any reply is awaited (one round trip
            // for the batch, not one per unit: each costs milliseconds under
            // emulation). They are sent in order and systemd takes one
            // connection's calls in order: a failed unit of the same name (a
            // crashed run's) is reset before the name is taken, and the slice
            // exists before the scopes in it.
            let resets = units.iter().map(|t| async move {
                let name = t.unit.name.as_str();
                self.manager_call("ResetFailedUnit", name, &(name,)).await
            });
            let calls = units.iter().map(|t| async move {
                let name = t.unit.name.as_str();
                let props = properties(&t.unit.properties, t.pids);
                let aux: Vec<(&str, Vec<(&str, Variant<'_>)>)> = Vec::new();
                let reply = self
                    .manager_call("StartTransientUnit", name, &(name, "fail", props, aux))
                    .await;
                (name, reply)
            });
            let (resets, replies) = futures_util::future::join(
                futures_util::future::join_all(resets),
                futures_util::future::join_all(calls),
            )
            .await;
            let mut pending = HashMap::new();
            let mut failure = None;
            for reset in resets {
                match reset {
                    Err(Error::Call { source, .. }) if is_no_such_unit(&source) => {}
                    Err(e) => {
                        failure.get_or_insert(e);
                    }
                    Ok(_) => {}
                }
            }
            for (name, reply) in replies {
                match reply.and_then(|r| Self::job_path(&r, "StartTransientUnit", name)) {
                    Ok(job) => {
                        pending.insert(job, (name.to_string(), JobKind::Start));
                    }
                    Err(e) => {
                        failure.get_or_insert(e);
                    }
                }
            }
            // Jobs queued before a refusal finish first, so the caller sees
            // a settled state.
            let waited = self.wait_jobs(&mut stream, pending).await;
            match failure {
                Some(e) => Err(e),
                None => waited,
            }
        })
    }

    fn start_unit(&self, name: &str) -> Result<(), Error> {
        zbus::block_on(async {
            let mut stream = self.job_stream().await?;
            // One round trip for both: sent in order, and systemd takes one
            // connection's calls in order, so the reset comes first.
            let (reset, start) = futures_util::future::join(
                self.manager_call("ResetFailedUnit", name, &(name,)),
                self.manager_call("StartUnit", name, &(name, "replace")),
            )
            .await;
            match reset {
                Err(Error::Call { source, .. }) if is_no_such_unit(&source) => {}
                other => drop(other?),
            }
            let job = Self::job_path(&start?, "StartUnit", name)?;
            let pending = HashMap::from([(job, (name.to_string(), JobKind::Start))]);
            self.wait_jobs(&mut stream, pending).await
        })
    }

    fn reload_unit(&self, name: &str) -> Result<(), Error> {
        self.unit_job("ReloadUnit", JobKind::Reload, name, (name, "replace"))
    }

    fn restart_unit(&self, name: &str) -> Result<(), Error> {
        self.unit_job("RestartUnit", JobKind::Restart, name, (name, "replace"))
    }

    fn stop_unit(&self, name: &str) -> Result<(), Error> {
        self.unit_job("StopUnit", JobKind::Stop, name, (name, "replace"))
    }

    fn kill_unit(&self, name: &str, signal: i32) -> Result<(), Error> {
        zbus::block_on(async {
            match self
                .manager_call("KillUnit", name, &(name, "all", signal))
                .await
            {
                Err(Error::Call { source, .. }) if is_no_such_unit(&source) => Ok(()),
                other => other.map(|_| ()),
            }
        })
    }

    fn reset_failed(&self, name: &str) -> Result<(), Error> {
        zbus::block_on(async {
            match self.manager_call("ResetFailedUnit", name, &(name,)).await {
                Err(Error::Call { source, .. }) if is_no_such_unit(&source) => Ok(()),
                other => other.map(|_| ()),
            }
        })
    }

    fn status(&self, name: &str) -> Result<Option<UnitStatus>, Error> {
        zbus::block_on(async {
            let path = match self.manager_call("GetUnit", name, &(name,)).await {
                Ok(reply) => Self::job_path(&reply, "GetUnit", name)?,
                Err(Error::Call { source, .. }) if is_no_such_unit(&source) => return Ok(None),
                Err(e) => return Err(e),
            };
            let unit = self.get_all(&path, UNIT, name).await?;
            let mut st = UnitStatus {
                name: name.to_string(),
                active_state: prop_str(&unit, "ActiveState").into(),
                sub_state: prop_str(&unit, "SubState"),
                active_enter_usec: prop_u64(&unit, "ActiveEnterTimestamp").unwrap_or(0),
                ..Default::default()
            };
            if let Some(iface) = type_interface(name) {
                let typed = self.get_all(&path, iface, name).await?;
                st.control_group = prop_str(&typed, "ControlGroup");
                st.memory_current = prop_u64(&typed, "MemoryCurrent").filter(|&m| m != u64::MAX);
                st.main_pid = typed
                    .get("MainPID")
                    .and_then(|v| u32::try_from(v.clone()).ok())
                    .unwrap_or(0);
            }
            Ok(Some(st))
        })
    }

    fn list_units(&self, patterns: &[&str]) -> Result<Vec<UnitStatus>, Error> {
        type Row = (
            String,
            String,
            String,
            String,
            String,
            String,
            OwnedObjectPath,
            u32,
            String,
            OwnedObjectPath,
        );
        zbus::block_on(async {
            let states: Vec<&str> = Vec::new();
            let reply = self
                .manager_call(
                    "ListUnitsByPatterns",
                    &patterns.join(" "),
                    &(states, patterns),
                )
                .await?;
            let rows: Vec<Row> = reply.body().deserialize().map_err(|e| Error::Reply {
                unit: patterns.join(" "),
                detail: format!("ListUnitsByPatterns: {e}"),
            })?;
            Ok(rows
                .into_iter()
                .map(|r| UnitStatus {
                    name: r.0,
                    active_state: r.3.into(),
                    sub_state: r.4,
                    ..Default::default()
                })
                .collect())
        })
    }

    fn attach(&self, name: &str, pids: &[u32]) -> Result<(), Error> {
        self.attach_sub(name, "", pids)
    }

    fn attach_sub(&self, name: &str, subcgroup: &str, pids: &[u32]) -> Result<(), Error> {
        zbus::block_on(async {
            self.manager_call("AttachProcessesToUnit", name, &(name, subcgroup, pids))
                .await
                .map(|_| ())
        })
    }

    fn set_properties(&self, name: &str, props: &[Property]) -> Result<(), Error> {
        zbus::block_on(async {
            let props = properties(props, &[]);
            self.manager_call("SetUnitProperties", name, &(name, true, props))
                .await
                .map(|_| ())
        })
    }

    fn reload(&self) -> Result<(), Error> {
        zbus::block_on(async {
            self.manager_call("Reload", "systemd", &())
                .await
                .map(|_| ())
        })
    }

    fn unit_file_state(&self, name: &str) -> Result<Option<String>, Error> {
        zbus::block_on(async {
            match self.manager_call("GetUnitFileState", name, &(name,)).await {
                Ok(reply) => {
                    reply
                        .body()
                        .deserialize::<String>()
                        .map(Some)
                        .map_err(|e| Error::Reply {
                            unit: name.to_string(),
                            detail: format!("GetUnitFileState: {e}"),
                        })
                }
                Err(Error::Call {
                    source: zbus::Error::MethodError(..) | zbus::Error::FDO(_),
                    ..
                }) => Ok(None),
                Err(e) => Err(e),
            }
        })
    }

    fn set_enabled(&self, name: &str, enabled: bool) -> Result<(), Error> {
        zbus::block_on(async {
            let files = vec![name];
            if enabled {
                self.manager_call("EnableUnitFiles", name, &(files, false, true))
                    .await?;
            } else {
                self.manager_call("DisableUnitFiles", name, &(files, false))
                    .await?;
            }
            Ok(())
        })
    }
}
