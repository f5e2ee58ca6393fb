//! What the runtime or the network would refuse later, refused before
//! anything of any pod is stored, enabled or started.

use super::{Definition, Planned};

/// The plans' containers checked against the host: an OCI runtime that is
/// not installed, a bind source that does not exist, a host-root
/// container's volume target missing. The bind sources that writing a
/// manifest's volume files makes (not written yet: nothing is written
/// before the checks pass) are taken as there.
pub fn preflight(planned: &[Planned], path: &str) -> Vec<String> {
    let mut problems = Vec::new();
    for p in planned {
        let mut plan = p.plan.clone();
        for c in &mut plan.containers {
            for v in &mut c.volumes {
                if let crate::model::VolumeSource::Bind(src) = &mut v.source
                    && crate::kube::files::will_exist(&p.definition.files, src)
                {
                    // A path that exists, for the existence check only.
                    *src = "/".into();
                }
            }
        }
        problems.extend(crate::oci::preflight(&plan, path));
    }
    problems
}

/// A network engine that is not installed, published ports that another
/// pod (running, or earlier in this apply) or a host program holds, and
/// networks without a free address: refused
/// before anything of any pod is stored, enabled or started. The supervisor
/// checks again when it reserves (another apply may come in between).
pub fn network_conflicts(paths: &crate::layout::Layout, definitions: &[Definition]) -> Vec<String> {
    let host = crate::net::host::Engine::default();
    let pn = crate::net::attach::PodNet::new(&host, paths);
    let mut problems = Vec::new();
    // Networks that do not load are the conflict check's to report.
    let defs = pn.networks().unwrap_or_default();
    let path = std::env::var("PATH").unwrap_or_else(|_| crate::plan::DEFAULT_PATH.into());
    let mut earlier: Vec<(&str, &crate::model::ports::PortMapping)> = Vec::new();
    let live = crate::net::ipam::Liveness::now();
    for pod in definitions.iter().map(|d| &d.pod) {
        let net = &pod.network;
        if net.mode != crate::model::NetworkMode::Bridge {
            continue;
        }
        problems.extend(super::engine::network_engine(pod, &host, &defs, &path));
        let in_batch = net.ports.iter().find_map(|mine| {
            earlier
                .iter()
                .find(|(_, theirs)| theirs.clashes_with(mine))
                .map(|(other, _)| {
                    format!(
                        "pod {}: port {mine} is also published by pod {other}, applied before it",
                        pod.name
                    )
                })
        });
        match in_batch {
            Some(p) => problems.push(p),
            None => {
                if let Err(e) = pn.check(&pod.name, net, |o| live.alive(o)) {
                    problems.push(crate::error_chain(&e));
                }
            }
        }
        earlier.extend(net.ports.iter().map(|m| (pod.name.as_str(), m)));
    }
    problems
}
