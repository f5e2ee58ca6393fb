//! Human-readable rendering of a [`Plan`](super::Plan) for `apply --dry-run`.
//! (The JSON form is `serde_json::to_string_pretty(&plan)`.)

mod container;

use super::{NsKind, Plan, Property, UnitPlan, Value};
use crate::spec::size::{format_percent, format_size};
use std::fmt::Write;

/// Renders the plan for a person: units, properties, dependencies, namespaces,
/// processes and the start order.
pub fn human(plan: &Plan) -> String {
    let mut out = String::new();
    let w = &mut out;
    line(w, 0, format!("pod {}", plan.pod));
    line(
        w,
        1,
        format!("service: {} (runs the supervisor)", plan.service),
    );
    line(
        w,
        1,
        format!(
            "start timeout: {} ms (init containers, conditions, readiness)",
            plan.start_timeout_ms
        ),
    );

    line(w, 0, String::new());
    line(w, 0, format!("slice {}", plan.slice.name));
    unit(w, &plan.slice);

    line(w, 0, String::new());
    line(w, 0, format!("sandbox {}", plan.sandbox.unit.name));
    unit(w, &plan.sandbox.unit);
    line(
        w,
        1,
        format!("creates namespaces: {}", kinds(&plan.sandbox.creates)),
    );
    let hostname = plan
        .sandbox
        .hostname
        .as_deref()
        .unwrap_or("(not set: uts is not shared)");
    line(w, 1, format!("hostname: {hostname}"));
    let ids = match plan.userns {
        super::UserNsPlan::Host => "the host's (container root is host root)".to_string(),
        super::UserNsPlan::Mapped(m) => format!("its own, IDs {m}"),
        super::UserNsPlan::User(m) => format!("its own, your IDs: {m}"),
        super::UserNsPlan::Pending { size } => {
            format!("its own, {size} IDs from /etc/subuid and /etc/subgid (allocated at apply)")
        }
    };
    line(w, 1, format!("user namespace: {ids}"));
    line(
        w,
        1,
        format!(
            "/dev/shm: a tmpfs of {} shared by the pod's containers",
            format_size(plan.shm_size)
        ),
    );
    for v in &plan.scratch {
        let medium = match (v.size, v.limit) {
            (Some(n), _) => format!("a tmpfs of {}", format_size(n)),
            (None, Some(l)) => format!(
                "a directory on disk, the pod evicted past {}",
                format_size(l)
            ),
            (None, None) => "a directory on disk".into(),
        };
        line(
            w,
            1,
            format!("scratch volume {}: {medium}, removed on down", v.name),
        );
    }
    network(w, &plan.network);

    for c in &plan.containers {
        line(w, 0, String::new());
        container::section(w, c, &plan.network.ports);
    }

    line(w, 0, String::new());
    line(w, 0, "start order:".into());
    let units = [&plan.slice.name, &plan.sandbox.unit.name]
        .into_iter()
        .chain(plan.containers.iter().map(|c| &c.unit.name));
    for (i, name) in units.enumerate() {
        line(w, 1, format!("{}. {name}", i + 1));
    }
    line(w, 0, "stop order: the reverse".into());
    out
}

/// A unit's properties in send order, then its dependencies in words.
fn unit(w: &mut String, u: &UnitPlan) {
    line(w, 1, "properties:".into());
    for p in &u.properties {
        line(w, 2, property(p));
    }
    let names = |prop: &str| match u.property(prop) {
        Some(Value::Strs(v)) => v.join(", "),
        Some(Value::Str(s)) => s.clone(),
        _ => String::new(),
    };
    let deps: Vec<String> = [
        ("in", "Slice"),
        ("bound to", "BindsTo"),
        ("after", "After"),
        ("before", "Before"),
    ]
    .into_iter()
    .map(|(word, prop)| (word, names(prop)))
    .filter(|(_, n)| !n.is_empty())
    .map(|(word, n)| format!("{word} {n}"))
    .collect();
    if !deps.is_empty() {
        line(w, 1, format!("depends: {}", deps.join("; ")));
    }
}

