//! A container's security keys: `runtime`, `privileged`, `capabilities`,
//! `read_only`, `no_new_privileges`, `seccomp` and `sysctls`.

use super::diag::{Sink, join};
use super::names::suggest;
use super::tree::{self, Value, fields};
use crate::model::caps;
use crate::model::{Namespace, Runtime, Seccomp, Security};
use std::collections::BTreeMap;

const RUNTIME_HELP: &str = "use \"crun\", \"runc\" or the absolute path of an OCI runtime";

/// `runtime = "crun" | "runc" | "/abs/path"`.
pub(crate) fn read_runtime(sink: &mut Sink, v: &Value<'_>, key: &str) -> Option<Runtime> {
    let s = tree::string(sink, v, key)?;
    match s.text {
        "crun" => Some(Runtime::Crun),
        "runc" => Some(Runtime::Runc),
        p if p.starts_with('/') && !p.contains('\0') && !has_dot_dot(p) => {
            Some(Runtime::Path(p.to_string()))
        }
        other => {
            let hint = suggest(other, &["crun", "runc"])
                .map(|r| format!("; did you mean `{r}`?"))
                .unwrap_or_default();
            sink.error(
                s.span,
                key,
                format!("{other:?} is not a runtime ({RUNTIME_HELP}){hint}"),
            );
            None
        }
    }
}

/// Whether a path has a `..` component.
pub(crate) fn has_dot_dot(p: &str) -> bool {
    p.split('/').any(|c| c == "..")
}

/// The security keys of one container table; `host` lists the namespaces
/// the pod takes from the host (sysctls must not touch them).
pub(crate) struct Keys<'a, 'i> {
    pub privileged: Option<&'a Value<'i>>,
    pub capabilities: Option<&'a Value<'i>>,
    pub read_only: Option<&'a Value<'i>>,
    pub no_new_privileges: Option<&'a Value<'i>>,
    pub seccomp: Option<&'a Value<'i>>,
    pub sysctls: Option<&'a Value<'i>>,
}

pub(crate) fn read(
    sink: &mut Sink,
    keys: Keys<'_, '_>,
    path: &str,
    host: &[Namespace],
) -> Security {
    let mut s = Security::default();
    if let Some(v) = keys.privileged {
        s.privileged = tree::boolean(sink, v, &join(path, "privileged")).unwrap_or(false);
    }
    if let Some(v) = keys.capabilities {
        (s.cap_add, s.cap_drop) = read_capabilities(sink, v, &join(path, "capabilities"));
    }
    if let Some(v) = keys.read_only {
        s.read_only = tree::boolean(sink, v, &join(path, "read_only")).unwrap_or(false);
    }
    if let Some(v) = keys.no_new_privileges {
        s.no_new_privileges =
            tree::boolean(sink, v, &join(path, "no_new_privileges")).unwrap_or(true);
    }
    if let Some(v) = keys.seccomp {
        s.seccomp = read_seccomp(sink, v, &join(path, "seccomp"));
    }
    if let Some(v) = keys.sysctls {
        s.sysctls = read_sysctls(sink, v, &join(path, "sysctls"), host);
    }
    s
}

/// `capabilities = { add = [...], drop = [...] }`: known names or `ALL`,
/// each once, none in both lists. Returns (add, drop), canonical and sorted.
fn read_capabilities(sink: &mut Sink, v: &Value<'_>, path: &str) -> (Vec<String>, Vec<String>) {
    let Some(t) = tree::table(sink, v, path) else {
        return Default::default();
    };
    let [add, drop] = fields(sink, t, path, ["add", "drop"]);
    let mut lists: [Vec<(String, std::ops::Range<usize>)>; 2] = Default::default();
    for (i, (name, v)) in [("add", add), ("drop", drop)].into_iter().enumerate() {
        let Some(v) = v else { continue };
        let key = join(path, name);
        for s in tree::strings(sink, v, &key).unwrap_or_default() {
            let canonical = if s.text.eq_ignore_ascii_case("all") {
                Some("ALL")
            } else {
                caps::canonical(s.text)
            };
            match canonical {
                None => sink.error(
                    s.span,
                    &key,
                    format!(
                        "{:?} is not a capability (use a name of capabilities(7) such as \"NET_ADMIN\" or \"CAP_NET_ADMIN\", or \"ALL\")",
                        s.text
                    ),
                ),
                Some(c) if lists[i].iter().any(|(o, _)| o == c) => {
                    sink.error(s.span, &key, format!("{c} is listed twice"))
                }
                Some(c) => lists[i].push((c.to_string(), s.span)),
            }
        }
    }
    for (name, span) in &lists[1] {
        if name != "ALL" && lists[0].iter().any(|(a, _)| a == name) {
            sink.error(
                span.clone(),
                &join(path, "drop"),
                format!("{name} is both added and dropped"),
            );
        }
    }
    let [add, drop] = lists.map(|l| {
        let mut v: Vec<String> = l.into_iter().map(|(n, _)| n).collect();
        v.sort();
        v
    });
    (add, drop)
}

