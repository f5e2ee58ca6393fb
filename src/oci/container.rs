//! What one container's runtime config is made from: its part of the plan
//! and the pod-wide parts it uses (pure data, sent to the container helper
//! as is).

use crate::model::{Check, Runtime, ScratchVolume, Volume};
use crate::plan::{ContainerPlan, NsKind, Plan, ProcessPlan, SecurityPlan};
use serde::{Deserialize, Serialize};

/// What a container's runtime config is made from: its part of the plan and
/// the pod-wide parts it uses. Sent to the container helper as is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Container {
    pub pod: String,
    pub name: String,
    /// The sandbox's namespaces, joined by path.
    pub joins: Vec<NsKind>,
    /// The container's own namespaces.
    pub creates: Vec<NsKind>,
    pub process: ProcessPlan,
    pub security: SecurityPlan,
    pub volumes: Vec<Volume>,
    /// The group its scratch and named volumes are given.
    #[serde(default)]
    pub volume_group: Option<crate::model::VolumeGroup>,
    /// It reports readiness with sd_notify: its own socket is bound in.
    pub notify: bool,
    pub runtime: Runtime,
    pub shm_size: u64,
    pub scratch: Vec<ScratchVolume>,
    /// The pod network's `/etc/hosts` and `/etc/resolv.conf`, bound
    /// read-only over the host root's.
    #[serde(default)]
    pub etc_files: Vec<crate::plan::EtcFile>,
    /// The image whose layers are its root (an overlay mounted on the
    /// bundle's `rootfs`); `None`: the host's root, read-only.
    #[serde(default)]
    pub image: Option<crate::plan::ImagePlan>,
    /// The pod's user namespace mapping (joined with the sandbox's other
    /// namespaces); `None`: the host's. Its image root and volumes are
    /// mounted idmapped with it.
    #[serde(default)]
    pub userns: Option<crate::model::IdMap>,
    /// A user's pod (rootless): its helper enters the sandbox's user and
    /// mount namespaces (the user's mapping) before it prepares the bundle
    /// and runs the runtime, which then makes no user namespace.
    #[serde(default)]
    pub rootless: Option<crate::model::UserMap>,
    /// Its secrets, by name ([`super::secrets`] puts them on the host).
    #[serde(default)]
    pub secrets: crate::model::Secrets,
}

impl Container {
    pub fn from_plan(plan: &Plan, c: &ContainerPlan) -> Self {
        Container {
            pod: plan.pod.clone(),
            name: c.name.clone(),
            joins: c.joins.clone(),
            creates: c.creates.clone(),
            process: c.process.clone(),
            security: c.security.clone(),
            volumes: c.volumes.clone(),
            volume_group: c.volume_group,
            notify: matches!(c.ready.as_ref().map(|r| &r.check), Some(Check::Notify)),
            runtime: c.runtime.clone(),
            shm_size: plan.shm_size,
            scratch: plan.scratch.clone(),
            etc_files: c.etc_files.clone(),
            image: c.image.clone(),
            userns: plan.userns.map(),
            rootless: plan.userns.user(),
            secrets: c.secrets.clone(),
        }
    }

    /// The runtime's container ID: `POD.CONTAINER` (both DNS labels, so
    /// unique and within the IDs runtimes accept).
    pub fn id(&self) -> String {
        format!("{}.{}", self.pod, self.name)
    }
}
