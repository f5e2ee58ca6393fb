//! Property test of the manifest reader (the YAML parser and the
//! converter): whatever it is given, arbitrary bytes, mangled manifests or
//! pod-shaped YAML of any content, it returns a pod or diagnostics that are
//! each located inside the file, and never panics. A manifest it accepts
//! also survives the way out: `kube generate` of it reads back to the same
//! plan.
//!
//! Inputs come from a deterministic generator (xorshift, fixed seeds), so a
//! failure reproduces: the message names the seed and the input, shrunk.
//! `KUBE_FUZZ_CASES=N` multiplies the cases of each kind by N.

// What a hostile manifest can make podctl write: names, keys and paths.
#[path = "kube_hostile_fuzz.rs"]
mod hostile;

use podctl::kube::{self, Unsupported};
use podctl::plan;
use std::fs;
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;

#[path = "common/rng.rs"]
mod rng;
use rng::Rng;

/// Whether the reader accepted `src`, or how it broke the property.
type Parse = fn(&str, &str, Unsupported) -> Result<kube::Loaded, podctl::spec::Diagnostics>;

fn check(src: &str, policy: Unsupported) -> Result<bool, String> {
    check_with(|s, f, p| kube::parse_str(s, f, p, files()), src, policy)
}

/// Where configMap volumes' files would go: the host's default.
fn files() -> &'static Path {
    Path::new("/var/lib/podctl/kube")
}

fn check_with(parse: Parse, src: &str, policy: Unsupported) -> Result<bool, String> {
    const LABEL: &str = "fuzz.yaml";
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
        let result = parse(src, LABEL, policy);
        if let Ok(l) = &result {
            // The way out: generate, read back, same plan.
            let yaml = kube::generate::pod(&l.pod);
            let back = kube::parse_str(&yaml, "generated.yaml", Unsupported::Error, files())
                .unwrap_or_else(|d| panic!("the generated manifest is refused: {d}\n{yaml}"));
            assert!(
                plan::build(&back.pod) == plan::build(&l.pod),
                "the generated manifest plans differently:\n{yaml}"
            );
        }
        result.map(|l| l.warnings).map_err(|d| d.0)
    }));
    let diagnostics = match outcome {
        Err(payload) => {
            let what = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            return Err(format!("panicked: {what}"));
        }
        Ok(Ok(warnings)) => (warnings, true),
        Ok(Err(d)) if d.is_empty() => return Err("rejected without a diagnostic".into()),
        Ok(Err(d)) => (d, false),
    };
    let lines: Vec<&str> = src.split('\n').collect();
    for d in &diagnostics.0 {
        let ok = d.file == LABEL
            && !d.message.trim().is_empty()
            && (1..=lines.len()).contains(&d.line)
            && d.column >= 1
            && d.column <= lines[d.line - 1].chars().count() + 1;
        if !ok {
            return Err(format!("not located in the file: {d:?}"));
        }
    }
    Ok(diagnostics.1)
}

