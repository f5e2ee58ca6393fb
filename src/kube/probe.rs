//! `readinessProbe`, `livenessProbe` and `startupProbe` as native `ready`
//! and `live` probes.

use super::native::string;
use super::walk::{self, Cx, fields, join};
use super::yaml::{Node, Value};

const PROBE: [&str; 8] = [
    "exec",
    "tcpSocket",
    "httpGet",
    "periodSeconds",
    "timeoutSeconds",
    "failureThreshold",
    "initialDelaySeconds",
    "successThreshold",
];
const PROBE_UNSUPPORTED: [&str; 2] = ["grpc", "terminationGracePeriodSeconds"];
/// Kubernetes' defaults, used when a manifest leaves them out.
const DEFAULT_PERIOD: i64 = 10;
const DEFAULT_TIMEOUT: i64 = 1;
const DEFAULT_FAILURES: i64 = 3;

/// A probe as a native inline table, e.g.
/// `{ http = "http://127.0.0.1:80/", interval = "10s", timeout = "1s", retries = 3 }`.
pub(crate) fn read(cx: &mut Cx, n: &Node, path: &str) -> Option<String> {
    let [exec, tcp, http, period, timeout, failures, delay, success] =
        fields(cx, n, path, PROBE, &PROBE_UNSUPPORTED);
    let seconds = |cx: &mut Cx, v: Option<&Node>, key: &str, min: i64, default: i64| match v {
        Some(v) => walk::integer(cx, v, &join(path, key), min, 86_400),
        None => Some(default),
    };
    let delay = match delay {
        Some(d) => walk::integer(cx, d, &join(path, "initialDelaySeconds"), 0, 86_400)?,
        None => 0,
    };
    if let Some(s) = success
        && walk::integer(cx, s, &join(path, "successThreshold"), 1, 1_000)? > 1
    {
        cx.unsupported(
            s,
            &join(path, "successThreshold"),
            "a successThreshold above 1",
        );
    }
    let given = [exec, tcp, http].iter().filter(|x| x.is_some()).count();
    if given != 1 {
        if given > 1 || !has_unsupported_check(n) {
            cx.error(n, path, "give exactly one of exec, tcpSocket or httpGet");
        }
        return None;
    }
    let check = if let Some(e) = exec {
        exec_check(cx, e, &join(path, "exec"))?
    } else if let Some(t) = tcp {
        let p = join(path, "tcpSocket");
        let [port, host] = fields(cx, t, &p, ["port", "host"], &[]);
        local_host(cx, host, &p)?;
        let port = port_number(cx, port, t, &p)?;
        format!("tcp = {port}")
    } else {
        http_check(cx, http.expect("one check"), &join(path, "httpGet"))?
    };
    let period = seconds(cx, period, "periodSeconds", 1, DEFAULT_PERIOD)?;
    let timeout = seconds(cx, timeout, "timeoutSeconds", 1, DEFAULT_TIMEOUT)?;
    let failures = seconds(cx, failures, "failureThreshold", 1, DEFAULT_FAILURES)?;
    let delay = if delay > 0 {
        format!(", delay = \"{delay}s\"")
    } else {
        String::new()
    };
    Some(format!(
        "{{ {check}, interval = \"{period}s\", timeout = \"{timeout}s\", retries = {failures}{delay} }}"
    ))
}

/// An `exec` action (`command`) as the native `exec = [...]` (probes and hooks).
pub(crate) fn exec_check(cx: &mut Cx, e: &Node, p: &str) -> Option<String> {
    let [command] = fields(cx, e, p, ["command"], &[]);
    let argv = walk::strings(cx, command?, &join(p, "command"));
    let items: Vec<String> = argv.iter().map(|(s, _)| string(s)).collect();
    Some(format!("exec = [{}]", items.join(", ")))
}

/// An `httpGet` action as the native `http = "http://127.0.0.1:PORT/PATH"`
/// with its `headers` (probes and hooks): plain HTTP to the pod's own
/// 127.0.0.1, as the kubelet reaches the pod IP.
pub(crate) fn http_check(cx: &mut Cx, h: &Node, p: &str) -> Option<String> {
    let [port, host, url_path, scheme, headers] = fields(
        cx,
        h,
        p,
        ["port", "host", "path", "scheme", "httpHeaders"],
        &[],
    );
    local_host(cx, host, p)?;
    if let Some(s) = scheme
        && let Some(text) = walk::string(cx, s, &join(p, "scheme"))
        && text != "HTTP"
    {
        cx.unsupported(
            s,
            &join(p, "scheme"),
            &format!("scheme {text} (podctl probes plain HTTP)"),
        );
    }
    let port = port_number(cx, port, h, p)?;
    let url_path = url_path
        .and_then(|u| walk::string(cx, u, &join(p, "path")))
        .unwrap_or("/");
    let slash = if url_path.starts_with('/') { "" } else { "/" };
    let headers = match headers {
        Some(hs) => http_headers(cx, hs, &join(p, "httpHeaders"))?,
        None => String::new(),
    };
    Some(format!(
        "http = {}{headers}",
        string(&format!("http://127.0.0.1:{port}{slash}{url_path}"))
    ))
}

/// `httpHeaders` (`- name: X, value: Y`) as the native `, headers = {...}`;
/// the pod file reader checks the names and values.
fn http_headers(cx: &mut Cx, n: &Node, path: &str) -> Option<String> {
    let mut items = Vec::new();
    for (i, h) in walk::seq(cx, n, path).iter().enumerate() {
        let at = format!("{path}[{i}]");
        let [name, value] = fields(cx, h, &at, ["name", "value"], &[]);
        let (Some(name), Some(value)) = (name, value) else {
            cx.error(h, &at, "a header needs a name and a value");
            continue;
        };
        let name = walk::string(cx, name, &join(&at, "name"))?;
        let value = walk::string(cx, value, &join(&at, "value"))?;
        items.push(format!("{} = {}", string(name), string(value)));
    }
    if items.is_empty() {
        return Some(String::new());
    }
    Some(format!(", headers = {{ {} }}", items.join(", ")))
}

fn has_unsupported_check(n: &Node) -> bool {
    matches!(&n.value, Value::Map(p) if p.iter().any(|(k, _)| k.key_text().as_deref() == Some("grpc")))
}

/// Probes connect to the pod's own 127.0.0.1, as the kubelet reaches the pod IP.
fn local_host(cx: &mut Cx, host: Option<&Node>, path: &str) -> Option<()> {
    if let Some(h) = host {
        let text = walk::string(cx, h, &join(path, "host"))?;
        if !matches!(text, "127.0.0.1" | "localhost" | "") {
            cx.unsupported(
                h,
                &join(path, "host"),
                &format!("host {text} (podctl probes the pod at 127.0.0.1)"),
            );
        }
    }
    Some(())
}

fn port_number(cx: &mut Cx, port: Option<&Node>, parent: &Node, path: &str) -> Option<i64> {
    let Some(port) = port else {
        cx.error(parent, path, "missing port");
        return None;
    };
    let p = join(path, "port");
    match &port.value {
        Value::Str(s) if s.parse::<u16>().is_err() => {
            cx.unsupported(port, &p, &format!("the named port {s:?} (give its number)"));
            None
        }
        Value::Str(s) => Some(s.parse::<i64>().ok()?),
        _ => walk::integer(cx, port, &p, 1, 65_535),
    }
}
