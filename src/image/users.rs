//! Who an image container runs as: user and group names are the image's,
//! looked up in its own `/etc/passwd` and `/etc/group` (as Docker and
//! Podman do), never in the host's. Parsing is pure; [`resolve`] reads the
//! two files from the mounted root, which a running container can change:
//! they are opened relative to the root with symlinks resolved inside it
//! (`openat2` RESOLVE_IN_ROOT), never blocking (a FIFO), only as regular
//! files and at most [`MAX_DB_BYTES`] each.

use crate::model::User;
use std::io::Read;
use std::os::fd::AsFd;
use std::path::Path;

/// The largest `/etc/passwd` or `/etc/group` read (1 MiB: a system's
/// databases are a few KiB).
pub const MAX_DB_BYTES: u64 = 1 << 20;

/// A resolved user: uid, primary gid, supplementary gids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ids {
    pub uid: u32,
    pub gid: u32,
    pub groups: Vec<u32>,
}

/// `user` (None: root) against the image's passwd and group texts.
/// `name`, `uid`, `uid:gid`, `name:group`; a numeric uid the image does not
/// know gets gid 0 (Docker's rule).
pub fn lookup(user: Option<&User>, passwd: &str, group: &str) -> Result<Ids, String> {
    let (u, g) = match user {
        None => {
            return Ok(Ids {
                uid: 0,
                gid: 0,
                groups: Vec::new(),
            });
        }
        Some(User::Id { uid, gid }) => (uid.to_string(), gid.map(|g| g.to_string())),
        Some(User::Name(n)) => match n.split_once(':') {
            Some((u, g)) => (u.to_string(), Some(g.to_string())),
            None => (n.clone(), None),
        },
    };
    let entries: Vec<Vec<&str>> = passwd
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .filter(|f| f.len() >= 4)
        .collect();
    let entry = match u.parse::<u32>() {
        Ok(uid) => entries
            .iter()
            .find(|f| f[2].parse() == Ok(uid))
            .map(|f| (f[0], uid, f[3].parse().unwrap_or(0)))
            .or(Some(("", uid, 0))),
        Err(_) => entries
            .iter()
            .find(|f| f[0] == u)
            .and_then(|f| Some((f[0], f[2].parse().ok()?, f[3].parse().ok()?))),
    };
    let Some((name, uid, primary)) = entry else {
        return Err(format!("user {u:?} is not in the image's /etc/passwd"));
    };
    let groups: Vec<Vec<&str>> = group
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .filter(|f| f.len() >= 3)
        .collect();
    let gid = match g {
        None => primary,
        Some(g) => match g.parse::<u32>() {
            Ok(n) => n,
            Err(_) => groups
                .iter()
                .find(|f| f[0] == g)
                .and_then(|f| f[2].parse().ok())
                .ok_or_else(|| format!("group {g:?} is not in the image's /etc/group"))?,
        },
    };
    let mut extra: Vec<u32> = vec![gid];
    if !name.is_empty() {
        for f in &groups {
            let members = f.get(3).copied().unwrap_or_default();
            if members.split(',').any(|m| m == name)
                && let Ok(n) = f[2].parse()
                && !extra.contains(&n)
            {
                extra.push(n);
            }
        }
    }
    Ok(Ids {
        uid,
        gid,
        groups: extra,
    })
}

/// Reads `etc/passwd` and `etc/group` of the mounted `root` (missing files
/// are empty: numeric users still work) and resolves `user`.
pub fn resolve(root: &Path, user: Option<&User>) -> Result<Ids, String> {
    if user.is_none() {
        return lookup(None, "", "");
    }
    let dir =
        std::fs::File::open(root).map_err(|e| format!("cannot open {}: {e}", root.display()))?;
    let passwd = read_db(&dir, root, "etc/passwd")?;
    let group = read_db(&dir, root, "etc/group")?;
    lookup(user, &passwd, &group)
}

