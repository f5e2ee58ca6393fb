//! Whose pods a podctl process serves: the system's (root, the system
//! manager, `/etc/podctl`, `/var/lib/podctl`) or one user's (rootless: that
//! user's systemd manager and XDG directories, Podman's rootless layout).
//! Decided once per process from the effective UID ([`Owner::current`]) and
//! carried by [`crate::layout::Layout`].

use std::path::{Path, PathBuf};

/// Whose pods these are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// root's: system units, system paths.
    System,
    /// An ordinary user's: the user's manager and directories.
    User(UserDirs),
}

/// A user's identity and XDG base directories (XDG Base Directory
/// Specification; `$XDG_RUNTIME_DIR` is `/run/user/UID`, made by logind).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserDirs {
    pub uid: u32,
    pub gid: u32,
    /// The login name (the key of the user's `/etc/subuid` lines).
    pub name: String,
    pub home: PathBuf,
    /// `$XDG_CONFIG_HOME`, default `~/.config`.
    pub config: PathBuf,
    /// `$XDG_DATA_HOME`, default `~/.local/share`.
    pub data: PathBuf,
    /// `$XDG_RUNTIME_DIR`, default `/run/user/UID`.
    pub runtime: PathBuf,
}

/// A user podctl cannot serve.
#[derive(Debug, thiserror::Error)]
pub enum OwnerError {
    #[error(
        "UID {0} has no entry in the user database (getpwuid); rootless pods need a named user with a home directory"
    )]
    Unknown(u32),
    #[error("looking up UID {uid}: {source}")]
    Lookup {
        uid: u32,
        #[source]
        source: nix::Error,
    },
}

impl Owner {
    /// root's pods when the effective UID is 0, else the user's.
    pub fn current() -> Result<Owner, OwnerError> {
        let uid = nix::unistd::geteuid();
        if uid.is_root() {
            return Ok(Owner::System);
        }
        let user = nix::unistd::User::from_uid(uid)
            .map_err(|source| OwnerError::Lookup {
                uid: uid.as_raw(),
                source,
            })?
            .ok_or(OwnerError::Unknown(uid.as_raw()))?;
        let var = |name: &str| {
            std::env::var_os(name)
                .map(PathBuf::from)
                .filter(|p| p.is_absolute())
        };
        Ok(Owner::User(UserDirs::new(
            uid.as_raw(),
            user.gid.as_raw(),
            user.name,
            user.dir,
            var("XDG_CONFIG_HOME"),
            var("XDG_DATA_HOME"),
            var("XDG_RUNTIME_DIR"),
        )))
    }

    /// Whether these are a user's pods.
    pub fn is_user(&self) -> bool {
        matches!(self, Owner::User(_))
    }

    /// The user's directories, when rootless.
    pub fn user(&self) -> Option<&UserDirs> {
        match self {
            Owner::User(u) => Some(u),
            Owner::System => None,
        }
    }
}

impl UserDirs {
    /// A user's directories, the XDG defaults where a variable is unset.
    pub fn new(
        uid: u32,
        gid: u32,
        name: String,
        home: PathBuf,
        config: Option<PathBuf>,
        data: Option<PathBuf>,
        runtime: Option<PathBuf>,
    ) -> UserDirs {
        UserDirs {
            config: config.unwrap_or_else(|| home.join(".config")),
            data: data.unwrap_or_else(|| home.join(".local/share")),
            runtime: runtime.unwrap_or_else(|| PathBuf::from(format!("/run/user/{uid}"))),
            uid,
            gid,
            name,
            home,
        }
    }

    /// The user manager's private socket (what `systemctl --user` uses).
    pub fn manager_socket(&self) -> PathBuf {
        self.runtime.join("systemd/private")
    }

    /// Where the user's own unit files go (`systemctl --user` reads them).
    pub fn units(&self) -> PathBuf {
        self.config.join("systemd/user")
    }

    /// podctl's directory under `base`.
    pub fn podctl(base: &Path) -> PathBuf {
        base.join("podctl")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xdg_defaults_and_overrides() {
        let u = UserDirs::new(
            1000,
            1000,
            "ann".into(),
            "/home/ann".into(),
            None,
            None,
            None,
        );
        assert_eq!(u.config, Path::new("/home/ann/.config"));
        assert_eq!(u.data, Path::new("/home/ann/.local/share"));
        assert_eq!(u.runtime, Path::new("/run/user/1000"));
        assert_eq!(
            u.manager_socket(),
            Path::new("/run/user/1000/systemd/private")
        );
        assert_eq!(u.units(), Path::new("/home/ann/.config/systemd/user"));
        let v = UserDirs::new(
            1000,
            1000,
            "ann".into(),
            "/home/ann".into(),
            Some("/cfg".into()),
            Some("/data".into()),
            Some("/rt".into()),
        );
        assert_eq!(
            (v.config, v.data, v.runtime),
            ("/cfg".into(), "/data".into(), "/rt".into())
        );
    }
}
