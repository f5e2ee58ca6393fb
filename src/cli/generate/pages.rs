//! What clap does not know about each command's man page: its EXAMPLES
//! (command lines that work as written, kept in `pages.txt`), EXIT STATUS
//! and SEE ALSO. Every generated page must have an entry: a new command
//! without one fails `podctl __generate man`.

/// The examples and references of every page, by page name.
const PAGES: &str = include_str!("pages.txt");

/// The sections one page adds to clap's.
#[derive(Debug, Default)]
pub struct Extra {
    /// (what the lines do, or empty to continue the previous ones; a command line).
    pub examples: Vec<(&'static str, &'static str)>,
    /// (status, when).
    pub exit: &'static [(&'static str, &'static str)],
    /// `page(section)` references.
    pub see_also: Vec<&'static str>,
}

/// Most commands: `cli::report` maps success to 0 and an error to 1; clap
/// exits 2 on a command line it cannot parse, before anything runs.
const STANDARD: &[(&str, &str)] = &[
    ("0", "success"),
    ("1", "an error, printed on standard error"),
    (
        "2",
        "the command line is wrong (an unknown option, a missing argument); nothing was done",
    ),
];

#[cfg(test)]
/// The pages written by hand and shipped beside the generated ones.
pub const HAND_WRITTEN: [&str; 2] = ["podctl-supervisor(8)", "podctl-pause(8)"];

#[cfg(test)]
/// Pages of other packages a SEE ALSO may name.
pub const SYSTEM_PAGES: [&str; 10] = [
    "systemctl(1)",
    "journalctl(1)",
    "systemd.unit(5)",
    "systemd.resource-control(5)",
    "systemd-cgtop(1)",
    "crun(1)",
    "runc(8)",
    "lsns(8)",
    "namespaces(7)",
    "capabilities(7)",
];

/// The extra sections of the page `name` (`podctl`, `podctl-network-create`...).
pub fn extra(name: &str) -> Option<Extra> {
    let mut found: Option<Extra> = None;
    let mut pending = "";
    for line in PAGES.lines() {
        if let Some(page) = line.strip_prefix("== ") {
            if found.is_some() {
                break;
            }
            if page == name {
                found = Some(Extra {
                    exit: exit_status(name),
                    ..Extra::default()
                });
            }
            continue;
        }
        let Some(e) = found.as_mut() else { continue };
        if let Some(refs) = line.strip_prefix("see ") {
            e.see_also.extend(refs.split_whitespace());
        } else if let Some(text) = line.strip_prefix("# ") {
            pending = text;
        } else if let Some(cmd) = line.strip_prefix("$ ") {
            e.examples.push((std::mem::take(&mut pending), cmd));
        }
    }
    found
}

/// The commands whose status is not [`STANDARD`]'s.
fn exit_status(name: &str) -> &'static [(&'static str, &'static str)] {
    match name {
        "podctl" => &[
            ("0", "success"),
            ("1", "an error, printed on standard error"),
            ("2", "the command line is wrong; nothing was done"),
            (
                "125",
                "podctl exec: podctl itself failed (otherwise exec exits with the command's status)",
            ),
        ],
        "podctl-validate" => &[
            ("0", "every file is valid"),
            (
                "1",
                "a file is refused (every problem is printed) or cannot be read",
            ),
            ("2", "the command line is wrong; nothing was checked"),
        ],
        "podctl-diff" => &[
            (
                "0",
                "the differences were printed (also when there are none: diff does not exit 1 for differences)",
            ),
            ("1", "an error: a file is refused or cannot be read"),
            ("2", "the command line is wrong; nothing was compared"),
        ],
        "podctl-exec" => &[
            ("N", "the command's own exit status"),
            (
                "125",
                "podctl failed: no such pod or container, or the runtime could not run the command",
            ),
            (
                "2",
                "also when podctl's own arguments are wrong (nothing ran)",
            ),
        ],
        _ => STANDARD,
    }
}
