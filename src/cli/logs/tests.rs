use super::*;
use crate::supervise::journal::Lines;
use clap::Parser;

fn parse(words: &[&str]) -> LogsArgs {
    let mut all = vec!["podctl", "logs"];
    all.extend_from_slice(words);
    match crate::cli::args::Args::try_parse_from(all).unwrap().command {
        crate::cli::args::Command::Logs(a) => a,
        other => panic!("{other:?}"),
    }
}

fn fixture(tag: &str) -> (Layout, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("podctl-logs-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let paths = Layout::under(&dir);
    std::fs::create_dir_all(&paths.store).unwrap();
    std::fs::write(
        paths.definition("web"),
        "name = \"web\"\n[containers.app]\ncommand = [\"sleep\", \"1\"]\n\
         [containers.db]\ncommand = [\"sleep\", \"1\"]\n",
    )
    .unwrap();
    (paths, dir)
}

const APP: &str = r#"{"_SYSTEMD_UNIT":"pod-web.app.scope","MESSAGE":"hello","__REALTIME_TIMESTAMP":"1795938906123456"}"#;
const DB: &str = r#"{"_SYSTEMD_UNIT":"pod-web.db.scope","MESSAGE":[104,105,255],"__REALTIME_TIMESTAMP":"1795938906123457"}"#;
const SYSTEMD: &str = r#"{"_SYSTEMD_UNIT":"init.scope","MESSAGE":"Started pod-web.app.scope","__REALTIME_TIMESTAMP":"1"}"#;

#[test]
fn raw_lines_are_the_messages() {
    let (paths, dir) = fixture("raw");
    let journal = Lines {
        lines: vec![APP.into(), SYSTEMD.into(), DB.into()],
        ..Default::default()
    };
    let mut out = Vec::new();
    print_logs(
        &journal,
        &paths,
        &parse(&["web", "--tail", "5"]),
        false,
        &mut out,
    )
    .unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "[app] hello\n[db] hi\u{fffd}\n"
    );
    assert_eq!(
        journal.queries.borrow()[0].join(" "),
        "--no-pager _SYSTEMD_UNIT=pod-web.app.scope _SYSTEMD_UNIT=pod-web.db.scope \
         --lines=5 --output=json --output-fields=MESSAGE,_SYSTEMD_UNIT"
    );
    let mut out = Vec::new();
    print_logs(
        &journal,
        &paths,
        &parse(&["web", "-c", "app", "-t"]),
        false,
        &mut out,
    )
    .unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "2026-11-29T07:55:06.123456Z hello\n2026-11-29T07:55:06.123457Z hi\u{fffd}\n"
    );
    assert_eq!(
        journal.queries.borrow()[1].join(" "),
        "--no-pager _SYSTEMD_UNIT=pod-web.app.scope --output=json \
         --output-fields=MESSAGE,_SYSTEMD_UNIT"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn unknown_pod_or_container_is_an_error() {
    let (paths, dir) = fixture("unknown");
    let journal = Lines::default();
    let mut out = Vec::new();
    let e = print_logs(&journal, &paths, &parse(&["typo"]), false, &mut out).unwrap_err();
    assert!(e.to_string().contains("no pod named \"typo\""), "{e}");
    let e = print_logs(&journal, &paths, &parse(&["web", "nope"]), false, &mut out).unwrap_err();
    assert!(
        e.to_string()
            .contains("no container \"nope\" (its containers: app, db)"),
        "{e}"
    );
    assert!(journal.queries.borrow().is_empty());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn journal_view_keeps_journalctls_options() {
    let a = parse(&[
        "web", "app", "--since", "-1h", "--until", "now", "-n", "5", "-o", "cat", "-f",
    ]);
    assert_eq!(
        journalctl_args("web", &[], &a).join(" "),
        "--no-pager _SYSTEMD_UNIT=pod-web.app.scope --since=-1h --until=now --lines=5 \
         --output=cat --follow"
    );
    let a = parse(&["web", "--journal", "--lines", "3"]);
    assert_eq!(
        journalctl_args("web", &["app".into()], &a).join(" "),
        "--no-pager -u pod@web.service -u pod-web.*.scope --lines=3"
    );
}

#[test]
fn option_conflicts() {
    use crate::cli::args::Args;
    for words in [
        &["podctl", "logs", "web", "app", "-c", "db"][..],
        &["podctl", "logs", "web", "-t", "--journal"],
        &["podctl", "logs", "web", "-t", "-o", "cat"],
    ] {
        assert!(Args::try_parse_from(words).is_err(), "{words:?}");
    }
}

/// On a terminal, a container's escape sequences are shown, not obeyed.
#[test]
fn control_characters_are_escaped_on_a_terminal() {
    assert_eq!(
        escape_controls("\x1b]0;owned\x07red\x1b[31m\rover\tok\u{9b}2J é"),
        "\\x1b]0;owned\\x07red\\x1b[31m\\x0dover\tok\\u{9b}2J é"
    );
    let (paths, dir) = fixture("escape");
    let journal = Lines {
        lines: vec![r#"{"_SYSTEMD_UNIT":"pod-web.app.scope","MESSAGE":"a\u001b[2Jb"}"#.into()],
        ..Default::default()
    };
    let a = parse(&["web", "app"]);
    let mut out = Vec::new();
    print_logs(&journal, &paths, &a, true, &mut out).unwrap();
    assert_eq!(String::from_utf8(out).unwrap(), "a\\x1b[2Jb\n");
    let mut out = Vec::new();
    print_logs(&journal, &paths, &a, false, &mut out).unwrap();
    assert_eq!(String::from_utf8(out).unwrap(), "a\x1b[2Jb\n");
    std::fs::remove_dir_all(&dir).unwrap();
}