/// `rel` under the root opened as `dir` (`root` names it in errors): its
/// text, or empty if it does not exist. Symlinks resolve as if `dir` were
/// `/`; a FIFO, device, directory or socket, or a file larger than
/// [`MAX_DB_BYTES`], is an error (the open never blocks).
pub fn read_db(dir: &std::fs::File, root: &Path, rel: &str) -> Result<String, String> {
    use nix::fcntl::{OFlag, OpenHow, ResolveFlag, openat2};
    let shown = root.join(rel);
    let how = OpenHow::new()
        .flags(OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_NOCTTY | OFlag::O_CLOEXEC)
        .resolve(ResolveFlag::RESOLVE_IN_ROOT | ResolveFlag::RESOLVE_NO_MAGICLINKS);
    let fd = match openat2(dir.as_fd(), rel, how) {
        Ok(fd) => fd,
        Err(nix::errno::Errno::ENOENT) => return Ok(String::new()),
        Err(e) => return Err(format!("cannot open the image's {}: {e}", shown.display())),
    };
    let file = std::fs::File::from(fd);
    let meta = file
        .metadata()
        .map_err(|e| format!("cannot stat the image's {}: {e}", shown.display()))?;
    if !meta.is_file() {
        return Err(format!(
            "the image's {} is not a regular file: refusing to read it",
            shown.display()
        ));
    }
    let mut text = Vec::new();
    file.take(MAX_DB_BYTES + 1)
        .read_to_end(&mut text)
        .map_err(|e| format!("cannot read the image's {}: {e}", shown.display()))?;
    if text.len() as u64 > MAX_DB_BYTES {
        return Err(format!(
            "the image's {} is larger than {MAX_DB_BYTES} bytes: refusing to read it",
            shown.display()
        ));
    }
    Ok(String::from_utf8_lossy(&text).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str =
        "root:x:0:0:root:/root:/bin/sh\nnginx:x:101:101:nginx:/var/cache/nginx:/sbin/nologin\n";
    const GROUP: &str = "root:x:0:\nnginx:x:101:nginx\nwww:x:33:nginx,other\n";

    fn ids(uid: u32, gid: u32, groups: &[u32]) -> Ids {
        Ids {
            uid,
            gid,
            groups: groups.to_vec(),
        }
    }

    #[test]
    fn names_come_from_the_image() {
        let l = |u: &User| lookup(Some(u), PASSWD, GROUP);
        assert_eq!(lookup(None, PASSWD, GROUP), Ok(ids(0, 0, &[])));
        assert_eq!(
            l(&User::Name("nginx".into())),
            Ok(ids(101, 101, &[101, 33]))
        );
        assert_eq!(
            l(&User::Name("nginx:www".into())),
            Ok(ids(101, 33, &[33, 101]))
        );
        assert_eq!(
            l(&User::Id {
                uid: 101,
                gid: None
            }),
            Ok(ids(101, 101, &[101, 33]))
        );
        assert_eq!(
            l(&User::Id {
                uid: 5000,
                gid: Some(7)
            }),
            Ok(ids(5000, 7, &[7]))
        );
        assert_eq!(
            l(&User::Id {
                uid: 5000,
                gid: None
            }),
            Ok(ids(5000, 0, &[0]))
        );
        assert_eq!(
            l(&User::Name("www-data".into())),
            Err("user \"www-data\" is not in the image's /etc/passwd".into())
        );
        assert_eq!(
            l(&User::Name("nginx:nogroup".into())),
            Err("group \"nogroup\" is not in the image's /etc/group".into())
        );
    }

    fn scratch(tag: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("podctl-users-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("etc")).unwrap();
        d
    }

    #[test]
    fn the_databases_are_read_inside_the_root() {
        let root = scratch("in");
        let nobody = User::Name("nginx".into());
        // Missing: numeric users still resolve, names do not.
        assert!(resolve(&root, Some(&nobody)).is_err());
        std::fs::write(root.join("etc/passwd"), PASSWD).unwrap();
        std::fs::create_dir_all(root.join("usr/share")).unwrap();
        std::fs::write(root.join("usr/share/group"), GROUP).unwrap();
        // An absolute symlink resolves inside the root.
        std::os::unix::fs::symlink("/usr/share/group", root.join("etc/group")).unwrap();
        assert_eq!(resolve(&root, Some(&nobody)), Ok(ids(101, 101, &[101, 33])));
        // A symlink that climbs out stays in: ../../../etc/passwd is the
        // root's, not the host's.
        std::fs::remove_file(root.join("etc/group")).unwrap();
        std::os::unix::fs::symlink("../../../../../../etc/passwd", root.join("etc/group")).unwrap();
        let dir = std::fs::File::open(&root).unwrap();
        assert_eq!(read_db(&dir, &root, "etc/group").unwrap(), PASSWD);
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_fifo_or_a_huge_file_is_refused_at_once() {
        let root = scratch("fifo");
        nix::unistd::mkfifo(
            &root.join("etc/passwd"),
            nix::sys::stat::Mode::from_bits_truncate(0o644),
        )
        .unwrap();
        let t = std::time::Instant::now();
        let e = resolve(&root, Some(&User::Name("nginx".into()))).unwrap_err();
        assert!(e.contains("etc/passwd is not a regular file"), "{e}");
        assert!(t.elapsed() < std::time::Duration::from_secs(2));
        std::fs::remove_file(root.join("etc/passwd")).unwrap();
        std::fs::create_dir(root.join("etc/passwd")).unwrap();
        assert!(resolve(&root, Some(&User::Name("nginx".into()))).is_err());
        std::fs::remove_dir(root.join("etc/passwd")).unwrap();
        let big = std::fs::File::create(root.join("etc/passwd")).unwrap();
        big.set_len(MAX_DB_BYTES + 1).unwrap();
        let e = resolve(&root, Some(&User::Name("nginx".into()))).unwrap_err();
        assert!(e.contains("larger than 1048576 bytes"), "{e}");
        big.set_len(MAX_DB_BYTES).unwrap();
        assert!(
            resolve(&root, Some(&User::Name("nginx".into()))).is_err_and(|e| e.contains("not in"))
        );
        std::fs::remove_dir_all(&root).unwrap();
    }
}
