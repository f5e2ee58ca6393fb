//! The plan: every unit, D-Bus property, dependency and namespace step that
//! starting a pod takes, decided from the model with no I/O. Apply (the
//! supervisor) only carries it out; `podctl apply --dry-run` prints it.

pub mod decide;
pub mod diff;
mod etc;
pub mod image;
pub mod needs;
mod ns;
mod order;
mod properties;
pub mod render;
pub mod security;
pub mod units;
pub use properties::CPU_QUOTA_USEC_PER_PERCENT;
mod userns;
use etc::etc_files;
pub use etc::{EtcFile, EtcSource};

use crate::model::{
    Condition, Namespace, Pod, Probe, Restart, Runtime, ScratchVolume, User, Volume,
};
pub use image::{Facts, ImageFacts, ImagePlan, StoredImage};
pub use ns::{NsKind, SETNS_ORDER};
use order::ordered;
pub use order::start_order;
use properties::{device_properties, limit_properties};
pub use security::SecurityPlan;
use serde::{Deserialize, Serialize};
pub use userns::UserNsPlan;
use userns::userns;

/// A D-Bus property value, typed as `StartTransientUnit` takes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", content = "value")]
pub enum Value {
    /// `s`
    #[serde(rename = "s")]
    Str(String),
    /// `t` (u64::MAX is "infinity")
    #[serde(rename = "t")]
    U64(u64),
    /// `b`
    #[serde(rename = "b")]
    Bool(bool),
    /// `as`
    #[serde(rename = "as")]
    Strs(Vec<String>),
    /// `a(ss)` (DeviceAllow: path or class, access)
    #[serde(rename = "a(ss)")]
    Pairs(Vec<(String, String)>),
}

impl Value {
    /// The D-Bus signature of this value.
    pub fn signature(&self) -> &'static str {
        match self {
            Value::Str(_) => "s",
            Value::U64(_) => "t",
            Value::Bool(_) => "b",
            Value::Strs(_) => "as",
            Value::Pairs(_) => "a(ss)",
        }
    }
}

/// One `(sv)` entry of a unit's property list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Property {
    pub name: &'static str,
    pub value: Value,
}

impl Property {
    fn new(name: &'static str, value: Value) -> Self {
        Property { name, value }
    }
}

/// A transient unit podctl creates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnitPlan {
    /// Full unit name, e.g. `pod-web.app.scope`.
    pub name: String,
    /// Properties in the order they are sent. Scopes also get `PIDs` (`au`)
    /// at apply time: the PID of the process being placed in them.
    pub properties: Vec<Property>,
}

impl UnitPlan {
    pub fn property(&self, name: &str) -> Option<&Value> {
        self.properties
            .iter()
            .find(|p| p.name == name)
            .map(|p| &p.value)
    }
}

/// The sandbox holder: creates the pod's shared namespaces and keeps them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SandboxPlan {
    pub unit: UnitPlan,
    /// Namespaces the holder unshares, in [`SETNS_ORDER`].
    pub creates: Vec<NsKind>,
    /// Set in the new UTS namespace (only when uts is shared).
    pub hostname: Option<String>,
}

