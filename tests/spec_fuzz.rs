//! Property test of the pod-file parser: whatever it is given, arbitrary
//! bytes, mangled examples or well-formed TOML of any shape, it returns a pod
//! or located diagnostics, and never panics.
//!
//! Inputs come from a small deterministic generator (xorshift, fixed seeds),
//! so a failure reproduces: the message names the seed and shows the input,
//! shrunk to a few lines. Add that input to `tests/data/spec/invalid/` (with
//! its `.err`) when fixing the bug. `SPEC_FUZZ_CASES=N` multiplies the cases
//! of each kind by N for a longer run.

use podctl::model::Pod;
use podctl::plan::{self, render};
use podctl::spec::{self, Diagnostics};
use std::fs;
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;

#[path = "common/rng.rs"]
mod rng;
use rng::Rng;

// ---------------------------------------------------------------------------
// The property

thread_local! {
    /// Set while a check runs: its panics are reported with their input.
    static QUIET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Mutes the panic message of a checked input (the property reports it, with
/// the input); other panics, such as failing tests, print as usual.
fn quiet_panics_in_checks() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !QUIET.get() {
                default(info)
            }
        }));
    });
}

type Parser = fn(&str, &str, &str) -> Result<Pod, Diagnostics>;

/// Whether `parse` accepted the input, or why it broke the property.
fn check(parse: Parser, src: &str, label: &str, default_name: &str) -> Result<bool, String> {
    quiet_panics_in_checks();
    QUIET.set(true);
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
        let result = parse(src, label, default_name);
        match &result {
            // An accepted pod must be plannable, renderable and serializable.
            Ok(pod) => {
                let plan = plan::build(pod);
                let _ = render::human(&plan);
                serde_json::to_string(&plan).expect("plan serializes");
            }
            Err(d) => {
                let _ = d.to_string();
            }
        }
        result.map(|_| ())
    }));
    QUIET.set(false);
    let diagnostics = match outcome {
        Err(payload) => {
            let what = payload
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| payload.downcast_ref::<&str>().copied())
                .unwrap_or("(no message)");
            return Err(format!("panicked: {what}"));
        }
        Ok(Ok(())) => return Ok(true),
        Ok(Err(d)) => d,
    };
    if diagnostics.0.is_empty() {
        return Err("rejected without a diagnostic".into());
    }
    let lines: Vec<&str> = src.split('\n').collect();
    for d in &diagnostics.0 {
        let bad = if d.file != label {
            format!("file is {:?}, not {label:?}", d.file)
        } else if d.message.trim().is_empty() {
            "empty message".into()
        } else if d.line < 1 || d.line > lines.len() {
            format!("line {} not in 1..={}", d.line, lines.len())
        } else if d.column < 1 || d.column > lines[d.line - 1].chars().count() + 1 {
            format!(
                "column {} is outside line {} ({} characters)",
                d.column,
                d.line,
                lines[d.line - 1].chars().count()
            )
        } else {
            continue;
        };
        return Err(format!("{bad}: {d:?}"));
    }
    Ok(false)
}

/// Removes pieces of an input that breaks the property while it still
/// breaks it the same way (same kind of failure).
fn shrink(parse: Parser, src: &str, label: &str, default_name: &str) -> String {
    let kind = |s: &str| {
        check(parse, s, label, default_name)
            .err()
            .map(|e| e.split(':').next().unwrap_or_default().to_string())
    };
    let want = kind(src);
    let mut chars: Vec<char> = src.chars().collect();
    let mut chunk = chars.len().div_ceil(2).max(1);
    loop {
        let mut progress = false;
        let mut at = 0;
        while at < chars.len() {
            let end = (at + chunk).min(chars.len());
            let candidate: String = chars[..at].iter().chain(&chars[end..]).collect();
            if kind(&candidate) == want {
                chars.drain(at..end);
                progress = true;
            } else {
                at += chunk;
            }
        }
        if !progress {
            if chunk == 1 {
                break;
            }
            chunk /= 2;
        }
    }
    chars.into_iter().collect()
}

