//! Expected-output tests for pod files: every example validates and its plan
//! renders as `tests/data/spec/plans/NAME.plan`; every rejected input
//! `tests/data/spec/invalid/CASE.toml` gives exactly `CASE.err`.
//!
//! `UPDATE_EXPECT=1 cargo test --test spec` rewrites the expected files;
//! review the diff before committing it.
//!
//! A libtest-mimic harness (`harness = false`), so that the trial run as user
//! nobody is reported *ignored*, with the reason, where it cannot run (not
//! root, no `setpriv`), and fails instead under `PODCTL_BENCH=required`.

use libtest_mimic::{Arguments, Failed, Trial};
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

fn main() {
    let args = Arguments::from_args();
    let trial = |name: &str, f: fn() -> Result<(), String>| {
        Trial::test(name, move || f().map_err(Failed::from))
    };
    let trials = vec![
        trial(
            "examples_validate_and_match_their_plans",
            examples_validate_and_match_their_plans,
        ),
        trial(
            "invalid_inputs_give_exact_diagnostics",
            invalid_inputs_give_exact_diagnostics,
        ),
        trial(
            "load_labels_diagnostics_with_the_path",
            load_labels_diagnostics_with_the_path,
        ),
        trial(
            "validate_and_dry_run_need_neither_root_nor_systemd",
            validate_and_dry_run_need_neither_root_nor_systemd,
        ),
        as_nobody_trial(),
    ];
    libtest_mimic::run(&args, trials).exit()
}

fn examples_validate_and_match_their_plans() -> Result<(), String> {
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
    all_passed(failures)
}

fn all_passed(failures: Vec<String>) -> Result<(), String> {
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("\n\n"))
    }
}

/// Every rejected input is a file of its own (bytes: some are not UTF-8).
fn invalid_inputs_give_exact_diagnostics() -> Result<(), String> {
    let cases = toml_files(&root().join("tests/data/spec/invalid"));
    assert!(
        cases.len() >= 20,
        "the catalogue of rejected inputs went missing"
    );
    let mut failures = Vec::new();
    for path in &cases {
        let src = fs::read(path).unwrap();
        let actual = match spec::parse_bytes(&src, file_name(path), stem(path)) {
            Ok(_) => {
                failures.push(format!("{} is accepted", path.display()));
                continue;
            }
            Err(d) => format!("{d}\n"),
        };
        failures.extend(expect(&path.with_extension("err"), &actual));
    }
    all_passed(failures)
}

fn load_labels_diagnostics_with_the_path() -> Result<(), String> {
    let path = root().join("tests/data/spec/invalid/bad-size.toml");
    let d = spec::load(&path).unwrap_err();
    assert!(
        d.0[0]
            .file
            .ends_with("tests/data/spec/invalid/bad-size.toml")
    );
    let missing = spec::load(Path::new("/nonexistent/pod.toml")).unwrap_err();
    assert!(missing.0[0].message.starts_with("cannot read: "));
    Ok(())
}

