//! A container's lifecycle keys (`init`, `after`, `ready`, `live`,
//! `stop_signal`, `stop_timeout`) and the checks across containers: `after`
//! names containers that exist, never an init container's dependency on a
//! regular one, and no cycles.

use super::diag::{Sink, join};
use super::names::suggest;
use super::tree::{self, Value, fields};
use crate::model::{Check, Condition, Container, Probe};
use std::ops::Range;
use toml::de::DeValue;

const PROBE_KEYS: [&str; 8] = [
    "exec", "tcp", "http", "interval", "timeout", "retries", "delay", "headers",
];
const SIGNALS: [(&str, i32); 8] = [
    ("SIGHUP", 1),
    ("SIGINT", 2),
    ("SIGQUIT", 3),
    ("SIGKILL", 9),
    ("SIGUSR1", 10),
    ("SIGUSR2", 12),
    ("SIGTERM", 15),
    ("SIGWINCH", 28),
];

/// `after = ["db"]` (started) or `after = { db = "ready" }`; spans of each name.
pub(crate) fn read_after(
    sink: &mut Sink,
    v: &Value<'_>,
    key: &str,
) -> Vec<(String, Condition, Range<usize>)> {
    let mut out = Vec::new();
    match v.get_ref() {
        DeValue::Array(_) => {
            for s in tree::strings(sink, v, key).unwrap_or_default() {
                out.push((s.text.to_string(), Condition::Started, s.span));
            }
        }
        DeValue::Table(t) => {
            for (name, cond) in t.iter() {
                let path = join(key, name.get_ref());
                let Some(s) = tree::string(sink, cond, &path) else { continue };
                match Condition::ALL.into_iter().find(|c| c.as_str() == s.text) {
                    Some(c) => out.push((name.get_ref().to_string(), c, name.span())),
                    None => sink.error(
                        s.span,
                        &path,
                        format!("{:?} is not a condition (allowed: started, ready, completed)", s.text),
                    ),
                }
            }
        }
        _ => sink.error(
            v.span(),
            key,
            "expected a list of container names or a table of name = \"started\" | \"ready\" | \"completed\"",
        ),
    }
    out
}

/// `ready = "notify"` (readiness by sd_notify READY=1), or a probe table.
pub(crate) fn read_ready(sink: &mut Sink, v: &Value<'_>, key: &str) -> Option<Probe> {
    match v.get_ref().as_str() {
        Some("notify") => Some(Probe {
            check: Check::Notify,
            interval_ms: 1000,
            timeout_ms: 1000,
            retries: 1,
            delay_ms: 0,
            headers: Default::default(),
        }),
        Some(other) => {
            sink.error(
                v.span(),
                key,
                format!("{other:?} is not a readiness check (use \"notify\" or a table: exec, tcp or http)"),
            );
            None
        }
        None => read_probe(sink, v, key),
    }
}

/// `ready` / `live`: exactly one of exec, tcp, http, plus timing.
pub(crate) fn read_probe(sink: &mut Sink, v: &Value<'_>, key: &str) -> Option<Probe> {
    let t = tree::table(sink, v, key)?;
    let [exec, tcp, http, interval, timeout, retries, delay, headers] =
        fields(sink, t, key, PROBE_KEYS);
    let given = [exec, tcp, http].iter().filter(|x| x.is_some()).count();
    if given != 1 {
        sink.error(
            v.span(),
            key,
            "give exactly one check: exec = [\"cmd\", ...], tcp = PORT or http = \"http://127.0.0.1:PORT/path\"",
        );
        return None;
    }
    let check = if let Some(e) = exec {
        Check::Exec(read_exec(sink, e, &join(key, "exec"))?)
    } else if let Some(p) = tcp {
        match tree::integer(p.get_ref()).filter(|n| (1..=65535).contains(n)) {
            Some(n) => Check::Tcp(n as u16),
            None => {
                sink.error(
                    p.span(),
                    &join(key, "tcp"),
                    "expected a port number 1-65535",
                );
                return None;
            }
        }
    } else {
        let h = http.expect("one check is given");
        Check::Http(read_http(sink, h, &join(key, "http"))?)
    };
    let interval_ms = interval
        .and_then(|v| read_probe_duration(sink, v, &join(key, "interval")))
        .unwrap_or(1000);
    let timeout_ms = timeout
        .and_then(|v| read_probe_duration(sink, v, &join(key, "timeout")))
        .unwrap_or(1000);
    let retries = match retries {
        Some(r) => match tree::integer(r.get_ref()).filter(|n| (1..=1000).contains(n)) {
            Some(n) => n as u32,
            None => {
                sink.error(r.span(), &join(key, "retries"), "expected a count 1-1000");
                3
            }
        },
        None => 3,
    };
    // The wait before the first attempt may be 0.
    let delay_ms = delay
        .and_then(|v| read_duration(sink, v, &join(key, "delay")))
        .unwrap_or(0);
    let headers = match headers {
        Some(h) if !matches!(check, Check::Http(_)) => {
            sink.error(
                h.span(),
                &join(key, "headers"),
                "only an http check sends headers",
            );
            Default::default()
        }
        Some(h) => super::headers::read(sink, h, &join(key, "headers")).unwrap_or_default(),
        None => Default::default(),
    };
    Some(Probe {
        check,
        interval_ms,
        timeout_ms,
        retries,
        delay_ms,
        headers,
    })
}

