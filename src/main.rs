//! The `podctl` command: parses arguments and dispatches to [`podctl::cli`].

use clap::{Parser, Subcommand, ValueEnum};
use podctl::cli;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "podctl", version, about = "Declarative, systemd-native pods")]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum Output {
    Human,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Check pod files; print a summary per valid file, every error otherwise.
    Validate {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Make the host match pod files (a file, or every *.toml in a directory):
    /// start, reload (only what changed) or recreate pod@NAME.service.
    Apply {
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
    },
    /// Print what `apply` would change (per pod and container), changing nothing.
    Diff { target: PathBuf },
    /// Stop a pod and remove its units (and with --purge its stored definition).
    Down {
        name: String,
        #[arg(long)]
        purge: bool,
    },
    /// List pods and their containers.
    Ps,
    /// Show one pod's state.
    Status {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Show a pod's logs (or one container's) from the journal.
    Logs {
        name: String,
        container: Option<String>,
        #[arg(short, long)]
        follow: bool,
    },
    /// Run a command inside a container's namespaces and scope.
    Exec {
        name: String,
        container: String,
        #[arg(last = true, required = true)]
        command: Vec<String>,
    },
    /// Show each process's namespaces and which are shared (like lsns).
    Inspect { name: String },
    /// Install pod@.service for this podctl binary and reload systemd.
    Install {
        /// Where to put the unit file.
        #[arg(long, default_value = "/etc/systemd/system")]
        unit_dir: PathBuf,
    },
    /// Run a pod's supervisor (what pod@NAME.service runs).
    Up { name: String },
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
}

fn main() -> ExitCode {
    let args = Args::parse();
    // `podctl ps | head` ends quietly, as a Unix tool does, instead of
    // panicking on a closed stdout. Not for the supervisor and its helpers:
    // they must see EPIPE on a pipe to a process that went away, not die.
    if !matches!(
        args.command,
        Command::Up { .. } | Command::Spawn | Command::Enter { .. } | Command::Probe { .. }
    ) {
        // SAFETY: restoring the default disposition before any thread exists.
        unsafe {
            let _ = nix::sys::signal::signal(
                nix::sys::signal::Signal::SIGPIPE,
                nix::sys::signal::SigHandler::SigDfl,
            );
        }
    }
    match args.command {
        Command::Spawn => podctl::runtime::container::main(),
        Command::Enter { pid, command } => podctl::runtime::enter::main(pid, &command),
        Command::Probe {
            ns_pid,
            kind,
            target,
            timeout_ms,
        } => podctl::runtime::probe::main(ns_pid, &kind, &target, timeout_ms),
        Command::Validate { files } => cli::validate::validate(&files),
        Command::Apply {
            file,
            dry_run: true,
            output,
            ..
        } => cli::validate::dry_run(&file, matches!(output, Output::Json)),
        Command::Apply { file, prune, .. } => cli::report(cli::apply::apply(&file, prune)),
        Command::Diff { target } => cli::report(cli::apply::diff_cmd(&target)),
        Command::Down { name, purge } => cli::report(cli::apply::down(&name, purge)),
        Command::Ps => cli::report(cli::show::ps()),
        Command::Status { name, json } => cli::report(cli::show::status(&name, json)),
        Command::Logs {
            name,
            container,
            follow,
        } => cli::report(cli::show::logs(&name, container.as_deref(), follow)),
        Command::Exec {
            name,
            container,
            command,
        } => cli::exec::exec(&name, &container, &command),
        Command::Inspect { name } => cli::report(cli::show::inspect(&name)),
        Command::Up { name } => cli::up::up(&name),
        Command::Install { unit_dir } => cli::report(cli::install::install(&unit_dir)),
    }
}
