//! `spec.containers` and `spec.initContainers`, lowered to native
//! `[containers.NAME]` tables; init containers with `restartPolicy: Always`
//! (native sidecars) become regular containers that start first.

use super::native::{self, Container, Keys, Native, Origin, Val, origin, set};
use super::pod_cx::PodCx;
use super::walk::{self, Cx, fields, join};
use super::yaml::Node;
use super::{env, probe, security};

const CONTAINER: [&str; 20] = [
    "name",
    "image",
    "imagePullPolicy",
    "command",
    "args",
    "workingDir",
    "env",
    "envFrom",
    "ports",
    "resources",
    "securityContext",
    "readinessProbe",
    "livenessProbe",
    "startupProbe",
    "lifecycle",
    "volumeMounts",
    "restartPolicy",
    "tty",
    "stdin",
    "stdinOnce",
];
const CONTAINER_UNSUPPORTED: [&str; 4] = [
    "terminationMessagePath",
    "terminationMessagePolicy",
    "volumeDevices",
    "resizePolicy",
];

/// Which list a container came from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Init,
    Sidecar,
    Regular,
}

pub(crate) fn lower_all(
    cx: &mut Cx,
    spec: &Node,
    containers: Option<&Node>,
    init: Option<&Node>,
    pcx: &mut PodCx,
    out: &mut Native,
) {
    let mut ports: Vec<(String, Origin)> = Vec::new();
    let mut inits = Vec::new();
    let mut sidecars: Vec<Container> = Vec::new();
    if let Some(n) = init {
        let mut after_sidecar = false;
        for (i, c) in walk::seq(cx, n, "spec.initContainers").iter().enumerate() {
            let path = format!("spec.initContainers[{i}]");
            let role = if is_sidecar(c) {
                Role::Sidecar
            } else {
                Role::Init
            };
            if role == Role::Init && after_sidecar {
                cx.unsupported(c, &path, "an init container after a sidecar (podctl runs every init container before the others)");
                continue;
            }
            after_sidecar |= role == Role::Sidecar;
            if let Some(mut lowered) = lower(cx, c, &path, role, pcx, &mut ports) {
                // Each sidecar starts after the ones before it, as in Kubernetes.
                for s in &sidecars {
                    wait_for(cx, &mut lowered, s, c, &path);
                }
                match role {
                    Role::Sidecar => sidecars.push(lowered),
                    _ => inits.push(lowered),
                }
            }
        }
    }
    let mut regular = Vec::new();
    match containers {
        None => cx.error(
            spec,
            "spec.containers",
            "missing: a Pod needs at least one container",
        ),
        Some(n) => {
            let list = walk::seq(cx, n, "spec.containers");
            if list.is_empty() {
                cx.error(n, "spec.containers", "a Pod needs at least one container");
            }
            for (i, c) in list.iter().enumerate() {
                let path = format!("spec.containers[{i}]");
                if let Some(mut lowered) = lower(cx, c, &path, Role::Regular, pcx, &mut ports) {
                    for s in &sidecars {
                        wait_for(cx, &mut lowered, s, c, &path);
                    }
                    regular.push(lowered);
                }
            }
        }
    }
    if !ports.is_empty() {
        let at = ports[0].1.clone();
        let _ = out.keys.set("ports", Val::Array(ports), at);
    }
    out.containers.extend(inits);
    out.containers.extend(sidecars);
    out.containers.extend(regular);
}

fn is_sidecar(c: &Node) -> bool {
    matches!(&c.value, super::yaml::Value::Map(p) if p.iter().any(|(k, v)| {
        k.key_text().as_deref() == Some("restartPolicy")
            && matches!(&v.value, super::yaml::Value::Str(s) if s == "Always")
    }))
}

/// A container that starts after sidecar `s`: once it is ready when it has
/// a startup probe (Kubernetes waits for that), else once it started.
fn wait_for(cx: &mut Cx, c: &mut Container, s: &Container, at: &Node, path: &str) {
    let cond = if s.keys.has("ready") {
        "ready"
    } else {
        "started"
    };
    let key = format!("after.{}", native::key(&s.name));
    if let Err(o) = c
        .keys
        .set(&key, Val::Raw(native::string(cond)), origin(at, path))
    {
        cx.error(
            at,
            path,
            format!("waits for the sidecar {} and also sets {}", s.name, o.path),
        );
    }
}

