//! The image store and layer unpacker on the host, in temporary
//! directories: real files, device nodes, xattrs and overlay mounts (in a
//! private mount namespace). Needs root: without it every test is reported
//! ignored, and under `PODCTL_BENCH=required` that is a failure.

#[path = "image/build.rs"]
mod build;
#[path = "image/hostile_store_tests.rs"]
mod hostile_store_tests;
#[path = "image/hostile_tests.rs"]
mod hostile_tests;
#[path = "rig/preflight.rs"]
#[allow(dead_code)]
mod preflight;
#[path = "image/source.rs"]
mod source;
#[path = "image/store_tests.rs"]
mod store_tests;
#[path = "common/tempdirs.rs"]
mod tempdirs;
#[path = "image/unpack_props.rs"]
mod unpack_props;
#[path = "image/unpack_tests.rs"]
mod unpack_tests;
#[path = "image/user_store_tests.rs"]
mod user_store_tests;

use libtest_mimic::{Arguments, Failed, Trial};
use std::path::PathBuf;

pub type TestFn = fn() -> Result<(), String>;

fn main() {
    let args = Arguments::from_args();
    let availability = preflight::check("image (host store)", &["unshare", "mount"]);
    let trials = unpack_tests::TESTS
        .iter()
        .chain(store_tests::TESTS)
        .chain(hostile_tests::TESTS)
        .chain(hostile_store_tests::TESTS)
        .chain(unpack_props::TESTS)
        .chain(user_store_tests::TESTS)
        .map(|&(name, f)| match availability.clone() {
            // A user's store needs a user with subordinate IDs (tests/run
            // makes one): ignored without one, a failure where the rig must run.
            preflight::Availability::Ready
                if name.starts_with("user_store::")
                    && std::env::var_os(user_store_tests::USER_VAR).is_none() =>
            {
                let why = format!(
                    "{} names no user with subordinate IDs (tests/run makes one)",
                    user_store_tests::USER_VAR
                );
                if std::env::var("PODCTL_BENCH").as_deref() == Ok("required") {
                    Trial::test(name, move || Err(why.into()))
                } else {
                    eprintln!("image: {name} ignored: {why}");
                    Trial::test(name, || Ok(())).with_ignored_flag(true)
                }
            }
            preflight::Availability::Ready => Trial::test(name, move || f().map_err(Failed::from)),
            preflight::Availability::Skip(why) => {
                Trial::test(name, move || Err(why.into())).with_ignored_flag(true)
            }
            preflight::Availability::Fail(msg) => Trial::test(name, move || Err(msg.into())),
        })
        .collect();
    let conclusion = libtest_mimic::run(&args, trials);
    // Every trial has ended: this run's tempdirs go.
    tempdirs::remove_run_tempdirs("podctl-image-");
    conclusion.exit();
}

/// A fresh empty directory for one test.
pub fn tempdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("podctl-image-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `Err(msg)` unless `cond`.
pub fn check(cond: bool, msg: impl FnOnce() -> String) -> Result<(), String> {
    if cond { Ok(()) } else { Err(msg()) }
}