/// What a container's process does before it execs the command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessPlan {
    pub argv: Vec<String>,
    /// The complete environment, sorted: PATH, HOME-less defaults, then the file's.
    pub env: Vec<(String, String)>,
    pub workdir: String,
    pub user: Option<User>,
    /// Journal identifier of stdout/stderr, e.g. `web/app`.
    pub log_identifier: String,
    /// A terminal is its stdin, stdout and stderr; the relay carries what
    /// it writes there to the journal.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tty: bool,
    /// Its stdin is a pipe the relay holds open (and never writes to)
    /// rather than /dev/null.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stdin: bool,
    /// Supplemental groups the pod gives it besides its user's own
    /// (`fs_group`, `supplemental_groups`), sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContainerPlan {
    pub name: String,
    pub unit: UnitPlan,
    /// The sandbox's namespaces this process joins, in [`SETNS_ORDER`].
    pub joins: Vec<NsKind>,
    /// Namespaces this process gets of its own, created after it is in its scope.
    pub creates: Vec<NsKind>,
    pub restart: Restart,
    /// Runs to completion before the regular containers start.
    pub init: bool,
    /// What this container waits for, per container, before it is released.
    pub after: Vec<(String, Condition)>,
    pub ready: Option<Probe>,
    pub live: Option<Probe>,
    /// What runs right after its command starts and before its stop signal
    /// (a changed hook restarts the container, as a changed probe does).
    #[serde(skip_serializing_if = "crate::model::Hooks::is_empty")]
    pub hooks: crate::model::Hooks,
    /// First signal on stop; SIGKILL follows after `stop_timeout_ms`.
    pub stop_signal: i32,
    pub stop_timeout_ms: u64,
    pub process: ProcessPlan,
    /// Files of the pod's network bound over the container's own:
    /// `/etc/hosts` and `/etc/resolv.conf` of a bridge pod, written when
    /// its network is set up.
    pub etc_files: Vec<EtcFile>,
    /// The OCI runtime that starts it (the container's own, else the pod's).
    pub runtime: Runtime,
    pub security: SecurityPlan,
    /// Mounts in file order (after the root, /proc, /dev, /sys, /tmp, /run).
    pub volumes: Vec<Volume>,
    /// The group its scratch and named volumes are given (`fs_group`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume_group: Option<crate::model::VolumeGroup>,
    /// The image whose layers are its root; `None`: the host's root.
    pub image: Option<ImagePlan>,
    /// Its secrets, by name: systemd gives them to the pod's service.
    #[serde(skip_serializing_if = "crate::model::Secrets::is_empty")]
    pub secrets: crate::model::Secrets,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub pod: String,
    /// `pod@NAME.service`, which runs the supervisor that carries out this plan.
    pub service: String,
    pub slice: UnitPlan,
    pub sandbox: SandboxPlan,
    /// In start order; they stop in reverse.
    pub containers: Vec<ContainerPlan>,
    /// Set up on the sandbox's network namespace before any container
    /// starts, torn down after the last one stops (`crate::net`).
    pub network: crate::model::PodNetwork,
    /// Bytes of the pod's /dev/shm, a tmpfs shared by its containers only.
    pub shm_size: u64,
    /// Scratch volumes made at apply and removed on down.
    pub scratch: Vec<ScratchVolume>,
    /// How long the supervisor's start may take once the sandbox is up.
    pub start_timeout_ms: u64,
    /// The pod's user namespace.
    pub userns: UserNsPlan,
}

/// Default PATH for container processes (systemd's default for services).
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

fn description(text: String) -> Property {
    Property::new("Description", Value::Str(text))
}

fn common_scope(slice: &str, description_text: String) -> Vec<Property> {
    vec![
        description(description_text),
        Property::new("Slice", Value::Str(slice.to_string())),
        // Transient scopes vanish once they stop, failed or not, so a name can be reused.
        Property::new("CollectMode", Value::Str("inactive-or-failed".into())),
        Property::new("MemoryAccounting", Value::Bool(true)),
        Property::new("TasksAccounting", Value::Bool(true)),
    ]
}

/// The plan of what the pod file alone says: no image looked up (its
/// containers' images stay references). For plans shown or compared
/// before any image is stored, and for tests.
pub fn build(pod: &Pod) -> Plan {
    assemble(pod, &Facts::default())
}

