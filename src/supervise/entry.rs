//! The command line of `podctl-supervisor`, the binary pod@.service runs: the
//! supervisor (`up NAME`) and the helpers it starts from its own binary
//! (`/proc/self/exe __spawn | __probe ... | __enter PID -- CMD...`), in the
//! same words as `podctl`'s (`cli::args::Command`; a test there compares). Parsed by
//! hand, not with clap: building clap's whole command tree is what touched
//! most of a supervisor's stack, and the binary needs none of the rest.

use std::process::ExitCode;

/// What one `podctl-supervisor` process is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// `up NAME`: the pod's supervisor.
    Up { name: String },
    /// `__spawn`: a container's setup helper.
    Spawn,
    /// `__probe NS_PID KIND TARGET TIMEOUT_MS`: a network probe.
    Probe {
        ns_pid: u32,
        kind: String,
        target: String,
        timeout_ms: u64,
    },
    /// `__enter PID -- CMD...`: a command in a container's namespaces.
    Enter { pid: u32, command: Vec<String> },
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum UsageError {
    #[error("usage: podctl-supervisor up NAME (what pod@NAME.service runs; use podctl)")]
    Usage,
    #[error("{what}: {value:?} is not a number")]
    Number { what: &'static str, value: String },
    #[error("{what}: expected {expected} arguments, got {got}")]
    Count {
        what: &'static str,
        expected: usize,
        got: usize,
    },
    #[error("__enter: no command after \"--\"")]
    NoCommand,
}

fn number<T: std::str::FromStr>(what: &'static str, value: &str) -> Result<T, UsageError> {
    value.parse().map_err(|_| UsageError::Number {
        what,
        value: value.to_string(),
    })
}

fn exactly<'a, const N: usize>(
    what: &'static str,
    rest: &'a [String],
) -> Result<&'a [String; N], UsageError> {
    rest.try_into().map_err(|_| UsageError::Count {
        what,
        expected: N,
        got: rest.len(),
    })
}

/// The role for the arguments after the program name.
pub fn parse(args: &[String]) -> Result<Role, UsageError> {
    let Some((first, rest)) = args.split_first() else {
        return Err(UsageError::Usage);
    };
    match first.as_str() {
        "up" => {
            let [name] = exactly("up", rest)?;
            Ok(Role::Up { name: name.clone() })
        }
        "__spawn" => {
            exactly::<0>("__spawn", rest)?;
            Ok(Role::Spawn)
        }
        "__probe" => {
            let [ns_pid, kind, target, timeout_ms] = exactly("__probe", rest)?;
            Ok(Role::Probe {
                ns_pid: number("__probe NS_PID", ns_pid)?,
                kind: kind.clone(),
                target: target.clone(),
                timeout_ms: number("__probe TIMEOUT_MS", timeout_ms)?,
            })
        }
        "__enter" => match rest {
            [pid, dashes, command @ ..] if dashes == "--" => {
                if command.is_empty() {
                    return Err(UsageError::NoCommand);
                }
                Ok(Role::Enter {
                    pid: number("__enter PID", pid)?,
                    command: command.to_vec(),
                })
            }
            _ => Err(UsageError::NoCommand),
        },
        _ => Err(UsageError::Usage),
    }
}

/// `podctl-supervisor`'s main: runs the role its arguments name.
pub fn main() -> ExitCode {
    let args: Result<Vec<String>, _> = std::env::args_os()
        .skip(1)
        .map(|a| a.into_string())
        .collect();
    let role = match args {
        Ok(args) => parse(&args),
        Err(_) => Err(UsageError::Usage),
    };
    match role {
        Ok(Role::Up { name }) => crate::supervise::supervisor::up::up(&name),
        Ok(Role::Spawn) => super::container::main(),
        Ok(Role::Probe {
            ns_pid,
            kind,
            target,
            timeout_ms,
        }) => super::probe::main(ns_pid, &kind, &target, timeout_ms),
        Ok(Role::Enter { pid, command }) => super::enter::main(pid, &command),
        Err(e) => {
            eprintln!("podctl-supervisor: {e}");
            ExitCode::from(USAGE_EXIT)
        }
    }
}

/// The exit status of a command-line error, as clap's (and podctl's).
const USAGE_EXIT: u8 = 2;

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &[&str]) -> Vec<String> {
        s.iter().map(|a| a.to_string()).collect()
    }

    #[test]
    fn the_supervisors_and_helpers_words() {
        assert_eq!(
            parse(&args(&["up", "web"])),
            Ok(Role::Up { name: "web".into() })
        );
        assert_eq!(parse(&args(&["__spawn"])), Ok(Role::Spawn));
        assert_eq!(
            parse(&args(&["__probe", "42", "tcp", "127.0.0.1:80", "1000"])),
            Ok(Role::Probe {
                ns_pid: 42,
                kind: "tcp".into(),
                target: "127.0.0.1:80".into(),
                timeout_ms: 1000,
            })
        );
        assert_eq!(
            parse(&args(&["__enter", "7", "--", "sh", "-c", "--"])),
            Ok(Role::Enter {
                pid: 7,
                command: args(&["sh", "-c", "--"]),
            })
        );
    }

    #[test]
    fn anything_else_is_a_usage_error() {
        assert_eq!(parse(&[]), Err(UsageError::Usage));
        assert_eq!(parse(&args(&["apply", "x.toml"])), Err(UsageError::Usage));
        assert!(matches!(
            parse(&args(&["up"])),
            Err(UsageError::Count { got: 0, .. })
        ));
        assert!(matches!(
            parse(&args(&["up", "a", "b"])),
            Err(UsageError::Count { got: 2, .. })
        ));
        assert!(matches!(
            parse(&args(&["__probe", "x", "tcp", "t", "1"])),
            Err(UsageError::Number { .. })
        ));
        assert_eq!(
            parse(&args(&["__enter", "7", "--"])),
            Err(UsageError::NoCommand)
        );
        assert_eq!(
            parse(&args(&["__enter", "7", "sh"])),
            Err(UsageError::NoCommand)
        );
    }
}
