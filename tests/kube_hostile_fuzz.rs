//! Property test of what a manifest can make podctl write: random
//! ConfigMaps, Secrets and configMap/secret volumes whose keys, volume
//! names, items' paths and subPaths come from a pool of hostile and
//! ordinary names (absolute, `..`, `.`, slashes, NUL, long, non-ASCII), with
//! YAML anchors and aliases. Whatever the manifest, the reader never
//! panics, every refusal is located in the file, and writing what it
//! accepted into a temporary base directory creates nothing outside the
//! volume's own directory (and the volume's record next to it) and removes
//! nothing else.
//!
//! Inputs come from a deterministic generator (xorshift, fixed seed), so a
//! failure reproduces: the message names the case and the input.
//! `KUBE_FUZZ_CASES=N` multiplies the cases by N.

use podctl::kube::{self, Unsupported};
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use super::rng::Rng;

/// Ordinary names: keys and volume names Kubernetes takes.
const KEYS: &[&str] = &["conf", "app.conf", "a-b_c.1", "x", ".hidden", "x..y", "123"];
const VOLUMES: &[&str] = &["conf", "data", "x", "a-1"];
/// Ordinary relative paths (items, subPath).
const PATHS: &[&str] = &["x", "sub/x", "sub/y", "conf", "x../y"];
/// Hostile names, tried in every place.
const HOSTILE: &[&str] = &[
    "/etc",
    "/etc/cron.d/x",
    "..data",
    "..x/y",
    "..",
    ".",
    "../x",
    "../../../../../../tmp/escaped",
    "a/../../b",
    "./a",
    "a//b",
    "a/",
    "-a",
    "A",
    "é",
    "\"a\\u0000b\"",
    "\"..\\u002fx\"",
    "\"\"",
    "~",
];

/// An ordinary name most of the time, else a hostile one.
fn pick_name<'a>(rng: &mut Rng, ordinary: &'a [&'a str]) -> &'a str {
    if rng.chance(88) {
        rng.pick::<&str>(ordinary)
    } else {
        rng.pick::<&str>(HOSTILE)
    }
}

fn quoted(s: &str) -> String {
    if s.starts_with('"') {
        s.to_string()
    } else {
        format!("'{s}'")
    }
}

fn manifest(rng: &mut Rng) -> String {
    let mut out = String::new();
    let mut anchors = 0;
    // A value: plain, anchored, or an alias to an earlier anchor.
    let mut value = |rng: &mut Rng| {
        if anchors > 0 && rng.chance(20) {
            format!("*v{}", rng.below(anchors))
        } else if rng.chance(20) {
            anchors += 1;
            format!("&v{} planted-{}", anchors - 1, rng.below(100))
        } else {
            format!("v{}", rng.below(100))
        }
    };
    for (kind, field, name) in [("ConfigMap", "data", "cm"), ("Secret", "stringData", "sec")] {
        out.push_str(&format!(
            "apiVersion: v1\nkind: {kind}\nmetadata:\n  name: {name}\n{field}:\n"
        ));
        let mut keys: Vec<&str> = Vec::new();
        for _ in 0..1 + rng.below(3) {
            let k = pick_name(rng, KEYS);
            if !keys.contains(&k) {
                keys.push(k);
                let v = value(rng);
                out.push_str(&format!("  {}: {v}\n", quoted(k)));
            }
        }
        out.push_str("---\n");
    }
    out.push_str("apiVersion: v1\nkind: Pod\nmetadata:\n  name: fuzz\n  annotations:\n    podctl.io/host-binaries: app\nspec:\n  containers:\n  - name: app\n    command: [/bin/sleep, infinity]\n");
    let mut volumes: Vec<&str> = (0..1 + rng.below(2))
        .map(|_| pick_name(rng, VOLUMES))
        .collect();
    volumes.dedup();
    let mounted: Vec<&&str> = volumes.iter().filter(|_| rng.chance(50)).collect();
    if !mounted.is_empty() {
        out.push_str("    volumeMounts:\n");
        for (i, v) in mounted.iter().enumerate() {
            out.push_str(&format!(
                "    - name: {}\n      mountPath: /m{i}\n",
                quoted(v)
            ));
            if rng.chance(30) {
                out.push_str(&format!(
                    "      subPath: {}\n",
                    quoted(pick_name(rng, PATHS))
                ));
            }
        }
    }
    out.push_str("  volumes:\n");
    for v in &volumes {
        out.push_str(&format!("  - name: {}\n", quoted(v)));
        if rng.chance(50) {
            out.push_str("    configMap:\n      name: cm\n");
        } else {
            out.push_str("    secret:\n      secretName: sec\n");
        }
        if rng.chance(30) {
            out.push_str("      optional: true\n");
        }
        if rng.chance(40) {
            out.push_str("      items:\n");
            for _ in 0..1 + rng.below(2) {
                out.push_str(&format!(
                    "      - key: {}\n        path: {}\n",
                    quoted(pick_name(rng, KEYS)),
                    quoted(pick_name(rng, PATHS))
                ));
            }
        }
    }
    out
}

/// Every file and directory under `dir`, symlinks not followed.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        out.push(p.clone());
        if std::fs::symlink_metadata(&p).unwrap().is_dir() {
            walk(&p, out);
        }
    }
}

