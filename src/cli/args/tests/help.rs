//! `podctl COMMAND --help` of every visible command against
//! `tests/data/help/podctl[-COMMAND[-SUB]].txt`; `UPDATE_EXPECT=1 cargo test
//! --lib -- cli::args` rewrites them (review the diff before committing).

use super::super::command;
use std::path::{Path, PathBuf};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/help")
}

/// Every visible command's long help, by file name, at a fixed width.
fn helps() -> Vec<(String, String)> {
    fn walk(cmd: &mut clap::Command, name: &str, out: &mut Vec<(String, String)>) {
        out.push((format!("{name}.txt"), cmd.render_long_help().to_string()));
        let subs: Vec<String> = cmd
            .get_subcommands()
            .filter(|s| !s.is_hide_set() && s.get_name() != "help")
            .map(|s| s.get_name().to_string())
            .collect();
        for sub in subs {
            let s = cmd.find_subcommand_mut(&sub).expect("listed");
            walk(s, &format!("{name}-{sub}"), out);
        }
    }
    let mut root = command().term_width(100).max_term_width(100);
    root.build();
    let mut out = Vec::new();
    walk(&mut root, "podctl", &mut out);
    out
}

#[test]
fn help_of_every_command_is_as_expected() {
    let update = std::env::var_os("UPDATE_EXPECT").is_some_and(|v| v == "1");
    let helps = helps();
    let mut failures = Vec::new();
    if update {
        std::fs::create_dir_all(dir()).unwrap();
    }
    for (file, text) in &helps {
        let path = dir().join(file);
        if update {
            std::fs::write(&path, text).unwrap();
            continue;
        }
        match std::fs::read_to_string(&path) {
            Ok(want) if want == *text => {}
            Ok(want) => failures.push(format!(
                "{} differs\n--- expected\n{want}\n--- actual\n{text}",
                path.display()
            )),
            Err(e) => failures.push(format!(
                "{}: {e} (run with UPDATE_EXPECT=1)",
                path.display()
            )),
        }
    }
    // No file for a command that is gone or hidden.
    for entry in std::fs::read_dir(dir()).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if !helps.iter().any(|(f, _)| *f == name) {
            if update {
                std::fs::remove_file(dir().join(&name)).unwrap();
            } else {
                failures.push(format!("tests/data/help/{name}: no such command"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
