//! The layers, lowest first: `model` and `spec` (parse, validate), `plan`
//! (pure), `oci`'s config (pure), the effects (`layout`: the host's paths,
//! `image`, `net`, `systemd`, `oci`'s runtime calls, `supervise`, `apply`),
//! `cli`. A module imports from
//! its own layer and lower ones, never from a higher one. This test reads
//! the sources and names every import that goes up.

use std::path::Path;

/// Files (paths under `src/`, by prefix) and what they must not import
/// (module paths, by prefix).
const RULES: &[(&[&str], &[&str])] = &[
    (&["model.rs", "model/", "spec/"], &HIGHER_THAN_SPEC),
    (&["plan/"], &HIGHER_THAN_PLAN),
    (
        &[
            "oci/container.rs",
            "oci/config.rs",
            "oci/config/",
            "oci/seccomp.rs",
        ],
        &HIGHER_THAN_OCI_CONFIG,
    ),
];

const HIGHER_THAN_SPEC: [&str; 10] = [
    "kube",
    "plan",
    "oci",
    "image",
    "net",
    "layout",
    "supervise",
    "apply",
    "systemd",
    "cli",
];
const HIGHER_THAN_PLAN: [&str; 9] = [
    "kube",
    "oci",
    "image",
    "net",
    "layout",
    "supervise",
    "apply",
    "systemd",
    "cli",
];
const HIGHER_THAN_OCI_CONFIG: [&str; 19] = [
    "oci::runtime",
    "oci::launch",
    "oci::bundle",
    "oci::pod",
    "oci::image_root",
    "oci::cgroup",
    "oci::console",
    "oci::volumes",
    "oci::failure",
    "oci::secrets",
    "oci::preflight",
    "oci::Dirs",
    "layout",
    "image",
    "net",
    "supervise",
    "apply",
    "systemd",
    "cli",
];

/// Every file of the library: no module but `cli`'s own imports `cli`.
const LIBRARY_NOT_CLI: &str = "cli";

#[test]
fn no_module_imports_from_a_higher_layer() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    for (file, text) in sources(&src, &src) {
        if file == "main.rs" || file == "layers.rs" || file.starts_with("bin/") {
            continue;
        }
        let mut forbidden: Vec<&str> = RULES
            .iter()
            .filter(|(files, _)| files.iter().any(|p| file.starts_with(p)))
            .flat_map(|(_, higher)| higher.iter().copied())
            .collect();
        if !file.starts_with("cli/") && file != "cli.rs" {
            forbidden.push(LIBRARY_NOT_CLI);
        }
        for path in imports(&module_of(&file), &text) {
            if let Some(f) = forbidden.iter().find(|f| within(&path, f)) {
                found.push(format!("src/{file}: {path} (nothing of {f} here)"));
            }
        }
    }
    found.sort();
    found.dedup();
    assert!(
        found.is_empty(),
        "imports from a higher layer:\n{}",
        found.join("\n")
    );
}

/// `path` is module `m` or inside it.
fn within(path: &str, m: &str) -> bool {
    path == m || path.starts_with(&format!("{m}::"))
}

/// (path under `root`, text) of every `.rs` file under `dir`, tests left
/// out: a file named `tests.rs` or under a `tests/` directory, and an
/// inline `#[cfg(test)]` module and what follows it.
fn sources(root: &Path, dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("src is readable") {
        let path = entry.expect("src is readable").path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if path.is_dir() {
            if name != "tests" {
                out.extend(sources(root, &path));
            }
        } else if name.ends_with(".rs") && name != "tests.rs" {
            let text = std::fs::read_to_string(&path).expect("a source file is UTF-8");
            let text = match text.find("#[cfg(test)]\nmod tests {") {
                Some(at) => text[..at].to_string(),
                None => text,
            };
            let rel = path.strip_prefix(root).expect("under src");
            out.push((rel.to_string_lossy().into_owned(), text));
        }
    }
    out
}

/// The module a file under `src/` is: `oci/config/mounts.rs` is
/// `oci::config::mounts`, `oci/mod.rs` is `oci`, `lib.rs` the crate.
fn module_of(file: &str) -> Vec<String> {
    let mut parts: Vec<String> = file
        .trim_end_matches(".rs")
        .split('/')
        .map(String::from)
        .collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

/// The crate paths a file names through `crate::` or `super::`
/// (`use` groups expanded), comments left out, as `oci::runtime::Cli`.
fn imports(module: &[String], text: &str) -> Vec<String> {
    let code: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let bytes = code.as_bytes();
    let mut out = Vec::new();
    for start in ["crate::", "super::"] {
        for (at, _) in code.match_indices(start) {
            let before = at.checked_sub(1).map(|i| bytes[i]);
            if before.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':') {
                continue;
            }
            for path in expand(&code[at..]) {
                if let Some(p) = resolve(module, &path) {
                    out.push(p);
                }
            }
        }
    }
    out
}

/// The paths a path or `use` tree at the start of `s` names: `a::{b, c::d}`
/// is `a::b` and `a::c::d`.
fn expand(s: &str) -> Vec<String> {
    let mut prefix = String::new();
    let mut rest = s;
    loop {
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        prefix.push_str(&rest[..end]);
        rest = &rest[end..];
        if let Some(r) = rest.strip_prefix("::") {
            prefix.push_str("::");
            rest = r;
            if let Some(group) = rest.strip_prefix('{') {
                return split_group(group)
                    .into_iter()
                    .flat_map(|item| expand(item.trim()))
                    .map(|p| format!("{prefix}{p}"))
                    .collect();
            }
        } else {
            return vec![prefix];
        }
    }
}

/// The items of a `{...}` group, up to its closing brace.
fn split_group(s: &str) -> Vec<&str> {
    let (mut depth, mut from, mut items) = (0usize, 0, Vec::new());
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => {
                items.push(&s[from..i]);
                break;
            }
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&s[from..i]);
                from = i + 1;
            }
            _ => {}
        }
    }
    items.retain(|i| !i.trim().is_empty());
    items
}

/// `crate::a::b` or `super::...` seen from `module`, as `a::b`; `self`
/// items and `as` renames dropped.
fn resolve(module: &[String], path: &str) -> Option<String> {
    let mut parts: Vec<&str> = path.split("::").filter(|p| !p.is_empty()).collect();
    let mut base: Vec<String> = Vec::new();
    match parts.first() {
        Some(&"crate") => {
            parts.remove(0);
        }
        Some(&"super") => {
            base = module.to_vec();
            while parts.first() == Some(&"super") {
                parts.remove(0);
                base.pop()?;
            }
        }
        _ => return None,
    }
    base.extend(
        parts
            .iter()
            .map(|p| p.split_whitespace().next().unwrap_or_default())
            .filter(|p| !p.is_empty() && *p != "self" && *p != "*")
            .map(String::from),
    );
    (!base.is_empty()).then(|| base.join("::"))
}

#[test]
fn imports_are_read_with_groups_and_super() {
    let m = module_of("oci/config/mounts.rs");
    assert_eq!(m, ["oci", "config", "mounts"]);
    let text = "//! crate::cli in a comment\n\
                use crate::{model::{self, Pod}, plan as p};\n\
                use super::super::runtime::Cli;\n\
                fn f() { crate::image::pull(); }\n";
    let mut got = imports(&m, text);
    got.sort();
    assert_eq!(
        got,
        [
            "image::pull",
            "model",
            "model::Pod",
            "oci::runtime::Cli",
            "plan"
        ]
    );
}
