//! The command line, as clap types: used by the `podctl` binary to parse and
//! by `podctl __generate` to write man pages and shell completions, so both
//! always describe the same options.

use clap::{Parser, Subcommand, ValueEnum};
use clap_complete::engine::ArgValueCandidates;
use std::path::PathBuf;

/// `podctl --version`: the crate version and the git revision it was built from.
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (", env!("PODCTL_GIT_REV"), ")");

#[derive(Debug, Parser)]
#[command(
    name = "podctl",
    version = VERSION,
    about = "Declarative, systemd-native pods",
    long_about = "Declarative, systemd-native pods: a pod file (TOML) becomes pod@NAME.service, \
                  a slice and one scope per container, with shared namespaces."
)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

/// How a read-only command prints its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// Text for a person.
    Human,
    /// One JSON document (see docs/commands.md: JSON output).
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check pod files; print a summary per valid file, every error otherwise.
    Validate {
        /// Pod files to check.
        #[arg(required = true, value_hint = clap::ValueHint::FilePath)]
        files: Vec<PathBuf>,
        /// Output format (json: one object per file, errors with file, line, column, key, message).
        #[arg(long, value_enum, default_value = "human")]
        output: Output,
        /// Kubernetes manifests: warn about (and ignore) the fields podctl does not support, instead of refusing the file.
        #[arg(long)]
        ignore_unsupported: bool,
    },
    /// Make the host match pod files (a file, or every *.toml, *.yaml and *.yml in a directory):
    /// start, reload (only what changed) or recreate pod@NAME.service.
    Apply {
        /// A pod file, or a directory of them.
        #[arg(value_hint = clap::ValueHint::AnyPath)]
        file: PathBuf,
        /// With a directory: also remove the pods podctl manages that it no longer defines.
        #[arg(long)]
        prune: bool,
        /// Print the plan (units, properties, dependencies, namespaces) and change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Format of --dry-run output.
        #[arg(long, value_enum, default_value = "human")]
        output: Output,
        /// Kubernetes manifests: warn about (and ignore) the fields podctl does not support, instead of refusing the file.
        #[arg(long)]
        ignore_unsupported: bool,
    },
    /// Print what `apply` would change (per pod and container), changing nothing.
    Diff {
        /// A pod file, or a directory of them.
        #[arg(value_hint = clap::ValueHint::AnyPath)]
        target: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value = "human")]
        output: Output,
        /// Kubernetes manifests: warn about (and ignore) the fields podctl does not support, instead of refusing the file.
        #[arg(long)]
        ignore_unsupported: bool,
    },
    /// Kubernetes Pod manifests (YAML): `apply`, `validate` and `diff` read them too.
    Kube {
        #[command(subcommand)]
        command: KubeCommand,
    },
    /// Stop a pod and remove its units (and with --purge its stored definition).
    Down {
        /// The pod's name.
        #[arg(add = ArgValueCandidates::new(super::complete::pods))]
        name: String,
        /// Also delete the stored definition (/etc/podctl/pods/NAME.toml).
        #[arg(long)]
        purge: bool,
    },
    /// List pods and their containers.
    Ps {
        /// Output format.
        #[arg(long, value_enum, default_value = "human")]
        output: Output,
    },
    /// Show one pod's state.
    Status {
        /// The pod's name.
        #[arg(add = ArgValueCandidates::new(super::complete::pods))]
        name: String,
        /// Output format.
        #[arg(long, value_enum, default_value = "human")]
        output: Output,
        /// Same as --output json.
        #[arg(long)]
        json: bool,
    },
    /// Show a pod's logs (or one container's) from the journal, also of a pod that is down.
    Logs {
        /// The pod's name.
        #[arg(add = ArgValueCandidates::new(super::complete::pods))]
        name: String,
        /// Only this container's output.
        #[arg(add = ArgValueCandidates::new(super::complete::containers))]
        container: Option<String>,
        /// Keep printing new lines as they come (journalctl -f).
        #[arg(short, long)]
        follow: bool,
        /// Only lines at or after this time, e.g. "-1h", "2026-01-31 12:00", "today" (journalctl --since).
        #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
        since: Option<String>,
        /// Only lines at or before this time (journalctl --until).
        #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
        until: Option<String>,
        /// Only the last N lines (journalctl -n).
        #[arg(short = 'n', long, value_name = "N")]
        lines: Option<u64>,
        /// journalctl output mode, e.g. short, short-iso, cat, json, json-pretty.
        #[arg(short = 'o', long, value_name = "MODE")]
        output: Option<String>,
    },
    /// Run a command inside a container's namespaces and scope, as the
    /// container's user with its environment and workdir.
    Exec {
        /// Keep stdin open (without it the command reads /dev/null).
        #[arg(short, long)]
        interactive: bool,
        /// Give the command a terminal (a new pseudo-terminal; window size follows this one).
        #[arg(short, long)]
        tty: bool,
        /// Run as this user (name, uid or uid:gid) instead of the container's.
        #[arg(short, long, value_name = "USER")]
        user: Option<String>,
        /// Set an environment variable (KEY=VALUE), over the container's; repeatable.
        #[arg(short, long, value_name = "KEY=VALUE")]
        env: Vec<String>,
        /// Working directory instead of the container's.
        #[arg(short, long, value_name = "DIR")]
        workdir: Option<String>,
        /// The pod's name.
        #[arg(add = ArgValueCandidates::new(super::complete::pods))]
        name: String,
        /// The container's name in the pod.
        #[arg(add = ArgValueCandidates::new(super::complete::containers))]
        container: String,
        /// The command and its arguments, after `--`.
        #[arg(last = true, required = true)]
        command: Vec<String>,
    },
    /// Show each process's namespaces and which are shared (like lsns).
    Inspect {
        /// The pod's name.
        #[arg(add = ArgValueCandidates::new(super::complete::pods))]
        name: String,
        /// Output format.
        #[arg(long, value_enum, default_value = "human")]
        output: Output,
    },
    /// Show container events (started, ready, exited, restarted, oom, probe-failed) from the journal.
    Events {
        /// Only this pod's events.
        #[arg(add = ArgValueCandidates::new(super::complete::pods))]
        name: Option<String>,
        /// Keep printing new events as they happen.
        #[arg(short, long)]
        follow: bool,
        /// Only events at or after this time (journalctl --since syntax).
        #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
        since: Option<String>,
        /// Output format (json: one object per line).
        #[arg(long, value_enum, default_value = "human")]
        output: Output,
    },
    /// Show each container's CPU, memory, tasks and I/O from its cgroup, refreshing.
    Top {
        /// The pod's name.
        #[arg(add = ArgValueCandidates::new(super::complete::pods))]
        name: String,
        /// Print one screen and exit.
        #[arg(long)]
        once: bool,
        /// Seconds between refreshes.
        #[arg(long, default_value_t = 2, value_name = "SECONDS")]
        interval: u64,
    },
    /// Manage the networks pods join: ls, inspect, create, rm.
    Network {
        #[command(subcommand)]
        command: super::network::NetworkCommand,
    },
    /// Manage named volumes (/var/lib/podctl/volumes/NAME): ls, inspect, rm, prune.
    Volume {
        #[command(subcommand)]
        command: super::volume::VolumeCommand,
    },
    /// Pull an image into the store (registry, oci:DIR[:TAG], oci-archive:FILE[:TAG]).
    Pull {
        /// e.g. docker.io/library/nginx:1.25-alpine, nginx:alpine, oci:/srv/img:1
        image: String,
    },
    /// List stored images (reference, digest, size, used by).
    Images {
        /// Output format.
        #[arg(long, value_enum, default_value = "human")]
        output: Output,
        /// Same as --output json.
        #[arg(long)]
        json: bool,
    },
    /// Remove a stored image (refused while a pod uses it).
    Rmi {
        /// The image as pulled (short names resolve as for pull).
        image: String,
    },
    /// Manage stored images.
    Image {
        #[command(subcommand)]
        command: ImageCommand,
    },
    /// Install pod@.service for this podctl binary and reload systemd (installs from source).
    Install {
        /// Where to put the unit file.
        #[arg(long, default_value = "/etc/systemd/system", value_hint = clap::ValueHint::DirPath)]
        unit_dir: PathBuf,
    },
    /// Run a pod's supervisor (what pod@NAME.service runs).
    Up {
        /// The pod's name.
        #[arg(add = ArgValueCandidates::new(super::complete::pods))]
        name: String,
    },
    #[command(name = "__spawn", hide = true)]
    Spawn,
    #[command(name = "__probe", hide = true)]
    Probe {
        ns_pid: u32,
        kind: String,
        target: String,
        timeout_ms: u64,
    },
    #[command(name = "__enter", hide = true)]
    Enter {
        pid: u32,
        #[arg(last = true, required = true)]
        command: Vec<String>,
    },
    /// Writes man pages or shell completion scripts into DIR (for packaging).
    #[command(name = "__generate", hide = true)]
    Generate { what: Generated, dir: PathBuf },
}

