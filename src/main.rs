//! The `podctl` command: parses arguments ([`podctl::cli::args`]) and
//! hands them to [`podctl::cli::run`].

use clap::Parser;
use podctl::cli;
use podctl::cli::args::{Args, Command};
use std::process::ExitCode;

fn main() -> ExitCode {
    // `podctl __store-userns`: the image store's user-namespace helper,
    // before anything else (it must stay single-threaded).
    if let Some(code) = podctl::image::userns::child_if_asked() {
        return code;
    }
    // `COMPLETE=bash podctl -- WORDS`: the shells asking for candidates.
    clap_complete::CompleteEnv::with_factory(cli::args::command)
        .var(cli::complete::COMPLETE_VAR)
        .complete();
    let args = Args::parse();
    // `podctl ps | head` ends quietly, as a Unix tool does, instead of
    // panicking on a closed stdout. Not for the supervisor and its helpers:
    // they must see EPIPE on a pipe to a process that went away, not die.
    if !matches!(
        args.command,
        Command::Up { .. } | Command::Spawn | Command::Enter { .. } | Command::Probe { .. }
    ) {
        // SAFETY: restoring the default disposition installs no handler,
        // and no other thread runs yet (cli::run starts the early
        // connection to systemd after this).
        unsafe {
            let _ = nix::sys::signal::signal(
                nix::sys::signal::Signal::SIGPIPE,
                nix::sys::signal::SigHandler::SigDfl,
            );
        }
    }
    cli::run(args)
}