/// An `exec` check or hook: a command, not empty.
pub(crate) fn read_exec(sink: &mut Sink, e: &Value<'_>, key: &str) -> Option<Vec<String>> {
    let argv = tree::strings(sink, e, key)?;
    if argv.is_empty() {
        sink.error(e.span(), key, "must not be empty");
        return None;
    }
    Some(argv.into_iter().map(|a| a.text.to_string()).collect())
}

/// An `http` check or hook: an http:// URL.
pub(crate) fn read_http(sink: &mut Sink, h: &Value<'_>, key: &str) -> Option<String> {
    let s = tree::string(sink, h, key)?;
    if !s.text.starts_with("http://") {
        sink.error(
            s.span,
            key,
            format!(
                "{:?} is not an http:// URL (e.g. \"http://127.0.0.1:8080/healthz\")",
                s.text
            ),
        );
        return None;
    }
    Some(s.text.to_string())
}

/// A probe's interval or timeout below this is rejected: every attempt is
/// a process, and a storm of them would starve the pod and the supervisor.
pub const PROBE_MIN_MS: u64 = 100;

/// A duration of at least [`PROBE_MIN_MS`].
fn read_probe_duration(sink: &mut Sink, v: &Value<'_>, key: &str) -> Option<u64> {
    let ms = read_duration(sink, v, key)?;
    if ms < PROBE_MIN_MS {
        sink.error(
            v.span(),
            key,
            format!("{ms} ms is too short: at least {PROBE_MIN_MS}ms"),
        );
        return None;
    }
    Some(ms)
}

/// "10s", "500ms", "2m" or an integer number of seconds; in milliseconds.
pub(crate) fn read_duration(sink: &mut Sink, v: &Value<'_>, key: &str) -> Option<u64> {
    const HELP: &str = "use e.g. \"10s\", \"500ms\", \"2m\" or a number of seconds; at most a day";
    let ms = match v.get_ref() {
        // Whole seconds, within the same bound as written durations.
        DeValue::Integer(_) => tree::integer(v.get_ref())
            .and_then(|n| u64::try_from(n).ok()?.checked_mul(1000))
            .filter(|ms| *ms <= MAX_DURATION_MS),
        DeValue::String(s) => parse_duration_ms(s),
        _ => None,
    };
    if ms.is_none() {
        let written = sink.text(v.span());
        sink.error(
            v.span(),
            key,
            format!("{written} is not a duration ({HELP})"),
        );
    }
    ms
}

/// The longest duration: a day.
const MAX_DURATION_MS: u64 = 24 * 3_600_000;

pub fn parse_duration_ms(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num.parse().ok()?;
    let factor = match unit {
        "ms" => 1,
        "" | "s" => 1000,
        "m" | "min" => 60_000,
        "h" => 3_600_000,
        _ => return None,
    };
    n.checked_mul(factor).filter(|ms| *ms <= MAX_DURATION_MS)
}

/// "SIGTERM", "TERM" or a number 1-64.
pub(crate) fn read_signal(sink: &mut Sink, v: &Value<'_>, key: &str) -> Option<i32> {
    let sig = match v.get_ref() {
        DeValue::Integer(_) => tree::integer(v.get_ref())
            .filter(|n| (1..=64).contains(n))
            .map(|n| n as i32),
        DeValue::String(s) => {
            let up = s.to_ascii_uppercase();
            let name = if up.starts_with("SIG") {
                up
            } else {
                format!("SIG{up}")
            };
            SIGNALS.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
        }
        _ => None,
    };
    if sig.is_none() {
        let names: Vec<&str> = SIGNALS.iter().map(|(n, _)| *n).collect();
        let written = sink.text(v.span());
        sink.error(
            v.span(),
            key,
            format!(
                "{written} is not a signal (use a number or one of {})",
                names.join(", ")
            ),
        );
    }
    sig
}

