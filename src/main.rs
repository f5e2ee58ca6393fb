//! The `podctl` command: parses arguments ([`podctl::cli::args`]) and
//! dispatches to [`podctl::cli`].

use clap::Parser;
use podctl::cli;
use podctl::cli::args::{Args, Command, ImageCommand};
use podctl::cli::control::Action;
use std::process::ExitCode;

fn main() -> ExitCode {
    // `apply` and `down` start connecting to systemd while the rest is parsed.
    let words: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    cli::connect_early(&words);
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
        // SAFETY: restoring the default disposition installs no handler;
        // the only other thread that may exist (connect_early's) neither
        // installs handlers nor depends on this disposition.
        unsafe {
            let _ = nix::sys::signal::signal(
                nix::sys::signal::Signal::SIGPIPE,
                nix::sys::signal::SigHandler::SigDfl,
            );
        }
    }
    let policy = |ignore: bool| {
        if ignore {
            podctl::kube::Unsupported::Warn
        } else {
            podctl::kube::Unsupported::Error
        }
    };
    match args.command {
        Command::Spawn => podctl::runtime::container::main(),
        Command::Enter { pid, command } => podctl::runtime::enter::main(pid, &command),
        Command::Probe {
            ns_pid,
            kind,
            target,
            timeout_ms,
        } => podctl::runtime::probe::main(ns_pid, &kind, &target, timeout_ms),
        Command::Generate { what, dir } => cli::report(cli::generate::generate(what, &dir)),
        Command::Validate {
            files,
            output,
            ignore_unsupported,
        } => cli::validate::validate(&files, output, policy(ignore_unsupported)),
        Command::Apply {
            file,
            dry_run: true,
            output,
            ignore_unsupported,
            ..
        } => cli::validate::dry_run(&file, output, policy(ignore_unsupported)),
        Command::Apply {
            file,
            prune,
            ignore_unsupported,
            ..
        } => cli::report(cli::apply::apply(&file, prune, policy(ignore_unsupported))),
        Command::Diff {
            target,
            output,
            ignore_unsupported,
        } => cli::diff::diff(&target, output, policy(ignore_unsupported)),
        Command::Kube { command } => cli::report(cli::kube::run(command)),
        Command::Down { names, all, purge } => cli::report(cli::down::down(&names, all, purge)),
        Command::Rm { names, all } => cli::report(cli::down::down(&names, all, true)),
        Command::Start(a) => cli::report(cli::control::control(Action::Start, &a)),
        Command::Stop(a) => cli::report(cli::control::control(Action::Stop, &a)),
        Command::Restart(a) => cli::report(cli::control::control(Action::Restart, &a)),
        Command::Ps { all, output } => cli::report(cli::show::ps(all, output.format())),
        Command::Status { name, output } => cli::report(cli::show::status(&name, output.format())),
        Command::Logs(a) => cli::report(cli::logs::logs(&a)),
        Command::Exec {
            interactive,
            tty,
            user,
            env,
            workdir,
            name,
            container,
            command,
        } => cli::exec::exec(&cli::exec::ExecRequest {
            pod: name,
            container,
            command,
            interactive,
            tty,
            user,
            env,
            workdir,
        }),
        Command::Inspect { name, output } => {
            cli::report(cli::inspect::inspect(&name, output.format()))
        }
        Command::Events {
            name,
            follow,
            since,
            output,
        } => cli::report(cli::events::events(
            name.as_deref(),
            follow,
            since.as_deref(),
            output,
        )),
        Command::Top {
            name,
            once,
            interval,
        } => cli::report(cli::top::top(&name, once, interval)),
        Command::Up { name } => podctl::runtime::supervisor::up::up(&name),
        Command::Network { command } => cli::report(cli::network::run(command)),
        Command::Volume { command } => cli::report(cli::volume::run(command)),
        Command::Install { unit_dir } => cli::report(cli::install::install(&unit_dir)),
        Command::Pull { image } => cli::report(cli::image::pull(&image)),
        Command::Images { output } => cli::report(cli::image::images(output.format())),
        Command::Rmi { images, all } => cli::report(cli::image::rmi(&images, all)),
        Command::Image {
            command: ImageCommand::Prune,
        } => cli::report(cli::image::prune()),
    }
}
