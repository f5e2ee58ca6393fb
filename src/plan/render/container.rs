//! A container's section of the plan: its unit, namespaces, ordering,
//! probes, image, process, security and volumes.

use super::{kinds, line, list, quote, unit};
use crate::plan::{ContainerPlan, NsKind, SETNS_ORDER, SecurityPlan};
use crate::spec::size::format_size;

pub(super) fn section(
    w: &mut String,
    c: &ContainerPlan,
    published: &[crate::model::ports::PortMapping],
) {
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
                    check(&p.check, &p.headers),
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
    for hook in [crate::model::Hook::PostStart, crate::model::Hook::PreStop] {
        if let Some(h) = c.hooks.get(hook) {
            line(w, 1, format!("{} hook: {}", hook.key(), handler(h)));
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
    for f in &c.etc_files {
        line(w, 1, format!("binds {} over {}", f.source, f.target));
    }
    if let Some(i) = &c.image {
        match &i.stored {
            Some(st) => {
                line(
                    w,
                    1,
                    format!("image: {} = {}@{}", i.reference, st.name, st.digest),
                );
                if let Some(e) = crate::plan::image::exposure(&st.exposed_ports, published) {
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
    if !p.groups.is_empty() {
        let groups: Vec<String> = p.groups.iter().map(|g| g.to_string()).collect();
        line(w, 2, format!("supplemental groups: {}", groups.join(", ")));
    }
    line(w, 2, format!("log identifier: {}", p.log_identifier));
    if p.tty {
        line(
            w,
            2,
            "terminal: stdin, stdout and stderr are a pty; its output goes to the journal".into(),
        );
    }
    if p.stdin && !p.tty {
        line(
            w,
            2,
            "stdin: kept open (a pipe the relay holds, nothing written to it)".into(),
        );
    }
    line(w, 2, "env:".into());
    for (k, v) in &p.env {
        line(w, 3, format!("{k}={}", quote(v)));
    }
    // By name: a value never reaches a plan.
    for (k, name) in &c.secrets.env {
        line(w, 3, format!("{k}=<secret {name}>"));
    }
    line(w, 1, format!("runtime: {}", c.runtime));
    security(w, &c.security, c.image.is_some());
    if !c.volumes.is_empty() {
        match c.volume_group {
            Some(g) => line(
                w,
                1,
                format!(
                    "volumes (scratch and named ones given group {}, {}):",
                    g.gid,
                    g.change.as_str()
                ),
            ),
            None => line(w, 1, "volumes:".into()),
        }
        for v in &c.volumes {
            line(w, 2, volume(v));
        }
    }
    if !c.secrets.files.is_empty() {
        line(w, 1, "secrets:".into());
        for f in &c.secrets.files {
            let text = format!("{} -> {} ({:04o}, read-only)", f.name, f.target, f.mode);
            line(w, 2, text);
        }
    }
}

fn security(w: &mut String, s: &SecurityPlan, image: bool) {
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
        } else if v.len() == crate::model::caps::CAPABILITIES.len() {
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

/// A probe's check in words.
fn check(c: &crate::model::Check, headers: &std::collections::BTreeMap<String, String>) -> String {
    match c {
        crate::model::Check::Exec(argv) => format!("exec {}", list(argv)),
        crate::model::Check::Tcp(port) => format!("tcp 127.0.0.1:{port}"),
        crate::model::Check::Http(url) if headers.is_empty() => format!("http GET {url}"),
        crate::model::Check::Http(url) => {
            let h: Vec<String> = headers.iter().map(|(n, v)| format!("{n}: {v}")).collect();
            format!("http GET {url} with {}", list(&h))
        }
        crate::model::Check::Notify => "sd_notify READY=1 on the container's NOTIFY_SOCKET".into(),
    }
}

/// A hook's handler in words.
fn handler(h: &crate::model::Handler) -> String {
    use crate::model::{Check, Handler};
    match h {
        Handler::Exec(argv) => check(&Check::Exec(argv.clone()), &Default::default()),
        Handler::Http { url, headers } => check(&Check::Http(url.clone()), headers),
        Handler::Sleep(ms) => format!("sleep {ms} ms"),
    }
}
