//! One `[containers.NAME]` table.

use super::diag::{Sink, join};
use super::lifecycle;
use super::limits::{self, Limits};
use super::names::{self, suggest};
use super::tree::{self, Value, fields};
use super::{security, volumes};
use crate::model::{Container, Namespace, Restart, User};
use std::collections::BTreeMap;
use std::ops::Range;
use toml::de::DeValue;

const KEYS: [&str; 29] = [
    "image",
    "command",
    "args",
    "env",
    "workdir",
    "user",
    "restart",
    "resources",
    "init",
    "after",
    "ready",
    "live",
    "hooks",
    "stop_signal",
    "stop_timeout",
    "runtime",
    "privileged",
    "capabilities",
    "read_only",
    "no_new_privileges",
    "seccomp",
    "sysctls",
    "shm_size",
    "volumes",
    "secrets",
    "pull",
    "auto_update",
    "tty",
    "stdin",
];
const RESTARTS: [&str; 3] = ["always", "on-failure", "never"];
const USER_HELP: &str = "use a name, a uid, or uid:gid, e.g. \"www-data\", 1000 or \"1000:1000\"";

/// Reads the container `name` (its key at `key_span`) from `v`, filling
/// defaults; problems go to the sink and leave placeholders. Also returns
/// the span of each `after` entry, for the checks across containers.
/// `pod` gives what the pod's keys mean for a container's: the namespaces
/// taken from the host and the scratch volumes' names.
pub(crate) fn read(
    sink: &mut Sink,
    name: &str,
    key_span: Range<usize>,
    v: &Value<'_>,
    pod: &PodContext,
) -> (Container, Limits, Vec<Range<usize>>) {
    let path = join("containers", name);
    if !names::is_dns_label(name) {
        sink.error(
            key_span,
            &path,
            format!(
                "{name:?} is not a valid container name ({})",
                names::LABEL_RULE
            ),
        );
    } else if name == names::SANDBOX {
        sink.error(
            key_span,
            &path,
            format!(
                "{name:?} is reserved: pod-POD.{name}.scope is the pod's sandbox (choose another container name)"
            ),
        );
    }
    let mut c = Container {
        name: name.to_string(),
        image: None,
        command: None,
        args: None,
        env: BTreeMap::new(),
        workdir: None,
        user: None,
        restart: Restart::Always,
        resources: Default::default(),
        init: false,
        after: Vec::new(),
        ready: None,
        live: None,
        hooks: Default::default(),
        stop_signal: None,
        stop_timeout_ms: crate::model::DEFAULT_STOP_TIMEOUT_MS,
        runtime: None,
        security: Default::default(),
        volumes: Vec::new(),
        secrets: Default::default(),
        updates: Default::default(),
        tty: false,
        stdin: false,
    };
    let Some(t) = tree::table(sink, v, &path) else {
        return (c, Limits::default(), Vec::new());
    };
    let [
        image,
        command,
        args,
        env,
        workdir,
        user,
        restart,
        resources,
        init,
        after,
        ready,
        live,
        hooks,
        stop_signal,
        stop_timeout,
        runtime,
        privileged,
        capabilities,
        read_only,
        no_new_privileges,
        seccomp,
        sysctls,
        shm_size,
        volumes,
        secrets,
        pull,
        auto_update,
        tty,
        stdin,
    ] = fields(sink, t, &path, KEYS);
    if let Some(v) = image {
        c.image = read_image(sink, v, &join(&path, "image"));
    }
    if let Some(v) = command {
        c.command = Some(read_command(sink, v, &join(&path, "command")));
    }
    if let Some(v) = args {
        c.args = read_args(sink, v, &join(&path, "args"));
    }
    match (&image, &command, &args) {
        (Some(_), _, _) | (None, Some(_), _) => {}
        (None, None, Some(a)) => sink.error(
            a.span(),
            &join(&path, "args"),
            "args without a command or an image: args replace an image's Cmd and follow a command; put the program in command = [...] (or set image)",
        ),
        (None, None, None) => sink.error(
            v.span(),
            &join(&path, "command"),
            "missing; give the program and its arguments, e.g. command = [\"/bin/sleep\", \"infinity\"], or an image = \"...\"",
        ),
    }
    let own = (pull, auto_update);
    c.updates = super::updates::read_container(sink, &path, own, image.is_some(), &pod.auto_update);
    if let Some(v) = env {
        (c.env, c.secrets.env) = super::env::read(sink, v, &join(&path, "env"));
    }
    if let Some(v) = secrets {
        c.secrets.files = super::secrets::read_files(sink, v, &join(&path, "secrets"));
    }
    if let Some(v) = workdir {
        let key = join(&path, "workdir");
        if let Some(s) = tree::string(sink, v, &key) {
            if s.text.starts_with('/') {
                c.workdir = Some(s.text.to_string());
            } else {
                sink.error(
                    s.span,
                    &key,
                    format!("{:?} is not an absolute path", s.text),
                );
            }
        }
    }
    if let Some(v) = user {
        c.user = read_user(sink, v, &join(&path, "user"));
    }
    if let Some(v) = restart {
        c.restart = read_restart(sink, v, &join(&path, "restart"));
    }
    let limits = match resources {
        Some(v) => limits::read(sink, v, &join(&path, "resources")),
        None => Limits::default(),
    };
    c.resources = limits.resources.clone();
    if let Some(v) = init {
        c.init = tree::boolean(sink, v, &join(&path, "init")).unwrap_or(false);
    }
    if let Some(v) = tty {
        c.tty = tree::boolean(sink, v, &join(&path, "tty")).unwrap_or(false);
    }
    if let Some(v) = stdin {
        c.stdin = tree::boolean(sink, v, &join(&path, "stdin")).unwrap_or(false);
    }
    let mut after_spans = Vec::new();
    if let Some(v) = after {
        for (name, cond, span) in lifecycle::read_after(sink, v, &join(&path, "after")) {
            c.after.push((name, cond));
            after_spans.push(span);
        }
    }
    if let Some(v) = ready {
        c.ready = lifecycle::read_ready(sink, v, &join(&path, "ready"));
    }
    if let Some(v) = live {
        c.live = lifecycle::read_probe(sink, v, &join(&path, "live"));
    }
    if let Some(v) = stop_signal
        && let Some(sig) = lifecycle::read_signal(sink, v, &join(&path, "stop_signal"))
    {
        c.stop_signal = Some(sig);
    }
    if let Some(v) = stop_timeout
        && let Some(ms) = lifecycle::read_duration(sink, v, &join(&path, "stop_timeout"))
    {
        c.stop_timeout_ms = ms;
    }
    if let Some(v) = hooks {
        let cx = super::hooks::Context {
            init: c.init,
            stop_timeout_ms: c.stop_timeout_ms,
        };
        c.hooks = super::hooks::read(sink, v, &join(&path, "hooks"), &cx);
    }
    if let Some(v) = runtime {
        c.runtime = security::read_runtime(sink, v, &join(&path, "runtime"));
    }
    let keys = security::Keys {
        privileged,
        capabilities,
        read_only,
        no_new_privileges,
        seccomp,
        sysctls,
    };
    c.security = security::read(sink, keys, &path, &pod.host);
    if let Some(v) = shm_size {
        sink.error(
            v.span(),
            &join(&path, "shm_size"),
            "/dev/shm is the pod's, shared by its containers: set shm_size at the top of the pod file",
        );
    }
    if let Some(v) = volumes {
        c.volumes = volumes::read(sink, v, &join(&path, "volumes"), &pod.scratch);
    }
    (c, limits, after_spans)
}