/// Runs the built podctl with nothing from the environment but PATH, no
/// pod store and no reachable system bus, in `dir`, optionally through
/// `setpriv` as nobody.
fn podctl(dir: &Path, as_nobody: Option<&Path>, args: &[&str]) -> std::process::Output {
    use std::process::Command;
    let bin = env!("CARGO_BIN_EXE_podctl");
    let mut cmd = match as_nobody {
        Some(bin) => {
            let mut c = Command::new("setpriv");
            c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
                .arg(bin);
            c
        }
        None => Command::new(bin),
    };
    cmd.args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env("PODCTL_STORE", "/nonexistent")
        .env("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent");
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

/// The checks of `validate_and_dry_run_need_neither_root_nor_systemd`,
/// with `examples` the directory holding the examples, `invalid` a directory
/// holding the [`OFFLINE_CASES`] and their `.err`.
fn offline_commands(
    examples: &Path,
    invalid: &Path,
    as_nobody: Option<&Path>,
) -> Result<(), String> {
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let names: Vec<String> = toml_files(examples)
        .iter()
        .map(|p| file_name(p).to_string())
        .collect();
    let mut args = vec!["validate"];
    args.extend(names.iter().map(String::as_str));
    let out = podctl(examples, as_nobody, &args);
    let stdout = text(&out.stdout);
    if !out.status.success() || !out.stderr.is_empty() {
        return Err(format!(
            "podctl {args:?}: {}\nstdout:\n{stdout}\nstderr:\n{}",
            out.status,
            text(&out.stderr)
        ));
    }
    for name in &names {
        if !stdout
            .lines()
            .any(|l| l.starts_with(&format!("{name}: pod ")))
        {
            return Err(format!("no summary for {name} in:\n{stdout}"));
        }
    }

    let args = ["apply", "--dry-run", "--output", "json", "web.toml"];
    let out = podctl(examples, as_nobody, &args);
    if !out.status.success() {
        return Err(format!(
            "podctl {args:?}: {}\n{}",
            out.status,
            text(&out.stderr)
        ));
    }
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("podctl {args:?}: not JSON ({e}):\n{}", text(&out.stdout)))?;
    let units = [
        ("/slice/name", "pod-web.slice"),
        ("/sandbox/unit/name", "pod-web.sandbox.scope"),
        ("/containers/0/unit/name", "pod-web.app.scope"),
        ("/containers/1/unit/name", "pod-web.sidecar.scope"),
    ];
    for (pointer, unit) in units {
        if plan.pointer(pointer).and_then(|v| v.as_str()) != Some(unit) {
            return Err(format!("{pointer} is not {unit:?} in the plan:\n{plan:#}"));
        }
    }

    for case in OFFLINE_CASES {
        let file = format!("{case}.toml");
        let out = podctl(invalid, as_nobody, &["validate", &file]);
        let want = fs::read_to_string(invalid.join(format!("{case}.err"))).unwrap();
        if out.status.code() != Some(1) || text(&out.stderr) != want || !out.stdout.is_empty() {
            return Err(format!(
                "podctl validate {file}: {}, want exit status 1\nstderr:\n{}want:\n{want}",
                out.status,
                text(&out.stderr)
            ));
        }
    }
    Ok(())
}

/// Whether user nobody can read (and for directories enter) `path` and
/// every directory above it.
fn world_readable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.ancestors().all(|p| {
        fs::metadata(p).is_ok_and(|m| {
            let need = if m.is_dir() { 0o005 } else { 0o004 };
            m.permissions().mode() & need == need
        })
    })
}

/// Files of `tests/data/spec/invalid` the offline commands check, with their `.err`.
const OFFLINE_CASES: [&str; 2] = ["bad-size", "invalid-utf8"];

fn validate_and_dry_run_need_neither_root_nor_systemd() -> Result<(), String> {
    let invalid = root().join("tests/data/spec/invalid");
    offline_commands(&root().join("examples"), &invalid, None)?;
    if !nix::unistd::geteuid().is_root() {
        // Already unprivileged: the commands answer for this user's pods.
        own_pods_only(&invalid, None)?;
    }
    Ok(())
}

