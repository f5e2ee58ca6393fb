//! Who an image container runs as: user and group names are the image's,
//! looked up in its own `/etc/passwd` and `/etc/group` (as Docker and
//! Podman do), never in the host's. Parsing is pure; [`resolve`] reads the
//! two files from the mounted root.

use crate::model::User;
use std::path::Path;

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
    let read = |name: &str| -> String {
        let p = root.join("etc").join(name);
        // Only a file inside the root: a symlink out of it names a host file.
        match std::fs::canonicalize(&p) {
            Ok(real) if real.starts_with(root) => std::fs::read_to_string(real).unwrap_or_default(),
            _ => String::new(),
        }
    };
    lookup(user, &read("passwd"), &read("group"))
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
}
