//! The kinds of namespace a pod's processes are in, and the order they are joined in.

use crate::model::Namespace;
use serde::{Deserialize, Serialize};

/// Every kind of namespace a process can be in, in the order `setns` must
/// join them (util-linux nsenter): user, cgroup, ipc, uts, net, pid, mnt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NsKind {
    User,
    Cgroup,
    Ipc,
    Uts,
    Net,
    Pid,
    Mnt,
}

/// The join order; see [`NsKind`].
pub const SETNS_ORDER: [NsKind; 7] = [
    NsKind::User,
    NsKind::Cgroup,
    NsKind::Ipc,
    NsKind::Uts,
    NsKind::Net,
    NsKind::Pid,
    NsKind::Mnt,
];

impl NsKind {
    /// The file name under `/proc/PID/ns/`.
    pub fn proc_name(self) -> &'static str {
        match self {
            NsKind::User => "user",
            NsKind::Cgroup => "cgroup",
            NsKind::Ipc => "ipc",
            NsKind::Uts => "uts",
            NsKind::Net => "net",
            NsKind::Pid => "pid",
            NsKind::Mnt => "mnt",
        }
    }
}

impl From<Namespace> for NsKind {
    fn from(ns: Namespace) -> Self {
        match ns {
            Namespace::Net => NsKind::Net,
            Namespace::Ipc => NsKind::Ipc,
            Namespace::Uts => NsKind::Uts,
            Namespace::Pid => NsKind::Pid,
        }
    }
}
