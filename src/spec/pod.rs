//! The top level of a pod file: name, hostname, namespaces, limits, containers.

use super::diag::{Sink, join};
use super::tree::{self, Str, Value, fields};
use super::{container, limits, names};
use crate::model::{
    DEFAULT_SHM_SIZE, DEFAULT_START_TIMEOUT_MS, MAX_START_TIMEOUT_MS, Namespace, Pod, Resources,
    Runtime,
};
use toml::Spanned;
use toml::de::DeTable;

const KEYS: [&str; 28] = [
    "name",
    "hostname",
    "share",
    "host",
    "autostart",
    "resources",
    "containers",
    "runtime",
    "shm_size",
    "volumes",
    "start_timeout",
    "userns",
    "needs",
    "wants",
    "auto_update",
    "update_deadline",
    "revision_history",
    "fs_group",
    "fs_group_change",
    "supplemental_groups",
    // network::KEYS, in that order (read by spec::network)
    "network",
    "networks",
    "ports",
    "dns",
    "extra_hosts",
    "resolv_conf",
    "dns_search",
    "dns_options",
];
const DEFAULT_SHARE: [Namespace; 3] = [Namespace::Net, Namespace::Ipc, Namespace::Uts];

/// Walks a parsed document into a pod. Problems go to the sink; the pod
/// returned then holds placeholders and must not be used.
pub(crate) fn read(sink: &mut Sink, doc: &Spanned<DeTable<'_>>, default_name: &str) -> Pod {
    let [
        name,
        hostname,
        share,
        host,
        autostart,
        resources,
        containers,
        runtime,
        shm_size,
        volumes,
        start_timeout,
        userns,
        needs,
        wants,
        auto_update,
        update_deadline,
        revision_history,
        fs_group,
        fs_group_change,
        supplemental_groups,
        net_keys @ ..,
    ] = fields(sink, doc.get_ref(), "", KEYS);

    let name = read_name(sink, name, default_name);
    let hostname = match hostname.and_then(|v| tree::string(sink, v, "hostname")) {
        Some(h) if names::is_hostname(h.text) => h.text.to_string(),
        Some(h) => {
            sink.error(
                h.span,
                "hostname",
                format!(
                    "{:?} is not a valid hostname (letters, digits and '-' in labels separated by dots, at most 64 characters)",
                    h.text
                ),
            );
            name.clone()
        }
        None => name.clone(),
    };

    let share_written = share.is_some();
    let share_list = share.map(|v| namespaces(sink, v, "share"));
    let host_list = host
        .map(|v| namespaces(sink, v, "host"))
        .unwrap_or_default();
    if let Some(list) = &share_list {
        for (ns, span) in &host_list {
            if list.iter().any(|(s, _)| s == ns) {
                let why = match ns {
                    Namespace::Pid => "the pod can't have its own PID namespace and use the host's",
                    _ => "a namespace is either shared by the pod or taken from the host",
                };
                sink.error(
                    span.clone(),
                    "host",
                    format!("\"{ns}\" is also in share; {why}"),
                );
            }
        }
    }
    let mut share: Vec<Namespace> = match share_list {
        Some(list) => list.into_iter().map(|(ns, _)| ns).collect(),
        // The default never takes what the file gives to the host.
        None => DEFAULT_SHARE
            .into_iter()
            .filter(|ns| !host_list.iter().any(|(h, _)| h == ns))
            .collect(),
    };
    let mut host: Vec<Namespace> = host_list.into_iter().map(|(ns, _)| ns).collect();
    share.sort();
    host.sort();
    let network = super::network::read(sink, net_keys, share_written, &mut share, &mut host);

    let autostart = autostart
        .and_then(|v| tree::boolean(sink, v, "autostart"))
        .unwrap_or(true);
    let resources = resources
        .map(|v| limits::read(sink, v, "resources").resources)
        .unwrap_or_default();
    // Net neither shared nor the host's: each container has its own.
    let own_net = !share.contains(&Namespace::Net) && !host.contains(&Namespace::Net);
    let runtime = runtime
        .and_then(|v| super::security::read_runtime(sink, v, "runtime"))
        .unwrap_or(Runtime::Crun);
    let shm_size = shm_size
        .and_then(|v| read_shm_size(sink, v))
        .unwrap_or(DEFAULT_SHM_SIZE);
    let volumes = volumes
        .map(|v| super::volumes::read_scratch(sink, v))
        .unwrap_or_default();
    let start_timeout_ms = start_timeout
        .and_then(|v| read_timeout(sink, v, "start_timeout"))
        .unwrap_or(DEFAULT_START_TIMEOUT_MS);
    let (updates, auto_update) =
        super::updates::read_pod(sink, auto_update, update_deadline, revision_history);
    let ctx = container::PodContext {
        host: host.clone(),
        scratch: volumes.iter().map(|v| v.name.clone()).collect(),
        auto_update,
    };
    let containers = read_containers(sink, doc, containers, &resources, own_net, &ctx);
    let userns = userns.and_then(|v| super::userns::read(sink, v).map(|u| (u, v.span())));
    let userns = super::userns::settle(sink, userns, &containers, &host);
    let (needs, wants) = super::needs::read(sink, needs, wants, &name);
    let groups = super::groups::read(
        sink,
        [fs_group, fs_group_change, supplemental_groups],
        userns,
    );

    Pod {
        name,
        hostname,
        share,
        host,
        resources,
        autostart,
        containers,
        network,
        runtime,
        shm_size,
        volumes,
        start_timeout_ms,
        userns,
        needs,
        wants,
        updates,
        groups,
    }
}