/// `podctl kube ...`.
#[derive(Debug, Subcommand)]
pub enum KubeCommand {
    /// Print a Kubernetes Pod manifest for an applied pod or a pod file.
    Generate {
        /// An applied pod's name, or a pod file (.toml) or manifest (.yaml).
        #[arg(add = ArgValueCandidates::new(super::complete::pods))]
        pod: String,
        /// Also print a Service for the pod's published ports.
        #[arg(long)]
        service: bool,
    },
}

/// `podctl image ...`.
#[derive(Debug, Subcommand)]
pub enum ImageCommand {
    /// Remove images no stored pod uses, and blobs and layers nothing uses.
    Prune,
}

/// What `podctl __generate` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Generated {
    Man,
    Completions,
}

/// The clap command, for generators and the completion engine.
pub fn command() -> clap::Command {
    <Args as clap::CommandFactory>::command()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definition_is_consistent() {
        command().debug_assert();
    }

    /// Every visible argument and option of every visible command says what it is.
    #[test]
    fn every_argument_has_help() {
        let mut missing = Vec::new();
        for sub in command().get_subcommands().filter(|s| !s.is_hide_set()) {
            for arg in sub.get_arguments() {
                let id = arg.get_id().as_str();
                if arg.is_hide_set() || id == "help" || id == "version" {
                    continue;
                }
                if arg
                    .get_help()
                    .is_none_or(|h| h.to_string().trim().is_empty())
                {
                    missing.push(format!("{} {id}", sub.get_name()));
                }
            }
        }
        assert!(missing.is_empty(), "no help for: {missing:?}");
    }

    #[test]
    fn status_json_alias_and_logs_flags_parse() {
        let a = Args::try_parse_from(["podctl", "status", "web", "--json"]).unwrap();
        assert!(matches!(a.command, Command::Status { json: true, .. }));
        let a = Args::try_parse_from([
            "podctl", "logs", "web", "app", "--since", "-1h", "--until", "now", "-n", "5", "-o",
            "cat", "-f",
        ])
        .unwrap();
        match a.command {
            Command::Logs {
                container,
                follow,
                since,
                until,
                lines,
                output,
                ..
            } => {
                assert_eq!(container.as_deref(), Some("app"));
                assert!(follow);
                assert_eq!(since.as_deref(), Some("-1h"));
                assert_eq!(until.as_deref(), Some("now"));
                assert_eq!(lines, Some(5));
                assert_eq!(output.as_deref(), Some("cat"));
            }
            other => panic!("{other:?}"),
        }
    }

    /// The revision in `--version` is the checkout's (build.rs asks git).
    #[test]
    fn version_names_the_revision() {
        let head = std::process::Command::new("git")
            .args(["rev-parse", "--short=12", "HEAD"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("git");
        let head = String::from_utf8_lossy(&head.stdout).trim().to_string();
        let v = command().render_version();
        assert!(
            !head.is_empty() && v.contains(&head),
            "{v:?} should name {head}"
        );
    }
}
