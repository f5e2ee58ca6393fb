//! OCI runtime configs: each container's `config.json`, generated from the
//! plan by a pure function ([`config::build`]) with the `oci-spec` crate's
//! types, and the secure defaults it applies ([`defaults`], `seccomp.toml`).
//! Running a bundle with crun or runc is the runtime's business, not this
//! module's: nothing here touches the host.

pub mod caps;
pub mod config;
pub mod defaults;
pub mod seccomp;

pub use config::{Context, HostUser, build};
