//! `podctl logs`: what a pod's containers wrote, as `podman logs` and
//! `kubectl logs` print it (the lines only; `--timestamps` adds each line's
//! time), read from the journal; `--journal` (or `-o MODE`) shows
//! journalctl's own view of the pod's units, supervisor included. On a
//! terminal a container's control characters are shown escaped, never
//! sent to the terminal as they are.
//! Also for a pod that is down: its last run.

use super::args::LogsArgs;
use crate::layout::Layout;
use crate::plan::units;
use crate::supervise::journal::{Journal, Journalctl};
use anyhow::bail;
use std::io::Write;

/// The pod's containers, from its stored definition, else its state file;
/// `None` when neither says (no pod by that name, as far as podctl knows).
/// A definition podctl may not read (not root) names no containers but
/// counts as a pod.
pub fn containers_of(paths: &Layout, name: &str) -> Option<Vec<String>> {
    let def = paths.definition(name);
    match std::fs::symlink_metadata(&def) {
        Ok(_) => {
            return Some(crate::spec::load(&def).map_or_else(
                |_| Vec::new(),
                |p| p.containers.iter().map(|c| c.name.clone()).collect(),
            ));
        }
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Some(Vec::new()),
        Err(_) => {}
    }
    let state = crate::supervise::state::PodState::load(&paths.run, name)?;
    Some(state.containers.iter().map(|c| c.name.clone()).collect())
}

/// journalctl's arguments. Raw lines: the containers' scopes only (each
/// named: `--tail` counts their lines, not systemd's about them), as JSON
/// to take MESSAGE from. `--journal`: the pod's units (its supervisor's,
/// its units', its containers' lines) in journalctl's mode. Units are
/// matched in the journal, not among loaded units: a pod that is down
/// shows its last run.
pub fn journalctl_args(name: &str, containers: &[String], a: &LogsArgs) -> Vec<String> {
    let journal = a.journal || a.output.is_some();
    let f = crate::supervise::journal::UnitFields::own();
    let mut args: Vec<String> = vec!["--no-pager".into()];
    match a.only() {
        Some(c) => args.push(format!("{}={}", f.field, units::container(name, c))),
        None if journal || containers.is_empty() => args.extend([
            f.flag.into(),
            units::service(name),
            f.flag.into(),
            format!("pod-{name}.*.scope"),
        ]),
        // Matches of one field are OR'ed.
        None => args.extend(
            containers
                .iter()
                .map(|c| format!("{}={}", f.field, units::container(name, c))),
        ),
    }
    let output = if journal {
        a.output.clone()
    } else {
        Some("json".into())
    };
    let pairs = [
        ("--since", a.since.clone()),
        ("--until", a.until.clone()),
        ("--lines", a.tail.map(|n| n.to_string())),
        ("--output", output),
    ];
    for (flag, value) in pairs {
        if let Some(v) = value {
            args.push(format!("{flag}={v}"));
        }
    }
    if !journal {
        args.push(format!("--output-fields=MESSAGE,{}", f.field));
    }
    if a.follow {
        args.push("--follow".into());
    }
    args
}

/// One journal entry (`-o json`) as a raw line: its MESSAGE (text, or
/// bytes that are not UTF-8), with `[CONTAINER] ` before it when `prefix`
/// (a pod's lines from several containers) and its time with `timestamps`.
/// `None` for an entry of no container of the pod (systemd's own lines
/// when the units were matched by pattern).
pub fn raw_line(name: &str, entry: &str, prefix: bool, timestamps: bool) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(entry).ok()?;
    let unit = v[crate::supervise::journal::UnitFields::own().field].as_str()?;
    let container = unit
        .strip_prefix(&format!("pod-{name}."))?
        .strip_suffix(".scope")?;
    // The holder's scope, matched by the pattern: not a container.
    if container == "sandbox" {
        return None;
    }
    let message = match &v["MESSAGE"] {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(bytes) => {
            let b: Vec<u8> = bytes
                .iter()
                .filter_map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok()))
                .collect();
            String::from_utf8_lossy(&b).into_owned()
        }
        _ => String::new(),
    };
    let mut line = String::new();
    if timestamps {
        let usec = v["__REALTIME_TIMESTAMP"].as_str()?.parse().ok()?;
        line.push_str(&super::output::rfc3339(usec));
        line.push(' ');
    }
    if prefix {
        line.push_str(&format!("[{container}] "));
    }
    line.push_str(&message);
    Some(line)
}

/// A container's line made harmless for a terminal: control characters
/// (escape sequences, carriage returns, C1 codes) shown as `\xNN` /
/// `\u{NN}`, tabs kept. A container cannot move the cursor, retitle the
/// window or rewrite what was printed before.
pub fn escape_controls(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    for c in line.chars() {
        match c {
            '\t' => out.push(c),
            '\0'..='\x1f' | '\x7f' => out.push_str(&format!("\\x{:02x}", c as u32)),
            '\u{80}'..='\u{9f}' => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            _ => out.push(c),
        }
    }
    out
}

/// Prints the pod's (or one container's) raw lines from `journal`; with
/// `terminal`, each line through [`escape_controls`].
pub fn print_logs(
    journal: &dyn Journal,
    paths: &Layout,
    a: &LogsArgs,
    terminal: bool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let name = a.name.as_str();
    let Some(containers) = containers_of(paths, name) else {
        bail!(
            "no pod named {name:?} (no {} and no {})",
            paths.definition(name).display(),
            crate::supervise::state::path(&paths.run, name).display()
        );
    };
    if let Some(c) = a.only()
        && !containers.is_empty()
        && !containers.iter().any(|n| n == c)
    {
        bail!(
            "pod {name:?} has no container {c:?} (its containers: {})",
            containers.join(", ")
        );
    }
    let args = journalctl_args(name, &containers, a);
    let prefix = a.only().is_none();
    journal.read(&args, &mut |entry| {
        if let Some(line) = raw_line(name, entry, prefix, a.timestamps) {
            if terminal {
                writeln!(out, "{}", escape_controls(&line))?;
            } else {
                writeln!(out, "{line}")?;
            }
            if a.follow {
                out.flush()?;
            }
        }
        Ok(())
    })?;
    Ok(())
}

pub fn logs(paths: &Layout, a: &LogsArgs) -> anyhow::Result<()> {
    if a.journal || a.output.is_some() {
        if containers_of(paths, &a.name).is_none() {
            bail!(
                "no pod named {:?} (no {})",
                a.name,
                paths.definition(&a.name).display()
            );
        }
        use std::os::unix::process::CommandExt;
        let err = std::process::Command::new("journalctl")
            .args(journalctl_args(&a.name, &[], a))
            .exec();
        bail!("cannot run journalctl: {err}")
    }
    use std::io::IsTerminal;
    let terminal = std::io::stdout().is_terminal();
    print_logs(
        &Journalctl,
        paths,
        a,
        terminal,
        &mut std::io::stdout().lock(),
    )
}

#[cfg(test)]
mod tests;
