//! `kube generate` of a container's hooks: `lifecycle.postStart` and
//! `lifecycle.preStop` when Kubernetes has the handler (`exec`; `httpGet`
//! to the pod's own 127.0.0.1; `sleep` in whole seconds), else the
//! annotation `podctl.io/CONTAINER.hooks.post_start` (or `.pre_stop`)
//! holding the native table.

use super::annotations::{Annotations, toml_list};
use super::gen_container::duration;
use super::native;
use super::yaml_out::{MapB, Y};
use crate::model::{Container, Handler, Hook};
use std::collections::BTreeMap;

/// The container's `lifecycle` (empty when it has no hook Kubernetes can say).
pub(crate) fn lifecycle(c: &Container, notes: &mut Annotations) -> Y {
    let mut m = MapB::default();
    for (hook, field) in [(Hook::PostStart, "postStart"), (Hook::PreStop, "preStop")] {
        let Some(h) = c.hooks.get(hook) else { continue };
        match k8s_handler(h) {
            Some(y) => {
                m.put(field, y);
            }
            None => notes.toml(
                &format!("{}.hooks.{}", c.name, hook.key()),
                native_handler(h),
            ),
        }
    }
    m.done()
}

/// A LifecycleHandler, when Kubernetes has this one.
fn k8s_handler(h: &Handler) -> Option<Y> {
    let (field, action) = match h {
        Handler::Exec(argv) => ("exec", exec(argv)),
        Handler::Http { url, headers } => ("httpGet", http_get(url, headers)?),
        Handler::Sleep(ms) if ms.is_multiple_of(1000) => (
            "sleep",
            MapB::default()
                .put("seconds", Y::Int((ms / 1000) as i64))
                .done(),
        ),
        Handler::Sleep(_) => return None,
    };
    Some(MapB::default().put(field, action).done())
}

/// An ExecAction (probes and hooks).
pub(crate) fn exec(argv: &[String]) -> Y {
    MapB::default()
        .put(
            "command",
            Y::Seq(argv.iter().map(|a| Y::Str(a.clone())).collect()),
        )
        .done()
}

/// An HTTPGetAction (probes and hooks), when `url` is the pod's own
/// `http://127.0.0.1:PORT/PATH`.
pub(crate) fn http_get(url: &str, headers: &BTreeMap<String, String>) -> Option<Y> {
    let rest = url.strip_prefix("http://127.0.0.1:")?;
    let (port, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let port: u16 = port.parse().ok()?;
    let path = if path.is_empty() { "/" } else { path };
    let mut get = MapB::default();
    get.str("path", path).put("port", Y::Int(port as i64));
    let headers: Vec<Y> = headers
        .iter()
        .map(|(n, v)| MapB::default().str("name", n).str("value", v).done())
        .collect();
    get.nonempty("httpHeaders", Y::Seq(headers));
    Some(get.done())
}

/// The native handler (`hooks.pre_stop = ...`) as TOML text.
fn native_handler(h: &Handler) -> String {
    match h {
        Handler::Exec(argv) => format!(
            "{{ exec = {} }}",
            toml_list(argv.iter().map(String::as_str))
        ),
        Handler::Http { url, headers } if headers.is_empty() => {
            format!("{{ http = {} }}", native::string(url))
        }
        Handler::Http { url, headers } => {
            let h: Vec<String> = headers
                .iter()
                .map(|(n, v)| format!("{} = {}", native::string(n), native::string(v)))
                .collect();
            format!(
                "{{ http = {}, headers = {{ {} }} }}",
                native::string(url),
                h.join(", ")
            )
        }
        Handler::Sleep(ms) => format!("{{ sleep = \"{}\" }}", duration(*ms)),
    }
}
