//! `podctl secret`: values kept encrypted by systemd. `create` pipes the
//! value through `systemd-creds encrypt --name=NAME` (a TPM2 when the host
//! has one, the host's key `/var/lib/systemd/credential.secret` otherwise;
//! behind [`Encrypter`]) into `/etc/podctl/credstore.encrypted/NAME`
//! ([`crate::layout::Layout::secrets`]): the value never touches the disk
//! in plaintext and is never printed. A pod that uses a secret gets a
//! drop-in for its service with `LoadCredentialEncrypted=` ([`dropin`]), so
//! systemd decrypts it into the service's private, memory-backed
//! credentials directory when it starts; the supervisor gives each
//! container its own ([`crate::oci::secrets`]).

mod creds;
pub mod dropin;
mod store;
#[cfg(test)]
mod tests;

pub use creds::{Encrypter, SystemdCreds, fake};
pub use store::{Entry, Put, Store, used_by};

/// Where the encrypted secrets are: systemd's own convention for a
/// credential store.
pub const STORE_DIR: &str = "/etc/podctl/credstore.encrypted";

/// The most bytes a secret value may have (systemd's limit on one
/// credential is 1 MiB; its encryption adds a header).
pub const VALUE_MAX: usize = 512 * 1024;

/// Why a secret could not be stored, read or removed.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("{0:?} is not a secret name ({rule})", rule = crate::model::SECRET_NAME_RULE)]
    BadName(String),
    #[error("secret {0:?} exists (remove it first: podctl secret rm {0})")]
    Exists(String),
    #[error("no secret named {0:?} (make it with: podctl secret create {0} FILE)")]
    Missing(String),
    #[error(
        "pod {pod} container {container}: no secret named {name:?} (make it with: podctl secret create {name} FILE); nothing was changed"
    )]
    MissingFor {
        name: String,
        pod: String,
        container: String,
    },
    #[error("secret {name:?} is used by pod {}; change or remove the pod first", pods.join(", pod "))]
    InUse { name: String, pods: Vec<String> },
    #[error("secret {0:?}: the value is empty")]
    Empty(String),
    #[error("secret {name:?}: the value is over {VALUE_MAX} bytes")]
    TooBig { name: String },
    #[error("secret {name:?}: {message}")]
    Encrypt { name: String, message: String },
    #[error("secret {name:?}: cannot {what} {}", path.display())]
    Io {
        name: String,
        what: &'static str,
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// `name`, if it is a valid secret name.
pub fn check_name(name: &str) -> Result<&str, SecretError> {
    if crate::model::is_secret_name(name) {
        Ok(name)
    } else {
        Err(SecretError::BadName(name.to_string()))
    }
}

/// Stores a manifest's secrets (`kube::secret::Values`): each created, or
/// replaced when its value changed. Returns the names replaced, whose pods
/// must restart to see them.
pub fn store_values(
    store: &Store<'_>,
    values: &crate::kube::secret::Values,
) -> Result<Vec<String>, SecretError> {
    let mut replaced = Vec::new();
    for (name, value) in &values.0 {
        if store.put(name, value)? == Put::Replaced {
            replaced.push(name.clone());
        }
    }
    Ok(replaced)
}

/// Each secret `plan`'s containers use is stored (apply checks it before
/// it changes anything): the first missing one is the error.
pub fn check_stored(paths: &crate::layout::Layout, plan: &crate::plan::Plan) -> anyhow::Result<()> {
    let enc = SystemdCreds;
    let store = Store { paths, enc: &enc };
    Ok(dropin::check(&store, plan)?)
}