/// Runs `cases` inputs from `generate` through the property; returns how
/// many were accepted, panicking with the first failure (shrunk).
fn run(kind: &str, seed: u64, cases: usize, mut generate: impl FnMut(&mut Rng) -> String) -> usize {
    let cases = cases
        * std::env::var("SPEC_FUZZ_CASES")
            .ok()
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or(1);
    let mut rng = Rng::new(seed);
    let mut accepted = 0;
    for case in 0..cases {
        let src = generate(&mut rng);
        let label = *rng.pick(&[
            "pod.toml",
            "/etc/podctl/pods/web.toml",
            "dir with space/é.toml",
        ]);
        let default_name = *rng.pick(&["web", "fuzz", "Not_A_Label", ""]);
        match check(spec::parse_str, &src, label, default_name) {
            Ok(ok) => accepted += usize::from(ok),
            Err(why) => {
                let small = shrink(spec::parse_str, &src, label, default_name);
                let small_why = check(spec::parse_str, &small, label, default_name).err();
                panic!(
                    "{kind} (seed {seed}, case {case}): {why}\n\
                     label {label:?}, default name {default_name:?}\n\
                     input ({} bytes): {src:?}\n\
                     shrunk: {small:?}\n\
                     shrunk fails with: {}",
                    src.len(),
                    small_why.unwrap_or_default()
                );
            }
        }
    }
    accepted
}

// ---------------------------------------------------------------------------
// Inputs: bytes and mutations

/// The examples and the rejected-input catalogue, as starting points.
fn seeds() -> Vec<Vec<u8>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for dir in ["examples", "tests/data/spec/invalid"] {
        let mut paths: Vec<_> = fs::read_dir(root.join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        paths.sort();
        out.extend(paths.iter().map(|p| fs::read(p).unwrap()));
    }
    assert!(out.len() > 3, "seed files went missing");
    out
}

/// Bytes that matter to TOML, and the first bytes of multi-byte UTF-8.
const TOML_BYTES: &[u8] =
    b"[]{}=\"'.,#\\\n\r\t 0123456789+-_:eE%MGTKabcnuxz\xc3\xe2\xf0\x80\xa9\x00";

