//! The documents of a manifest (one Pod, the ConfigMaps and Secrets it
//! uses) and the Pod's own fields, lowered to the native pod file.

use super::container;
use super::native::{self, Native, Val, origin, set};
use super::pod_cx::PodCx;
use super::walk::{self, Cx, fields, id, join};
use super::yaml::Node;
use super::{annotations, refs};
use std::path::Path;

const TOP: [&str; 4] = ["apiVersion", "kind", "metadata", "spec"];
const TOP_UNSUPPORTED: [&str; 1] = ["status={}"];
const METADATA: [&str; 5] = [
    "name",
    "namespace",
    "labels",
    "annotations",
    "creationTimestamp",
];
const METADATA_UNSUPPORTED: [&str; 10] = [
    "generateName",
    "uid",
    "resourceVersion",
    "generation",
    "ownerReferences",
    "finalizers",
    "managedFields",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "selfLink",
];
const SPEC: [&str; 16] = [
    "containers",
    "initContainers",
    "restartPolicy",
    "terminationGracePeriodSeconds",
    "shareProcessNamespace",
    "hostNetwork",
    "hostPID",
    "hostIPC",
    "hostUsers",
    "hostname",
    "dnsPolicy",
    "dnsConfig",
    "hostAliases",
    "volumes",
    "resources",
    "securityContext",
];
/// Fields podctl does not support; `field=value` where that value is what
/// podctl does anyway; `field~` for a cluster's scheduling, which has no
/// effect on one host: accepted with a note ([`walk::fields`]).
const SPEC_UNSUPPORTED: [&str; 23] = [
    "nodeName~",
    "nodeSelector~",
    "affinity~",
    "tolerations~",
    "serviceAccountName",
    "serviceAccount",
    "automountServiceAccountToken=false",
    "priority~",
    "priorityClassName~",
    "schedulerName~",
    "enableServiceLinks=false",
    "imagePullSecrets",
    "readinessGates",
    "runtimeClassName",
    "overhead",
    "topologySpreadConstraints~",
    "setHostnameAsFQDN",
    "subdomain",
    "preemptionPolicy~",
    "os",
    "schedulingGates~",
    "resourceClaims",
    "ephemeralContainers",
];
const POD_SECURITY: [&str; 6] = [
    "runAsUser",
    "runAsGroup",
    "sysctls",
    "fsGroup",
    "fsGroupChangePolicy",
    "supplementalGroups",
];
const POD_SECURITY_UNSUPPORTED: [&str; 7] = [
    "runAsNonRoot",
    "supplementalGroupsPolicy=Merge",
    "seLinuxOptions",
    "seLinuxChangePolicy",
    "seccompProfile",
    "appArmorProfile",
    "windowsOptions",
];
const RESTART_POLICIES: [(&str, &str); 3] = [
    ("Always", "always"),
    ("OnFailure", "on-failure"),
    ("Never", "never"),
];
/// Kubernetes' default `terminationGracePeriodSeconds`.
pub(crate) const DEFAULT_GRACE_SECONDS: i64 = 30;

