//! `lifecycle.postStart` and `lifecycle.preStop` as the native `hooks`:
//! `exec` and `httpGet` as a probe's (`exec = [...]`, `http = "..."` with
//! `headers`), `sleep.seconds` as `sleep = "Ns"`. A `tcpSocket` handler
//! is refused: Kubernetes keeps it only for compatibility and never runs it.

use super::native::{Keys, set};
use super::probe::{exec_check, http_check};
use super::walk::{self, Cx, fields, join};
use super::yaml::{Node, Value};

const LIFECYCLE: [&str; 2] = ["postStart", "preStop"];
const LIFECYCLE_UNSUPPORTED: [&str; 1] = ["stopSignal"];
/// `tcpSocket` is read only to say why it is refused.
const HANDLER: [&str; 4] = ["exec", "httpGet", "sleep", "tcpSocket"];

/// Sets `hooks.post_start` and `hooks.pre_stop` of a container from its
/// `lifecycle` (at `path`).
pub(crate) fn lower(cx: &mut Cx, n: &Node, path: &str, keys: &mut Keys) {
    let [post_start, pre_stop] = fields(cx, n, path, LIFECYCLE, &LIFECYCLE_UNSUPPORTED);
    for (h, field, key) in [
        (post_start, "postStart", "post_start"),
        (pre_stop, "preStop", "pre_stop"),
    ] {
        let Some(h) = h else { continue };
        let at = join(path, field);
        if let Some(text) = handler(cx, h, &at) {
            set(cx, keys, &format!("hooks.{key}"), text, h, &at);
        }
    }
}

/// One LifecycleHandler as a native inline table.
fn handler(cx: &mut Cx, n: &Node, path: &str) -> Option<String> {
    let [exec, http, sleep, tcp] = fields(cx, n, path, HANDLER, &[]);
    if let Some(t) = tcp {
        // At its key, as other fields podctl does not support.
        let key = match &n.value {
            Value::Map(pairs) => pairs
                .iter()
                .find(|(k, _)| k.key_text().as_deref() == Some("tcpSocket"))
                .map_or(t, |(k, _)| k),
            _ => t,
        };
        cx.unsupported(
            key,
            &join(path, "tcpSocket"),
            "a tcpSocket hook (deprecated in Kubernetes, which never runs it): use exec or httpGet",
        );
        return None;
    }
    if [exec, http, sleep].iter().filter(|x| x.is_some()).count() != 1 {
        cx.error(n, path, "give exactly one of exec, httpGet or sleep");
        return None;
    }
    let action = if let Some(e) = exec {
        exec_check(cx, e, &join(path, "exec"))?
    } else if let Some(h) = http {
        http_check(cx, h, &join(path, "httpGet"))?
    } else {
        let s = sleep.expect("one action");
        let p = join(path, "sleep");
        let [seconds] = fields(cx, s, &p, ["seconds"], &[]);
        let Some(seconds) = seconds else {
            cx.error(s, &p, "missing seconds");
            return None;
        };
        let secs = walk::integer(cx, seconds, &join(&p, "seconds"), 0, 86_400)?;
        format!("sleep = \"{secs}s\"")
    };
    Some(format!("{{ {action} }}"))
}
