//! `podctl kube generate`: a Pod manifest (and a Service) from the model.
//!
//! Each setting is written as the Kubernetes field that means it when there
//! is one, else as a `podctl.io/` annotation holding the native value, so
//! that reading the manifest back gives the same pod (the round-trip tests
//! check the plans). Pure: the caller prints.

use super::annotations::{Annotations, toml_list};
use super::gen_container;
use super::image::HOST_BINARIES;
use super::yaml_out::{MapB, Y, render};
use crate::model::{Namespace, NetworkMode, Pod, Restart, Runtime};
use crate::net::config::DEFAULT_NETWORK;
use crate::spec::size::format_size;

/// The pod as a `kind: Pod` manifest.
pub fn pod(p: &Pod) -> String {
    let mut notes = Annotations::default();
    let mut spec = MapB::default();
    if p.hostname != p.name {
        spec.str("hostname", &p.hostname);
    }
    namespaces(p, &mut spec, &mut notes);
    super::userns::generate(p, &mut spec, &mut notes);
    super::needs::generate(p, &mut notes);
    super::updates::generate(p, &mut notes);
    network(p, &mut notes);
    names(p, &mut spec);
    if !p.autostart {
        notes.toml("autostart", "false".into());
    }
    if p.runtime != Runtime::Crun {
        notes.string("runtime", p.runtime.program());
    }
    if p.shm_size != crate::model::DEFAULT_SHM_SIZE {
        notes.string("shm_size", &format_size(p.shm_size));
    }
    if let Some(t) = p.resources.tasks {
        notes.toml("resources.tasks", t.to_string());
    }
    let resources = super::gen_container::resources(&p.resources);
    let regular: Vec<_> = p.containers.iter().filter(|c| !c.init).collect();
    // The pod's restart policy is its regular containers' (the first one's
    // when they differ; the others say theirs in annotations).
    let restart = regular.first().map_or(Restart::Always, |c| c.restart);
    if restart != Restart::Always {
        let k8s = match restart {
            Restart::Always => "Always",
            Restart::OnFailure => "OnFailure",
            Restart::Never => "Never",
        };
        spec.str("restartPolicy", k8s);
    }
    // One grace period when every container has the same whole seconds.
    let first = p.containers[0].stop_timeout_ms;
    let grace = (p.containers.iter().all(|c| c.stop_timeout_ms == first)
        && first.is_multiple_of(1000))
    .then_some(first / 1000);
    if let Some(secs) = grace {
        spec.put("terminationGracePeriodSeconds", Y::Int(secs as i64));
    }
    // Sysctls are the pod's in Kubernetes: when every container has the same.
    let sysctls = &p.containers[0].security.sysctls;
    let pod_sysctls =
        !sysctls.is_empty() && p.containers.iter().all(|c| &c.security.sysctls == sysctls);
    let mut security = MapB::default();
    if pod_sysctls {
        let items = sysctls
            .iter()
            .map(|(k, v)| MapB::default().str("name", k).str("value", v).done())
            .collect();
        security.put("sysctls", Y::Seq(items));
    }
    super::groups::generate(&p.groups, &mut security);
    spec.nonempty("securityContext", security.done());
    let mut vols = super::gen_volumes::Volumes::new(p);
    let host_binaries: Vec<&str> = p
        .containers
        .iter()
        .filter(|c| is_host_binary(c))
        .map(|c| c.name.as_str())
        .collect();
    if !host_binaries.is_empty() {
        notes
            .0
            .push((HOST_BINARIES.to_string(), host_binaries.join(",")));
    }
    let ctx = gen_container::Ctx {
        restart,
        grace_ms: grace.map(|s| s * 1000),
        pod_sysctls,
        ports: publishable_ports(p),
    };
    let mut inits = Vec::new();
    let mut containers = Vec::new();
    for (i, c) in p.containers.iter().enumerate() {
        let y = gen_container::container(c, i == first_regular(p), &ctx, &mut vols, &mut notes);
        if c.init {
            inits.push(y)
        } else {
            containers.push(y)
        }
    }
    spec.nonempty("initContainers", Y::Seq(inits));
    spec.put("containers", Y::Seq(containers));
    spec.nonempty("volumes", Y::Seq(vols.done()));
    spec.nonempty("resources", resources);
    if ctx.ports.is_none() && !p.network.ports.is_empty() {
        let v: Vec<String> = p.network.ports.iter().map(|m| m.to_string()).collect();
        notes.toml("ports", toml_list(v.iter().map(String::as_str)));
    }
    let mut meta = MapB::default();
    meta.str("name", &p.name);
    meta.put("labels", MapB::default().str("app", &p.name).done());
    let notes = notes.0.into_iter().map(|(k, v)| (k, Y::Str(v))).collect();
    meta.nonempty("annotations", Y::Map(notes));
    let doc = MapB::default()
        .str("apiVersion", "v1")
        .str("kind", "Pod")
        .put("metadata", meta.done())
        .put("spec", spec.done())
        .done();
    render(&doc)
}

