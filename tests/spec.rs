//! Expected-output tests for pod files: every example validates and its plan
//! renders as `tests/data/spec/plans/NAME.plan`; every rejected input
//! `tests/data/spec/invalid/CASE.toml` gives exactly `CASE.err`.
//!
//! `UPDATE_EXPECT=1 cargo test --test spec` rewrites the expected files;
//! review the diff before committing it.

use podctl::plan::{self, render};
use podctl::spec;
use std::fs;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// `*.toml` files of a directory, sorted.
fn toml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
}

/// Compares `actual` with the expected file, or rewrites it under UPDATE_EXPECT=1.
/// Returns a description of the mismatch.
fn expect(expected_path: &Path, actual: &str) -> Option<String> {
    if std::env::var_os("UPDATE_EXPECT").is_some_and(|v| v == "1") {
        fs::write(expected_path, actual).unwrap();
        return None;
    }
    let expected = match fs::read_to_string(expected_path) {
        Ok(text) => text,
        Err(e) => {
            return Some(format!(
                "{}: {e} (run with UPDATE_EXPECT=1)",
                expected_path.display()
            ));
        }
    };
    (expected != actual).then(|| {
        format!(
            "{} differs\n--- expected\n{expected}\n--- actual\n{actual}",
            expected_path.display()
        )
    })
}

fn stem(path: &Path) -> &str {
    path.file_stem().unwrap().to_str().unwrap()
}

fn file_name(path: &Path) -> &str {
    path.file_name().unwrap().to_str().unwrap()
}

#[test]
fn examples_validate_and_match_their_plans() {
    let examples = toml_files(&root().join("examples"));
    assert!(!examples.is_empty());
    let mut failures = Vec::new();
    for path in &examples {
        let src = fs::read_to_string(path).unwrap();
        let pod = match spec::parse_str(&src, file_name(path), stem(path)) {
            Ok(pod) => pod,
            Err(d) => {
                failures.push(format!("{} is rejected:\n{d}", path.display()));
                continue;
            }
        };
        let plan = plan::build(&pod);
        serde_json::to_string_pretty(&plan).expect("plans serialize to JSON");
        let expected = root()
            .join("tests/data/spec/plans")
            .join(format!("{}.plan", stem(path)));
        failures.extend(expect(&expected, &render::human(&plan)));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn invalid_inputs_give_exact_diagnostics() {
    let cases = toml_files(&root().join("tests/data/spec/invalid"));
    assert!(
        cases.len() >= 20,
        "the catalogue of rejected inputs went missing"
    );
    let mut failures = Vec::new();
    for path in &cases {
        let src = fs::read_to_string(path).unwrap();
        let actual = match spec::parse_str(&src, file_name(path), stem(path)) {
            Ok(_) => {
                failures.push(format!("{} is accepted", path.display()));
                continue;
            }
            Err(d) => format!("{d}\n"),
        };
        failures.extend(expect(&path.with_extension("err"), &actual));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn load_labels_diagnostics_with_the_path() {
    let path = root().join("tests/data/spec/invalid/bad-size.toml");
    let d = spec::load(&path).unwrap_err();
    assert!(
        d.0[0]
            .file
            .ends_with("tests/data/spec/invalid/bad-size.toml")
    );
    let missing = spec::load(Path::new("/nonexistent/pod.toml")).unwrap_err();
    assert!(missing.0[0].message.starts_with("cannot read: "));
}
