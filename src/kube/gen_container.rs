//! `kube generate` for one container, and the pod volumes its mounts need.

use super::annotations::{Annotations, toml_list};
use super::native;
use super::quantity;
use super::yaml_out::{MapB, Y};
use crate::model::ports::PortMapping;
use crate::model::{Check, Container, Probe, Restart, Seccomp, User};

/// What the pod-level fields already say for every container.
pub(crate) struct Ctx {
    pub restart: Restart,
    /// The pod's terminationGracePeriodSeconds, in ms, if written.
    pub grace_ms: Option<u64>,
    /// The sysctls are the pod's (spec.securityContext).
    pub pod_sysctls: bool,
    /// Published ports, written on the first regular container.
    pub ports: Option<Vec<PortMapping>>,
}

/// One container; `first` is the first regular one (it carries the ports).
pub(crate) fn container(
    c: &Container,
    first: bool,
    ctx: &Ctx,
    vols: &mut super::gen_volumes::Volumes,
    notes: &mut Annotations,
) -> Y {
    let key = |k: &str| format!("{}.{k}", c.name);
    let mut m = MapB::default();
    m.str("name", &c.name);
    let list = |v: &[String]| Y::Seq(v.iter().map(|a| Y::Str(literal(a))).collect());
    if let Some(image) = &c.image {
        m.str("image", image);
    }
    if let Some(policy) = super::updates::pull_policy(c) {
        m.str("imagePullPolicy", policy);
    }
    if let Some(command) = &c.command {
        m.put("command", list(command));
    }
    if let Some(args) = &c.args {
        m.put("args", list(args));
    }
    if let Some(w) = &c.workdir {
        m.str("workingDir", w);
    }
    let mut env: Vec<(&str, Y)> = c
        .env
        .iter()
        .map(|(k, v)| {
            let y = MapB::default()
                .str("name", k)
                .str("value", &literal(v))
                .done();
            (k.as_str(), y)
        })
        .collect();
    // A secret by name, as a key of a Secret (or in an annotation when its
    // name has no such form): never its value.
    for (var, name) in &c.secrets.env {
        match super::secret::split(name) {
            Some((secret, k)) => {
                let r = MapB::default().str("name", secret).str("key", k).done();
                let from = MapB::default().put("secretKeyRef", r).done();
                env.push((
                    var,
                    MapB::default()
                        .str("name", var)
                        .put("valueFrom", from)
                        .done(),
                ));
            }
            None => notes.toml(
                &key(&format!("env.{var}")),
                format!("{{ secret = {} }}", native::string(name)),
            ),
        }
    }
    env.sort_by(|a, b| a.0.cmp(b.0));
    m.nonempty("env", Y::Seq(env.into_iter().map(|(_, y)| y).collect()));
    if first && let Some(ports) = &ctx.ports {
        let items = ports
            .iter()
            .map(|p| {
                let mut y = MapB::default();
                y.put("containerPort", Y::Int(p.container_port as i64));
                y.put("hostPort", Y::Int(p.host_port as i64));
                if let Some(ip) = p.host_ip {
                    y.str("hostIP", &ip.to_string());
                }
                if p.protocol != crate::model::ports::Protocol::Tcp {
                    y.str("protocol", &p.protocol.as_str().to_ascii_uppercase());
                }
                y.done()
            })
            .collect();
        m.put("ports", Y::Seq(items));
    }
    if let Some(t) = c.resources.tasks {
        notes.toml(&key("resources.tasks"), t.to_string());
    }
    m.nonempty("resources", resources(&c.resources));
    m.nonempty("securityContext", security(c, ctx, notes));
    for (probe, field, native_key) in [
        (&c.ready, "readinessProbe", "ready"),
        (&c.live, "livenessProbe", "live"),
    ] {
        let Some(p) = probe else { continue };
        match k8s_probe(p) {
            Some(y) => {
                m.put(field, y);
            }
            None if p.check == Check::Notify => notes.string(&key(native_key), "notify"),
            None => notes.toml(&key(native_key), native_probe(p)),
        }
    }
    m.nonempty("lifecycle", super::gen_hooks::lifecycle(c, notes));
    m.nonempty("volumeMounts", super::gen_volumes::mounts(c, vols, notes));
    if c.stdin {
        m.put("stdin", Y::Bool(true));
    }
    if c.tty {
        m.put("tty", Y::Bool(true));
    }
    // What only annotations say.
    if !c.after.is_empty() {
        let v: Vec<String> = c
            .after
            .iter()
            .map(|(n, cond)| format!("{} = {}", native::key(n), native::string(cond.as_str())))
            .collect();
        notes.toml(&key("after"), format!("{{ {} }}", v.join(", ")));
    }
    let restart = if c.init { Restart::Always } else { ctx.restart };
    if c.restart != restart {
        notes.string(&key("restart"), c.restart.as_str());
    }
    if let Some(sig) = c.stop_signal {
        notes.toml(&key("stop_signal"), sig.to_string());
    }
    if ctx.grace_ms != Some(c.stop_timeout_ms) {
        notes.string(&key("stop_timeout"), &duration(c.stop_timeout_ms));
    }
    if let Some(r) = &c.runtime {
        notes.string(&key("runtime"), r.program());
    }
    if let Some(User::Name(n)) = &c.user {
        notes.string(&key("user"), n);
    }
    m.done()
}

