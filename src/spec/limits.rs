//! `resources` tables (pod-wide and per container) and the rule that a
//! container cannot ask for more than its pod.

use super::diag::{Sink, join};
use super::size::{self, AmountError};
use super::tree::{self, Value, fields};
use crate::model::{MAX_CPU_WEIGHT, Resources};
use std::ops::Range;
use toml::de::DeValue;

const SIZE_HELP: &str = "use bytes or K/M/G/T, e.g. 512M";
const CPU_HELP: &str =
    "use a percent of one core, e.g. \"50%\" or \"150%\", or a number of cores, e.g. 0.5";

/// Resources as read, with where each limit was written.
#[derive(Default)]
pub(crate) struct Limits {
    pub resources: Resources,
    memory: Option<Range<usize>>,
    cpu: Option<Range<usize>>,
    tasks: Option<Range<usize>>,
    memory_low: Option<Range<usize>>,
}

/// Reads a `resources` table at `path`.
pub(crate) fn read(sink: &mut Sink, v: &Value<'_>, path: &str) -> Limits {
    let mut limits = Limits::default();
    let Some(t) = tree::table(sink, v, path) else {
        return limits;
    };
    let [memory, cpu, tasks, cpu_weight, memory_low] = fields(
        sink,
        t,
        path,
        ["memory", "cpu", "tasks", "cpu_weight", "memory_low"],
    );
    if let Some(v) = memory {
        limits.resources.memory = read_size(sink, v, &join(path, "memory"));
        limits.memory = Some(v.span());
    }
    if let Some(v) = cpu {
        limits.resources.cpu_percent = read_cpu(sink, v, &join(path, "cpu"));
        limits.cpu = Some(v.span());
    }
    if let Some(v) = tasks {
        limits.resources.tasks = read_tasks(sink, v, &join(path, "tasks"));
        limits.tasks = Some(v.span());
    }
    if let Some(v) = cpu_weight {
        limits.resources.cpu_weight = read_weight(sink, v, &join(path, "cpu_weight"));
    }
    if let Some(v) = memory_low {
        limits.resources.memory_low = read_size(sink, v, &join(path, "memory_low"));
        limits.memory_low = Some(v.span());
    }
    // A protection above the limit protects nothing more (Kubernetes
    // refuses a request above its limit).
    if let (Some(low), Some(max), Some(span)) = (
        limits.resources.memory_low,
        limits.resources.memory,
        &limits.memory_low,
    ) && low > max
    {
        sink.error(
            span.clone(),
            &join(path, "memory_low"),
            format!(
                "{} is more than the memory limit (memory = {})",
                size::format_size(low),
                size::format_size(max)
            ),
        );
    }
    limits
}

/// A CPUWeight: 1 to [`MAX_CPU_WEIGHT`].
fn read_weight(sink: &mut Sink, v: &Value<'_>, path: &str) -> Option<u64> {
    match tree::integer(v.get_ref()) {
        Some(n) if (1..=MAX_CPU_WEIGHT as i64).contains(&n) => Some(n as u64),
        _ => {
            sink.error(
                v.span(),
                path,
                format!("expected a weight from 1 to {MAX_CPU_WEIGHT} (100 is the default share)"),
            );
            None
        }
    }
}

/// Reports each limit of a container above the same limit of its pod.
pub(crate) fn check_within(sink: &mut Sink, c: &Limits, path: &str, pod: &Resources) {
    let checks = [
        (
            "memory",
            c.resources.memory,
            pod.memory,
            &c.memory,
            size::format_size as fn(u64) -> String,
        ),
        (
            "cpu",
            c.resources.cpu_percent,
            pod.cpu_percent,
            &c.cpu,
            size::format_percent,
        ),
        ("tasks", c.resources.tasks, pod.tasks, &c.tasks, |n: u64| {
            n.to_string()
        }),
    ];
    for (key, mine, pods, span, show) in checks {
        if let (Some(mine), Some(pods), Some(span)) = (mine, pods, span)
            && mine > pods
        {
            sink.error(
                span.clone(),
                &join(path, key),
                format!(
                    "{} is more than the pod's limit (resources.{key} = {})",
                    show(mine),
                    show(pods)
                ),
            );
        }
    }
}

fn read_size(sink: &mut Sink, v: &Value<'_>, path: &str) -> Option<u64> {
    let written = sink.text(v.span());
    let parsed = match v.get_ref() {
        DeValue::String(s) => size::parse_size(s),
        DeValue::Integer(_) => match tree::integer(v.get_ref()) {
            Some(0) => Err(AmountError::Zero),
            Some(n) if n > 0 => Ok(n as u64),
            _ => Err(AmountError::Invalid),
        },
        _ => {
            sink.error(
                v.span(),
                path,
                "expected a size (bytes, or a string such as \"512M\")",
            );
            return None;
        }
    };
    amount(sink, v, path, parsed, || {
        format!("{written} is not a size ({SIZE_HELP})")
    })
}

fn read_cpu(sink: &mut Sink, v: &Value<'_>, path: &str) -> Option<u64> {
    let written = sink.text(v.span());
    let parsed = match v.get_ref() {
        DeValue::String(s) => size::parse_percent(s),
        DeValue::Integer(_) => match tree::integer(v.get_ref()) {
            Some(n) if n >= 0 => size::cores_to_percent(n as f64),
            _ => Err(AmountError::Invalid),
        },
        DeValue::Float(_) => {
            tree::float(v.get_ref()).map_or(Err(AmountError::Invalid), size::cores_to_percent)
        }
        _ => {
            sink.error(v.span(), path, format!("expected a CPU quota ({CPU_HELP})"));
            return None;
        }
    };
    amount(sink, v, path, parsed, || {
        format!("{written} is not a CPU quota ({CPU_HELP})")
    })
}

fn read_tasks(sink: &mut Sink, v: &Value<'_>, path: &str) -> Option<u64> {
    let parsed = match tree::integer(v.get_ref()) {
        Some(0) => Err(AmountError::Zero),
        Some(n) if n > 0 => Ok(n as u64),
        Some(_) => Err(AmountError::Invalid),
        None => {
            sink.error(v.span(), path, "expected a positive integer");
            return None;
        }
    };
    let written = sink.text(v.span());
    amount(sink, v, path, parsed, || {
        format!("{written} is not a positive integer")
    })
}

/// Reports a refused amount; `invalid` says what the value should look like.
fn amount(
    sink: &mut Sink,
    v: &Value<'_>,
    path: &str,
    parsed: Result<u64, AmountError>,
    invalid: impl FnOnce() -> String,
) -> Option<u64> {
    let written = sink.text(v.span());
    let message = match parsed {
        Ok(n) => return Some(n),
        Err(AmountError::Invalid) => invalid(),
        Err(AmountError::Zero) => format!("{written} is zero; the limit must be more than 0"),
        Err(AmountError::TooLarge) => format!("{written} is too large"),
    };
    sink.error(v.span(), path, message);
    None
}
