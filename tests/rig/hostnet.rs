//! The CI machine's own network, before and after the container tier: its
//! interfaces, addresses, routes and firewall rules must be the same (every
//! networking trial runs inside the guest's own network namespace,
//! `systemd-nspawn --private-network`). Read with the host's own tools where
//! it has them (`ip`, `nft`, `iptables-save`), else from /proc.

use std::process::Command;

/// What was read, per source (command or file), as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot(pub Vec<(String, String)>);

/// Commands whose output describes the host's network; a missing tool is skipped.
const SOURCES: &[&[&str]] = &[
    &["ip", "-o", "link", "show"],
    &["ip", "-o", "addr", "show"],
    &["ip", "route", "show", "table", "all"],
    &["ip", "-6", "route", "show", "table", "all"],
    &["nft", "list", "ruleset"],
    &["iptables-save"],
    &["ip6tables-save"],
];
/// Files that hold the same where the tools are missing.
const FILES: &[&str] = &[
    "/proc/net/route",
    "/proc/net/ip_tables_names",
    "/proc/sys/net/ipv4/ip_forward",
];

pub fn snapshot() -> Snapshot {
    let mut out = Vec::new();
    for argv in SOURCES {
        if let Ok(o) = Command::new(argv[0]).args(&argv[1..]).output()
            && o.status.success()
        {
            out.push((
                argv.join(" "),
                normalize(&String::from_utf8_lossy(&o.stdout)),
            ));
        }
    }
    for f in FILES {
        if let Ok(text) = std::fs::read_to_string(f) {
            out.push((f.to_string(), text));
        }
    }
    Snapshot(out)
}

/// Drops what changes by itself: address lifetimes, route expiry, and the
/// `iptables-save` header and counters.
fn normalize(text: &str) -> String {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let mut words: Vec<&str> = Vec::new();
            let mut skip = 0;
            for w in l.split_whitespace() {
                if skip > 0 {
                    skip -= 1;
                    continue;
                }
                if matches!(w, "valid_lft" | "preferred_lft" | "expires") {
                    skip = 1;
                    continue;
                }
                if w.starts_with('[') && w.ends_with(']') && w.contains(':') {
                    continue; // [packets:bytes]
                }
                words.push(w);
            }
            words.join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `Err` naming each source that differs and its changed lines.
pub fn compare(before: &Snapshot, after: &Snapshot) -> Result<(), String> {
    let mut problems = Vec::new();
    for (source, old) in &before.0 {
        let Some((_, new)) = after.0.iter().find(|(s, _)| s == source) else {
            problems.push(format!("{source}: could not be read again"));
            continue;
        };
        if old != new {
            let gone: Vec<&str> = old
                .lines()
                .filter(|l| !new.lines().any(|n| n == *l))
                .collect();
            let added: Vec<&str> = new
                .lines()
                .filter(|l| !old.lines().any(|o| o == *l))
                .collect();
            problems.push(format!(
                "{source} changed:\n  gone: {gone:?}\n  new: {added:?}"
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the CI machine's own network changed during the container tier:\n{}",
            problems.join("\n")
        ))
    }
}

/// The sources a snapshot read, for the log.
pub fn sources(s: &Snapshot) -> String {
    s.0.iter()
        .map(|(n, _)| n.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}