fn random_bytes(rng: &mut Rng) -> String {
    let len = rng.size(120, 2000);
    let bytes: Vec<u8> = (0..len)
        .map(|_| {
            if rng.chance(60) {
                *rng.pick(TOML_BYTES)
            } else {
                rng.next() as u8
            }
        })
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

fn mutate(rng: &mut Rng, seeds: &[Vec<u8>]) -> String {
    let mut b = rng.pick(seeds).clone();
    for _ in 0..1 + rng.below(6) {
        let len = b.len();
        let at = rng.below(len + 1);
        let span = (1 + rng.size(8, 80)).min(len - at);
        match rng.below(6) {
            // Flip bits of one byte.
            0 if at < len => b[at] ^= 1 << rng.below(8),
            // Overwrite one byte with a TOML-significant one.
            1 if at < len => b[at] = *rng.pick(TOML_BYTES),
            // Delete a run.
            2 => {
                b.drain(at..at + span);
            }
            // Duplicate a run in place.
            3 => {
                let run: Vec<u8> = b[at..at + span].to_vec();
                b.splice(at..at, run);
            }
            // Splice in a run from another seed.
            4 => {
                let other = rng.pick(seeds);
                let from = rng.below(other.len());
                let to = (from + 1 + rng.below(60)).min(other.len());
                b.splice(at..at, other[from..to].iter().copied());
            }
            // Insert a byte.
            _ => b.insert(at, *rng.pick(TOML_BYTES)),
        }
    }
    String::from_utf8_lossy(&b).into_owned()
}

// ---------------------------------------------------------------------------
// Inputs: well-formed TOML of random shape

/// A TOML value, before it is written out (which has several spellings).
enum Node {
    Raw(String),
    Array(Vec<Node>),
    Table(Vec<(String, Node)>),
}

const POD_KEYS: &[&str] = &[
    "name",
    "hostname",
    "share",
    "host",
    "autostart",
    "resources",
    "containers",
];
const CONTAINER_KEYS: &[&str] = &[
    "command",
    "env",
    "workdir",
    "user",
    "restart",
    "resources",
    "init",
    "after",
    "ready",
    "live",
    "stop_signal",
    "stop_timeout",
];
const LIMIT_KEYS: &[&str] = &["memory", "cpu", "tasks"];
const PROBE_KEYS: &[&str] = &["exec", "tcp", "http", "interval", "timeout", "retries"];
const CONTAINER_NAMES: &[&str] = &["app", "sidecar", "db", "a", "c0"];
const ODD_KEYS: &[&str] = &[
    "",
    " ",
    "a.b",
    "Name",
    "nmae",
    "comand",
    "x",
    "123",
    "-",
    "_",
    "é",
    "日本",
    "🦀",
    "\u{0}",
    "\t",
    "\"",
    "'",
    "\\",
    "line\nbreak",
    "containers",
    "memory",
];

const STRINGS: &[&str] = &[
    "",
    "web",
    "app",
    "Web",
    "-web",
    "web-",
    "a.b",
    "web.example.com",
    "/bin/sleep",
    "sleep",
    "bin/sleep",
    "infinity",
    "/",
    "/srv",
    "srv",
    "512M",
    "512Mi",
    "1G",
    "0",
    "0M",
    "1",
    "-1",
    "64K",
    "1.5G",
    "16777216T",
    "18446744073709551615",
    "18446744073709551616",
    "99999999999999999999999999999999M",
    "50%",
    "150%",
    "0%",
    "1844674407370955%",
    "1844674407370956%",
    "99999999999999999999%",
    "%",
    "always",
    "never",
    "on-failure",
    "sometimes",
    "net",
    "pid",
    "ipc",
    "uts",
    "mnt",
    "user",
    "cgroup",
    "1000",
    "1000:100",
    "4294967294",
    "4294967295",
    "4294967294:4294967294",
    ":",
    "1000:",
    "www-data",
    "nobody$",
    "root",
    "a\u{0}b",
    "\u{0}",
    "é",
    "日本語",
    "🦀🦀",
    "\u{202e}rtl",
    "tab\there",
    "new\nline",
    "quote\"s",
    "back\\slash",
    "\u{7f}",
    "\u{feff}",
];

fn random_string(rng: &mut Rng) -> String {
    match rng.below(10) {
        0 => (0..rng.below(40))
            .map(|_| char::from_u32(rng.below(0x3_0000) as u32).unwrap_or('?'))
            .collect(),
        1 => "x".repeat(rng.size(100, 5000)),
        2 => format!(
            "{}{}",
            rng.next(),
            rng.pick(&["", "K", "M", "G", "T", "%", "Ki", "Q"])
        ),
        _ => rng.pick(STRINGS).to_string(),
    }
}

/// A TOML string in one of its spellings (keys cannot be multi-line).
fn string_literal(rng: &mut Rng, s: &str) -> String {
    spell_string(rng, s, true)
}

fn spell_string(rng: &mut Rng, s: &str, multiline: bool) -> String {
    let plain = !s.chars().any(|c| c.is_control() || c == '\'');
    match rng.below(4) {
        0 if plain => format!("'{s}'"),
        1 if plain && multiline && !s.contains("'''") => format!("'''{s}'''"),
        _ => {
            let mut out = String::from("\"");
            for c in s.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\t' => out.push_str("\\t"),
                    c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
                    c if !c.is_ascii() && rng.chance(20) => {
                        out.push_str(&format!("\\U{:08X}", c as u32))
                    }
                    c => out.push(c),
                }
            }
            out.push('"');
            out
        }
    }
}

