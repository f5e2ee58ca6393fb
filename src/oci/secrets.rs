//! A container's secrets on the host, in the container helper: the values
//! the supervisor read from systemd's credentials directory (they come in
//! the helper's launch spec, a memory file) are written as files to a
//! directory of the pod's under `/run/podctl` (memory-backed), owned by the
//! container's user as the host knows it (its mapped ID in a user
//! namespace), with their mode (0400 unless the pod file says another) in
//! a 0500 directory: no other host user reads them. The config binds each
//! at its target (`/run/secrets/NAME` unless the pod file says another),
//! read-only, and sets the environment variables given from secrets. The pod's directory goes
//! when the pod stops ([`super::pod::teardown`]).

use super::config::Provided;
use super::{Container, Dirs, HostUser};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Secret values by name, as systemd decrypted them. Never printed.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretValues(pub BTreeMap<String, Vec<u8>>);

impl std::fmt::Debug for SecretValues {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.keys()).finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error(
        "container {container}: secret {name:?} was not given to the pod's service (is it in pod@{pod}.service's credentials? apply the pod again)"
    )]
    Missing {
        pod: String,
        container: String,
        name: String,
    },
    #[error(
        "container {container}: secret {name:?} cannot be the value of {var}: it is not UTF-8 text without NUL bytes"
    )]
    NotText {
        container: String,
        name: String,
        var: String,
    },
    #[error("container {container}: cannot write its secrets in {}", path.display())]
    Write {
        container: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Reads the secrets `names` from systemd's credentials directory of the
/// pod's service (`dir`, `$CREDENTIALS_DIRECTORY`); one that is not there
/// is left out (the container that needs it fails, naming it).
pub fn read_credentials(dir: Option<&Path>, names: &[String]) -> SecretValues {
    use std::io::Read;
    let mut out = BTreeMap::new();
    let Some(dir) = dir else {
        return SecretValues(out);
    };
    for name in names.iter().filter(|n| crate::model::is_secret_name(n)) {
        let Ok(f) = std::fs::File::open(dir.join(name)) else {
            continue;
        };
        let mut value = Vec::new();
        // systemd's own limit on a credential is 1 MiB.
        if f.take(1 << 20).read_to_end(&mut value).is_ok() {
            out.insert(name.clone(), value);
        }
    }
    SecretValues(out)
}

/// The directory of pod `pod`'s secret files for `container`.
pub fn dir(dirs: &Dirs, pod: &str, container: &str) -> PathBuf {
    dirs.pod(pod).join("secrets").join(container)
}

/// The environment from `values` (pure): each variable given from a secret.
pub fn env(c: &Container, values: &SecretValues) -> Result<Vec<(String, String)>, SecretError> {
    let mut out = Vec::new();
    for (var, name) in &c.secrets.env {
        let value = values.0.get(name).ok_or_else(|| missing(c, name))?;
        match std::str::from_utf8(value) {
            Ok(text) if !text.contains('\0') => out.push((var.clone(), text.to_string())),
            _ => {
                return Err(SecretError::NotText {
                    container: c.name.clone(),
                    name: name.clone(),
                    var: var.clone(),
                });
            }
        }
    }
    Ok(out)
}

fn missing(c: &Container, name: &str) -> SecretError {
    SecretError::Missing {
        pod: c.pod.clone(),
        container: c.name.clone(),
        name: name.to_string(),
    }
}

/// Writes container `c`'s secret files for `user` (as the container sees
/// it) and returns what its config takes; `None` when it has no secrets.
pub fn provide(
    c: &Container,
    values: &SecretValues,
    dirs: &Dirs,
    user: &HostUser,
) -> Result<Option<Provided>, SecretError> {
    if c.secrets.is_empty() {
        return Ok(None);
    }
    let env = env(c, values)?;
    let dir = dir(dirs, &c.pod, &c.name);
    // Who owns them on the host: the container's user, mapped; the
    // directory is the namespace root's (the runtime resolves the bind
    // sources as it) or root's.
    let (owner, dir_owner) = match c.userns {
        Some(map) => (
            (
                map.host_uid(user.uid).unwrap_or(map.uid),
                map.host_gid(user.gid).unwrap_or(map.gid),
            ),
            (map.uid, map.gid),
        ),
        None => ((user.uid, user.gid), (0, 0)),
    };
    let err = |path: &Path| {
        let (container, path) = (c.name.clone(), path.to_path_buf());
        move |source| SecretError::Write {
            container,
            path,
            source,
        }
    };
    for f in &c.secrets.files {
        if !values.0.contains_key(&f.name) {
            return Err(missing(c, &f.name));
        }
    }
    write_files(&dir, c, values, owner, dir_owner).map_err(err(&dir))?;
    Ok(Some(Provided { dir, env }))
}

fn write_files(
    dir: &Path,
    c: &Container,
    values: &SecretValues,
    owner: (u32, u32),
    dir_owner: (u32, u32),
) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let parent = dir.parent().expect("a pod's directory");
    crate::private::create_private_dir(parent)?;
    // Only searchable: the runtime of a pod in a user namespace passes
    // through it to its own directory.
    std::fs::set_permissions(parent, std::fs::Permissions::from_mode(0o711))?;
    // A restart writes them anew (a file left by an earlier start included).
    match std::fs::remove_dir_all(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    std::os::unix::fs::DirBuilderExt::mode(&mut std::fs::DirBuilder::new(), 0o700).create(dir)?;
    for (i, secret) in c.secrets.files.iter().enumerate() {
        let path = dir.join(secret.host_file(i));
        // Created root's alone; its mode once it is the user's.
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o400)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&path)?;
        f.write_all(&values.0[&secret.name])?;
        std::os::unix::fs::fchown(&f, Some(owner.0), Some(owner.1))?;
        f.set_permissions(std::fs::Permissions::from_mode(secret.mode & 0o777))?;
    }
    std::os::unix::fs::chown(dir, Some(dir_owner.0), Some(dir_owner.1))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o500))?;
    Ok(())
}

#[cfg(test)]
mod tests;