/// `seccomp = "unconfined" | "/path/profile.json"`.
fn read_seccomp(sink: &mut Sink, v: &Value<'_>, key: &str) -> Seccomp {
    let Some(s) = tree::string(sink, v, key) else {
        return Seccomp::Default;
    };
    match s.text {
        "default" => Seccomp::Default,
        "unconfined" => Seccomp::Unconfined,
        p if p.starts_with('/') && !p.contains('\0') && !has_dot_dot(p) => {
            Seccomp::Profile(p.to_string())
        }
        other => {
            sink.error(
                s.span,
                key,
                format!(
                    "{other:?} is not a seccomp setting (use \"default\", \"unconfined\" or the absolute path of a JSON profile)"
                ),
            );
            Seccomp::Default
        }
    }
}

/// IPC sysctls (ipc_namespaces(7)): the rest under `kernel.` is host-wide.
const IPC_SYSCTLS: [&str; 8] = [
    "kernel.msgmax",
    "kernel.msgmnb",
    "kernel.msgmni",
    "kernel.sem",
    "kernel.shmall",
    "kernel.shmmax",
    "kernel.shmmni",
    "kernel.shm_rmid_forced",
];

/// The namespace a sysctl belongs to, or why it cannot be set.
fn sysctl_namespace(name: &str) -> Result<Namespace, &'static str> {
    if name.starts_with("net.") {
        Ok(Namespace::Net)
    } else if IPC_SYSCTLS.contains(&name) || name.starts_with("fs.mqueue.") {
        Ok(Namespace::Ipc)
    } else if name == "kernel.domainname" {
        Ok(Namespace::Uts)
    } else if name == "kernel.hostname" {
        Err("set the pod's `hostname` instead")
    } else {
        Err("it is not namespaced: it would change the whole host")
    }
}

fn read_sysctls(
    sink: &mut Sink,
    v: &Value<'_>,
    path: &str,
    host: &[Namespace],
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let Some(t) = tree::table(sink, v, path) else {
        return out;
    };
    for (k, v) in t.iter() {
        let name: &str = k.get_ref();
        let key = join(path, name);
        let well_formed = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-/".contains(&b))
            && !name.split(['.', '/']).any(|c| c.is_empty() || c == "..");
        if !well_formed {
            sink.error(k.span(), &key, format!("{name:?} is not a sysctl name"));
            continue;
        }
        match sysctl_namespace(name) {
            Err(why) => sink.error(k.span(), &key, format!("{name} cannot be set: {why}")),
            Ok(ns) if host.contains(&ns) => sink.error(
                k.span(),
                &key,
                format!(
                    "{name} belongs to the {ns} namespace, which this pod takes from the host (host = [..., \"{ns}\"]): it would change the host's"
                ),
            ),
            Ok(_) => {}
        }
        // Numbers are written without quotes too.
        let value = match v.get_ref() {
            toml::de::DeValue::Integer(_) => tree::integer(v.get_ref()).map(|i| i.to_string()),
            _ => tree::string(sink, v, &key).map(|s| s.text.to_string()),
        };
        match value {
            Some(val) if val.contains(['\0', '\n']) => {
                sink.error(v.span(), &key, "values cannot contain NUL or newlines")
            }
            Some(val) => {
                out.insert(name.to_string(), val);
            }
            None => {}
        }
    }
    out
}