fn integer_literal(rng: &mut Rng) -> String {
    let n: i64 = match rng.below(8) {
        0 => *rng.pick(&[i64::MIN, i64::MAX, i64::MIN + 1, i64::MAX - 1]),
        1 => *rng.pick(&[
            0,
            1,
            -1,
            2,
            100,
            4_294_967_294,
            4_294_967_295,
            4_294_967_296,
        ]),
        2 => rng.next() as i64,
        3 => -(rng.below(1000) as i64),
        _ => rng.below(100_000) as i64,
    };
    match rng.below(8) {
        0 if n >= 0 => format!("0x{n:x}"),
        1 if n >= 0 => format!("0o{n:o}"),
        2 if n >= 0 => format!("0b{n:b}"),
        3 if n > 0 => format!("+{n}"),
        4 if n >= 1000 => {
            // Underscores between digits: 1_000_000.
            let digits = n.to_string();
            let mut out = String::new();
            for (i, c) in digits.chars().enumerate() {
                if i > 0 && (digits.len() - i).is_multiple_of(3) {
                    out.push('_');
                }
                out.push(c);
            }
            out
        }
        _ => n.to_string(),
    }
}

fn float_literal(rng: &mut Rng) -> String {
    match rng.below(4) {
        0 => rng
            .pick(&["nan", "+nan", "-nan", "inf", "+inf", "-inf"])
            .to_string(),
        1 => rng
            .pick(&[
                "0.0",
                "-0.0",
                "0.5",
                "1.5",
                "0.29",
                "0.333",
                "1e300",
                "1e308",
                "1.7976931348623157e308",
                "5e-324",
                "1e-7",
                "184467440737095.51",
                "-1.0",
                "2.0",
                "1_000.5",
                "6.02E+23",
            ])
            .to_string(),
        // Any bit pattern; Rust spells finite values as TOML does (`1.5`,
        // `1e-300`), the others differently.
        _ => match f64::from_bits(rng.next()) {
            f if f.is_nan() => "nan".into(),
            f if f.is_infinite() => if f > 0.0 { "inf" } else { "-inf" }.into(),
            f => format!("{f:?}"),
        },
    }
}

fn scalar(rng: &mut Rng) -> Node {
    Node::Raw(match rng.below(10) {
        0..=1 => integer_literal(rng),
        2..=3 => float_literal(rng),
        4 => rng.pick(&["true", "false"]).to_string(),
        5 => rng
            .pick(&[
                "1979-05-27T07:32:00Z",
                "1979-05-27 07:32:00.999-07:00",
                "1979-05-27T07:32:00",
                "1979-05-27",
                "07:32:00",
            ])
            .to_string(),
        _ => {
            let s = random_string(rng);
            string_literal(rng, &s)
        }
    })
}

fn random_key(rng: &mut Rng, known: &[&str]) -> String {
    if !known.is_empty() && rng.chance(70) {
        rng.pick(known).to_string()
    } else if rng.chance(70) {
        rng.pick(ODD_KEYS).to_string()
    } else {
        random_string(rng)
    }
}

/// Any value, `depth` levels of nesting at most.
fn any_value(rng: &mut Rng, depth: usize) -> Node {
    match rng.below(if depth == 0 { 1 } else { 4 }) {
        0 => scalar(rng),
        1 => Node::Array(
            (0..rng.below(5))
                .map(|_| any_value(rng, depth - 1))
                .collect(),
        ),
        2 => Node::Array(
            (0..1 + rng.below(3))
                .map(|_| any_table(rng, depth - 1, &[]))
                .collect(),
        ),
        _ => any_table(rng, depth - 1, &[]),
    }
}

/// A table of random keys (unique, so that the document stays valid).
fn any_table(rng: &mut Rng, depth: usize, known: &[&str]) -> Node {
    let mut pairs: Vec<(String, Node)> = Vec::new();
    for _ in 0..rng.below(6) {
        let key = random_key(rng, known);
        if pairs.iter().any(|(k, _)| *k == key) {
            continue;
        }
        let value = any_value(rng, depth);
        pairs.push((key, value));
    }
    Node::Table(pairs)
}

