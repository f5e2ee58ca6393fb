//! The reconcile decision against expected outputs: each directory of
//! `tests/data/decide/` is one case, `running.toml` (what the supervisor
//! runs; absent: the pod does not run; `reload-failed` next to it: its last
//! reload of that file could not start a container), `wanted.toml` (the file
//! applied) and `expected` (the decision, what `podctl apply` prints and
//! what `podctl diff` prints). `UPDATE_EXPECT=1` rewrites the expected files.

use podctl::plan::decide::{Changes, Running, Wanted, decide, running_plan};
use std::fs;
use std::path::{Path, PathBuf};

const POD: &str = "web";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/decide")
}

fn render(c: &Changes) -> String {
    let diff = c
        .diff()
        .map_or_else(|| format!("{POD}: created"), |d| d.to_string());
    format!(
        "decision: {}\napply prints:\n{}\ndiff prints:\n{diff}\n",
        c.kind(),
        c.report()
    )
}

fn case(dir: &Path) -> Changes {
    let wanted_text = fs::read_to_string(dir.join("wanted.toml")).unwrap();
    let wanted = podctl::spec::parse_str(&wanted_text, "wanted.toml", POD)
        .unwrap_or_else(|d| panic!("{}: {d}", dir.display()));
    let wanted_plan = podctl::plan::build(&wanted);
    let running_text = fs::read_to_string(dir.join("running.toml")).ok();
    let old = running_text
        .as_deref()
        .and_then(|t| running_plan(t, POD, &podctl::plan::Facts::default()));
    let running = running_text.as_deref().map(|t| Running {
        plan: old.as_ref(),
        definition: t,
        reload_failed: dir.join("reload-failed").exists(),
    });
    decide(
        running,
        Wanted {
            plan: &wanted_plan,
            definition: &wanted_text,
        },
    )
}

#[test]
fn every_case_gives_its_expected_decision() {
    let mut dirs: Vec<PathBuf> = fs::read_dir(root())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 5, "{dirs:?}");
    let mut failures = Vec::new();
    for dir in &dirs {
        let actual = render(&case(dir));
        let path = dir.join("expected");
        if std::env::var_os("UPDATE_EXPECT").is_some_and(|v| v == "1") {
            fs::write(&path, &actual).unwrap();
            continue;
        }
        let expected = fs::read_to_string(&path).unwrap_or_default();
        if expected != actual {
            failures.push(format!(
                "{} differs\n--- expected\n{expected}--- actual\n{actual}",
                path.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every kind of decision has a case of its own.
#[test]
fn each_kind_of_change_has_a_case() {
    let mut kinds: Vec<String> = fs::read_dir(root())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .map(|d| case(&d).kind().to_string())
        .collect();
    kinds.sort();
    kinds.dedup();
    assert_eq!(kinds, ["create", "recreate", "reload", "unchanged"]);
}
