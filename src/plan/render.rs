//! Human-readable rendering of a [`Plan`](super::Plan) for `apply --dry-run`.
//! (The JSON form is `serde_json::to_string_pretty(&plan)`.)

use super::{ContainerPlan, NsKind, Plan, Property, SETNS_ORDER, UnitPlan, Value};
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
    line(
        w,
        1,
        format!(
            "/dev/shm: a tmpfs of {} shared by the pod's containers",
            format_size(plan.shm_size)
        ),
    );
    for v in &plan.scratch {
        let medium = match v.size {
            Some(n) => format!("a tmpfs of {}", format_size(n)),
            None => "a directory on disk".into(),
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
        container(w, c, &plan.network.ports);
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

fn container(w: &mut String, c: &ContainerPlan, published: &[crate::net::ports::PortMapping]) {
    line(w, 0, format!("container {} ({})", c.name, c.unit.name));
    unit(w, &c.unit);
    line(
        w,
        1,
        format!("joins the sandbox's namespaces: {}", kinds(&c.joins)),
    );
    line(w, 1, format!("creates namespaces: {}", kinds(&c.creates)));
    let host: Vec<NsKind> = SETNS_ORDER
        .into_iter()
        .filter(|k| !c.joins.contains(k) && !c.creates.contains(k))
        .collect();
    line(
        w,
        1,
        format!("keeps the host's namespaces: {}", kinds(&host)),
    );
    line(w, 1, format!("restart: {}", c.restart.as_str()));
    if c.init {
        line(
            w,
            1,
            "init: runs to completion before the regular containers".into(),
        );
    }
    if !c.after.is_empty() {
        let waits: Vec<String> = c
            .after
            .iter()
            .map(|(n, cond)| format!("{n} {}", cond.as_str()))
            .collect();
        line(w, 1, format!("waits for: {}", waits.join(", ")));
    }
    for (what, probe) in [("ready", &c.ready), ("live", &c.live)] {
        if let Some(p) = probe {
            line(
                w,
                1,
                format!(
                    "{what} probe: {} every {} ms, timeout {} ms, retries {}{}",
                    check(&p.check),
                    p.interval_ms,
                    p.timeout_ms,
                    p.retries,
                    if p.delay_ms > 0 {
                        format!(", first {} ms after the start", p.delay_ms)
                    } else {
                        String::new()
                    }
                ),
            );
        }
    }
    line(
        w,
        1,
        format!(
            "stop: signal {} then SIGKILL after {} ms",
            c.stop_signal, c.stop_timeout_ms
        ),
    );
    for (src, dst) in &c.etc_files {
        line(w, 1, format!("binds {src} over {dst}"));
    }
    if let Some(i) = &c.image {
        match &i.stored {
            Some(st) => {
                line(
                    w,
                    1,
                    format!("image: {} = {}@{}", i.reference, st.name, st.digest),
                );
                if let Some(e) = super::image::exposure(&st.exposed_ports, published) {
                    line(w, 2, e);
                }
            }
            None => line(
                w,
                1,
                format!(
                    "image: {} (not stored yet: apply pulls it; argv, env, workdir and user then take the image's defaults)",
                    i.reference
                ),
            ),
        }
    }
    let p = &c.process;
    line(w, 1, "process:".into());
    line(w, 2, format!("argv: {}", list(&p.argv)));
    line(w, 2, format!("workdir: {}", p.workdir));
    let user = p
        .user
        .as_ref()
        .map_or("root (default)".to_string(), |u| u.to_string());
    line(w, 2, format!("user: {user}"));
    line(w, 2, format!("log identifier: {}", p.log_identifier));
    line(w, 2, "env:".into());
    for (k, v) in &p.env {
        line(w, 3, format!("{k}={}", quote(v)));
    }
    line(w, 1, format!("runtime: {}", c.runtime));
    security(w, &c.security, c.image.is_some());
    if !c.volumes.is_empty() {
        line(w, 1, "volumes:".into());
        for v in &c.volumes {
            line(w, 2, volume(v));
        }
    }
}

fn security(w: &mut String, s: &super::SecurityPlan, image: bool) {
    use crate::model::Seccomp;
    line(w, 1, "security:".into());
    if s.privileged {
        line(
            w,
            2,
            "privileged: all capabilities, no masked paths, the host's devices".into(),
        );
    }
    let caps = |v: &[String]| {
        if v.is_empty() {
            "none".to_string()
        } else if v.len() == crate::oci::caps::CAPABILITIES.len() {
            "all".to_string()
        } else {
            v.join(", ")
        }
    };
    line(
        w,
        2,
        format!("bounding capabilities: {}", caps(&s.bounding)),
    );
    line(
        w,
        2,
        format!("effective capabilities: {}", caps(&s.effective)),
    );
    if !s.ambient.is_empty() {
        line(w, 2, format!("ambient capabilities: {}", caps(&s.ambient)));
    }
    line(w, 2, format!("no_new_privileges: {}", s.no_new_privileges));
    let seccomp = match &s.seccomp {
        Seccomp::Default => "podctl's default profile".to_string(),
        Seccomp::Unconfined => "unconfined".to_string(),
        Seccomp::Profile(p) => format!("the profile {p}"),
    };
    line(w, 2, format!("seccomp: {seccomp}"));
    let writable = match (s.read_only, image) {
        (true, false) => "volumes only (read_only)",
        (true, true) => "volumes only (read_only: the image's layers, no upper layer)",
        (false, false) => "volumes and a private /tmp",
        (false, true) => "its root (an upper layer over the image's), volumes and a private /tmp",
    };
    line(w, 2, format!("writable: {writable}"));
    for (k, v) in &s.sysctls {
        line(w, 2, format!("sysctl {k} = {}", quote(v)));
    }
}

/// `/srv/www -> /usr/share/www (bind, read-only)`.
fn volume(v: &crate::model::Volume) -> String {
    use crate::model::VolumeSource;
    let (from, kind) = match &v.source {
        VolumeSource::Bind(p) => (p.clone(), "host path".to_string()),
        VolumeSource::Named(n) => (n.clone(), "named volume".to_string()),
        VolumeSource::Scratch(n) => (n.clone(), "scratch volume".to_string()),
        VolumeSource::Tmpfs(size) => (
            "tmpfs".to_string(),
            size.map_or("tmpfs".to_string(), |n| {
                format!("tmpfs of {}", format_size(n))
            }),
        ),
    };
    let access = if v.read_only {
        "read-only"
    } else {
        "read-write"
    };
    format!("{from} -> {} ({kind}, {access})", v.target)
}

/// A unit's properties in send order, then its dependencies in words.
fn check(c: &crate::model::Check) -> String {
    match c {
        crate::model::Check::Exec(argv) => format!("exec {}", list(argv)),
        crate::model::Check::Tcp(port) => format!("tcp 127.0.0.1:{port}"),
        crate::model::Check::Http(url) => format!("http GET {url}"),
        crate::model::Check::Notify => "sd_notify READY=1 on the container's NOTIFY_SOCKET".into(),
    }
}

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
        (Value::U64(n), "MemoryMax") => Some(format_size(*n)),
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
    } else if n.mode == NetworkMode::Host || !n.dns.is_empty() || !n.extra_hosts.is_empty() {
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
    for (name, ip) in &n.extra_hosts {
        line(w, 1, format!("extra host: {name} = {ip}"));
    }
}