/// What a container's keys need to know of its pod's.
pub(crate) struct PodContext {
    pub host: Vec<Namespace>,
    pub scratch: Vec<String>,
    /// The pod's `auto_update`, for its image containers.
    pub auto_update: super::updates::PodAutoUpdate,
}

fn read_command(sink: &mut Sink, v: &Value<'_>, key: &str) -> Vec<String> {
    let Some(argv) = tree::strings(sink, v, key) else {
        return Vec::new();
    };
    match argv.first() {
        None => sink.error(
            v.span(),
            key,
            "must not be empty: give at least the program to run",
        ),
        Some(p) if p.text.is_empty() => {
            sink.error(p.span.clone(), key, "the program name is empty")
        }
        Some(p) if !p.text.starts_with('/') && p.text.contains('/') => sink.error(
            p.span.clone(),
            key,
            format!(
                "{:?} is a relative path; use an absolute path or a bare name found in PATH",
                p.text
            ),
        ),
        Some(_) => {}
    }
    for arg in argv.iter().filter(|a| a.text.contains('\0')) {
        sink.error(
            arg.span.clone(),
            key,
            "arguments cannot contain NUL characters",
        );
    }
    argv.into_iter().map(|a| a.text.to_string()).collect()
}

/// A reference `ImageRef::parse` accepts; `oci:` and `oci-archive:` paths
/// must be absolute (a pod file is applied from anywhere).
fn read_image(sink: &mut Sink, v: &Value<'_>, key: &str) -> Option<String> {
    use crate::model::reference::ImageRef;
    let s = tree::string(sink, v, key)?;
    match ImageRef::parse(s.text) {
        Err(e) => sink.error(s.span, key, e.to_string()),
        Ok(ImageRef::Layout { path, .. } | ImageRef::Archive { path, .. })
            if !path.is_absolute() =>
        {
            sink.error(
                s.span,
                key,
                format!(
                    "{:?}: the layout path {} is relative; use an absolute path",
                    s.text,
                    path.display()
                ),
            )
        }
        Ok(_) => return Some(s.text.to_string()),
    }
    None
}