/// `start_timeout = "80s"` (how long init containers, conditions and
/// readiness may take), `update_deadline`: from a second to an hour.
pub(super) fn read_timeout(sink: &mut Sink, v: &Value<'_>, key: &str) -> Option<u64> {
    let ms = super::lifecycle::read_duration(sink, v, key)?;
    if (1000..=MAX_START_TIMEOUT_MS).contains(&ms) {
        return Some(ms);
    }
    let written = sink.text(v.span());
    sink.error(
        v.span(),
        key,
        format!("{written} is out of range (from 1s to 1h)"),
    );
    None
}

/// `shm_size = "64M"`: the size of the pod's /dev/shm.
fn read_shm_size(sink: &mut Sink, v: &Value<'_>) -> Option<u64> {
    let s = tree::string(sink, v, "shm_size")?;
    match super::size::parse_size(s.text) {
        Ok(n) => Some(n),
        Err(e) => {
            sink.error(
                s.span,
                "shm_size",
                format!("{:?}: {e} (use bytes or K/M/G/T, e.g. 64M)", s.text),
            );
            None
        }
    }
}

fn read_name(sink: &mut Sink, v: Option<&Value<'_>>, default_name: &str) -> String {
    match v {
        Some(v) => {
            if let Some(Str { text, span }) = tree::string(sink, v, "name")
                && !names::is_dns_label(text)
            {
                sink.error(
                    span,
                    "name",
                    format!("{text:?} is not a valid pod name ({})", names::LABEL_RULE),
                );
            }
            v.get_ref().as_str().unwrap_or(default_name).to_string()
        }
        None => {
            if !names::is_dns_label(default_name) {
                sink.error(
                    0..0,
                    "name",
                    format!(
                        "the file name {default_name:?} is not a valid pod name ({}); set `name` in the file",
                        names::LABEL_RULE
                    ),
                );
            }
            default_name.to_string()
        }
    }
}