fn security(c: &Container, ctx: &Ctx, notes: &mut Annotations) -> Y {
    let s = &c.security;
    let mut m = MapB::default();
    if let Some(User::Id { uid, gid }) = &c.user {
        m.put("runAsUser", Y::Int(*uid as i64));
        if let Some(g) = gid {
            m.put("runAsGroup", Y::Int(*g as i64));
        }
    }
    let caps = |v: &[String]| {
        Y::Seq(
            v.iter()
                .map(|c| Y::Str(c.trim_start_matches("CAP_").to_string()))
                .collect(),
        )
    };
    let mut cm = MapB::default();
    cm.nonempty("add", caps(&s.cap_add))
        .nonempty("drop", caps(&s.cap_drop));
    m.nonempty("capabilities", cm.done());
    if s.privileged {
        m.put("privileged", Y::Bool(true));
    }
    if s.read_only {
        m.put("readOnlyRootFilesystem", Y::Bool(true));
    }
    if !s.no_new_privileges {
        m.put("allowPrivilegeEscalation", Y::Bool(true));
    }
    match &s.seccomp {
        Seccomp::Default => {}
        Seccomp::Unconfined => {
            m.put(
                "seccompProfile",
                MapB::default().str("type", "Unconfined").done(),
            );
        }
        Seccomp::Profile(p) => {
            m.put(
                "seccompProfile",
                MapB::default()
                    .str("type", "Localhost")
                    .str("localhostProfile", p)
                    .done(),
            );
        }
    }
    if !ctx.pod_sysctls && !s.sysctls.is_empty() {
        let v: Vec<String> = s
            .sysctls
            .iter()
            .map(|(k, v)| format!("{} = {}", native::key(k), native::string(v)))
            .collect();
        notes.toml(
            &format!("{}.sysctls", c.name),
            format!("{{ {} }}", v.join(", ")),
        );
    }
    m.done()
}

/// A Kubernetes probe, when the probe is one: whole seconds, and a check
/// Kubernetes has (exec, tcpSocket, httpGet on the pod's 127.0.0.1).
fn k8s_probe(p: &Probe) -> Option<Y> {
    if [p.interval_ms, p.timeout_ms, p.delay_ms]
        .iter()
        .any(|ms| !ms.is_multiple_of(1000))
    {
        return None;
    }
    let check = match &p.check {
        Check::Exec(argv) => ("exec", super::gen_hooks::exec(argv)),
        Check::Tcp(port) => (
            "tcpSocket",
            MapB::default().put("port", Y::Int(*port as i64)).done(),
        ),
        Check::Http(url) => ("httpGet", super::gen_hooks::http_get(url, &p.headers)?),
        Check::Notify => return None,
    };
    let mut m = MapB::default();
    m.put(check.0, check.1);
    if p.delay_ms > 0 {
        m.put("initialDelaySeconds", Y::Int((p.delay_ms / 1000) as i64));
    }
    Some(
        m.put("periodSeconds", Y::Int((p.interval_ms / 1000) as i64))
            .put("timeoutSeconds", Y::Int((p.timeout_ms / 1000) as i64))
            .put("failureThreshold", Y::Int(p.retries as i64))
            .done(),
    )
}

/// The native probe (`ready = ...`) as TOML text.
fn native_probe(p: &Probe) -> String {
    let check = match &p.check {
        Check::Notify => unreachable!("written as a string"),
        Check::Exec(argv) => format!("exec = {}", toml_list(argv.iter().map(String::as_str))),
        Check::Tcp(port) => format!("tcp = {port}"),
        Check::Http(url) => format!("http = {}", native::string(url)),
    };
    let check = if p.headers.is_empty() {
        check
    } else {
        let h: Vec<String> = p
            .headers
            .iter()
            .map(|(n, v)| format!("{} = {}", native::string(n), native::string(v)))
            .collect();
        format!("{check}, headers = {{ {} }}", h.join(", "))
    };
    let delay = if p.delay_ms > 0 {
        format!(", delay = \"{}\"", duration(p.delay_ms))
    } else {
        String::new()
    };
    format!(
        "{{ {check}, interval = \"{}\", timeout = \"{}\", retries = {}{delay} }}",
        duration(p.interval_ms),
        duration(p.timeout_ms),
        p.retries
    )
}

/// A native duration: whole seconds as `10s`, else `500ms`.
pub(crate) fn duration(ms: u64) -> String {
    if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

/// A value Kubernetes would not expand: every `$` doubled (`$$` reads as `$`).
fn literal(s: &str) -> String {
    s.replace('$', "$$")
}

/// `resources`: `limits` from the limits, `requests` from the weight and
/// the memory protection (the smallest request that maps back to them).
pub(crate) fn resources(r: &crate::model::Resources) -> Y {
    let mut limits = MapB::default();
    if let Some(mem) = r.memory {
        limits.str("memory", &quantity::format_bytes(mem));
    }
    if let Some(cpu) = r.cpu_percent {
        limits.str("cpu", &quantity::format_cpu(cpu));
    }
    let mut requests = MapB::default();
    if let Some(mem) = r.memory_low {
        requests.str("memory", &quantity::format_bytes(mem));
    }
    if let Some(w) = r.cpu_weight {
        requests.str("cpu", &quantity::request_of_weight(w));
    }
    let mut out = MapB::default();
    out.nonempty("limits", limits.done());
    out.nonempty("requests", requests.done());
    out.done()
}