/// Assembles the plan of a validated pod from the facts gathered about it
/// first (its images, as the store has them): an image container whose
/// image is in `facts` runs what the image and the pod file say together;
/// one whose image is not stays a reference. Pure: same pod and facts,
/// same plan; nothing changes a plan once assembled.
pub fn assemble(pod: &Pod, facts: &Facts) -> Plan {
    let service = units::service(&pod.name);
    let slice_name = units::slice(&pod.name);
    let sandbox_name = units::sandbox(&pod.name);

    let mut slice_props = vec![
        description(format!("podctl pod {}", pod.name)),
        // The slice lives and dies with the supervisor's service, crash included.
        Property::new("BindsTo", Value::Strs(vec![service.clone()])),
        Property::new("MemoryAccounting", Value::Bool(true)),
        Property::new("TasksAccounting", Value::Bool(true)),
    ];
    limit_properties(&pod.resources, &mut slice_props);

    let mut sandbox_props = common_scope(&slice_name, format!("podctl pod {} sandbox", pod.name));
    sandbox_props.push(Property::new("BindsTo", Value::Strs(vec![service.clone()])));
    // Before=, never After=, the service: the service is still activating
    // (Type=notify) while it creates this scope, and waiting on it would
    // deadlock. Before= makes a stop of the service run first, so the
    // supervisor stops the containers in its order before systemd tidies up.
    sandbox_props.push(Property::new("Before", Value::Strs(vec![service.clone()])));

    let userns = userns(pod, facts);
    let shared: Vec<NsKind> = ordered(
        pod.share
            .iter()
            .map(|&n| NsKind::from(n))
            .chain(userns.is_private().then_some(NsKind::User)),
    );
    let (holder_creates, joined) = userns.holder_and_joined(&shared);
    let sandbox = SandboxPlan {
        unit: UnitPlan {
            name: sandbox_name.clone(),
            properties: sandbox_props,
        },
        creates: holder_creates,
        hostname: pod.shares(Namespace::Uts).then(|| pod.hostname.clone()),
    };

    let mut containers = Vec::with_capacity(pod.containers.len());
    for c in start_order(&pod.containers) {
        let unit_name = units::container(&pod.name, &c.name);
        let mut props = common_scope(
            &slice_name,
            format!("podctl pod {} container {}", pod.name, c.name),
        );
        // Losing the sandbox takes the container down, and the sandbox stops
        // only after it. No unit refers to a container scope, so systemd
        // forgets it as soon as it stops and the name is free for a restart
        // (the supervisor keeps the order between containers itself).
        props.push(Property::new(
            "BindsTo",
            Value::Strs(vec![sandbox_name.clone()]),
        ));
        props.push(Property::new(
            "After",
            Value::Strs(vec![sandbox_name.clone()]),
        ));
        props.push(Property::new("Before", Value::Strs(vec![service.clone()])));
        // Delegated like nspawn's and Podman's scopes: the container may manage
        // its own cgroup subtree, and `podctl exec` can attach processes.
        props.push(Property::new("Delegate", Value::Bool(true)));
        props.push(Property::new(
            "TimeoutStopUSec",
            Value::U64(c.stop_timeout_ms.saturating_mul(1000)),
        ));
        device_properties(c.security.privileged, &mut props);
        limit_properties(&c.resources, &mut props);

        // Private to the container: cgroup and mnt always, and every
        // namespace the pod neither shares nor takes from the host (as
        // `podman pod create --share net` gives each container its own ipc
        // and uts). Only `host` means the host's.
        let mut creates = vec![NsKind::Cgroup, NsKind::Mnt];
        creates.extend(
            Namespace::ALL
                .into_iter()
                .filter(|ns| !pod.shares(*ns) && !pod.host.contains(ns))
                .map(NsKind::from),
        );
        let mut env: Vec<(String, String)> = vec![("PATH".into(), DEFAULT_PATH.into())];
        env.push(("container".into(), "podctl".into()));
        for (k, v) in &c.env {
            env.retain(|(ek, _)| ek != k);
            env.push((k.clone(), v.clone()));
        }
        env.sort();

        containers.push(ContainerPlan {
            name: c.name.clone(),
            unit: UnitPlan {
                name: unit_name.clone(),
                properties: props,
            },
            joins: joined.clone(),
            creates: ordered(creates),
            restart: c.restart,
            init: c.init,
            after: c.after.clone(),
            ready: c.ready.clone(),
            live: c.live.clone(),
            hooks: c.hooks.clone(),
            stop_signal: c.stop_signal_or_term(),
            stop_timeout_ms: c.stop_timeout_ms,
            process: ProcessPlan {
                argv: c.written_argv(),
                env,
                workdir: c.workdir_or_root().to_string(),
                user: c.user.clone(),
                log_identifier: units::log_identifier(&pod.name, &c.name),
                tty: c.tty,
                stdin: c.stdin,
                groups: pod.groups.process_groups(),
            },
            etc_files: etc_files(pod, c.image.is_some()),
            runtime: c.runtime.clone().unwrap_or_else(|| pod.runtime.clone()),
            security: security::build(c),
            volumes: c.volumes.clone(),
            volume_group: pod.groups.volume_group(),
            image: c.image.as_deref().map(ImagePlan::new),
            secrets: c.secrets.clone(),
        });
    }

    for (p, c) in containers.iter_mut().zip(start_order(&pod.containers)) {
        if let Some(f) = c.image.as_ref().and_then(|r| facts.images.get(r)) {
            image::fill(p, c, f);
        }
    }

    Plan {
        pod: pod.name.clone(),
        service,
        slice: UnitPlan {
            name: slice_name,
            properties: slice_props,
        },
        sandbox,
        containers,
        network: pod.network.clone(),
        shm_size: pod.shm_size,
        start_timeout_ms: pod.start_timeout_ms,
        scratch: pod.volumes.clone(),
        userns,
    }
}

impl Plan {
    /// Every secret the pod's containers use, sorted, once each: what
    /// systemd loads for its service (`LoadCredentialEncrypted=`).
    pub fn secret_names(&self) -> Vec<String> {
        let mut all: Vec<String> = self
            .containers
            .iter()
            .flat_map(|c| c.secrets.names())
            .collect();
        all.sort();
        all.dedup();
        all
    }
}

#[cfg(test)]
mod tests;
