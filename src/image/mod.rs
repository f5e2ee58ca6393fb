//! Container images: references, registries, the content-addressed store.
//!
//! A reference ([`crate::model::reference`]) names an image in a registry, in an OCI layout
//! directory (`oci:`) or in an OCI archive (`oci-archive:`). [`registries`]
//! turns a registry reference into the endpoints to try (registries.conf v2:
//! search registries for short names, mirrors, `insecure`, `blocked`), and
//! [`auth`] finds the credentials `podman login`/`skopeo login` wrote.
//! [`pull`] copies an image from a [`source::Source`] into the [`store::Store`]:
//! every blob is verified against its digest before it is kept, each layer is
//! unpacked once ([`unpack`]) into a directory overlayfs can use as a lower
//! layer, and the reference is recorded last, so a pull killed at any moment
//! leaves nothing a later run would use. [`remote`] asks what a pull would
//! store now without pulling. Only [`registry`] touches the network.

pub mod auth;
pub mod catalog;
pub mod config;
pub mod digest;
pub mod error;
pub mod facts;
pub mod fs_hint;
pub mod layout;
pub mod manifest;
pub mod mounted;
pub mod overlay;
pub mod policy;
pub mod progress;
pub mod pull;
pub mod registries;
pub mod registry;
pub mod remote;
pub mod resolve;
pub mod rootfs;
pub mod source;
pub mod store;
mod stream;
pub mod unpack;
pub mod userns;
pub mod users;

#[cfg(test)]
mod tests;

pub use crate::model::reference::ImageRef;
pub use config::ImageConfig;
pub use digest::Digest;
pub use store::Store;

use std::path::PathBuf;

/// The host files image pulls read; tests point them at temporary files.
#[derive(Debug, Clone)]
pub struct HostConfig {
    /// `registries.conf` (v2 TOML).
    pub registries_conf: PathBuf,
    /// Credential files, most specific first (containers-auth.json(5)).
    pub auth_files: Vec<PathBuf>,
    /// `certs.d`: `HOST:PORT/ca.crt` adds a CA for that registry.
    pub certs_d: PathBuf,
}

impl HostConfig {
    /// The files Podman, Buildah and Skopeo read on this host: root's, or
    /// for an ordinary user their rootless ones first
    /// (`$XDG_RUNTIME_DIR/containers/auth.json`,
    /// `~/.config/containers/registries.conf` and `certs.d` when present).
    pub fn system() -> HostConfig {
        let user = crate::owner::Owner::current()
            .ok()
            .and_then(|o| o.user().cloned());
        let mut auth_files = Vec::new();
        if let Some(p) = std::env::var_os("REGISTRY_AUTH_FILE") {
            auth_files.push(PathBuf::from(p));
        }
        match &user {
            Some(u) => auth_files.push(u.runtime.join("containers/auth.json")),
            None => auth_files.push("/run/containers/0/auth.json".into()),
        }
        if let Some(u) = &user {
            auth_files.push(u.config.join("containers/auth.json"));
        }
        auth_files.push("/etc/containers/auth.json".into());
        if let Some(home) = std::env::var_os("HOME") {
            auth_files.push(PathBuf::from(home).join(".docker/config.json"));
        }
        let own = |name: &str| {
            user.as_ref()
                .map(|u| u.config.join("containers").join(name))
                .filter(|p| p.exists())
        };
        HostConfig {
            registries_conf: std::env::var_os("CONTAINERS_REGISTRIES_CONF")
                .map(PathBuf::from)
                .or_else(|| own("registries.conf"))
                .unwrap_or_else(|| "/etc/containers/registries.conf".into()),
            auth_files,
            certs_d: own("certs.d").unwrap_or_else(|| "/etc/containers/certs.d".into()),
        }
    }
}

/// The default store root ([`crate::layout::Layout::images`]).
pub const STORAGE_ROOT: &str = "/var/lib/podctl/storage";