/// Drops lines, then characters, while the same kind of failure remains.
fn shrink(src: &str, policy: Unsupported) -> String {
    let kind = |s: &str| {
        check(s, policy)
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

fn run(kind: &str, seed: u64, cases: usize, mut generate: impl FnMut(&mut Rng) -> String) -> usize {
    let factor = std::env::var("KUBE_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);
    let quiet = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let mut rng = Rng::new(seed);
    let mut accepted = 0;
    let mut failure = None;
    for case in 0..cases * factor {
        let src = generate(&mut rng);
        let policy = if rng.chance(30) {
            Unsupported::Warn
        } else {
            Unsupported::Error
        };
        match check(&src, policy) {
            Ok(ok) => accepted += usize::from(ok),
            Err(why) => {
                let small = shrink(&src, policy);
                failure = Some(format!(
                    "{kind} (seed {seed}, case {case}, {policy:?}): {why}\ninput: {src:?}\nshrunk: {small:?}\nshrunk fails with: {}",
                    check(&small, policy).err().unwrap_or_default()
                ));
                break;
            }
        }
    }
    panic::set_hook(quiet);
    if let Some(f) = failure {
        panic!("{f}");
    }
    accepted
}

fn seeds() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for dir in [
        "tests/data/kube/manifests",
        "tests/data/kube/invalid",
        "tests/data/kube/generated",
    ] {
        let mut paths: Vec<_> = fs::read_dir(root.join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
            .collect();
        paths.sort();
        out.extend(paths.iter().map(|p| fs::read_to_string(p).unwrap()));
    }
    assert!(out.len() > 20, "seed manifests went missing");
    out
}

const YAML_BYTES: &[u8] = b"-:{}[],#&*!|>'\"%@`?\n\n\n  \t0123456789abcdeEMmiK.~\\\xc3\xa9";

#[test]
fn arbitrary_bytes_never_panic_and_errors_are_located() {
    run("bytes", 1, 3000, |rng| {
        let len = rng.below(300);
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                if rng.chance(80) {
                    *rng.pick(YAML_BYTES)
                } else {
                    rng.next() as u8
                }
            })
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    });
}

#[test]
fn mutated_manifests_never_panic_and_errors_are_located() {
    let seeds = seeds();
    let accepted = run("mutated", 2, 6000, |rng| {
        let mut lines: Vec<String> = rng.pick(&seeds).lines().map(String::from).collect();
        for _ in 0..1 + rng.below(4) {
            if lines.is_empty() {
                break;
            }
            let i = rng.below(lines.len());
            match rng.below(10).min(7) {
                0 => {
                    lines.remove(i);
                }
                1 => {
                    let l = lines[i].clone();
                    lines.insert(i, l);
                }
                2 => lines[i] = format!("  {}", lines[i]),
                3 => lines[i] = lines[i].trim_start().to_string(),
                4 | 7 => {
                    // A value replaced by another scalar (most often).
                    if let Some((k, _)) = lines[i].split_once(": ") {
                        let v = rng.pick(SCALARS);
                        lines[i] = format!("{k}: {v}");
                    }
                }
                5 => {
                    // A key misspelt or swapped for another field's name.
                    let k = rng.pick(FIELDS);
                    let indent = lines[i].len() - lines[i].trim_start().len();
                    let rest = lines[i].trim_start();
                    let dash = if rest.starts_with("- ") { "- " } else { "" };
                    if let Some((_, v)) = rest.split_once(':') {
                        lines[i] = format!("{}{dash}{k}:{v}", " ".repeat(indent));
                    }
                }
                _ => {
                    // A YAML-significant character inserted.
                    let at = rng.below(lines[i].len() + 1);
                    let c = *rng.pick(YAML_BYTES) as char;
                    if lines[i].is_char_boundary(at) {
                        lines[i].insert(at, c);
                    }
                }
            }
        }
        lines.join("\n") + "\n"
    });
    assert!(
        accepted > 100,
        "too few mutants accepted ({accepted}): the property tests little"
    );
}

const SCALARS: &[&str] = &[
    "0",
    "-1",
    "80",
    "65536",
    "1.5",
    "true",
    "null",
    "~",
    "\"\"",
    "x",
    "Always",
    "None",
    "Default",
    "metadata.labels",
    "limits.cpu",
    "Memory",
    "128Mi",
    "500m",
    "1G",
    "[]",
    "{}",
    "[a, b]",
    "{a: 1}",
    "/abs/path",
    "rel/path",
    "'quoted'",
    "\"9999999999999999999999\"",
    "é",
    "*x",
];

const FIELDS: &[&str] = &[
    "apiVersion",
    "kind",
    "metadata",
    "name",
    "labels",
    "annotations",
    "spec",
    "containers",
    "initContainers",
    "image",
    "command",
    "args",
    "env",
    "value",
    "valueFrom",
    "envFrom",
    "ports",
    "containerPort",
    "hostPort",
    "resources",
    "limits",
    "requests",
    "memory",
    "cpu",
    "securityContext",
    "runAsUser",
    "capabilities",
    "add",
    "privileged",
    "readinessProbe",
    "livenessProbe",
    "startupProbe",
    "httpGet",
    "tcpSocket",
    "exec",
    "port",
    "path",
    "volumes",
    "volumeMounts",
    "mountPath",
    "emptyDir",
    "hostPath",
    "medium",
    "sizeLimit",
    "persistentVolumeClaim",
    "claimName",
    "restartPolicy",
    "hostNetwork",
    "hostPID",
    "shareProcessNamespace",
    "hostname",
    "dnsConfig",
    "dnsPolicy",
    "nameservers",
    "searches",
    "options",
    "projected",
    "sources",
    "downwardAPI",
    "fieldRef",
    "fieldPath",
    "resourceFieldRef",
    "serviceAccountToken",
    "hostAliases",
    "nodeSelector",
    "tolerations",
    "lifecycle",
    "comand",
    "imgae",
    "podctl.io/autostart",
    "podctl.io/app.after",
    "podctl.io/host-binaries",
    "data",
    "stringData",
];

/// A random pod-shaped document: known keys (and misspellings) nested in
/// the shapes Kubernetes uses, with random scalars at the leaves.
fn node(rng: &mut Rng, depth: usize, out: &mut String, indent: usize) {
    let pairs = 1 + rng.below(4);
    for i in 0..pairs {
        let pad = if i == 0 && out.ends_with("- ") {
            String::new()
        } else {
            " ".repeat(indent)
        };
        let key = rng.pick(FIELDS);
        match (depth, rng.below(3)) {
            (0, _) | (_, 0) => out.push_str(&format!("{pad}{key}: {}\n", rng.pick(SCALARS))),
            (_, 1) => {
                out.push_str(&format!("{pad}{key}:\n"));
                node(rng, depth - 1, out, indent + 2);
            }
            _ => {
                out.push_str(&format!("{pad}{key}:\n"));
                for _ in 0..1 + rng.below(2) {
                    out.push_str(&format!("{}- ", " ".repeat(indent)));
                    node(rng, depth - 1, out, indent + 2);
                }
            }
        }
    }
}

#[test]
fn pod_shaped_documents_never_panic_and_errors_are_located() {
    run("pod-shaped", 3, 3000, |rng| {
        let mut out = String::from("apiVersion: v1\nkind: Pod\nmetadata:\n  name: fuzz\n");
        if rng.chance(50) {
            out.push_str("  annotations:\n    podctl.io/host-binaries: app\n");
        }
        out.push_str("spec:\n  containers:\n  - name: app\n    command: [/bin/sleep, infinity]\n");
        let mut extra = String::new();
        node(rng, 3, &mut extra, 4);
        out.push_str(&extra);
        out
    });
}

fn located_at(line: usize) -> Result<kube::Loaded, podctl::spec::Diagnostics> {
    Err(podctl::spec::Diagnostics(vec![podctl::spec::Diagnostic {
        file: "fuzz.yaml".into(),
        line,
        column: 1,
        key: String::new(),
        message: "m".into(),
    }]))
}

/// The property notices what it should: an error outside the file, no
/// diagnostic, a panic; and passes good answers.
#[test]
fn the_property_catches_what_it_should() {
    let outside: Parse = |_, _, _| located_at(3);
    let inside: Parse = |_, _, _| located_at(2);
    let silent: Parse = |_, _, _| Err(podctl::spec::Diagnostics(Vec::new()));
    let panics: Parse = |_, _, _| panic!("boom");
    let two_lines = "a: 1\nb: 2";
    assert!(check_with(outside, two_lines, Unsupported::Error).is_err());
    assert_eq!(check_with(inside, two_lines, Unsupported::Error), Ok(false));
    assert!(check_with(silent, two_lines, Unsupported::Error).is_err());
    let hook = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let panicked = check_with(panics, two_lines, Unsupported::Error);
    panic::set_hook(hook);
    assert!(panicked.unwrap_err().starts_with("panicked"));
    assert_eq!(
        check(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: x, annotations: {podctl.io/host-binaries: a}}\nspec: {containers: [{name: a, command: [/bin/true]}]}\n",
            Unsupported::Error
        ),
        Ok(true)
    );
    assert_eq!(check("kind: [\n", Unsupported::Error), Ok(false));
    assert!(check("", Unsupported::Error).is_ok());
}
