//! A container's `hooks` (Kubernetes' lifecycle hooks): `post_start` and
//! `pre_stop`, each a handler written as a probe's check is: `exec = [...]`,
//! `http = "http://..."` with `headers`, or `sleep = DURATION`.

use super::diag::{Sink, join};
use super::lifecycle::{read_duration, read_exec, read_http};
use super::tree::{self, Value, fields};
use crate::model::{Handler, Hooks};

const HOOKS: [&str; 2] = ["post_start", "pre_stop"];
/// `tcp` is read only to say why it is refused.
const HANDLER: [&str; 5] = ["exec", "http", "sleep", "headers", "tcp"];

/// What a container's other keys say about its hooks.
pub(crate) struct Context {
    /// An init container: hooks are not for it.
    pub init: bool,
    /// Its stop timeout: a `pre_stop` sleep must fit in it.
    pub stop_timeout_ms: u64,
}

/// Reads `hooks = { post_start = {...}, pre_stop = {...} }` at `key`.
pub(crate) fn read(sink: &mut Sink, v: &Value<'_>, key: &str, cx: &Context) -> Hooks {
    let mut hooks = Hooks::default();
    let Some(t) = tree::table(sink, v, key) else {
        return hooks;
    };
    if cx.init && !t.is_empty() {
        sink.error(
            v.span(),
            key,
            "init containers run to completion before the others: hooks are for regular containers (as in Kubernetes)",
        );
        return hooks;
    }
    let [post_start, pre_stop] = fields(sink, t, key, HOOKS);
    if let Some(h) = post_start {
        hooks.post_start = read_handler(sink, h, &join(key, "post_start"));
    }
    if let Some(h) = pre_stop {
        let k = join(key, "pre_stop");
        hooks.pre_stop = read_handler(sink, h, &k);
        if let Some(Handler::Sleep(ms)) = hooks.pre_stop
            && ms > cx.stop_timeout_ms
        {
            sink.error(
                h.span(),
                &k,
                format!(
                    "sleeps {ms} ms, longer than the stop_timeout of {} ms the hook runs within (make stop_timeout longer)",
                    cx.stop_timeout_ms
                ),
            );
        }
    }
    hooks
}

/// Exactly one of `exec`, `http` (with `headers`) and `sleep`.
fn read_handler(sink: &mut Sink, v: &Value<'_>, key: &str) -> Option<Handler> {
    let t = tree::table(sink, v, key)?;
    let [exec, http, sleep, headers, tcp] = fields(sink, t, key, HANDLER);
    if let Some(p) = tcp {
        sink.error(
            p.span(),
            &join(key, "tcp"),
            "a hook has no tcp handler (Kubernetes' tcpSocket hook is deprecated and never runs): use exec, http or sleep",
        );
        return None;
    }
    if [exec, http, sleep].iter().filter(|x| x.is_some()).count() != 1 {
        sink.error(
            v.span(),
            key,
            "give exactly one handler: exec = [\"cmd\", ...], http = \"http://127.0.0.1:PORT/path\" or sleep = \"5s\"",
        );
        return None;
    }
    if let Some(h) = headers
        && http.is_none()
    {
        sink.error(
            h.span(),
            &join(key, "headers"),
            "only an http hook sends headers",
        );
        return None;
    }
    if let Some(e) = exec {
        return read_exec(sink, e, &join(key, "exec")).map(Handler::Exec);
    }
    if let Some(s) = sleep {
        return read_duration(sink, s, &join(key, "sleep")).map(Handler::Sleep);
    }
    let url = read_http(sink, http.expect("one handler"), &join(key, "http"))?;
    let headers = match headers {
        Some(h) => super::headers::read(sink, h, &join(key, "headers"))?,
        None => Default::default(),
    };
    Some(Handler::Http { url, headers })
}

#[cfg(test)]
mod tests {
    use crate::model::{Handler, Hooks};

    fn hooks(line: &str) -> Result<Hooks, String> {
        let src = format!("[containers.a]\ncommand = [\"true\"]\n{line}\n");
        crate::spec::parse_str(&src, "t.toml", "t")
            .map(|p| p.containers[0].hooks.clone())
            .map_err(|d| d.to_string())
    }

    #[test]
    fn each_handler_reads_as_a_probe_check_does() {
        let h = hooks(
            "hooks = { post_start = { exec = [\"touch\", \"/tmp/up\"] }, pre_stop = { http = \"http://127.0.0.1:8080/drain\", headers = { X-Drain = \"1\" } } }",
        )
        .unwrap();
        assert_eq!(
            h.post_start,
            Some(Handler::Exec(vec!["touch".into(), "/tmp/up".into()]))
        );
        let Some(Handler::Http { url, headers }) = h.pre_stop else {
            panic!("{h:?}")
        };
        assert_eq!(url, "http://127.0.0.1:8080/drain");
        assert_eq!(headers["X-Drain"], "1");
        let h = hooks("hooks.pre_stop = { sleep = \"1500ms\" }").unwrap();
        assert_eq!(h.pre_stop, Some(Handler::Sleep(1500)));
        assert!(hooks("hooks = {}").unwrap().is_empty());
    }

    #[test]
    fn wrong_handlers_are_located() {
        for (line, want) in [
            (
                "hooks.post_start = { tcp = 80 }",
                "t.toml:3:28: containers.a.hooks.post_start.tcp: a hook has no tcp handler",
            ),
            (
                "hooks.post_start = { exec = [\"a\"], sleep = 1 }",
                "containers.a.hooks.post_start: give exactly one handler",
            ),
            (
                "hooks.pre_stop = { exec = [\"a\"], headers = { A = \"b\" } }",
                "containers.a.hooks.pre_stop.headers: only an http hook sends headers",
            ),
            (
                "hooks.pre_stop = { http = \"https://x/\" }",
                "containers.a.hooks.pre_stop.http: \"https://x/\" is not an http:// URL",
            ),
            (
                "hooks.pre_stop = { sleep = \"11s\" }",
                "containers.a.hooks.pre_stop: sleeps 11000 ms, longer than the stop_timeout of 10000 ms",
            ),
            (
                "hooks = { pre_stp = { sleep = 1 } }",
                "containers.a.hooks.pre_stp: unknown key, did you mean `pre_stop`?",
            ),
            (
                "init = true\nhooks.pre_stop = { sleep = 1 }",
                "containers.a.hooks: init containers run to completion",
            ),
        ] {
            let e = hooks(line).unwrap_err();
            assert!(e.contains(want), "{line}: {e}");
        }
    }
}