fn lower(
    cx: &mut Cx,
    n: &Node,
    path: &str,
    role: Role,
    pcx: &PodCx,
    ports: &mut Vec<(String, Origin)>,
) -> Option<Container> {
    let [
        name,
        image,
        pull_policy,
        command,
        args,
        workdir,
        env,
        env_from,
        port_list,
        resources,
        security_cx,
        readiness,
        liveness,
        startup,
        lifecycle,
        mounts,
        restart,
        tty,
        stdin,
        stdin_once,
    ] = fields(cx, n, path, CONTAINER, &CONTAINER_UNSUPPORTED);
    let Some(name) = name.and_then(|x| walk::string(cx, x, &join(path, "name"))) else {
        cx.error(n, path, "missing name");
        return None;
    };
    let mut keys = Keys::default();
    if let Some(r) = restart
        && role == Role::Regular
    {
        cx.unsupported(r, &join(path, "restartPolicy"), "a container's own restartPolicy (set spec.restartPolicy, or use an init container with restartPolicy: Always as a sidecar)");
    }
    if role == Role::Init {
        set(cx, &mut keys, "init", "true".into(), n, path);
    }
    let (env_keys, env_values) = env::read(cx, env, env_from, path, name, pcx);
    super::image::lower(
        cx,
        (n, name),
        (image, command, args),
        path,
        pcx,
        &env_values,
        &mut keys,
    );
    super::updates::lower_pull(cx, pull_policy, image, path, &mut keys);
    if let Some(w) =
        workdir.and_then(|w| Some((walk::string(cx, w, &join(path, "workingDir"))?, w)))
    {
        set(
            cx,
            &mut keys,
            "workdir",
            native::string(w.0),
            w.1,
            &join(path, "workingDir"),
        );
    }
    for (k, v, o) in env_keys {
        let _ = keys.set(&k, v, o);
    }
    if let Some(p) = port_list {
        super::ports::read_ports(cx, p, &join(path, "ports"), pcx.host_net, ports);
    }
    if let Some(r) = resources {
        for (key, value, at, field) in super::quantity::resources(cx, r, &join(path, "resources")) {
            set(
                cx,
                &mut keys,
                &format!("resources.{key}"),
                value,
                at,
                &field,
            );
        }
    }
    security::lower(cx, security_cx, path, pcx, &mut keys);
    match (readiness, startup) {
        (Some(r), Some(s)) => {
            cx.unsupported(
                s,
                &join(path, "startupProbe"),
                "a startupProbe together with a readinessProbe (podctl has one readiness check)",
            );
            ready(cx, r, &join(path, "readinessProbe"), &mut keys);
        }
        (Some(r), None) => ready(cx, r, &join(path, "readinessProbe"), &mut keys),
        (None, Some(s)) => ready(cx, s, &join(path, "startupProbe"), &mut keys),
        (None, None) => {}
    }
    if let Some(l) = liveness
        && let Some(text) = probe::read(cx, l, &join(path, "livenessProbe"))
    {
        set(cx, &mut keys, "live", text, l, &join(path, "livenessProbe"));
    }
    if let Some(l) = lifecycle {
        super::hooks::lower(cx, l, &join(path, "lifecycle"), &mut keys);
    }
    terminal(cx, [tty, stdin, stdin_once], path, &mut keys);
    if let Some(m) = mounts {
        let all = super::volumes::mounts(cx, m, &join(path, "volumeMounts"), &pcx.volumes);
        for (key, items) in [("volumes", all.volumes), ("secrets", all.secrets)] {
            if !items.is_empty() {
                let at = origin(m, &join(path, "volumeMounts"));
                let _ = keys.set(key, Val::Array(items), at);
            }
        }
    }
    Some(Container {
        name: name.to_string(),
        origin: origin(n, path),
        keys,
        regular: role == Role::Regular,
    })
}

/// `tty` and `stdin` are the pod file's; `stdinOnce` closes stdin after
/// the first attach, and nothing attaches on podctl: a note when true.
fn terminal(cx: &mut Cx, [tty, stdin, once]: [Option<&Node>; 3], path: &str, keys: &mut Keys) {
    for (n, field) in [(tty, "tty"), (stdin, "stdin")] {
        if let Some(n) = n
            && walk::boolean(cx, n, &join(path, field)) == Some(true)
        {
            set(cx, keys, field, "true".into(), n, &join(path, field));
        }
    }
    if let Some(n) = once
        && walk::boolean(cx, n, &join(path, "stdinOnce")) == Some(true)
    {
        cx.warnings.error(
            n.offset..n.offset,
            &join(path, "stdinOnce"),
            "has no effect: nothing attaches to a container's stdin on podctl (ignored)",
        );
    }
}

fn ready(cx: &mut Cx, n: &Node, path: &str, keys: &mut Keys) {
    if let Some(text) = probe::read(cx, n, path) {
        set(cx, keys, "ready", text, n, path);
    }
}

/// The pod-wide `restartPolicy` and `terminationGracePeriodSeconds`, for
/// each container whose annotations did not set its own.
pub(crate) fn pod_defaults(cx: &mut Cx, pcx: &PodCx, out: &mut Native) {
    for c in &mut out.containers {
        if let Some((secs, at)) = pcx.grace
            && !c.keys.has("stop_timeout")
        {
            let (node, path) = match at {
                Some(n) => (n, "spec.terminationGracePeriodSeconds"),
                None => (pcx.spec, "spec"),
            };
            set(
                cx,
                &mut c.keys,
                "stop_timeout",
                secs.to_string(),
                node,
                path,
            );
        }
        if c.regular
            && let Some((policy, at)) = &pcx.restart
            && !c.keys.has("restart")
        {
            set(
                cx,
                &mut c.keys,
                "restart",
                native::string(policy),
                at,
                "spec.restartPolicy",
            );
        }
    }
}
