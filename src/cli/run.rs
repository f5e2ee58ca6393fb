//! [`run`]: the command the parsed command line names, entered with what
//! it needs (an [`Early`] connection to systemd for those that always talk
//! to it), and its exit status.

use super::args::{Args, Command, ImageCommand};
use super::control::Action;
use super::{Early, report};
use crate::kube::Unsupported;
use std::process::ExitCode;

/// Runs the command `args` name; an error is printed once, as `podctl: ...`.
pub fn run(args: Args) -> ExitCode {
    let early = if talks_to_systemd(&args.command) {
        Early::start()
    } else {
        Early::default()
    };
    // Every host path, from the environment once (the helpers and the
    // supervisor are entry points of their own).
    let paths = &crate::layout::Layout::from_env();
    match args.command {
        Command::Spawn => crate::supervise::container::main(),
        Command::Enter { pid, command } => crate::supervise::enter::main(pid, &command),
        Command::Probe {
            ns_pid,
            kind,
            target,
            timeout_ms,
        } => crate::supervise::probe::main(ns_pid, &kind, &target, timeout_ms),
        Command::Generate { what, dir } => report(super::generate::generate(what, &dir)),
        Command::Validate {
            files,
            output,
            ignore_unsupported,
        } => super::validate::validate(&files, output, policy(ignore_unsupported), paths),
        Command::Apply {
            file,
            dry_run: true,
            output,
            ignore_unsupported,
            pull,
            ..
        } => super::validate::dry_run(paths, &file, output, policy(ignore_unsupported), pull),
        Command::Apply {
            file,
            prune,
            ignore_unsupported,
            pull,
            ..
        } => report(super::apply::apply(
            paths,
            &file,
            prune,
            pull,
            policy(ignore_unsupported),
            early,
        )),
        Command::Diff {
            target,
            output,
            ignore_unsupported,
        } => super::diff::diff(paths, &target, output, policy(ignore_unsupported)),
        Command::Kube { command } => report(super::kube::run(paths, command)),
        Command::History { pod, output } => report(super::history::history(paths, &pod, output)),
        Command::Rollback { pod, to } => report(super::history::rollback(paths, &pod, to, early)),
        Command::AutoUpdate { pods, dry_run } => {
            super::update::auto_update(paths, &pods, dry_run, early)
        }
        Command::Down {
            names,
            all,
            purge,
            cascade,
        } => report(super::down::down(
            paths,
            &names,
            all,
            (purge, cascade),
            early,
        )),
        Command::Rm {
            names,
            all,
            cascade,
        } => report(super::down::down(
            paths,
            &names,
            all,
            (true, cascade),
            early,
        )),
        Command::Start(a) => report(super::control::control(paths, Action::Start, &a, early)),
        Command::Stop(a) => report(super::control::control(paths, Action::Stop, &a, early)),
        Command::Restart(a) => report(super::control::control(paths, Action::Restart, &a, early)),
        Command::Ps { all, output } => report(super::show::ps(paths, all, output.format())),
        Command::Status { name, output } => {
            report(super::show::status(paths, &name, output.format()))
        }
        Command::Logs(a) => report(super::logs::logs(paths, &a)),
        Command::Exec {
            interactive,
            tty,
            user,
            env,
            workdir,
            name,
            container,
            command,
        } => super::exec::exec(
            paths,
            &super::exec::ExecRequest {
                pod: name,
                container,
                command,
                interactive,
                tty,
                user,
                env,
                workdir,
            },
        ),
        Command::Inspect { name, output } => {
            report(super::inspect::inspect(paths, &name, output.format()))
        }
        Command::Events {
            name,
            follow,
            since,
            output,
        } => report(super::events::events(
            name.as_deref(),
            follow,
            since.as_deref(),
            output,
        )),
        Command::Top {
            name,
            once,
            interval,
        } => report(super::top::top(paths, &name, once, interval)),
        Command::Up { name } => crate::supervise::supervisor::up::up(&name),
        Command::Network { command } => report(super::network::run(paths, command)),
        Command::Volume { command } => report(super::volume::run(paths, command)),
        Command::Secret { command } => report(super::secret::run(paths, command)),
        Command::Install { unit_dir } => report(super::install::install(
            paths,
            unit_dir.as_deref().unwrap_or(&paths.units),
        )),
        Command::Pull { image } => report(super::image::pull(paths, &image)),
        Command::Images { output } => report(super::image::images(paths, output.format())),
        Command::Rmi { images, all } => report(super::image::rmi(paths, &images, all)),
        Command::Image {
            command: ImageCommand::Prune,
        } => report(super::image::prune(paths)),
    }
}

/// `--ignore-unsupported`: a manifest's fields podctl does not support are
/// warned about instead of refused.
fn policy(ignore: bool) -> Unsupported {
    if ignore {
        Unsupported::Warn
    } else {
        Unsupported::Error
    }
}

/// Whether `command` always talks to systemd: `apply` (not a dry run),
/// `down`, `rm`, `start`, `stop` and `restart` connect while they parse and
/// validate.
fn talks_to_systemd(command: &Command) -> bool {
    matches!(
        command,
        Command::Apply { dry_run: false, .. }
            | Command::Rollback { .. }
            | Command::AutoUpdate { dry_run: false, .. }
            | Command::Down { .. }
            | Command::Rm { .. }
            | Command::Start(_)
            | Command::Stop(_)
            | Command::Restart(_)
    )
}

#[cfg(test)]
mod tests {
    use super::talks_to_systemd;
    use crate::cli::args::Args;
    use clap::Parser;

    fn talks(words: &[&str]) -> bool {
        let args = Args::try_parse_from(std::iter::once("podctl").chain(words.iter().copied()))
            .unwrap_or_else(|e| panic!("{words:?}: {e}"));
        talks_to_systemd(&args.command)
    }

    /// Only commands that always talk to systemd connect early.
    #[test]
    fn early_connections_for_commands_that_change_pods_only() {
        assert!(talks(&["down", "web"]));
        assert!(talks(&["down", "--all", "--purge"]));
        for cmd in ["rm", "start", "stop", "restart"] {
            assert!(talks(&[cmd, "web"]), "{cmd}");
        }
        assert!(talks(&["apply", "web.toml"]));
        assert!(talks(&["apply", "--prune", "dir"]));
        assert!(!talks(&["apply", "--dry-run", "web.toml"]));
        assert!(!talks(&["apply", "web.toml", "--dry-run"]));
        assert!(!talks(&["validate", "web.toml"]));
        assert!(!talks(&["ps"]));
        assert!(!talks(&["status", "web"]));
        assert!(!talks(&["volume", "rm", "v"]));
    }
}
