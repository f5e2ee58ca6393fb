//! A pod's user namespace: whose IDs its containers' processes and files
//! have on the host.

use serde::{Deserialize, Serialize};
use std::fmt;

/// IDs per pod unless the pod file says otherwise (`userns = { size = N }`):
/// the 16-bit ID space most images assume (Podman's and Kubernetes' default).
pub const DEFAULT_USERNS_SIZE: u32 = 65_536;

/// The smallest range a pod may ask for: root, the usual service users and
/// `nobody` (65534) of most images need the whole 16-bit space, but a pod
/// of one static binary may ask for less.
pub const MIN_USERNS_SIZE: u32 = 1;

/// Host IDs below this are never given to a pod ("a range never covers host
/// users"): the system and login users of a host live below it.
pub const MIN_HOST_ID: u32 = 100_000;

/// `userns = ...` as the pod file means it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UserNs {
    /// The host's user namespace: container root is host root.
    Host,
    /// A range of `size` IDs of its own, allocated from the `containers`
    /// entries of /etc/subuid and /etc/subgid and kept while the pod is stored.
    Auto { size: u32 },
    /// This range, as written.
    Fixed(IdMap),
}

/// One contiguous mapping: IDs `0..size` inside are `uid..uid+size` (and
/// `gid..gid+size`) on the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct IdMap {
    pub uid: u32,
    pub gid: u32,
    pub size: u32,
}

impl IdMap {
    /// The host UID of container UID `inside` (None: not mapped).
    pub fn host_uid(&self, inside: u32) -> Option<u32> {
        (inside < self.size).then(|| self.uid + inside)
    }

    /// The host GID of container GID `inside` (None: not mapped).
    pub fn host_gid(&self, inside: u32) -> Option<u32> {
        (inside < self.size).then(|| self.gid + inside)
    }

    /// `/proc/PID/uid_map`'s line.
    pub fn uid_map(&self) -> String {
        format!("0 {} {}\n", self.uid, self.size)
    }

    /// `/proc/PID/gid_map`'s line.
    pub fn gid_map(&self) -> String {
        format!("0 {} {}\n", self.gid, self.size)
    }
}

impl fmt::Display for IdMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.uid == self.gid {
            write!(
                f,
                "0-{} -> {}-{}",
                self.size - 1,
                self.uid,
                self.uid + (self.size - 1)
            )
        } else {
            write!(
                f,
                "uid 0-{n} -> {}-{}, gid 0-{n} -> {}-{}",
                self.uid,
                self.uid + (self.size - 1),
                self.gid,
                self.gid + (self.size - 1),
                n = self.size - 1
            )
        }
    }
}

/// A user's pods' mapping (rootless, as Podman's): container root is the
/// user, container IDs `1..=count` are the user's subordinate IDs
/// (`/etc/subuid`, `/etc/subgid`) from `sub_uid` / `sub_gid`. Every pod of
/// the user has it: the user's image store is unpacked with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct UserMap {
    pub uid: u32,
    pub gid: u32,
    pub sub_uid: u32,
    pub sub_gid: u32,
    /// Subordinate IDs (the same number of UIDs and GIDs: the smaller).
    pub count: u32,
}

impl UserMap {
    /// `newuidmap PID ...`'s arguments after the PID: `0 UID 1 1 SUB COUNT`.
    pub fn uid_args(&self) -> [String; 6] {
        Self::args(self.uid, self.sub_uid, self.count)
    }

    /// `newgidmap PID ...`'s arguments after the PID.
    pub fn gid_args(&self) -> [String; 6] {
        Self::args(self.gid, self.sub_gid, self.count)
    }

    fn args(own: u32, sub: u32, count: u32) -> [String; 6] {
        [
            "0",
            &own.to_string(),
            "1",
            "1",
            &sub.to_string(),
            &count.to_string(),
        ]
        .map(String::from)
    }

    /// The host UID of container UID `inside` (None: not mapped).
    pub fn host_uid(&self, inside: u32) -> Option<u32> {
        match inside {
            0 => Some(self.uid),
            n if n <= self.count => Some(self.sub_uid + (n - 1)),
            _ => None,
        }
    }
}

impl fmt::Display for UserMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "0 -> uid {} gid {}, 1-{} -> uid {}-{} gid {}-{}",
            self.uid,
            self.gid,
            self.count,
            self.sub_uid,
            self.sub_uid + (self.count - 1),
            self.sub_gid,
            self.sub_gid + (self.count - 1)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_map_translates_only_its_range() {
        let m = IdMap {
            uid: 200_000,
            gid: 300_000,
            size: 65_536,
        };
        assert_eq!(m.host_uid(0), Some(200_000));
        assert_eq!(m.host_uid(65_535), Some(265_535));
        assert_eq!(m.host_uid(65_536), None);
        assert_eq!(m.host_gid(1), Some(300_001));
        assert_eq!(m.uid_map(), "0 200000 65536\n");
        assert_eq!(m.gid_map(), "0 300000 65536\n");
        assert_eq!(
            m.to_string(),
            "uid 0-65535 -> 200000-265535, gid 0-65535 -> 300000-365535"
        );
    }

    #[test]
    fn a_users_map_puts_root_on_the_user() {
        let m = UserMap {
            uid: 1000,
            gid: 1001,
            sub_uid: 100_000,
            sub_gid: 200_000,
            count: 65_536,
        };
        assert_eq!(m.host_uid(0), Some(1000));
        assert_eq!(m.host_uid(1), Some(100_000));
        assert_eq!(m.host_uid(65_536), Some(165_535));
        assert_eq!(m.host_uid(65_537), None);
        assert_eq!(m.uid_args().join(" "), "0 1000 1 1 100000 65536");
        assert_eq!(m.gid_args().join(" "), "0 1001 1 1 200000 65536");
    }
}
