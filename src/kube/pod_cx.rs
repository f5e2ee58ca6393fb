//! What the lowering of a Pod's containers needs of the Pod itself,
//! gathered once by `pod` and read by `container`, `env`, `image` and
//! `security`.

use super::refs::Refs;
use super::volumes::Source;
use super::yaml::Node;

/// A uid or gid and where it was written.
pub(crate) type Id<'a> = Option<(i64, &'a Node)>;

/// What the containers need of their pod.
pub(crate) struct PodCx<'a> {
    pub name: String,
    pub namespace: String,
    /// The native restart policy of `spec.restartPolicy`, if written.
    pub restart: Option<(String, &'a Node)>,
    /// Seconds, and the node when written.
    pub grace: Option<(i64, Option<&'a Node>)>,
    /// The pod's runAsUser and runAsGroup.
    pub run_as: (Id<'a>, Id<'a>),
    pub sysctls: Option<&'a Node>,
    pub volumes: Vec<(String, Source)>,
    pub objects: &'a Refs,
    pub host_net: bool,
    /// Containers that run the host's binaries (no image).
    pub host_binaries: Vec<String>,
    /// The Pod's spec, where pod-wide defaults are said to come from.
    pub spec: &'a Node,
}
