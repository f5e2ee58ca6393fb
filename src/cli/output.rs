//! `-o/--output human|json|yaml` of the reading commands: the option, and
//! printing a result as JSON or YAML (the same document in both).

use clap::ValueEnum;
use serde::Serialize;
use serde_json::Value;
use std::fmt::Write as _;

/// How a reading command prints its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum Format {
    /// Text for a person.
    #[default]
    Human,
    /// One JSON document (see docs/commands.md: JSON output).
    Json,
    /// The JSON document as YAML.
    Yaml,
}

/// `-o/--output FORMAT`, and `--json` (hidden) for `-o json`.
#[derive(Debug, Clone, Copy, Default, clap::Args)]
pub struct OutputArgs {
    /// Output format.
    #[arg(short, long, value_enum, default_value = "human")]
    pub output: Format,
    /// Same as --output json.
    #[arg(long, hide = true, conflicts_with = "output")]
    pub json: bool,
}

impl OutputArgs {
    pub fn format(self) -> Format {
        if self.json { Format::Json } else { self.output }
    }
}

/// The document for `format`, or `None` for [`Format::Human`] (the
/// command prints its own text).
pub fn render<T: Serialize>(format: Format, value: &T) -> anyhow::Result<Option<String>> {
    Ok(match format {
        Format::Human => None,
        Format::Json => Some(serde_json::to_string_pretty(value)? + "\n"),
        Format::Yaml => Some(yaml(&serde_json::to_value(value)?)),
    })
}

/// Prints `value` as JSON or YAML and returns true; false for
/// [`Format::Human`], printing nothing.
pub fn print<T: Serialize>(format: Format, value: &T) -> anyhow::Result<bool> {
    match render(format, value)? {
        Some(doc) => {
            print!("{doc}");
            Ok(true)
        }
        None => Ok(false),
    }
}

/// A JSON value as a YAML document (block style, two-space indent).
pub fn yaml(v: &Value) -> String {
    let mut out = String::new();
    match v {
        Value::Object(m) if !m.is_empty() => block(&mut out, v, 0),
        Value::Array(a) if !a.is_empty() => block(&mut out, v, 0),
        _ => {
            out.push_str(&scalar(v));
            out.push('\n');
        }
    }
    out
}

/// A non-empty map or list, every line indented by `indent` spaces.
fn block(out: &mut String, v: &Value, indent: usize) {
    let pad = " ".repeat(indent);
    match v {
        Value::Object(m) => {
            for (k, val) in m {
                let _ = write!(out, "{pad}{}:", string(k));
                nested(out, val, indent + 2, "\n");
            }
        }
        Value::Array(items) => {
            for item in items {
                let _ = write!(out, "{pad}-");
                nested(out, item, indent + 2, "");
            }
        }
        _ => {}
    }
}

/// A value after `key:` or `-`: on the same line when a scalar (or an
/// empty collection), below it otherwise; a list item's map or list starts
/// on the dash's line (`sep` is "" there).
fn nested(out: &mut String, v: &Value, indent: usize, sep: &str) {
    let is_block = match v {
        Value::Object(m) => !m.is_empty(),
        Value::Array(a) => !a.is_empty(),
        _ => false,
    };
    if !is_block {
        let _ = writeln!(out, " {}", scalar(v));
        return;
    }
    let mut inner = String::new();
    block(&mut inner, v, indent);
    if sep.is_empty() {
        // `- key: value`: the first line's indent becomes the dash's space.
        out.push(' ');
        out.push_str(&inner[indent..]);
    } else {
        out.push_str(sep);
        out.push_str(&inner);
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => string(s),
        Value::Array(_) => "[]".into(),
        Value::Object(_) => "{}".into(),
    }
}

/// A string plain when YAML reads it back as that same string, else
/// double-quoted (JSON's escapes are YAML's).
fn string(s: &str) -> String {
    let plain_chars = s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_./@+-".contains(c));
    let first_ok = s
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '/');
    // Words YAML reads as booleans or null (YAML 1.1 readers included).
    const WORDS: [&str; 11] = [
        "true", "false", "yes", "no", "on", "off", "y", "n", "null", "nan", "inf",
    ];
    if plain_chars && first_ok && !WORDS.contains(&s.to_ascii_lowercase().as_str()) {
        s.to_string()
    } else {
        serde_json::to_string(s).unwrap_or_else(|_| format!("{s:?}"))
    }
}

/// A byte count as `512B`, `3.0M`.
pub fn human_bytes(n: u64) -> String {
    const U: [&str; 5] = ["B", "K", "M", "G", "T"];
    let mut v = n as f64;
    let mut i = 0;
    while v >= 1024.0 && i < U.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{n}B")
    } else {
        format!("{v:.1}{}", U[i])
    }
}

/// A duration in seconds as `59s`, `3m`, `1h2m`, `1d1h`.
pub fn human_age(secs: u64) -> String {
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m", secs / 60),
        3600..86400 => format!("{}h{}m", secs / 3600, secs % 3600 / 60),
        _ => format!("{}d{}h", secs / 86400, secs % 86400 / 3600),
    }
}

/// `usec` since the epoch as `YYYY-MM-DDTHH:MM:SS.uuuuuuZ` (proleptic Gregorian, UTC).
pub fn rfc3339(usec: u64) -> String {
    let secs = usec / 1_000_000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Howard Hinnant's civil_from_days.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:06}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        usec % 1_000_000
    )
}

#[cfg(test)]
mod tests;
