//! `podctl events [NAME] [-f] [--since TIME] [--output json]`: the container
//! events the supervisors wrote to the journal (see [`crate::supervise::events`]),
//! read with `journalctl -o json` ([`crate::supervise::journal`]), oldest first.
//!
//! Any local user can write an entry with `PODCTL_*` fields (`logger
//! --journald`), so those fields alone prove nothing: an entry counts only
//! if journald's own fields, which no client can set, say it was sent by
//! root (`_UID=0`) and, when journald could tell the sender's unit (it
//! cannot once the sender has exited), by the pod's supervisor
//! (`_SYSTEMD_UNIT=pod@POD.service`).

use super::output::Format;
use crate::supervise::events::Event;
use crate::supervise::journal::{Journal, Journalctl};
use serde::Serialize;
use std::io::Write;

/// One event as `events --output json` prints it (one object per line).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventRecord {
    /// UTC, RFC 3339 with microseconds, e.g. `2026-11-30T07:55:06.123456Z`.
    pub time: String,
    /// Microseconds since the epoch (the journal's __REALTIME_TIMESTAMP).
    pub timestamp_usec: u64,
    pub pod: String,
    pub container: String,
    /// started, ready, exited, restarted, oom, probe-failed.
    pub event: String,
    /// e.g. "signal 9" for exited; may be empty.
    pub detail: String,
}

/// journalctl's arguments: every event kind (same-field matches are OR'ed),
/// sent by root (by the user, for a user's pods), of pod `name` when given
/// (different fields: AND).
pub fn journalctl_args(name: Option<&str>, follow: bool, since: Option<&str>) -> Vec<String> {
    let mut args: Vec<String> = vec!["--no-pager".into(), "--output=json".into()];
    if follow {
        args.push("--follow".into());
        // Without --since, follow from the last few, as `journalctl -f`.
    }
    if let Some(s) = since {
        args.push(format!("--since={s}"));
    }
    for e in Event::ALL {
        args.push(format!("PODCTL_EVENT={}", e.as_str()));
    }
    args.push(format!(
        "_UID={}",
        crate::supervise::journal::UnitFields::own().uid
    ));
    if let Some(n) = name {
        args.push(format!("PODCTL_POD={n}"));
    }
    args
}

/// One line of `journalctl -o json`, if it is a podctl event written by a
/// supervisor: sent by root and, when journald knew the sender's unit,
/// by `pod@POD.service` of the pod it names (a rollback: by `podctl
/// auto-update`, wherever it ran).
pub fn parse_entry(line: &str) -> Option<EventRecord> {
    let v: serde_json::Value = serde_json::from_str(line).ok()?;
    let text = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
    let usec: u64 = text("__REALTIME_TIMESTAMP")?.parse().ok()?;
    let pod = text("PODCTL_POD")?;
    let own = crate::supervise::journal::UnitFields::own();
    if text("_UID") != Some(own.uid.to_string()) {
        return None;
    }
    let event = text("PODCTL_EVENT")?;
    // A rollback is told by `podctl auto-update`, from wherever root ran it.
    if event != Event::Rollback.as_str()
        && text(own.field).is_some_and(|u| u != crate::plan::units::service(&pod))
    {
        return None;
    }
    Some(EventRecord {
        time: super::output::rfc3339(usec),
        timestamp_usec: usec,
        pod,
        container: text("PODCTL_CONTAINER").unwrap_or_default(),
        event,
        detail: text("PODCTL_DETAIL").unwrap_or_default(),
    })
}

/// The human line of an event.
pub fn render(e: &EventRecord) -> String {
    let mut line = format!("{} {}/{} {}", e.time, e.pod, e.container, e.event);
    if !e.detail.is_empty() {
        line.push_str(&format!(" ({})", e.detail));
    }
    line
}

pub fn events(
    name: Option<&str>,
    follow: bool,
    since: Option<&str>,
    format: Format,
) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    print_events(&Journalctl, &mut stdout, name, follow, since, format)
}