/// Pod files: the known keys with mostly fitting values. `noise` is the
/// percent chance, at each choice, of an unknown key or a value of any type;
/// at 0 most documents are valid pods, and the deeper rules get exercised.
fn pod_value(rng: &mut Rng, noise: u64, key: &str, depth: usize) -> Node {
    if rng.chance(noise) {
        return any_value(rng, depth.min(2));
    }
    let text = |rng: &mut Rng, good: &[&str]| {
        let s = if rng.chance(noise) {
            random_string(rng)
        } else {
            rng.pick(good).to_string()
        };
        Node::Raw(string_literal(rng, &s))
    };
    let list = |rng: &mut Rng, good: &[&str], n: usize| {
        Node::Array((0..n).map(|_| text(rng, good)).collect())
    };
    let positive = |rng: &mut Rng| {
        if rng.chance(noise) {
            integer_literal(rng)
        } else {
            (1 + rng.size(1000, 1 << 40)).to_string()
        }
    };
    const NAMESPACES: &[&str] = &["net", "ipc", "uts", "pid", "mnt", "user", "cgroup"];
    match key {
        "name" => text(rng, &["web", "a", "pod-1", "x0"]),
        "hostname" => text(rng, &["web", "Web-1", "www.example.com"]),
        "share" | "host" => {
            let n = rng.below(3);
            list(rng, NAMESPACES, n)
        }
        "autostart" => Node::Raw(rng.pick(&["true", "false"]).to_string()),
        "command" => {
            let n = 1 + rng.below(3);
            let mut argv = vec![text(rng, &["/bin/sleep", "sleep", "/bin/sh", "python3"])];
            if let Node::Array(rest) = list(rng, &["infinity", "-c", "exec sleep 1", "", "é"], n) {
                argv.extend(rest);
            }
            Node::Array(argv)
        }
        "workdir" => text(rng, &["/", "/srv", "/tmp/é"]),
        "user" if rng.chance(30) => Node::Raw(rng.below(70_000).to_string()),
        "user" => text(rng, &["www-data", "1000", "1000:100", "nobody", "_x$"]),
        "restart" => text(rng, &["always", "on-failure", "never"]),
        "memory" if rng.chance(30) => Node::Raw(positive(rng)),
        "memory" => {
            let n = 1 + rng.size(1000, 1 << 20);
            let unit = *rng.pick(&["", "K", "M", "G", "Ki", "Mi"]);
            Node::Raw(string_literal(rng, &format!("{n}{unit}")))
        }
        "cpu" => match rng.below(3) {
            0 => Node::Raw(format!("{}.{}", rng.below(8), 1 + rng.below(99))),
            1 => Node::Raw((1 + rng.below(8)).to_string()),
            _ => Node::Raw(format!("\"{}%\"", 1 + rng.size(400, 100_000))),
        },
        "tasks" => Node::Raw(positive(rng)),
        "resources" => pod_table(rng, noise, depth, LIMIT_KEYS),
        "init" => Node::Raw(rng.pick(&["true", "false"]).to_string()),
        "after" if rng.chance(50) => {
            let n = rng.below(3);
            list(rng, CONTAINER_NAMES, n)
        }
        "after" => {
            let mut pairs: Vec<(String, Node)> = Vec::new();
            for _ in 0..rng.below(3) {
                let name = rng.pick(CONTAINER_NAMES).to_string();
                if !pairs.iter().any(|(p, _)| *p == name) {
                    let condition = text(rng, &["started", "ready", "completed"]);
                    pairs.push((name, condition));
                }
            }
            Node::Table(pairs)
        }
        "ready" | "live" => pod_table(rng, noise, depth, PROBE_KEYS),
        "exec" => {
            let n = rng.below(3);
            list(rng, &["/bin/true", "sh", "-c", "exit 1"], n)
        }
        "tcp" if rng.chance(50) => Node::Raw((1 + rng.below(65535)).to_string()),
        "tcp" => Node::Raw(integer_literal(rng)),
        "http" => text(
            rng,
            &["http://127.0.0.1:8080/", "https://x/", "http://[::1]/"],
        ),
        "retries" => Node::Raw(positive(rng)),
        "stop_signal" if rng.chance(30) => Node::Raw(integer_literal(rng)),
        "stop_signal" => text(rng, &["SIGTERM", "TERM", "int", "SIGKILL", "SIGFOO", "15"]),
        "interval" | "timeout" | "stop_timeout" if rng.chance(30) => {
            Node::Raw(integer_literal(rng))
        }
        "interval" | "timeout" | "stop_timeout" => {
            let n = rng.size(100, 1 << 40);
            let unit = *rng.pick(&["", "ms", "s", "m", "min", "h", "d"]);
            Node::Raw(string_literal(rng, &format!("{n}{unit}")))
        }
        "env" => {
            let mut pairs: Vec<(String, Node)> = Vec::new();
            for _ in 0..rng.below(4) {
                let k = if rng.chance(noise) {
                    random_key(rng, &[])
                } else {
                    rng.pick(&["A", "PATH", "_x", "GREETING", "HOME"])
                        .to_string()
                };
                if !pairs.iter().any(|(p, _)| *p == k) {
                    let v = text(rng, &["", "1", "x y", "é", "/usr/bin"]);
                    pairs.push((k, v));
                }
            }
            Node::Table(pairs)
        }
        "containers" => {
            let mut pairs: Vec<(String, Node)> = Vec::new();
            for _ in 0..1 + rng.below(3) {
                let name = if rng.chance(noise) {
                    random_key(rng, &[])
                } else {
                    rng.pick(CONTAINER_NAMES).to_string()
                };
                if !pairs.iter().any(|(p, _)| *p == name) {
                    let c = pod_table(rng, noise, depth, CONTAINER_KEYS);
                    pairs.push((name, c));
                }
            }
            Node::Table(pairs)
        }
        _ => any_value(rng, depth.min(2)),
    }
}

