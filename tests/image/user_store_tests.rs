//! A user's own store, written by `podctl pull` run as that user (the
//! user named by `PODCTL_TEST_USER`, who needs a line in /etc/subuid and
//! /etc/subgid and `newuidmap`; without it the trial is ignored): each
//! file is owned on disk by the host ID its owner maps to, modes kept, an
//! owner past the mapping refused by name, and `podctl rmi` removes the
//! subordinate IDs' files the user alone could not.

use super::build::{E, Repo, gzip, tar};
use super::{TestFn, check, tempdir};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;

pub const TESTS: &[(&str, TestFn)] = &[(
    "user_store::a_users_pull_maps_owners_and_rmi_removes_them",
    a_users_pull_maps_owners_and_rmi_removes_them,
)];

/// The variable naming the user, and why the trial is ignored without it.
pub const USER_VAR: &str = "PODCTL_TEST_USER";

/// The user's UID, GID, home, and first subordinate UID and GID.
fn user(name: &str) -> Result<(u32, u32, String, u32, u32), String> {
    let pw = nix::unistd::User::from_name(name)
        .map_err(|e| e.to_string())?
        .ok_or(format!("{USER_VAR}={name}: no such user"))?;
    let first = |file: &str| -> Result<u32, String> {
        let text = std::fs::read_to_string(file).map_err(|e| format!("{file}: {e}"))?;
        text.lines()
            .filter_map(|l| l.split_once(':'))
            .find(|(who, _)| *who == name || *who == pw.uid.to_string())
            .and_then(|(_, rest)| rest.split(':').next()?.parse().ok())
            .ok_or(format!("{file} has no line for {name}"))
    };
    Ok((
        pw.uid.as_raw(),
        pw.gid.as_raw(),
        pw.dir.display().to_string(),
        first("/etc/subuid")?,
        first("/etc/subgid")?,
    ))
}

fn a_users_pull_maps_owners_and_rmi_removes_them() -> Result<(), String> {
    let name = std::env::var(USER_VAR).map_err(|_| format!("{USER_VAR} is not set"))?;
    let (uid, gid, home, sub_uid, sub_gid) = user(&name)?;
    let d = tempdir("userstore");
    std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755)).unwrap();
    let layer = gzip(&tar(&[
        // A directory of a subordinate ID, with a file: the user alone
        // could remove neither.
        E::OwnedDir("srv/", 0o750, 33, 33),
        E::Owned("srv/www", 0o640, 33, 34, b"www"),
        E::Owned("usr/bin/su", 0o4755, 0, 0, b"su"),
        E::Owned("usr/bin/wall", 0o2755, 0, 5, b"wall"),
        E::File("srv/.wh.gone", b""),
    ]));
    let far = gzip(&tar(&[E::Owned("srv/far", 0o644, 70_000, 0, b"far")]));
    let mut repo = Repo::default();
    repo.image("v1", std::slice::from_ref(&layer), "/a");
    repo.image("far", &[far], "/a");
    repo.write_layout(&d.join("layout"));
    Command::new("chmod")
        .args(["-R", "a+rX"])
        .arg(&d)
        .status()
        .map_err(|e| e.to_string())?;
    // The user runs a copy of podctl in the test's directory: the build's
    // own may lie under a directory only root enters.
    let exe = d.join("podctl");
    std::fs::copy(env!("CARGO_BIN_EXE_podctl"), &exe).map_err(|e| e.to_string())?;
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
    let store = d.join("store");
    std::fs::create_dir(&store).unwrap();
    nix::unistd::chown(&store, Some(uid.into()), Some(gid.into())).map_err(|e| e.to_string())?;
    let podctl = |args: &[&str]| -> Result<std::process::Output, String> {
        Command::new("setpriv")
            .args([
                &format!("--reuid={uid}"),
                &format!("--regid={gid}"),
                "--init-groups",
                "env",
                "-i",
                &format!("HOME={home}"),
                "PATH=/usr/bin:/bin:/usr/sbin:/sbin",
            ])
            .arg(format!("PODCTL_STORAGE={}", store.display()))
            .arg(&exe)
            .args(args)
            .output()
            .map_err(|e| e.to_string())
    };
    let image = |tag: &str| format!("oci:{}:{tag}", d.join("layout").display());
    let out = podctl(&["pull", &image("v1")])?;
    check(out.status.success(), || {
        format!("pull: {}", String::from_utf8_lossy(&out.stderr))
    })?;
    let dir = store
        .join("layers")
        .join(podctl::image::Digest::of(&layer).hex());
    let owner = |p: &str| {
        let m = dir.join(p).symlink_metadata().unwrap();
        (m.uid(), m.gid(), m.mode() & 0o7777)
    };
    // Container ID N > 0 is the user's subordinate ID N - 1 from the start.
    check(
        owner("srv/www") == (sub_uid + 32, sub_gid + 33, 0o640),
        || format!("srv/www: {:?}", owner("srv/www")),
    )?;
    check(owner("srv") == (sub_uid + 32, sub_gid + 32, 0o750), || {
        format!("srv: {:?}", owner("srv"))
    })?;
    check(owner("usr/bin/su") == (uid, gid, 0o4755), || {
        format!("usr/bin/su: {:?}", owner("usr/bin/su"))
    })?;
    check(owner("usr/bin/wall") == (uid, sub_gid + 4, 0o2755), || {
        format!("usr/bin/wall: {:?}", owner("usr/bin/wall"))
    })?;
    let gone = dir.join("srv/gone").symlink_metadata().unwrap();
    check(
        gone.file_type().is_char_device() && gone.rdev() == 0,
        || "srv/gone is not a whiteout".into(),
    )?;
    let out = podctl(&["pull", &image("far")])?;
    let err = String::from_utf8_lossy(&out.stderr);
    check(
        !out.status.success() && err.contains("entry \"srv/far\": owner 70000:0 is outside"),
        || format!("pull of an owner past the mapping: {err}"),
    )?;
    check(is_empty(&store.join("tmp")), || {
        "the refused layer was left in tmp/".into()
    })?;
    let out = podctl(&["rmi", &image("v1")])?;
    check(out.status.success() && !dir.exists(), || {
        format!("rmi: {}", String::from_utf8_lossy(&out.stderr))
    })?;
    std::fs::remove_dir_all(&d).map_err(|e| e.to_string())
}

fn is_empty(p: &Path) -> bool {
    std::fs::read_dir(p).is_ok_and(|mut r| r.next().is_none())
}

use std::os::unix::fs::FileTypeExt;
