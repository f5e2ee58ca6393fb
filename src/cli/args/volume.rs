//! `podctl volume ...`: its subcommands and their options.

use super::OutputArgs;
use clap::Subcommand;
use clap_complete::engine::ArgValueCandidates;

#[derive(Debug, Subcommand)]
pub enum VolumeCommand {
    /// List named volumes: size on disk and the stored pods that use them.
    Ls {
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Show one volume: its directory, size and the stored pods that use it.
    Inspect {
        /// The volume's name.
        #[arg(add = ArgValueCandidates::new(super::super::complete::volumes))]
        name: String,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Remove volumes and their data; refused while a stored pod uses one.
    Rm {
        /// The volumes' names.
        #[arg(required = true, add = ArgValueCandidates::new(super::super::complete::volumes))]
        names: Vec<String>,
        /// Remove the pods that use them first (podctl down --purge), as podman volume rm --force does.
        #[arg(short, long)]
        force: bool,
    },
    /// Remove every volume no stored pod uses.
    Prune,
}