/// `podctl ps`, `status` and `inspect` as a user who is not root answer
/// for that user's own pods (rootless), never root's: here, on a host with
/// no systemd (or, for `status` and `inspect`, where the user has no
/// manager running), one line saying so, exit 1. (`ps` of a user whose
/// manager does not run on a systemd host lists no pod: the VM tier's
/// rootless trials.)
fn own_pods_only(dir: &Path, as_nobody: Option<&Path>) -> Result<(), String> {
    let whys = [
        "systemd is not running as PID 1",
        "cannot connect to your systemd user manager",
        "no pod named",
        "is not running (no /run/user/",
    ];
    let systemd_host = Path::new("/run/systemd/system").exists();
    for args in [&["ps"][..], &["status", "web"], &["inspect", "web"]] {
        let out = podctl(dir, as_nobody, args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        if systemd_host && args == ["ps"] {
            let stdout = String::from_utf8_lossy(&out.stdout);
            if !out.status.success() || stdout.lines().count() != 1 || !stdout.starts_with("POD ") {
                return Err(format!(
                    "podctl ps as a plain user without a manager: {}, stdout:\n{stdout}",
                    out.status
                ));
            }
            continue;
        }
        let said = stderr.starts_with("podctl: ") && whys.iter().any(|w| stderr.contains(w));
        if out.status.code() != Some(1) || stderr.lines().count() != 1 || !said {
            return Err(format!(
                "podctl {args:?} as a plain user: {}, stderr:\n{stderr}want one line saying one of {whys:?}",
                out.status
            ));
        }
    }
    Ok(())
}

/// Why the trial as nobody cannot run here, if it cannot.
fn nobody_unavailable() -> Option<String> {
    if !nix::unistd::geteuid().is_root() {
        return Some("not root: cannot switch to user nobody".into());
    }
    let setpriv = std::process::Command::new("setpriv")
        .arg("--version")
        .output();
    if !setpriv.is_ok_and(|o| o.status.success()) {
        return Some("setpriv (util-linux) is missing".into());
    }
    None
}

/// The offline commands once more as user nobody (what a user without root
/// gets). Where that cannot be done it is reported ignored, with the reason
/// on stderr; under `PODCTL_BENCH=required` (tests/run, CI) it fails.
fn as_nobody_trial() -> Trial {
    const NAME: &str = "validate_and_dry_run_as_nobody";
    match nobody_unavailable() {
        None => Trial::test(NAME, || as_nobody().map_err(Failed::from)),
        Some(why) if std::env::var("PODCTL_BENCH").is_ok_and(|m| m == "required") => {
            Trial::test(NAME, move || {
                Err(format!("{why} (PODCTL_BENCH=required: this trial must run)").into())
            })
        }
        Some(why) => {
            eprintln!("spec: skipping {NAME}: {why}");
            Trial::test(NAME, move || Err(format!("skipped: {why}").into())).with_ignored_flag(true)
        }
    }
}

fn as_nobody() -> Result<(), String> {
    let invalid = root().join("tests/data/spec/invalid");
    // A world-readable copy of what nobody needs: the examples, the invalid
    // cases and, when the build directory is not reachable, the binary.
    let dir = std::env::temp_dir().join(format!("podctl-spec-nobody-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    let (examples, bad) = (dir.join("examples"), dir.join("invalid"));
    fs::create_dir_all(&examples).unwrap();
    fs::create_dir_all(&bad).unwrap();
    for p in toml_files(&root().join("examples")) {
        fs::copy(&p, examples.join(file_name(&p))).unwrap();
    }
    for case in OFFLINE_CASES {
        for ext in ["toml", "err"] {
            let name = format!("{case}.{ext}");
            fs::copy(invalid.join(&name), bad.join(&name)).unwrap();
        }
    }
    let mut bin = PathBuf::from(env!("CARGO_BIN_EXE_podctl"));
    if !world_readable(&bin) {
        fs::copy(&bin, dir.join("podctl")).unwrap();
        bin = dir.join("podctl");
    }
    {
        use std::os::unix::fs::PermissionsExt;
        for d in [&dir, &examples, &bad] {
            fs::set_permissions(d, fs::Permissions::from_mode(0o755)).unwrap();
            for f in fs::read_dir(d).unwrap() {
                let f = f.unwrap().path();
                if f.is_file() {
                    let mode = if f == bin { 0o755 } else { 0o644 };
                    fs::set_permissions(&f, fs::Permissions::from_mode(mode)).unwrap();
                }
            }
        }
    }
    let result = if !world_readable(&dir) {
        Err(format!("{} is not reachable by nobody", dir.display()))
    } else {
        offline_commands(&examples, &bad, Some(&bin))
            .and_then(|()| own_pods_only(&bad, Some(&bin)))
            .map_err(|e| format!("as nobody: {e}"))
    };
    let _ = fs::remove_dir_all(&dir);
    result
}