/// A table of some of the `known` keys (and, with `noise`, others).
fn pod_table(rng: &mut Rng, noise: u64, depth: usize, known: &[&str]) -> Node {
    let mut pairs: Vec<(String, Node)> = Vec::new();
    for _ in 0..rng.below(known.len().min(7) + 1) {
        // Containers' lifecycle keys (the last six) less often: they refer
        // to each other, and would reject most pods.
        let pool = if known == CONTAINER_KEYS && rng.chance(75) {
            &known[..6]
        } else {
            known
        };
        let key = if rng.chance(noise) {
            random_key(rng, &[])
        } else {
            rng.pick(pool).to_string()
        };
        if pairs.iter().any(|(k, _)| *k == key) {
            continue;
        }
        let value = pod_value(rng, noise, &key, depth.saturating_sub(1));
        pairs.push((key, value));
    }
    // What is required, mostly present, so that the rest gets checked.
    for (table, key) in [(CONTAINER_KEYS, "command"), (POD_KEYS, "containers")] {
        if known == table && !pairs.iter().any(|(k, _)| k == key) && !rng.chance(noise) {
            let value = pod_value(rng, noise, key, depth);
            pairs.push((key.into(), value));
        }
    }
    Node::Table(pairs)
}

// Writing a node tree out as TOML text, choosing among the spellings:
// inline tables, dotted keys, `[headers]` and `[[arrays of tables]]`.

fn key_text(rng: &mut Rng, key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if bare && rng.chance(90) {
        key.to_string()
    } else {
        spell_string(rng, key, false)
    }
}

fn inline(rng: &mut Rng, node: &Node) -> String {
    match node {
        Node::Raw(s) => s.clone(),
        Node::Array(items) => {
            let sep = if rng.chance(20) { ",\n  " } else { ", " };
            let body: Vec<String> = items.iter().map(|i| inline(rng, i)).collect();
            let trailing = if !items.is_empty() && rng.chance(20) {
                ","
            } else {
                ""
            };
            format!("[{}{trailing}]", body.join(sep))
        }
        Node::Table(pairs) => {
            let body: Vec<String> = pairs
                .iter()
                .map(|(k, v)| format!("{} = {}", key_text(rng, k), inline(rng, v)))
                .collect();
            if body.is_empty() {
                "{}".into()
            } else {
                format!("{{ {} }}", body.join(", "))
            }
        }
    }
}

