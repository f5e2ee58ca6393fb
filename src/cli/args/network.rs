//! `podctl network ...`: its subcommands and their options.

use super::OutputArgs;
use clap::Subcommand;
use std::net::Ipv4Addr;

#[derive(Debug, Subcommand)]
pub enum NetworkCommand {
    /// List networks: subnet, gateway, bridge, internal, DNS, pods on it.
    Ls {
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Show one network: its definition, its pods (addresses, ports), how to see its rules.
    Inspect {
        /// The network's name.
        name: String,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Define a network (writes /etc/podctl/networks/NAME.toml).
    Create {
        /// The network's name (a DNS label).
        name: String,
        /// IPv4 subnet in CIDR form, e.g. 10.90.0.0/24; must not overlap another network's.
        #[arg(long)]
        subnet: String,
        /// Gateway address (default: the subnet's first address).
        #[arg(long)]
        gateway: Option<Ipv4Addr>,
        /// Bridge interface name (default: pc-NAME).
        #[arg(long)]
        bridge: Option<String>,
        /// No outside access: no default route out, no masquerade.
        #[arg(long)]
        internal: bool,
        /// No name resolution between pods (no aardvark-dns).
        #[arg(long)]
        no_dns: bool,
    },
    /// Remove a network definition; refused while a pod uses it or a stored pod names it.
    Rm {
        /// The network's name.
        name: String,
    },
}