/// Checks one manifest; Ok(true) when it was accepted and written.
fn check(src: &str, root: &Path) -> Result<bool, String> {
    let result = panic::catch_unwind(AssertUnwindSafe(|| {
        kube::parse_str(src, "fuzz.yaml", Unsupported::Error, &root.join("base"))
    }))
    .map_err(|_| "the reader panicked".to_string())?;
    let loaded = match result {
        Err(d) if d.0.is_empty() => return Err("refused without a diagnostic".into()),
        Err(d) => {
            let lines = src.lines().count();
            for x in &d.0 {
                if x.message.trim().is_empty() || x.line == 0 || x.line > lines || x.column == 0 {
                    return Err(format!("a refusal not located in the file: {x:?}"));
                }
            }
            return Ok(false);
        }
        Ok(l) => l,
    };
    let base = root.join("base");
    let outside = root.join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("canary"), "keep").unwrap();
    for v in &loaded.files {
        if v.dir != base.join(&v.pod).join(&v.volume)
            || v.volume.contains('/')
            || v.volume.starts_with('.')
        {
            return Err(format!("a volume directory outside its pod's: {v:?}"));
        }
        kube::write::write(&base, v).map_err(|e| format!("write {:?}: {e}", v.dir))?;
    }
    let mut all = Vec::new();
    walk(root, &mut all);
    for p in &all {
        let inside = loaded.files.iter().any(|v| {
            let vol = base.join(&v.pod).join(&v.volume);
            p.starts_with(&vol) || *p == base.join(&v.pod).join(format!(".{}.files", v.volume))
        });
        let allowed = inside
            || *p == base
            || loaded.files.iter().any(|v| *p == base.join(&v.pod))
            || *p == outside
            || *p == outside.join("canary");
        if !allowed {
            return Err(format!(
                "a file written outside its volume: {}",
                p.display()
            ));
        }
    }
    if std::fs::read_to_string(outside.join("canary"))
        .ok()
        .as_deref()
        != Some("keep")
    {
        return Err("the canary outside the volumes was changed".into());
    }
    Ok(true)
}

#[test]
fn hostile_names_are_refused_or_written_inside_their_volume() {
    let factor: usize = std::env::var("KUBE_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);
    let root = std::env::temp_dir().join(format!("podctl-hostile-fuzz-{}", std::process::id()));
    let mut rng = Rng::new(16);
    let (mut accepted, mut refused) = (0, 0);
    for case in 0..1000 * factor {
        let src = manifest(&mut rng);
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        match check(&src, &root) {
            Ok(true) => accepted += 1,
            Ok(false) => refused += 1,
            Err(why) => panic!("case {case}: {why}\ninput:\n{src}"),
        }
    }
    let _ = std::fs::remove_dir_all(&root);
    // Both sides of the property are exercised.
    assert!(
        accepted > 50 && refused > 50,
        "accepted {accepted}, refused {refused}"
    );
}