fn is_table_array(node: &Node) -> bool {
    matches!(node, Node::Array(items) if !items.is_empty() && items.iter().all(|i| matches!(i, Node::Table(_))))
}

/// Writes the pairs of the table at `path` (already opened by its header, or
/// the root), then its sub-tables under their own headers.
fn write_table(rng: &mut Rng, out: &mut String, path: &[String], pairs: &[(String, Node)]) {
    let mut later: Vec<(&String, &Node)> = Vec::new();
    for (key, value) in pairs {
        let k = key_text(rng, key);
        match value {
            Node::Table(inner) if !inner.is_empty() && rng.chance(50) => later.push((key, value)),
            Node::Table(inner) if !inner.is_empty() && rng.chance(50) => {
                // Dotted keys: `resources.memory = "1G"`.
                for (k2, v2) in inner {
                    out.push_str(&format!(
                        "{k}.{} = {}\n",
                        key_text(rng, k2),
                        inline(rng, v2)
                    ));
                }
            }
            v if is_table_array(v) && rng.chance(60) => later.push((key, value)),
            v => out.push_str(&format!("{k} = {}\n", inline(rng, v))),
        }
        if rng.chance(5) {
            out.push_str("# comment ☃\n");
        }
    }
    for (key, value) in later {
        let mut sub = path.to_vec();
        sub.push(key_text(rng, key));
        match value {
            Node::Table(inner) => {
                out.push_str(&format!("\n[{}]\n", sub.join(".")));
                write_table(rng, out, &sub, inner);
            }
            Node::Array(items) => {
                for item in items {
                    if let Node::Table(inner) = item {
                        out.push_str(&format!("\n[[{}]]\n", sub.join(".")));
                        write_table(rng, out, &sub, inner);
                    }
                }
            }
            Node::Raw(_) => unreachable!(),
        }
    }
}

fn document(rng: &mut Rng, root: &Node) -> String {
    let mut out = String::new();
    if rng.chance(20) {
        out.push_str("# generated\n");
    }
    if let Node::Table(pairs) = root {
        write_table(rng, &mut out, &[], pairs);
    }
    if rng.chance(10) {
        out = out.replace('\n', "\r\n");
    }
    out
}

// ---------------------------------------------------------------------------
// The tests

#[test]
fn arbitrary_bytes_never_panic_and_errors_are_located() {
    run("bytes", 1, 3000, random_bytes);
    // The seed files cut short anywhere.
    let seeds = seeds();
    run("prefixes", 2, 500, |rng| {
        let s = rng.pick(&seeds);
        String::from_utf8_lossy(&s[..rng.below(s.len() + 1)]).into_owned()
    });
}

#[test]
fn mutated_examples_never_panic_and_errors_are_located() {
    let seeds = seeds();
    run("mutations", 3, 4000, |rng| mutate(rng, &seeds));
}

/// Runs generated documents through the property, checking on a sample that
/// the generator writes valid TOML (or this would test only syntax errors).
/// Returns the share of documents accepted, in percent.
fn run_documents(kind: &str, seed: u64, cases: usize, root: fn(&mut Rng) -> Node) -> usize {
    let (mut sampled, mut valid) = (0, 0);
    let accepted = run(kind, seed, cases, |rng| {
        let tree = root(rng);
        let text = document(rng, &tree);
        if rng.chance(25) {
            sampled += 1;
            valid += usize::from(text.parse::<toml::Table>().is_ok());
        }
        text
    });
    assert!(
        valid * 100 >= sampled * 95,
        "{kind}: only {valid} of {sampled} sampled documents are valid TOML"
    );
    accepted * 100 / cases
}

#[test]
fn random_toml_documents_never_panic_and_errors_are_located() {
    run_documents("random documents", 4, 1200, |rng| {
        any_table(rng, 3, POD_KEYS)
    });
}