/// Prints the events `journal` has (of pod `name`, or all), one line each
/// as they come: [`render`]ed, one JSON object per line, or one YAML
/// document each (`---` first); the journal's other lines are skipped.
pub fn print_events(
    journal: &dyn Journal,
    out: &mut dyn Write,
    name: Option<&str>,
    follow: bool,
    since: Option<&str>,
    format: Format,
) -> anyhow::Result<()> {
    journal.read(&journalctl_args(name, follow, since), &mut |line| {
        let Some(e) = parse_entry(line) else {
            return Ok(());
        };
        match format {
            Format::Human => writeln!(out, "{}", render(&e))?,
            Format::Json => {
                let line = serde_json::to_string(&e).map_err(std::io::Error::other)?;
                writeln!(out, "{line}")?
            }
            Format::Yaml => {
                let v = serde_json::to_value(&e).map_err(std::io::Error::other)?;
                write!(out, "---\n{}", super::output::yaml(&v))?
            }
        }
        out.flush()
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journal_entries_become_events() {
        let line = r#"{"__REALTIME_TIMESTAMP":"1795938906123456","_UID":"0","_SYSTEMD_UNIT":"pod@web.service","PODCTL_POD":"web","PODCTL_CONTAINER":"app","PODCTL_EVENT":"exited","PODCTL_DETAIL":"signal 9","MESSAGE":"x"}"#;
        let e = parse_entry(line).unwrap();
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"time":"2026-11-29T07:55:06.123456Z","timestamp_usec":1795938906123456,"pod":"web","container":"app","event":"exited","detail":"signal 9"}"#
        );
        assert_eq!(
            render(&e),
            "2026-11-29T07:55:06.123456Z web/app exited (signal 9)"
        );
        assert!(parse_entry(r#"{"__REALTIME_TIMESTAMP":"1","MESSAGE":"other"}"#).is_none());
        let args = journalctl_args(Some("web"), false, Some("-1h"));
        assert!(args.contains(&"PODCTL_EVENT=probe-failed".to_string()));
        assert!(args.contains(&"PODCTL_POD=web".to_string()));
        assert!(args.contains(&"--since=-1h".to_string()));
        assert!(args.contains(&"_UID=0".to_string()));
    }

    /// PODCTL_* fields anyone can write; journald's own fields decide.
    #[test]
    fn only_the_supervisors_entries_are_events() {
        let entry = |trusted: &str| {
            format!(
                r#"{{"__REALTIME_TIMESTAMP":"1",{trusted}"PODCTL_POD":"web","PODCTL_CONTAINER":"app","PODCTL_EVENT":"ready"}}"#
            )
        };
        assert!(parse_entry(&entry(r#""_UID":"0","_SYSTEMD_UNIT":"pod@web.service","#)).is_some());
        // Sent by root but the supervisor exited before journald looked.
        assert!(parse_entry(&entry(r#""_UID":"0","#)).is_some());
        // A user's `logger --journald`.
        assert!(
            parse_entry(&entry(
                r#""_UID":"65534","_SYSTEMD_UNIT":"pod@web.service","#
            ))
            .is_none()
        );
        assert!(parse_entry(&entry("")).is_none());
        // Root, but not this pod's supervisor (another pod's, a shell's).
        assert!(parse_entry(&entry(r#""_UID":"0","_SYSTEMD_UNIT":"pod@db.service","#)).is_none());
        assert!(parse_entry(&entry(r#""_UID":"0","_SYSTEMD_UNIT":"session-1.scope","#)).is_none());
    }

    /// Through the fake journal: the query names the pod; only event
    /// entries are printed, in the journal's order, as lines or JSON.
    #[test]
    fn events_are_read_from_the_journal_and_printed() {
        let entry = |usec: u64, event: &str, detail: &str| {
            format!(
                r#"{{"__REALTIME_TIMESTAMP":"{usec}","_UID":"0","PODCTL_POD":"web","PODCTL_CONTAINER":"app","PODCTL_EVENT":"{event}","PODCTL_DETAIL":"{detail}"}}"#
            )
        };
        let journal = crate::supervise::journal::Lines {
            lines: vec![
                entry(1_000_000, "started", ""),
                r#"{"__REALTIME_TIMESTAMP":"2000000","MESSAGE":"not an event"}"#.into(),
                entry(3_000_000, "exited", "exited 1"),
            ],
            ..Default::default()
        };
        let mut out = Vec::new();
        print_events(&journal, &mut out, Some("web"), false, None, Format::Human).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "1970-01-01T00:00:01.000000Z web/app started\n\
             1970-01-01T00:00:03.000000Z web/app exited (exited 1)\n"
        );
        {
            let queries = journal.queries.borrow();
            assert_eq!(queries.len(), 1);
            assert!(queries[0].contains(&"PODCTL_POD=web".to_string()));
            assert!(queries[0].contains(&"--output=json".to_string()));
        }
        let mut out = Vec::new();
        print_events(&journal, &mut out, None, false, None, Format::Json).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.lines().count(), 2, "{text}");
        assert!(
            text.starts_with(r#"{"time":"1970-01-01T00:00:01.000000Z""#),
            "{text}"
        );
        assert!(
            !journal.queries.borrow()[1]
                .iter()
                .any(|a| a.starts_with("PODCTL_POD="))
        );
        // YAML: one document per event, each read back as the JSON line.
        let mut out = Vec::new();
        print_events(&journal, &mut out, None, false, None, Format::Yaml).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.matches("---\n").count(), 2, "{text}");
        assert!(
            text.starts_with("---\n") && text.contains("event: exited\n"),
            "{text}"
        );
    }
}
