//! The command line, as clap types: used by the `podctl` binary to parse and
//! by `podctl __generate` to write man pages and shell completions, so both
//! always describe the same options. The commands take their options from
//! here; nothing here comes from a command's module (completion candidates
//! come from [`super::complete`]).

use clap::{Parser, Subcommand, ValueEnum};
use clap_complete::engine::ArgValueCandidates;
use std::path::PathBuf;

pub use super::output::{Format, OutputArgs};
pub use control::ControlArgs;
pub use logs::LogsArgs;
pub use network::NetworkCommand;
pub use secret::SecretCommand;
pub use volume::VolumeCommand;

mod control;
mod logs;
mod network;
mod secret;
mod volume;

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

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check pod files; print a summary per valid file, every error otherwise.
    Validate {
        /// Pod files to check (a directory: each of its pod files, read as `apply DIR` reads them).
        #[arg(required = true, value_hint = clap::ValueHint::AnyPath)]
        files: Vec<PathBuf>,
        /// Output format (json: one object per file, errors with file, line, column, key, message).
        #[arg(short, long, value_enum, default_value = "human")]
        output: Format,
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
        #[arg(short, long, value_enum, default_value = "human")]
        output: Format,
        /// Kubernetes manifests: warn about (and ignore) the fields podctl does not support, instead of refusing the file.
        #[arg(long)]
        ignore_unsupported: bool,
        /// Resolve every image tag at the registry now (as pull = "always"); a new digest restarts only the containers that use it.
        #[arg(long)]
        pull: bool,
    },
    /// Print what `apply` would change (per pod and container), changing nothing.
    ///
    /// Exit status (as kubectl diff): 0 no differences, 1 differences, 2 an error.
    Diff {
        /// A pod file, or a directory of them.
        #[arg(value_hint = clap::ValueHint::AnyPath)]
        target: PathBuf,
        /// Output format.
        #[arg(short, long, value_enum, default_value = "human")]
        output: Format,
        /// Kubernetes manifests: warn about (and ignore) the fields podctl does not support, instead of refusing the file.
        #[arg(long)]
        ignore_unsupported: bool,
    },
    /// Kubernetes Pod manifests (YAML): `apply`, `validate` and `diff` read them too.
    Kube {
        #[command(subcommand)]
        command: KubeCommand,
    },
    /// Stop pods, remove their units and disable them at boot (with --purge also their stored definitions).
    Down {
        /// The pods' names.
        #[arg(required_unless_present = "all", add = ArgValueCandidates::new(super::complete::pods))]
        names: Vec<String>,
        /// Every pod podctl manages (stored or running).
        #[arg(short, long, conflicts_with = "names")]
        all: bool,
        /// Also delete the stored definition (/etc/podctl/pods/NAME.toml).
        #[arg(long)]
        purge: bool,
        /// Also take down the pods that need them (`needs`), before them; without it, a pod a running pod needs is refused.
        #[arg(long)]
        cascade: bool,
    },
    /// Remove pods: stop them and delete their stored definitions (down --purge).
    Rm {
        /// The pods' names.
        #[arg(required_unless_present = "all", add = ArgValueCandidates::new(super::complete::pods))]
        names: Vec<String>,
        /// Every pod podctl manages (stored or running).
        #[arg(short, long, conflicts_with = "names")]
        all: bool,
        /// Also remove the pods that need them (`needs`), before them; without it, a pod a stored pod needs is refused.
        #[arg(long)]
        cascade: bool,
    },
    /// Start stored pods (pod@NAME.service) that are stopped.
    Start(ControlArgs),
    /// Stop pods (pod@NAME.service); they stay stored and start again at boot if enabled.
    Stop(ControlArgs),
    /// Restart pods (pod@NAME.service): every container stops and starts anew.
    Restart(ControlArgs),
    /// List pods and their containers (with --all also the stored pods that are down).
    Ps {
        /// Also the stored pods that are not running.
        #[arg(short, long)]
        all: bool,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Show one pod's state.
    Status {
        /// The pod's name.
        #[arg(add = ArgValueCandidates::new(super::complete::pods))]
        name: String,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Show a pod's logs (or one container's) from the journal, also of a pod that is down.
    Logs(LogsArgs),
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
        /// The command and its arguments (`--` before them is optional).
        #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
        command: Vec<String>,
    },
    /// Show each process's namespaces and which are shared (like lsns).
    Inspect {
        /// The pod's name.
        #[arg(add = ArgValueCandidates::new(super::complete::pods))]
        name: String,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Show container events (started, ready, exited, restarted, oom, probe-failed, hook-failed, rollback, evicted) from the journal.
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
        #[arg(short, long, value_enum, default_value = "human")]
        output: Format,
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
        command: NetworkCommand,
    },
    /// Manage named volumes (/var/lib/podctl/volumes/NAME): ls, inspect, rm, prune.
    Volume {
        #[command(subcommand)]
        command: VolumeCommand,
    },
    /// Manage secrets kept encrypted by systemd (/etc/podctl/credstore.encrypted): create, ls, inspect, rm.
    Secret {
        #[command(subcommand)]
        command: SecretCommand,
    },
    /// List a pod's revisions: what each ran (file and image digests), when, and why.
    History {
        /// The pod.
        pod: String,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Run an earlier revision of a pod again, exactly (its file and its image digests).
    Rollback {
        /// The pod.
        pod: String,
        /// The revision (default: the one before the newest).
        #[arg(long, value_name = "REVISION")]
        to: Option<u64>,
    },
    /// Move containers with auto_update = "registry" to their tag's new digest; roll a pod back by itself if they do not become ready.
    ///
    /// Exit status: 0 every pod updated or current, 1 a pod was rolled back or could not be updated.
    AutoUpdate {
        /// Only these pods (default: every stored pod).
        pods: Vec<String>,
        /// Print what would be updated (asking the registries), changing nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Pull an image into the store (registry, oci:DIR[:TAG], oci-archive:FILE[:TAG]).
    Pull {
        /// e.g. docker.io/library/nginx:1.25-alpine, nginx:alpine, oci:/srv/img:1
        image: String,
    },
    /// List stored images (reference, digest, size, used by).
    Images {
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Remove stored images (refused while a pod uses one).
    Rmi {
        /// The images as pulled (short names resolve as for pull).
        #[arg(required_unless_present = "all")]
        images: Vec<String>,
        /// Every stored image no stored pod uses.
        #[arg(short, long, conflicts_with = "images")]
        all: bool,
    },
    /// Manage stored images.
    Image {
        #[command(subcommand)]
        command: ImageCommand,
    },
    /// Install pod@.service, podctl-auto-update.service and .timer (not enabled) for this podctl binary and reload systemd (installs from source); as a user, your manager's pod@.service.
    Install {
        /// Where to put the unit files [default: /etc/systemd/system; as a user, ~/.config/systemd/user].
        #[arg(long, value_hint = clap::ValueHint::DirPath)]
        unit_dir: Option<PathBuf>,
    },
    /// Run a pod's supervisor (what pod@NAME.service runs).
    #[command(hide = true)]
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
    /// Writes man pages, shell completion scripts or the pod file's JSON Schema into DIR (for packaging).
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
    /// pod.schema.json, the JSON Schema of the pod file.
    Schema,
}

/// The clap command, for generators and the completion engine.
pub fn command() -> clap::Command {
    <Args as clap::CommandFactory>::command()
}

#[cfg(test)]
mod tests;