/// A list of strings, possibly empty (`args = []`: the image's Cmd is dropped).
fn read_args(sink: &mut Sink, v: &Value<'_>, key: &str) -> Option<Vec<String>> {
    let argv = tree::strings(sink, v, key)?;
    for arg in argv.iter().filter(|a| a.text.contains('\0')) {
        sink.error(
            arg.span.clone(),
            key,
            "arguments cannot contain NUL characters",
        );
    }
    Some(argv.into_iter().map(|a| a.text.to_string()).collect())
}

fn read_user(sink: &mut Sink, v: &Value<'_>, key: &str) -> Option<User> {
    let user = match v.get_ref() {
        DeValue::String(s) => names::parse_user(s),
        DeValue::Integer(_) => tree::integer(v.get_ref())
            .and_then(names::id)
            .map(|uid| User::Id { uid, gid: None }),
        _ => {
            sink.error(v.span(), key, format!("expected a user ({USER_HELP})"));
            return None;
        }
    };
    if user.is_none() {
        let written = sink.text(v.span());
        sink.error(
            v.span(),
            key,
            format!("{written} is not a user ({USER_HELP})"),
        );
    }
    user
}

fn read_restart(sink: &mut Sink, v: &Value<'_>, key: &str) -> Restart {
    let Some(s) = tree::string(sink, v, key) else {
        return Restart::Always;
    };
    match s.text {
        "always" => Restart::Always,
        "on-failure" => Restart::OnFailure,
        "never" => Restart::Never,
        other => {
            let hint = suggest(other, &RESTARTS)
                .map(|r| format!("; did you mean `{r}`?"))
                .unwrap_or_default();
            sink.error(
                s.span,
                key,
                format!(
                    "{other:?} is not a restart policy (allowed: {}){hint}",
                    RESTARTS.join(", ")
                ),
            );
            Restart::Always
        }
    }
}
