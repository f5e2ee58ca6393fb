//! What a container may do, decided from its security keys: the capability
//! sets, seccomp, no_new_privs, sysctls. The defaults are data in
//! [`crate::model::defaults`].

use crate::model::{Container, Seccomp, User};
use crate::model::{caps, defaults};
use serde::{Deserialize, Serialize};

/// The resulting security settings of one container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityPlan {
    /// All capabilities, no seccomp, no masked paths, the host's devices.
    pub privileged: bool,
    /// The bounding set: what the container can ever hold. Sorted.
    pub bounding: Vec<String>,
    /// Effective and permitted sets of the command. Root's are the bounding
    /// set; a non-root user's only what `capabilities.add` names (also in its
    /// ambient set, so that they survive the switch from root).
    pub effective: Vec<String>,
    /// The ambient (and inheritable) set: empty for root.
    pub ambient: Vec<String>,
    pub no_new_privileges: bool,
    pub seccomp: Seccomp,
    /// No writable tmpfs of its own (/tmp).
    pub read_only: bool,
    pub sysctls: Vec<(String, String)>,
}

/// Whether the container's command runs as root (uid 0).
pub fn runs_as_root(user: &Option<User>) -> bool {
    match user {
        None => true,
        Some(User::Id { uid, .. }) => *uid == 0,
        Some(User::Name(n)) => n == "root",
    }
}

pub fn build(c: &Container) -> SecurityPlan {
    let s = &c.security;
    let base: Vec<&str> = if s.privileged {
        caps::CAPABILITIES.to_vec()
    } else {
        defaults::CAPABILITIES.to_vec()
    };
    let expand = |list: &[String]| -> Vec<&'static str> {
        if list.iter().any(|n| n == "ALL") {
            caps::CAPABILITIES.to_vec()
        } else {
            list.iter().filter_map(|n| caps::canonical(n)).collect()
        }
    };
    let dropped = expand(&s.cap_drop);
    let added = expand(&s.cap_add);
    let mut bounding: Vec<String> = base
        .into_iter()
        .filter(|c| !dropped.contains(c))
        .chain(added.iter().copied())
        .map(String::from)
        .collect();
    bounding.sort_by_key(|n| caps::CAPABILITIES.iter().position(|c| c == n));
    bounding.dedup();
    let (effective, ambient) = if runs_as_root(&c.user) {
        (bounding.clone(), Vec::new())
    } else {
        // A non-root user keeps only what the file adds by name (Podman's rule):
        // the default set is for root's sake (chown, setuid...).
        let mut kept: Vec<String> = bounding
            .iter()
            .filter(|b| added.contains(&b.as_str()))
            .cloned()
            .collect();
        if s.privileged {
            kept = bounding.clone();
        }
        (kept.clone(), kept)
    };
    SecurityPlan {
        privileged: s.privileged,
        bounding,
        effective,
        ambient,
        no_new_privileges: s.no_new_privileges,
        seccomp: if s.privileged && s.seccomp == Seccomp::Default {
            Seccomp::Unconfined
        } else {
            s.seccomp.clone()
        },
        read_only: s.read_only,
        sysctls: s.sysctls.clone().into_iter().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Security;

    fn container(user: Option<User>, security: Security) -> Container {
        let mut c = crate::plan::tests::pod(vec![], vec![]).containers[0].clone();
        c.user = user;
        c.security = security;
        c
    }

    #[test]
    fn root_gets_the_default_set_and_a_user_none() {
        let p = build(&container(None, Security::default()));
        assert_eq!(p.bounding.len(), 11);
        assert_eq!(p.effective, p.bounding);
        assert!(p.ambient.is_empty());
        assert_eq!(
            caps::mask(p.bounding.iter().map(|s| s.as_str())),
            0x8004_05fb
        );
        let user = Some(User::Id {
            uid: 1000,
            gid: None,
        });
        let p = build(&container(user.clone(), Security::default()));
        assert_eq!(p.bounding.len(), 11);
        assert!(p.effective.is_empty() && p.ambient.is_empty());
        let p = build(&container(
            user,
            Security {
                cap_add: vec!["CAP_NET_BIND_SERVICE".into()],
                ..Default::default()
            },
        ));
        assert_eq!(p.effective, ["CAP_NET_BIND_SERVICE"]);
        assert_eq!(p.ambient, ["CAP_NET_BIND_SERVICE"]);
    }

    #[test]
    fn add_drop_all_and_privileged() {
        let p = build(&container(
            None,
            Security {
                cap_drop: vec!["ALL".into()],
                cap_add: vec!["CAP_NET_ADMIN".into()],
                ..Default::default()
            },
        ));
        assert_eq!(p.bounding, ["CAP_NET_ADMIN"]);
        let p = build(&container(
            None,
            Security {
                cap_drop: vec!["CAP_KILL".into()],
                ..Default::default()
            },
        ));
        assert!(!p.bounding.contains(&"CAP_KILL".to_string()));
        assert_eq!(p.bounding.len(), 10);
        let p = build(&container(
            None,
            Security {
                privileged: true,
                ..Default::default()
            },
        ));
        assert_eq!(p.bounding.len(), caps::CAPABILITIES.len());
        assert_eq!(p.seccomp, Seccomp::Unconfined);
    }
}
