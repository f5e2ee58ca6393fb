//! `podctl start|stop|restart`: the pods they act on.

use clap_complete::engine::ArgValueCandidates;

/// The pods a command acts on: names, or `--all`.
#[derive(Debug, Clone, clap::Args)]
pub struct ControlArgs {
    /// The pods' names.
    #[arg(required_unless_present = "all", add = ArgValueCandidates::new(super::super::complete::pods))]
    pub names: Vec<String>,
    /// Every pod podctl manages (stored or running).
    #[arg(short, long, conflicts_with = "names")]
    pub all: bool,
}