/// `MemoryMax (t) = 268435456  # 256M`.
fn property(p: &Property) -> String {
    let value = match &p.value {
        Value::Str(s) => quote(s),
        Value::U64(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Strs(v) => list(v),
        Value::Pairs(v) => {
            let pairs: Vec<String> = v
                .iter()
                .map(|(a, b)| format!("({}, {})", quote(a), quote(b)))
                .collect();
            format!("[{}]", pairs.join(", "))
        }
    };
    let note = match (&p.value, p.name) {
        (Value::U64(u64::MAX), _) => Some("infinity".to_string()),
        (Value::U64(n), "MemoryMax" | "MemoryLow") => Some(format_size(*n)),
        (Value::U64(n), "CPUQuotaPerSecUSec") => {
            Some(format_percent(n / super::CPU_QUOTA_USEC_PER_PERCENT))
        }
        (Value::U64(n), name) if name.ends_with("USec") => Some(format!("{}s", *n as f64 / 1e6)),
        _ => None,
    };
    let text = format!("{} ({}) = {value}", p.name, p.value.signature());
    match note {
        Some(n) => format!("{text}  # {n}"),
        None => text,
    }
}

/// Double-quoted, escaping only what would be misread: unit names such as
/// `pod-my\x2dweb.slice` keep their single backslash.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            c if c.is_control() => out.extend(c.escape_default()),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `["a", "b"]`.
fn list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| quote(s)).collect();
    format!("[{}]", quoted.join(", "))
}

fn kinds(k: &[NsKind]) -> String {
    if k.is_empty() {
        return "none".into();
    }
    k.iter()
        .map(|k| k.proc_name())
        .collect::<Vec<_>>()
        .join(", ")
}

fn line(w: &mut String, indent: usize, text: String) {
    // Writing to a String cannot fail.
    let _ = writeln!(w, "{:width$}{text}", "", width = indent * 2);
}

/// The pod's network, for pods that set one up (bridge) or say something
/// about names; nothing for the default loopback-only pod.
fn network(w: &mut String, n: &crate::model::PodNetwork) {
    use crate::model::NetworkMode;
    if n.mode == NetworkMode::Bridge {
        let nets: Vec<String> = n
            .networks
            .iter()
            .enumerate()
            .map(|(i, name)| format!("{name} (eth{i})"))
            .collect();
        line(w, 1, format!("network: bridge, on {}", nets.join(", ")));
        line(
            w,
            2,
            "set up on the sandbox's namespace before the containers start; torn down after they stop".into(),
        );
    } else if n.mode == NetworkMode::Host
        || !n.dns.is_empty()
        || !n.extra_hosts.is_empty()
        || !n.resolver.is_default()
    {
        line(w, 1, format!("network: {}", n.mode.as_str()));
    }
    if !n.ports.is_empty() {
        let ports: Vec<String> = n.ports.iter().map(|p| p.to_string()).collect();
        line(w, 1, format!("ports: {}", ports.join(", ")));
    }
    if !n.dns.is_empty() {
        let dns: Vec<String> = n.dns.iter().map(|d| d.to_string()).collect();
        line(w, 1, format!("dns: {}", dns.join(", ")));
    }
    resolver(w, &n.resolver);
    for (name, ip) in &n.extra_hosts {
        line(w, 1, format!("extra host: {name} = {ip}"));
    }
}

/// What the pod's resolv.conf has besides its nameservers.
fn resolver(w: &mut String, r: &crate::model::dns::Resolver) {
    use crate::model::dns::ResolvFrom;
    match r.from {
        ResolvFrom::Network => {}
        ResolvFrom::Host => line(
            w,
            1,
            "resolv.conf: the host's nameservers, search and options, then the pod's".into(),
        ),
        ResolvFrom::Pod => line(
            w,
            1,
            "resolv.conf: the pod's dns, search and options only".into(),
        ),
    }
    if !r.search.is_empty() {
        line(w, 1, format!("dns search: {}", r.search.join(" ")));
    }
    if !r.options.is_empty() {
        line(w, 1, format!("dns options: {}", r.options.join(" ")));
    }
}
