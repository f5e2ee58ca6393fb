//! The properties a pod's slice and a container's scope get from the pod
//! file: limits and requests, and the devices a container may open.

use super::{Property, Value};
use crate::model::Resources;

/// CPUQuotaPerSecUSec per percent of one CPU: the quota is microseconds of
/// CPU time per second (1,000,000 µs) of wall time, so 1 % is 10,000 µs.
pub const CPU_QUOTA_USEC_PER_PERCENT: u64 = 10_000;

pub(super) fn limit_properties(r: &Resources, props: &mut Vec<Property>) {
    if let Some(m) = r.memory {
        props.push(Property::new("MemoryMax", Value::U64(m)));
    }
    if let Some(c) = r.cpu_percent {
        // CPUQuotaPerSecUSec: microseconds of CPU time per second of wall time.
        props.push(Property::new(
            "CPUQuotaPerSecUSec",
            Value::U64(c * CPU_QUOTA_USEC_PER_PERCENT),
        ));
    }
    if let Some(t) = r.tasks {
        props.push(Property::new("TasksMax", Value::U64(t)));
    }
    if let Some(w) = r.cpu_weight {
        props.push(Property::new("CPUWeight", Value::U64(w)));
    }
    if let Some(m) = r.memory_low {
        props.push(Property::new("MemoryLow", Value::U64(m)));
    }
}

/// The container's devices, enforced by systemd on its scope (a BPF
/// program on cgroup v2): none but the standard pseudo-devices and its
/// own terminals, whichever node a container opens (one in an image, one
/// it made with CAP_MKNOD). The OCI config's `linux.resources.devices`
/// says the same, but a runtime without a cgroup manager of its own
/// (crun's `disabled`) applies nothing of it. A privileged container
/// has the host's devices.
pub(super) fn device_properties(privileged: bool, props: &mut Vec<Property>) {
    if privileged {
        return;
    }
    props.push(Property::new("DevicePolicy", Value::Str("closed".into())));
    let allow = crate::model::defaults::SCOPE_DEVICES
        .iter()
        .map(|d| (d.to_string(), "rwm".to_string()))
        .collect();
    props.push(Property::new("DeviceAllow", Value::Pairs(allow)));
}
