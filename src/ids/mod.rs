//! User namespace ranges: the host IDs each pod with `userns = "auto"`
//! runs as, taken from the `containers` entries of /etc/subuid and
//! /etc/subgid ([`subid`]). Every pod gets its own range, meeting no other
//! pod's UIDs nor GIDs, lowest free first and aligned ([`Allocations`], pure).
//!
//! A range is kept while its pod is stored, by pod name: the pod applied
//! again, restarted or after a reboot keeps its IDs, so the files its
//! containers wrote keep their owners. `podctl down --purge` and `rm`
//! [`release`] it; what a crash left is reclaimed by the next [`assign`].
//! The ranges live in one [`crate::statefile`] under [`Layout::userns`].
//!
//! [`Layout::userns`]: crate::layout::Layout::userns

mod ranges;
mod source;
mod store;
pub mod subid;
mod user;

pub use ranges::Allocations;
pub use source::{Allocate, IdSource, Lookup};
pub use store::{assign, get, peek, read_subids, release};
pub use subid::{SUGGESTED_ENTRY, SubIdEntry, SubIds};
pub use user::{new_maps, user_map};

use std::path::PathBuf;

/// Why a pod gets no range.
#[derive(Debug, thiserror::Error)]
pub enum IdsError {
    #[error(
        "{path} has no `containers` entry, where pods' user namespaces get their IDs: \
         add the line `{SUGGESTED_ENTRY}` (`podctl install` and the podctl package add it)"
    )]
    NoEntry { path: PathBuf },
    #[error(
        "{path}: the `containers` entry lies below {min}, where the host's own users live: \
         give it IDs above, e.g. the line `{SUGGESTED_ENTRY}`",
        min = crate::model::MIN_HOST_ID
    )]
    OnlyHostIds { path: PathBuf },
    #[error("{path}:{line}: `{text}`: {reason}")]
    SubIdLine {
        path: PathBuf,
        line: usize,
        text: String,
        reason: String,
    },
    #[error(
        "{path} has no line for {user}, whose pods' user namespace gets its IDs there (rootless \
         pods map container IDs 1-65536 to the user's subordinate IDs): as root, run \
         `usermod --add-subuids 100000-165535 --add-subgids 100000-165535 {user}` \
         (IDs no other user has)"
    )]
    NoUserEntry { path: PathBuf, user: String },
    #[error(
        "{tool} is not installed (not on PATH): a user's pods and image store need it to map the user's subordinate IDs (Debian: apt install uidmap)"
    )]
    NoTool { tool: &'static str },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("a user namespace needs at least one ID")]
    EmptySize,
    #[error(
        "no free range of {size} IDs left in the `containers` entries of {subuid} and {subgid} \
         ({pods} pods hold ranges): give `containers` more IDs there (`{SUGGESTED_ENTRY}` holds \
         32768 pods of 65536), or remove pods no longer needed"
    )]
    Exhausted {
        size: u32,
        pods: usize,
        subuid: PathBuf,
        subgid: PathBuf,
    },
    #[error("user namespace ranges {path}: {source}")]
    State {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}
