//! `podctl secret ...`: its subcommands and their options.

use super::OutputArgs;
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum SecretCommand {
    /// Store a secret, encrypted by systemd-creds (TPM2 when present, the host's key otherwise).
    Create {
        /// The secret's name: 1 to 253 of A-Z a-z 0-9 . _ -, not starting with a dot.
        name: String,
        /// The file holding the value; `-` or none: standard input. Never printed.
        file: Option<PathBuf>,
    },
    /// List secrets: name, encrypted size, when made, the stored pods that use them.
    Ls {
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Show one secret's metadata (never its value).
    Inspect {
        name: String,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Remove secrets; refused while a stored pod uses one.
    Rm {
        #[arg(required = true)]
        names: Vec<String>,
    },
}