/// A `share` or `host` list: known names, each once.
fn namespaces(
    sink: &mut Sink,
    v: &Value<'_>,
    key: &str,
) -> Vec<(Namespace, std::ops::Range<usize>)> {
    let mut out: Vec<(Namespace, std::ops::Range<usize>)> = Vec::new();
    for s in tree::strings(sink, v, key).unwrap_or_default() {
        match Namespace::parse(s.text) {
            None => {
                let allowed: Vec<&str> = Namespace::ALL.iter().map(|n| n.as_str()).collect();
                sink.error(
                    s.span,
                    key,
                    format!(
                        "{:?} is not a namespace (allowed: {})",
                        s.text,
                        allowed.join(", ")
                    ),
                );
            }
            Some(ns) if out.iter().any(|(o, _)| *o == ns) => {
                sink.error(s.span, key, format!("{:?} is listed twice", s.text));
            }
            Some(ns) => out.push((ns, s.span)),
        }
    }
    out
}

fn read_containers(
    sink: &mut Sink,
    doc: &Spanned<DeTable<'_>>,
    v: Option<&Value<'_>>,
    pod_limits: &Resources,
    own_net: bool,
    ctx: &container::PodContext,
) -> Vec<crate::model::Container> {
    const NONE: &str = "a pod needs at least one container, e.g. [containers.app] with command = [\"/bin/sleep\", \"infinity\"]";
    let Some(v) = v else {
        sink.error(doc.span().start..doc.span().start, "containers", NONE);
        return Vec::new();
    };
    let Some(t) = tree::table(sink, v, "containers") else {
        return Vec::new();
    };
    if t.is_empty() {
        sink.error(v.span(), "containers", NONE);
    }
    let mut out = Vec::with_capacity(t.len());
    let mut after_spans = Vec::with_capacity(t.len());
    for (key, value) in t.iter() {
        let (c, limits, spans) = container::read(sink, key.get_ref(), key.span(), value, ctx);
        after_spans.push(spans);
        limits::check_within(
            sink,
            &limits,
            &join(&join("containers", &c.name), "resources"),
            pod_limits,
        );
        if own_net {
            network_probes_need_a_pod_network(sink, &c, value);
        }
        out.push(c);
    }
    super::lifecycle::check_order(sink, &out, &after_spans);
    out
}

/// tcp and http probes (and http hooks) connect to 127.0.0.1 in the pod's
/// network namespace; a pod that neither shares one nor takes the host's
/// has none (each container's own has only a loopback that is down), so
/// they could never pass.
fn network_probes_need_a_pod_network(
    sink: &mut Sink,
    c: &crate::model::Container,
    table: &Value<'_>,
) {
    use crate::model::{Check, Handler, Hook};
    let get = |v: &Value<'_>, key: &str| {
        v.get_ref()
            .as_table()
            .and_then(|t| t.get(key))
            .map(|v| v.span())
    };
    let path = join("containers", &c.name);
    for (key, probe) in [("ready", &c.ready), ("live", &c.live)] {
        let kind = match probe.as_ref().map(|p| &p.check) {
            Some(Check::Tcp(_)) => "tcp",
            Some(Check::Http(_)) => "http",
            _ => continue,
        };
        sink.error(
            get(table, key).unwrap_or_else(|| table.span()),
            &join(&path, key),
            format!(
                "a {kind} probe connects to 127.0.0.1 in the pod's network namespace, and this pod has none (\"net\" is in neither share nor host); add \"net\" to share or host, or use an exec probe"
            ),
        );
    }
    for hook in [Hook::PostStart, Hook::PreStop] {
        if !matches!(c.hooks.get(hook), Some(Handler::Http { .. })) {
            continue;
        }
        let hooks = table.get_ref().as_table().and_then(|t| t.get("hooks"));
        let span = hooks.and_then(|h| get(h, hook.key()));
        sink.error(
            span.unwrap_or_else(|| table.span()),
            &join(&join(&path, "hooks"), hook.key()),
            "an http hook connects in the pod's network namespace, and this pod has none (\"net\" is in neither share nor host); add \"net\" to share or host, or use an exec hook",
        );
    }
}
