//! `podctl inspect NAME [-o json|yaml]`: each process's namespaces
//! (the sandbox's, then each container's command), marked shared with the
//! sandbox, the process's own, or the host's: the model pod's `lsns` table.

use crate::layout::Layout;
use crate::plan::NsKind;
use crate::supervise::state::PodState;
use anyhow::bail;
use serde::Serialize;
use std::fmt::Write as _;

/// Whose namespace a process is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Sharing {
    /// The host's (PID 1's).
    Host,
    /// The sandbox's: shared by the pod.
    Shared,
    /// The process's own.
    Own,
}

impl Sharing {
    fn word(self) -> &'static str {
        match self {
            Sharing::Host => "host",
            Sharing::Shared => "shared",
            Sharing::Own => "own",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NsEntry {
    pub inode: u64,
    pub sharing: Sharing,
}

/// One process of `inspect`: its namespaces by kind (net, ipc, uts, pid, mnt, cgroup).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InspectRow {
    pub process: String,
    pub pid: u32,
    pub namespaces: serde_json::Map<String, serde_json::Value>,
    /// The sandbox's addresses on the pod's networks (`ADDRESS/NETWORK`);
    /// left out of the other rows and of pods without a bridge network.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<String>,
    #[serde(skip)]
    entries: Vec<NsEntry>,
}

/// Marks each namespace host / shared / own. `rows[0]` is the sandbox;
/// `host` holds PID 1's inodes in [`INSPECT_KINDS`] order. Pure.
pub fn inspect_table(rows: &[(String, u32, Vec<u64>)], host: &[u64]) -> Vec<InspectRow> {
    let sandbox = rows.first().map(|r| r.2.clone()).unwrap_or_default();
    rows.iter()
        .enumerate()
        .map(|(row, (process, pid, inodes))| {
            let entries: Vec<NsEntry> = inodes
                .iter()
                .enumerate()
                .map(|(i, ino)| NsEntry {
                    inode: *ino,
                    sharing: if host.get(i) == Some(ino) {
                        Sharing::Host
                    } else if row > 0 && sandbox.get(i) == Some(ino) {
                        Sharing::Shared
                    } else {
                        Sharing::Own
                    },
                })
                .collect();
            let namespaces = INSPECT_KINDS
                .iter()
                .zip(&entries)
                .map(|(k, e)| {
                    let v = serde_json::to_value(e).unwrap_or_default();
                    (k.proc_name().to_string(), v)
                })
                .collect();
            InspectRow {
                process: process.clone(),
                pid: *pid,
                namespaces,
                addresses: Vec::new(),
                entries,
            }
        })
        .collect()
}

/// The human table of `inspect`.
pub fn render_inspect(table: &[InspectRow]) -> String {
    let mut out = format!("{:<12} {:>8}", "PROCESS", "PID");
    for k in INSPECT_KINDS {
        let _ = write!(out, " {:>18}", k.proc_name());
    }
    out.push('\n');
    for row in table {
        let _ = write!(out, "{:<12} {:>8}", row.process, row.pid);
        for e in &row.entries {
            let _ = write!(out, " {:>18}", format!("{} {}", e.inode, e.sharing.word()));
        }
        out.push('\n');
    }
    out.push_str(
        "(shared = same namespace as the sandbox; own = private to the process; host = the host's)\n",
    );
    out
}

pub fn inspect(paths: &Layout, name: &str, format: super::output::Format) -> anyhow::Result<()> {
    super::check_owner("inspect")?;
    let rows = inspect_rows(paths, name)?;
    let host: Vec<u64> = INSPECT_KINDS
        .iter()
        .map(|k| crate::supervise::ns::inode(&paths.host.proc, 1, *k).unwrap_or(0))
        .collect();
    let mut table = inspect_table(&rows, &host);
    let network = crate::net::status::of(paths, name);
    if let Some(sandbox) = table.first_mut() {
        sandbox.addresses = network
            .addresses
            .iter()
            .map(|a| format!("{}/{}", a.ip, a.network))
            .collect();
    }
    if !super::output::print(format, &table)? {
        // Before the table: the table and its legend end the output.
        println!("network: {}", network.human());
        println!("user namespace: {}", userns_line(paths, name));
        print!("{}", render_inspect(&table));
    }
    Ok(())
}

/// The pod's user namespace as the supervisor runs it.
fn userns_line(paths: &Layout, name: &str) -> String {
    match crate::supervise::state::PodState::load(&paths.run, name).and_then(|s| s.userns) {
        Some(m) => format!("the pod's own, IDs {m}"),
        None => "the host's (container root is host root)".into(),
    }
}

pub const INSPECT_KINDS: [NsKind; 7] = [
    NsKind::User,
    NsKind::Net,
    NsKind::Ipc,
    NsKind::Uts,
    NsKind::Pid,
    NsKind::Mnt,
    NsKind::Cgroup,
];

/// One row of `inspect`: a process and the inode of each namespace.
pub fn inspect_rows(paths: &Layout, name: &str) -> anyhow::Result<Vec<(String, u32, Vec<u64>)>> {
    let Some(state) = PodState::load(&paths.run, name) else {
        bail!(
            "pod {name:?} is not running (no {})",
            crate::supervise::state::path(&paths.run, name).display()
        );
    };
    let proc_root = paths.host.proc.as_path();
    let inodes = |pid: u32| -> Vec<u64> {
        INSPECT_KINDS
            .iter()
            .map(|k| crate::supervise::ns::inode(proc_root, pid, *k).unwrap_or(0))
            .collect()
    };
    let mut rows = vec![(
        "sandbox".to_string(),
        state.sandbox_pid,
        inodes(state.sandbox_pid),
    )];
    for c in state.containers.iter().filter(|c| c.pid != 0) {
        rows.push((c.name.clone(), c.pid, inodes(c.pid)));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inspect_json_marks_sharing() {
        let rows = vec![
            ("sandbox".to_string(), 101, vec![10, 11, 12, 13, 4, 5, 6]),
            ("app".to_string(), 102, vec![10, 11, 12, 13, 24, 25, 26]),
        ];
        let host = [0, 1, 2, 3, 4, 5, 6];
        let table = inspect_table(&rows, &host);
        let got = serde_json::to_value(&table).unwrap();
        assert_eq!(
            got,
            serde_json::from_str::<serde_json::Value>(include_str!(
                "../../tests/data/json/inspect.json"
            ))
            .unwrap(),
            "{got:#}"
        );
        let text = render_inspect(&table);
        assert!(
            text.contains("\napp               102          10 shared          11 shared          12 shared          13 shared             24 own"),
            "{text}"
        );
        assert!(
            text.contains("\nsandbox           101             10 own             11 own"),
            "{text}"
        );
    }
}
