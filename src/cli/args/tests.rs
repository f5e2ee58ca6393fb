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

fn parse(words: &[&str]) -> Result<Command, clap::Error> {
    let mut all = vec!["podctl"];
    all.extend_from_slice(words);
    Args::try_parse_from(all).map(|a| a.command)
}

#[test]
fn output_formats_and_json_alias() {
    let format = |words: &[&str]| match parse(words).unwrap() {
        Command::Status { output, .. }
        | Command::Ps { output, .. }
        | Command::Images { output }
        | Command::Inspect { output, .. } => output.format(),
        other => panic!("{other:?}"),
    };
    assert_eq!(format(&["status", "web"]), Format::Human);
    assert_eq!(format(&["status", "web", "--json"]), Format::Json);
    assert_eq!(format(&["status", "web", "-o", "yaml"]), Format::Yaml);
    assert_eq!(format(&["ps", "--output", "json"]), Format::Json);
    assert_eq!(format(&["images", "--json"]), Format::Json);
    assert_eq!(format(&["inspect", "web", "-o", "yaml"]), Format::Yaml);
    assert!(parse(&["status", "web", "--json", "-o", "yaml"]).is_err());
    assert!(parse(&["ps", "-o", "xml"]).is_err());
    // The commands with human or JSON output only take -o too.
    for words in [
        &["validate", "f.toml", "-o", "json"][..],
        &["apply", "--dry-run", "f.toml", "-o", "json"],
        &["diff", "f.toml", "-o", "json"],
        &["events", "-o", "json"],
    ] {
        parse(words).unwrap_or_else(|e| panic!("{words:?}: {e}"));
    }
    for words in [
        &["volume", "ls", "-o", "yaml"][..],
        &["volume", "inspect", "v", "--json"],
        &["network", "ls", "-o", "json"],
        &["network", "inspect", "n", "-o", "yaml"],
    ] {
        parse(words).unwrap_or_else(|e| panic!("{words:?}: {e}"));
    }
}

#[test]
fn pod_commands_take_names_or_all() {
    let names = |c: Command| match c {
        Command::Start(ControlArgs { names, all })
        | Command::Stop(ControlArgs { names, all })
        | Command::Restart(ControlArgs { names, all })
        | Command::Rm { names, all, .. }
        | Command::Down { names, all, .. }
        | Command::Rmi { images: names, all } => (names, all),
        other => panic!("{other:?}"),
    };
    for cmd in ["start", "stop", "restart", "rm", "down", "rmi"] {
        assert_eq!(
            names(parse(&[cmd, "a", "b"]).unwrap()),
            (vec!["a".to_string(), "b".to_string()], false),
            "{cmd}"
        );
        assert_eq!(
            names(parse(&[cmd, "--all"]).unwrap()),
            (vec![], true),
            "{cmd}"
        );
        assert_eq!(names(parse(&[cmd, "-a"]).unwrap()), (vec![], true), "{cmd}");
        assert!(parse(&[cmd]).is_err(), "{cmd} without a name");
        assert!(parse(&[cmd, "a", "--all"]).is_err(), "{cmd} a --all");
    }
    assert!(matches!(
        parse(&["down", "web", "--purge"]).unwrap(),
        Command::Down { purge: true, .. }
    ));
    assert!(matches!(
        parse(&["ps", "-a"]).unwrap(),
        Command::Ps { all: true, .. }
    ));
    assert!(matches!(
        parse(&["ps"]).unwrap(),
        Command::Ps { all: false, .. }
    ));
}

/// A mistyped command is answered with the command meant.
#[test]
fn suggestions_name_the_command_meant() {
    for (typo, meant) in [("stpo", "stop"), ("strat", "start"), ("restar", "restart")] {
        let e = parse(&[typo]).unwrap_err().render().to_string();
        assert!(e.contains(&format!("'{meant}'")), "{typo}: {e}");
    }
}

/// The supervisor and the generators are not in `podctl --help`.
#[test]
fn internal_commands_are_hidden() {
    let help = command().render_long_help().to_string();
    for internal in ["up", "__spawn", "__probe", "__enter", "__generate"] {
        assert!(
            command().find_subcommand(internal).unwrap().is_hide_set(),
            "{internal}"
        );
        assert!(
            !help
                .lines()
                .any(|l| l.trim_start().starts_with(&format!("{internal} "))),
            "{internal} in:\n{help}"
        );
    }
    // Still runnable: pod@.service runs `up`.
    assert!(matches!(parse(&["up", "web"]).unwrap(), Command::Up { .. }));
}

/// `exec POD CTR CMD...` as Podman and kubectl take it: `--` optional,
/// the command's own options (and a `--` of its own) left to it; exec's
/// options before the pod's name.
#[test]
fn exec_takes_the_command_with_or_without_dashes() {
    let exec = |words: &[&str]| match parse(words) {
        Ok(Command::Exec {
            name,
            container,
            command,
            interactive,
            ..
        }) => Ok((name, container, command.join(" "), interactive)),
        Ok(other) => panic!("{other:?}"),
        Err(e) => Err(e.kind()),
    };
    let want = |cmd: &str, i: bool| Ok(("web".to_string(), "app".to_string(), cmd.to_string(), i));
    assert_eq!(
        exec(&["exec", "web", "app", "ls", "-l", "/"]),
        want("ls -l /", false)
    );
    assert_eq!(
        exec(&["exec", "web", "app", "--", "ls", "-l", "/"]),
        want("ls -l /", false)
    );
    assert_eq!(
        exec(&["exec", "-i", "web", "app", "sh", "-c", "echo -- -i"]),
        want("sh -c echo -- -i", true)
    );
    assert_eq!(
        exec(&["exec", "web", "app", "grep", "--", "-x", "f"]),
        want("grep -- -x f", false)
    );
    assert_eq!(
        exec(&["exec", "web", "app", "--", "--help"]),
        want("--help", false)
    );
    assert_eq!(
        exec(&["exec", "web", "app"]),
        Err(clap::error::ErrorKind::MissingRequiredArgument)
    );
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

/// `podctl-supervisor`'s hand-made parser (`supervise::entry`) takes the
/// helpers' words as `podctl` parses them, so either binary can be a
/// helper's `/proc/self/exe`.
#[test]
fn podctl_parses_the_same_words() {
    use crate::supervise::entry::{Role, parse};
    for words in [
        &["up", "web"][..],
        &["__spawn"],
        &["__probe", "42", "tcp", "127.0.0.1:80", "1000"],
        &["__enter", "7", "--", "sh", "-c", "--"],
    ] {
        let owned: Vec<String> = words.iter().map(|w| w.to_string()).collect();
        let ours = parse(&owned).unwrap();
        let theirs = Args::try_parse_from(std::iter::once("podctl").chain(words.iter().copied()))
            .unwrap()
            .command;
        let same = match (ours, theirs) {
            (Role::Up { name: a }, Command::Up { name: b }) => a == b,
            (Role::Spawn, Command::Spawn) => true,
            (
                Role::Probe {
                    ns_pid,
                    kind,
                    target,
                    timeout_ms,
                },
                Command::Probe {
                    ns_pid: p,
                    kind: k,
                    target: t,
                    timeout_ms: m,
                },
            ) => (ns_pid, kind, target, timeout_ms) == (p, k, t, m),
            (Role::Enter { pid, command }, Command::Enter { pid: p, command: c }) => {
                (pid, command) == (p, c)
            }
            _ => false,
        };
        assert!(same, "{words:?}");
    }
}

mod help;
