//! The groups a pod gives its containers' processes and its volumes
//! (Kubernetes' `fsGroup`, `fsGroupChangePolicy` and `supplementalGroups`).

use serde::{Deserialize, Serialize};

/// When the files of a volume are given the pod's `fs_group`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FsGroupChange {
    /// At every start of a container that mounts it (Kubernetes' `Always`).
    #[default]
    Always,
    /// Only when the volume's top directory does not have the group and
    /// the permissions already (Kubernetes' `OnRootMismatch`).
    OnRootMismatch,
}

impl FsGroupChange {
    pub const ALL: [FsGroupChange; 2] = [FsGroupChange::Always, FsGroupChange::OnRootMismatch];

    pub fn as_str(self) -> &'static str {
        match self {
            FsGroupChange::Always => "always",
            FsGroupChange::OnRootMismatch => "on-root-mismatch",
        }
    }
}

/// The pod's groups, as the pod file gives them (IDs as its containers
/// see them: inside the pod's user namespace when it has one).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodGroups {
    /// The group the pod's writable volumes (scratch volumes and named
    /// volumes) are given, setgid and group-writable; every container's
    /// processes have it as a supplemental group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fs_group: Option<u32>,
    /// When the volumes' files are given `fs_group`; only with it.
    #[serde(default)]
    pub fs_group_change: FsGroupChange,
    /// Supplemental groups of every container's processes, besides the
    /// user's own; sorted, unique.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub supplemental: Vec<u32>,
}

impl PodGroups {
    pub fn is_empty(&self) -> bool {
        *self == PodGroups::default()
    }

    /// `fs_group` with its policy, as the volumes are given it.
    pub fn volume_group(&self) -> Option<VolumeGroup> {
        self.fs_group.map(|gid| VolumeGroup {
            gid,
            change: self.fs_group_change,
        })
    }

    /// The supplemental groups every container's processes get from the
    /// pod: `fs_group` and `supplemental`, sorted, unique.
    pub fn process_groups(&self) -> Vec<u32> {
        let mut g: Vec<u32> = self
            .fs_group
            .iter()
            .chain(&self.supplemental)
            .copied()
            .collect();
        g.sort();
        g.dedup();
        g
    }
}

/// The group a container's writable volumes are given (the pod's
/// `fs_group`), and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeGroup {
    /// A group ID as the containers see it.
    pub gid: u32,
    pub change: FsGroupChange,
}