/// Lowers the Pod `doc`; its configMap volumes' files go under `files`.
pub(crate) fn lower_pod(cx: &mut Cx, doc: &Node, objects: &refs::Refs, files: &Path) -> Native {
    let [_, _, metadata, spec] = fields(cx, doc, "", TOP, &TOP_UNSUPPORTED);
    let mut out = Native {
        origin: Some(origin(doc, "")),
        ..Default::default()
    };
    let mut name = String::new();
    let mut namespace = "default".to_string();
    let mut annotations = Vec::new();
    let mut labels = Vec::new();
    match metadata {
        None => cx.error(doc, "metadata", "missing: a Pod needs metadata.name"),
        Some(m) => {
            let [n, ns, label_map, annots, _] =
                fields(cx, m, "metadata", METADATA, &METADATA_UNSUPPORTED);
            match n.and_then(|n| Some((walk::string(cx, n, "metadata.name")?, n))) {
                Some((text, n)) => {
                    name = text.to_string();
                    set(
                        cx,
                        &mut out.keys,
                        "name",
                        native::string(text),
                        n,
                        "metadata.name",
                    );
                }
                None if n.is_none() => cx.error(m, "metadata.name", "missing: the pod's name"),
                None => {}
            }
            if let Some(ns) = ns.and_then(|n| walk::string(cx, n, "metadata.namespace")) {
                namespace = ns.to_string();
            }
            if let Some(l) = label_map {
                labels = string_map(cx, l, "metadata.labels");
            }
            if let Some(a) = annots {
                annotations = string_map(cx, a, "metadata.annotations");
            }
        }
    }
    let Some(spec) = spec else {
        cx.error(doc, "spec", "missing: a Pod needs spec.containers");
        return out;
    };
    let [
        containers,
        init_containers,
        restart_policy,
        grace,
        share_pid,
        host_network,
        host_pid,
        host_ipc,
        host_users,
        hostname,
        dns_policy,
        dns_config,
        host_aliases,
        volumes,
        resources,
        security,
    ] = fields(cx, spec, "spec", SPEC, &SPEC_UNSUPPORTED);

    if let Some(h) = hostname.and_then(|h| Some((walk::string(cx, h, "spec.hostname")?, h))) {
        set(
            cx,
            &mut out.keys,
            "hostname",
            native::string(h.0),
            h.1,
            "spec.hostname",
        );
    }
    // Namespaces: Kubernetes shares net, ipc and uts; the host's are asked for.
    let flag = |cx: &mut Cx, n: Option<&Node>, path: &str| {
        n.and_then(|n| walk::boolean(cx, n, path)).unwrap_or(false)
    };
    let host_net = flag(cx, host_network, "spec.hostNetwork");
    let mut host = Vec::new();
    for (n, ns, path) in [
        (host_ipc, "ipc", "spec.hostIPC"),
        (host_network, "net", "spec.hostNetwork"),
        (host_pid, "pid", "spec.hostPID"),
    ] {
        if let Some(n) = n
            && flag(cx, Some(n), path)
        {
            host.push((ns, n, path));
        }
    }
    if !host.is_empty() {
        let items = host
            .iter()
            .map(|(ns, n, path)| (native::string(ns), origin(n, path)))
            .collect();
        let _ = out
            .keys
            .set("host", Val::Array(items), origin(host[0].1, host[0].2));
    }
    if flag(cx, share_pid, "spec.shareProcessNamespace") {
        let n = share_pid.expect("set");
        // pid stays even with hostPID: the reader refuses the pair, as
        // Kubernetes does.
        let share: Vec<&str> = ["ipc", "net", "pid", "uts"]
            .into_iter()
            .filter(|ns| *ns == "pid" || !host.iter().any(|(h, _, _)| h == ns))
            .collect();
        let text = format!(
            "[{}]",
            share
                .iter()
                .map(|s| native::string(s))
                .collect::<Vec<_>>()
                .join(", ")
        );
        set(
            cx,
            &mut out.keys,
            "share",
            text,
            n,
            "spec.shareProcessNamespace",
        );
    }
    if let Some(r) = resources {
        pod_resources(cx, r, &mut out);
    }
    super::dns::read(cx, dns_policy, dns_config, host_net, &mut out);
    if let Some(h) = host_aliases {
        aliases(cx, h, &mut out);
    }
    let restart = restart_policy.and_then(|r| {
        let text = walk::string(cx, r, "spec.restartPolicy")?;
        match RESTART_POLICIES.iter().find(|(k, _)| *k == text) {
            Some((_, native)) => Some(((*native).to_string(), r)),
            None => {
                cx.error(
                    r,
                    "spec.restartPolicy",
                    format!("{text:?} is not a restart policy (Always, OnFailure, Never)"),
                );
                None
            }
        }
    });
    let grace = match grace {
        Some(g) => walk::integer(cx, g, "spec.terminationGracePeriodSeconds", 0, 86_400)
            .map(|s| (s, Some(g))),
        None => Some((DEFAULT_GRACE_SECONDS, None)),
    };
    let (run_as, sysctls) = match security {
        Some(s) => {
            let [user, group, sysctls, fs_group, change, supplemental] = fields(
                cx,
                s,
                "spec.securityContext",
                POD_SECURITY,
                &POD_SECURITY_UNSUPPORTED,
            );
            let run_as = (
                id(cx, user, "spec.securityContext.runAsUser"),
                id(cx, group, "spec.securityContext.runAsGroup"),
            );
            let groups = super::groups::Fields {
                fs_group,
                change,
                supplemental,
            };
            super::groups::lower(cx, groups, &mut out);
            (run_as, sysctls)
        }
        None => ((None, None), None),
    };
    // What the Downward API tells of the pod, for its volumes.
    let pairs = |v: &[(String, &str, &Node)]| -> Vec<(String, String)> {
        v.iter()
            .map(|(k, v, _)| (k.clone(), v.to_string()))
            .collect()
    };
    let (label_pairs, annotation_pairs) = (pairs(&labels), pairs(&annotations));
    let meta = super::downward::Meta {
        name: &name,
        namespace: &namespace,
        labels: &label_pairs,
        annotations: &annotation_pairs,
        spec,
    };
    let mut pcx = PodCx {
        name: name.clone(),
        namespace: namespace.clone(),
        restart,
        grace,
        run_as,
        sysctls,
        volumes: super::volumes::read_pod(
            cx,
            volumes,
            super::volumes::PodRef {
                name: &name,
                files,
                meta: &meta,
                objects,
            },
            &mut out,
        ),
        objects,
        host_net,
        host_binaries: annotations::host_binaries(&annotations),
        spec,
    };
    container::lower_all(cx, spec, containers, init_containers, &mut pcx, &mut out);
    annotations::apply(cx, &annotations, &mut out);
    super::updates::apply(cx, &annotations, &mut out);
    super::userns::lower(cx, host_users, &pcx.host_binaries, &mut out);
    container::pod_defaults(cx, &pcx, &mut out);
    out
}

