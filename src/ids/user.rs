//! A user's own subordinate IDs (rootless pods): the first line of
//! `/etc/subuid` and of `/etc/subgid` naming the user (by login name or
//! UID), as `newuidmap`/`newgidmap` check them. Every pod of the user gets
//! the same [`UserMap`]: the user's image store is unpacked with it.

use super::IdsError;
use crate::layout::HostRoots;
use crate::model::UserMap;
use crate::owner::UserDirs;
use std::path::Path;

/// The user's mapping: root is the user, then the subordinate IDs.
pub fn user_map(host: &HostRoots, user: &UserDirs) -> Result<UserMap, IdsError> {
    let (sub_uid, uids) = first_range(&host.subuid, user)?;
    let (sub_gid, gids) = first_range(&host.subgid, user)?;
    Ok(UserMap {
        uid: user.uid,
        gid: user.gid,
        sub_uid,
        sub_gid,
        count: uids.min(gids),
    })
}

/// The setuid tools [`new_maps`] runs, found on `search_path` (`$PATH`):
/// checked when a user's pod is planned, so apply refuses before anything
/// is stored or started.
pub fn tools_on(search_path: &std::ffi::OsStr) -> Result<(), IdsError> {
    for tool in ["newuidmap", "newgidmap"] {
        if !std::env::split_paths(search_path).any(|d| d.join(tool).is_file()) {
            return Err(IdsError::NoTool { tool });
        }
    }
    Ok(())
}

/// `(start, count)` of the first line of `path` for `user`.
fn first_range(path: &Path, user: &UserDirs) -> Result<(u32, u32), IdsError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(source) => {
            return Err(IdsError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    parse_first(path, &text, &user.name, user.uid)
}

/// The first valid `NAME:START:COUNT` line of `text` for `name` or `uid`.
pub fn parse_first(path: &Path, text: &str, name: &str, uid: u32) -> Result<(u32, u32), IdsError> {
    let uid = uid.to_string();
    for (i, line) in text.lines().enumerate() {
        let fields: Vec<&str> = line.trim().split(':').map(str::trim).collect();
        let [who, start, count] = fields[..] else {
            continue;
        };
        if who != name && who != uid {
            continue;
        }
        let parsed = (start.parse::<u32>(), count.parse::<u32>());
        let (Ok(start), Ok(count)) = parsed else {
            return Err(IdsError::SubIdLine {
                path: path.to_path_buf(),
                line: i + 1,
                text: line.trim().to_string(),
                reason: "expected NAME:START:COUNT".into(),
            });
        };
        if count > 0 && u64::from(start) + u64::from(count) <= u64::from(u32::MAX) {
            return Ok((start, count));
        }
    }
    Err(IdsError::NoUserEntry {
        path: path.to_path_buf(),
        user: name.to_string(),
    })
}

/// Writes the user's mapping as `pid`'s user namespace's ID maps through
/// the setuid `newuidmap` and `newgidmap` (package uidmap), which check it
/// against the user's lines of /etc/subuid and /etc/subgid.
pub fn new_maps(pid: u32, map: &UserMap) -> Result<(), String> {
    for (tool, args) in [("newuidmap", map.uid_args()), ("newgidmap", map.gid_args())] {
        let out = std::process::Command::new(tool)
            .arg(pid.to_string())
            .args(&args)
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => format!(
                    "{tool} is not installed: a user's pods and image store need it to map the user's subordinate IDs (Debian: apt install uidmap)"
                ),
                _ => format!("cannot run {tool}: {e}"),
            })?;
        if !out.status.success() {
            return Err(format!(
                "{tool} {pid} {} failed ({}): {}",
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mapping_tools_are_looked_up_on_the_path() {
        let dir = std::env::temp_dir().join(format!("podctl-uidmap-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = std::ffi::OsString::from(format!("/nonexistent:{}", dir.display()));
        let e = tools_on(&path).unwrap_err().to_string();
        assert!(
            e.contains("newuidmap is not installed") && e.contains("apt install uidmap"),
            "{e}"
        );
        std::fs::write(dir.join("newuidmap"), "").unwrap();
        let e = tools_on(&path).unwrap_err().to_string();
        assert!(e.starts_with("newgidmap is not installed"), "{e}");
        std::fs::write(dir.join("newgidmap"), "").unwrap();
        tools_on(&path).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_users_first_line_by_name_or_uid() {
        let p = Path::new("/etc/subuid");
        let text =
            "containers:2147483647:2147483648\nbob:100000:65536\nann:165536:65536\nann:300000:10\n";
        assert_eq!(
            parse_first(p, text, "ann", 1000).unwrap(),
            (165_536, 65_536)
        );
        assert_eq!(
            parse_first(p, "1000:400000:5\n", "ann", 1000).unwrap(),
            (400_000, 5)
        );
        let e = parse_first(p, text, "carl", 1002).unwrap_err().to_string();
        assert!(e.contains("/etc/subuid has no line for carl"), "{e}");
        assert!(e.contains("usermod --add-subuids"), "{e}");
        let e = parse_first(p, "ann:x:1\n", "ann", 1000)
            .unwrap_err()
            .to_string();
        assert!(e.contains("/etc/subuid:1: `ann:x:1`"), "{e}");
    }
}