#[test]
fn pod_shaped_documents_never_panic_and_errors_are_located() {
    let accepted = run_documents("pod-shaped documents", 5, 2500, |rng| {
        let noise = *rng.pick(&[0, 0, 2, 5, 20]);
        pod_table(rng, noise, 3, POD_KEYS)
    });
    // Enough must pass validation, or the deeper rules go untested.
    assert!(
        accepted >= 10,
        "only {accepted}% of pod-shaped documents are accepted"
    );
}

fn located(line: usize, column: usize, file: &str) -> Result<Pod, Diagnostics> {
    Err(Diagnostics(vec![spec::Diagnostic {
        file: file.into(),
        line,
        column,
        key: String::new(),
        message: "m".into(),
    }]))
}

/// The property itself notices panics and badly located diagnostics, and
/// the shrinker keeps the failure.
#[test]
fn the_property_catches_what_it_should() {
    assert_eq!(
        check(
            spec::parse_str,
            "[containers.a]\ncommand = [\"x\"]\n",
            "f.toml",
            "f"
        ),
        Ok(true)
    );
    assert_eq!(
        check(spec::parse_str, "x = = 1\n", "f.toml", "f"),
        Ok(false)
    );
    let zero: Parser = |_, f, _| located(0, 1, f);
    let past_end: Parser = |s, f, _| located(s.split('\n').count() + 1, 1, f);
    let wide: Parser = |_, f, _| located(1, 3, f);
    let relabelled: Parser = |_, _, _| located(1, 1, "other");
    let silent: Parser = |_, _, _| Err(Diagnostics(Vec::new()));
    let panics: Parser = |s, _, _| {
        assert!(!s.contains('!'), "boom");
        Err(Diagnostics(Vec::new()))
    };
    for (parse, want) in [
        (zero, "line 0"),
        (past_end, "line 3"),
        (wide, "column 3"),
        (relabelled, "file is"),
        (silent, "rejected without"),
        (panics, "panicked: boom"),
    ] {
        let got = check(parse, "a\nb!", "f.toml", "f").unwrap_err();
        assert!(got.starts_with(want), "{got}");
    }
    assert_eq!(shrink(panics, "abc\n!def", "f.toml", "f"), "!");
}

/// Raw bytes, not made UTF-8 first: `parse_bytes` never panics, and text
/// that is not UTF-8 gets exactly one diagnostic, `invalid UTF-8`, at the
/// first bad byte's line and column (counted here independently).
#[test]
fn raw_bytes_are_located_at_the_first_invalid_utf8_byte() {
    let seeds = seeds();
    let mut rng = Rng::new(11);
    let mut invalid = 0;
    for case in 0..3000 {
        let mut b = rng.pick(&seeds).clone();
        for _ in 0..rng.below(4) {
            let at = rng.below(b.len() + 1);
            let byte = if rng.chance(50) {
                *rng.pick(TOML_BYTES)
            } else {
                rng.next() as u8
            };
            b.insert(at, byte);
        }
        let result = std::panic::catch_unwind(|| podctl::spec::parse_bytes(&b, "f.toml", "f"));
        let Ok(result) = result else {
            panic!("case {case}: parse_bytes panicked on {b:?}");
        };
        let Err(e) = std::str::from_utf8(&b) else {
            continue;
        };
        invalid += 1;
        let good = std::str::from_utf8(&b[..e.valid_up_to()]).unwrap();
        let line = 1 + good.matches('\n').count();
        let column = 1 + good.rsplit('\n').next().unwrap_or("").chars().count();
        let d = match result {
            Ok(_) => panic!("case {case}: accepted bytes that are not UTF-8: {b:?}"),
            Err(d) => d,
        };
        let want = format!("f.toml:{line}:{column}: invalid UTF-8");
        assert_eq!(d.to_string(), want, "case {case}: {b:?}");
    }
    assert!(invalid > 500, "only {invalid} cases were not UTF-8");
}
