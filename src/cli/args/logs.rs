//! `podctl logs`: its options.

use clap_complete::engine::ArgValueCandidates;

#[derive(Debug, Clone, Default, clap::Args)]
pub struct LogsArgs {
    /// The pod's name.
    #[arg(add = ArgValueCandidates::new(super::super::complete::pods))]
    pub name: String,
    /// Only this container's output (same as --container).
    #[arg(value_name = "CONTAINER", add = ArgValueCandidates::new(super::super::complete::containers))]
    pub container_arg: Option<String>,
    /// Only this container's output.
    #[arg(short = 'c', long = "container", value_name = "CONTAINER",
          conflicts_with = "container_arg",
          add = ArgValueCandidates::new(super::super::complete::containers))]
    pub container: Option<String>,
    /// Keep printing new lines as they come.
    #[arg(short, long)]
    pub follow: bool,
    /// Only lines at or after this time, e.g. "-1h", "2026-01-31 12:00", "today" (journalctl --since).
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    pub since: Option<String>,
    /// Only lines at or before this time (journalctl --until).
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    pub until: Option<String>,
    /// Only the last N lines.
    #[arg(long = "tail", short = 'n', visible_alias = "lines", value_name = "N")]
    pub tail: Option<u64>,
    /// Begin each line with its time (RFC 3339, UTC).
    #[arg(short, long, conflicts_with_all = ["journal", "output"])]
    pub timestamps: bool,
    /// journalctl's view instead: the supervisor's and systemd's lines too, with time, host and process.
    #[arg(long)]
    pub journal: bool,
    /// journalctl output mode for --journal, e.g. short, short-iso, cat, json, json-pretty (implies --journal).
    #[arg(short = 'o', long, value_name = "MODE")]
    pub output: Option<String>,
}

impl LogsArgs {
    /// The one container asked for, positional or `-c`.
    pub fn only(&self) -> Option<&str> {
        self.container.as_deref().or(self.container_arg.as_deref())
    }
}