fn first_regular(p: &Pod) -> usize {
    p.containers
        .iter()
        .position(|c| !c.init)
        .unwrap_or(usize::MAX)
}

/// A container without an image runs the host's binaries.
pub(crate) fn is_host_binary(c: &crate::model::Container) -> bool {
    c.image.is_none()
}

/// Published ports as `ports` entries of one container, when each is a
/// single port (Kubernetes has no ranges); else None (an annotation).
fn publishable_ports(p: &Pod) -> Option<Vec<crate::model::ports::PortMapping>> {
    p.network
        .ports
        .iter()
        .all(|m| m.range == 1)
        .then(|| p.network.ports.clone())
        .filter(|v| !v.is_empty())
}

/// hostNetwork, hostPID, hostIPC and shareProcessNamespace when they say it
/// all; otherwise `podctl.io/share` and `podctl.io/host`.
fn namespaces(p: &Pod, spec: &mut MapB, notes: &mut Annotations) {
    let k8s_host = [Namespace::Net, Namespace::Pid, Namespace::Ipc];
    let host_fields = p.host.iter().all(|h| k8s_host.contains(h));
    if host_fields {
        for (ns, field) in [
            (Namespace::Net, "hostNetwork"),
            (Namespace::Pid, "hostPID"),
            (Namespace::Ipc, "hostIPC"),
        ] {
            if p.host.contains(&ns) {
                spec.put(field, Y::Bool(true));
            }
        }
    } else {
        notes.toml("host", toml_list(p.host.iter().map(|n| n.as_str())));
    }
    // What the manifest's fields give, as the reader computes it.
    let host_of_fields: Vec<Namespace> = if host_fields {
        p.host.clone()
    } else {
        Vec::new()
    };
    let mut default: Vec<Namespace> = [Namespace::Ipc, Namespace::Net, Namespace::Uts]
        .into_iter()
        .filter(|n| !host_of_fields.contains(n))
        .collect();
    default.sort();
    let mut with_pid = default.clone();
    with_pid.push(Namespace::Pid);
    with_pid.sort();
    if host_fields && p.share == default {
    } else if host_fields && p.share == with_pid {
        spec.put("shareProcessNamespace", Y::Bool(true));
    } else {
        notes.toml("share", toml_list(p.share.iter().map(|n| n.as_str())));
    }
}

/// The network mode and networks, when not what the namespaces imply.
fn network(p: &Pod, notes: &mut Annotations) {
    let net = &p.network;
    let implied = if p.host.contains(&Namespace::Net) {
        NetworkMode::Host
    } else if p.share.contains(&Namespace::Net) {
        // podctl's default for a pod with its own network namespace.
        NetworkMode::Bridge
    } else {
        NetworkMode::None
    };
    if net.mode != implied {
        notes.string("network", net.mode.as_str());
    }
    if net.mode == NetworkMode::Bridge && net.networks != [DEFAULT_NETWORK] {
        notes.toml(
            "networks",
            toml_list(net.networks.iter().map(String::as_str)),
        );
    }
}

/// dnsPolicy, dnsConfig and hostAliases.
fn names(p: &Pod, spec: &mut MapB) {
    let net = &p.network;
    super::dns::generate(p, spec);
    let mut by_ip: Vec<(std::net::IpAddr, Vec<Y>)> = Vec::new();
    for (host, ip) in &net.extra_hosts {
        match by_ip.iter_mut().find(|(i, _)| i == ip) {
            Some((_, hosts)) => hosts.push(Y::Str(host.clone())),
            None => by_ip.push((*ip, vec![Y::Str(host.clone())])),
        }
    }
    let aliases = by_ip
        .into_iter()
        .map(|(ip, hosts)| {
            MapB::default()
                .str("ip", &ip.to_string())
                .put("hostnames", Y::Seq(hosts))
                .done()
        })
        .collect();
    spec.nonempty("hostAliases", Y::Seq(aliases));
}

/// A Service for the pod's published ports (None if it publishes none).
pub fn service(p: &Pod) -> Option<String> {
    let mut ports = Vec::new();
    for m in &p.network.ports {
        for i in 0..m.range {
            let proto = m.protocol.as_str().to_ascii_uppercase();
            let port = m.host_port + i;
            ports.push(
                MapB::default()
                    .str("name", &format!("{}-{port}", m.protocol.as_str()))
                    .str("protocol", &proto)
                    .put("port", Y::Int(port as i64))
                    .put("targetPort", Y::Int((m.container_port + i) as i64))
                    .done(),
            );
        }
    }
    if ports.is_empty() {
        return None;
    }
    let doc = MapB::default()
        .str("apiVersion", "v1")
        .str("kind", "Service")
        .put("metadata", MapB::default().str("name", &p.name).done())
        .put(
            "spec",
            MapB::default()
                .put("selector", MapB::default().str("app", &p.name).done())
                .put("ports", Y::Seq(ports))
                .done(),
        )
        .done();
    Some(render(&doc))
}