/// Cross-container checks of `after`; `spans[i]` are the spans of `containers[i].after`.
pub(crate) fn check_order(sink: &mut Sink, containers: &[Container], spans: &[Vec<Range<usize>>]) {
    let names: Vec<&str> = containers.iter().map(|c| c.name.as_str()).collect();
    for (c, spans) in containers.iter().zip(spans) {
        let key = join(&join("containers", &c.name), "after");
        for ((target, _), span) in c.after.iter().zip(spans) {
            let Some(other) = containers.iter().find(|o| &o.name == target) else {
                let hint = suggest(target, &names)
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_default();
                sink.error(
                    span.clone(),
                    &key,
                    format!("no container named {target:?}{hint}"),
                );
                continue;
            };
            if other.name == c.name {
                sink.error(span.clone(), &key, "a container cannot wait for itself");
            } else if c.init {
                sink.error(
                    span.clone(),
                    &key,
                    "init containers run in file order before the others; `after` is not for them",
                );
            } else if other.init {
                // Init containers have all completed before any regular one starts.
            }
        }
    }
    if let Some((i, cycle)) = find_cycle(containers) {
        let span = spans[i].first().cloned().unwrap_or(0..0);
        sink.error(
            span,
            &join(&join("containers", &containers[i].name), "after"),
            format!("ordering cycle: {}", cycle.join(" -> ")),
        );
    }
}

/// A cycle among regular containers' `after`, as (index of its first container, names).
fn find_cycle(containers: &[Container]) -> Option<(usize, Vec<String>)> {
    fn visit(
        i: usize,
        cs: &[Container],
        state: &mut [u8],
        stack: &mut Vec<usize>,
    ) -> Option<Vec<usize>> {
        state[i] = 1;
        stack.push(i);
        for (t, _) in &cs[i].after {
            let Some(j) = cs.iter().position(|c| &c.name == t && !c.init) else {
                continue;
            };
            if state[j] == 1 {
                let from = stack.iter().position(|&k| k == j).unwrap_or(0);
                let mut cyc = stack[from..].to_vec();
                cyc.push(j);
                return Some(cyc);
            }
            if state[j] == 0
                && let Some(c) = visit(j, cs, state, stack)
            {
                return Some(c);
            }
        }
        stack.pop();
        state[i] = 2;
        None
    }
    let mut state = vec![0u8; containers.len()];
    for i in 0..containers.len() {
        if state[i] == 0 && !containers[i].init {
            let mut stack = Vec::new();
            if let Some(cyc) = visit(i, containers, &mut state, &mut stack) {
                let names = cyc.iter().map(|&k| containers[k].name.clone()).collect();
                return Some((cyc[0], names));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::{MAX_DURATION_MS, parse_duration_ms};

    #[test]
    fn a_probe_may_wait_before_its_first_attempt() {
        let src = "[containers.a]\ncommand = [\"true\"]\nready = { tcp = 80, delay = \"2s\" }\nlive = { tcp = 80 }\n";
        let pod = crate::spec::parse_str(src, "t.toml", "t").unwrap();
        assert_eq!(pod.containers[0].ready.as_ref().unwrap().delay_ms, 2000);
        assert_eq!(pod.containers[0].live.as_ref().unwrap().delay_ms, 0);
        let bad = src.replace("\"2s\"", "\"soon\"");
        let d = crate::spec::parse_str(&bad, "t.toml", "t").unwrap_err();
        assert!(
            d.to_string()
                .contains("containers.a.ready.delay: \"soon\" is not a duration"),
            "{d}"
        );
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_ms("10s"), Some(10_000));
        assert_eq!(parse_duration_ms("500ms"), Some(500));
        assert_eq!(parse_duration_ms("2m"), Some(120_000));
        assert_eq!(parse_duration_ms("7"), Some(7000));
        assert_eq!(parse_duration_ms("1.5s"), None);
        assert_eq!(parse_duration_ms("s"), None);
        assert_eq!(parse_duration_ms("24h"), Some(MAX_DURATION_MS));
        assert_eq!(parse_duration_ms("1441m"), None);
    }
}