/// A mapping of strings (labels, annotations), as (key, value, key node).
fn string_map<'a>(cx: &mut Cx, n: &'a Node, path: &str) -> Vec<(String, &'a str, &'a Node)> {
    let mut out = Vec::new();
    for (k, v) in walk::map(cx, n, path).unwrap_or_default() {
        let key = k.key_text().unwrap_or_default();
        if let Some(s) = walk::string(cx, v, &join(path, &key)) {
            out.push((key, s, k));
        }
    }
    out
}

/// Pod-level `spec.resources` (Kubernetes 1.32+): limits and requests on
/// the pod's slice.
fn pod_resources(cx: &mut Cx, n: &Node, out: &mut Native) {
    for (key, value, k, field) in super::quantity::resources(cx, n, "spec.resources") {
        set(
            cx,
            &mut out.keys,
            &format!("resources.{key}"),
            value,
            k,
            &field,
        );
    }
}

fn aliases(cx: &mut Cx, n: &Node, out: &mut Native) {
    for (i, a) in walk::seq(cx, n, "spec.hostAliases").iter().enumerate() {
        let path = format!("spec.hostAliases[{i}]");
        let [ip, names] = fields(cx, a, &path, ["ip", "hostnames"], &[]);
        let Some(ip) = ip.and_then(|ip| walk::string(cx, ip, &join(&path, "ip"))) else {
            cx.error(a, &path, "missing ip");
            continue;
        };
        for (name, at) in names
            .map(|n| walk::strings(cx, n, &join(&path, "hostnames")))
            .unwrap_or_default()
        {
            let key = format!("extra_hosts.{}", native::key(name));
            set(
                cx,
                &mut out.keys,
                &key,
                native::string(ip),
                at,
                &join(&path, "hostnames"),
            );
        }
    }
}
