//! Kubernetes manifests in and out, as expected-output tests:
//!
//! - every pod file (the examples, `tests/data/oci/*.toml`,
//!   `tests/data/spec/plans/*.toml`, `tests/data/kube/pods/*.toml`) goes
//!   through `kube generate` (the YAML must equal
//!   `tests/data/kube/generated/NAME.yaml`), and the YAML read back plans
//!   exactly as the TOML does and keeps its image updates (no plan holds
//!   them);
//! - every manifest of `tests/data/kube/invalid/CASE.yaml` gives exactly
//!   `CASE.err` (located, with the field's path);
//! - the manifests of `tests/data/kube/manifests/` (written as the
//!   Kubernetes documentation writes them) validate and plan as
//!   `NAME.plan` (its notes first), with no edits, and `kube generate`
//!   writes them back as YAML that plans the same and generates itself.
//!
//! `UPDATE_EXPECT=1 cargo test --test kube` rewrites the expected files;
//! review the diff before committing it.

use podctl::kube::{self, Unsupported};
use podctl::model::{ImageUpdates, Pod, PodUpdates};
use podctl::plan::{self, render};
use podctl::spec;
use std::fs;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn files(dir: &str, ext: &str) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(root().join(dir)) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    v.sort();
    v
}

/// Where configMap volumes' files go: the host's default (the expected
/// plans show it).
fn kube_files() -> &'static Path {
    Path::new("/var/lib/podctl/kube")
}

fn stem(p: &Path) -> String {
    p.file_stem().unwrap().to_str().unwrap().to_string()
}

/// Compares with the expected file, or rewrites it under UPDATE_EXPECT=1.
fn expect(path: &Path, actual: &str) -> Option<String> {
    if std::env::var_os("UPDATE_EXPECT").is_some_and(|v| v == "1") {
        fs::write(path, actual).unwrap();
        return None;
    }
    match fs::read_to_string(path) {
        Ok(want) if want == actual => None,
        Ok(want) => Some(format!(
            "{} differs\n--- expected\n{want}\n--- actual\n{actual}",
            path.display()
        )),
        Err(e) => Some(format!(
            "{}: {e} (run with UPDATE_EXPECT=1)",
            path.display()
        )),
    }
}

fn all_passed(failures: Vec<String>) {
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// What no plan holds and a round trip keeps: the image-update settings
/// of the pod and of each container.
fn updates(p: &Pod) -> (PodUpdates, Vec<(String, ImageUpdates)>) {
    let containers = p
        .containers
        .iter()
        .map(|c| (c.name.clone(), c.updates))
        .collect();
    (p.updates, containers)
}

/// The pod files the round trip covers.
fn pod_files() -> Vec<PathBuf> {
    let mut v = files("examples", "toml");
    v.extend(files("tests/data/oci", "toml"));
    v.extend(files("tests/data/spec/plans", "toml"));
    v.extend(files("tests/data/kube/pods", "toml"));
    v
}

#[test]
fn every_pod_file_round_trips_through_kube_generate() {
    let pods = pod_files();
    assert!(pods.len() >= 5, "the pod files went missing: {pods:?}");
    let mut failures = Vec::new();
    for path in &pods {
        let name = stem(path);
        let src = fs::read_to_string(path).unwrap();
        let pod = spec::parse_str(&src, &name, &name).unwrap_or_else(|d| panic!("{d}"));
        let yaml = kube::generate::pod(&pod);
        let expected = root().join(format!("tests/data/kube/generated/{name}.yaml"));
        failures.extend(expect(&expected, &yaml));
        if let Some(service) = kube::generate::service(&pod) {
            let expected = root().join(format!("tests/data/kube/generated/{name}.service.yaml"));
            failures.extend(expect(&expected, &service));
        }
        match kube::parse_str(
            &yaml,
            &format!("{name}.yaml"),
            Unsupported::Error,
            kube_files(),
        ) {
            Ok(back) => {
                let (want, got) = (plan::build(&pod), plan::build(&back.pod));
                if want != got {
                    failures.push(format!(
                        "{name}: the YAML plans differently\n--- TOML\n{}\n--- YAML\n{}",
                        render::human(&want),
                        render::human(&got)
                    ));
                }
                if updates(&back.pod) != updates(&pod) {
                    failures.push(format!(
                        "{name}: the YAML reads back other image updates\n--- TOML\n{:?}\n--- YAML\n{:?}",
                        updates(&pod),
                        updates(&back.pod)
                    ));
                }
            }
            Err(d) => failures.push(format!(
                "{name}: the generated YAML is refused:\n{d}\n{yaml}"
            )),
        }
    }
    all_passed(failures);
}

#[test]
fn invalid_manifests_give_located_errors() {
    let cases = files("tests/data/kube/invalid", "yaml");
    assert!(
        cases.len() >= 20,
        "the catalogue of rejected manifests went missing"
    );
    let mut failures = Vec::new();
    for path in &cases {
        let label = format!("{}.yaml", stem(path));
        let src = fs::read_to_string(path).unwrap();
        let actual = match kube::parse_str(&src, &label, Unsupported::Error, kube_files()) {
            Ok(_) => {
                failures.push(format!("{} is accepted", path.display()));
                continue;
            }
            Err(d) => format!("{d}\n"),
        };
        for line in actual.lines() {
            // file:line:col: path: message, line and column from 1.
            let mut parts = line.splitn(4, ':');
            let located = parts.next() == Some(label.as_str())
                && parts
                    .next()
                    .and_then(|l| l.parse::<usize>().ok())
                    .is_some_and(|l| l > 0)
                && parts
                    .next()
                    .and_then(|c| c.parse::<usize>().ok())
                    .is_some_and(|c| c > 0);
            if !located {
                failures.push(format!("{}: not located: {line}", path.display()));
            }
        }
        failures.extend(expect(&path.with_extension("err"), &actual));
    }
    all_passed(failures);
}

#[test]
fn documentation_style_manifests_validate_and_plan_with_no_edits() {
    let manifests = files("tests/data/kube/manifests", "yaml");
    assert!(!manifests.is_empty());
    let mut failures = Vec::new();
    for path in &manifests {
        let src = fs::read_to_string(path).unwrap();
        match kube::parse_str(&src, &stem(path), Unsupported::Error, kube_files()) {
            Ok(l) => {
                // The notes (fields with no effect on one host, rounded
                // amounts) are part of what is expected, first.
                let notes: String = l.warnings.iter().map(|w| format!("# {w}\n")).collect();
                let built = plan::build(&l.shown());
                let plan = render::human(&built);
                failures.extend(expect(
                    &path.with_extension("plan"),
                    &format!("{notes}{plan}"),
                ));
                // And back: `kube generate` writes what plans the same, with the
                // same image updates.
                let yaml = kube::generate::pod(&l.pod);
                match kube::parse_str(&yaml, &stem(path), Unsupported::Error, kube_files()) {
                    // Stable: the YAML read back generates the same YAML.
                    Ok(back) if kube::generate::pod(&back.pod) != yaml => failures.push(format!(
                        "{}: generating again from the generated YAML gives another:\n{yaml}\n---\n{}",
                        path.display(),
                        kube::generate::pod(&back.pod)
                    )),
                    Ok(back)
                        if plan::build(&back.pod) == plan::build(&l.pod)
                            && updates(&back.pod) == updates(&l.pod) => {}
                    Ok(_) => failures.push(format!(
                        "{}: the generated YAML plans differently or with other image updates:\n{yaml}",
                        path.display()
                    )),
                    Err(d) => failures.push(format!(
                        "{}: the generated YAML is refused:\n{d}\n{yaml}",
                        path.display()
                    )),
                }
            }
            Err(d) => failures.push(format!("{} is refused:\n{d}", path.display())),
        }
    }
    all_passed(failures);
}

/// With `--ignore-unsupported` every unsupported field is a located
/// warning, and the rest of the manifest is read.
#[test]
fn ignore_unsupported_warns_about_every_field() {
    let path = root().join("tests/data/kube/invalid/unsupported-many.yaml");
    let src = fs::read_to_string(&path).unwrap();
    let l = kube::parse_str(
        &src,
        "unsupported-many.yaml",
        Unsupported::Warn,
        kube_files(),
    )
    .unwrap_or_else(|d| panic!("{d}"));
    let strict = kube::parse_str(
        &src,
        "unsupported-many.yaml",
        Unsupported::Error,
        kube_files(),
    )
    .unwrap_err();
    let warnings: Vec<String> = l.warnings.iter().map(|w| w.to_string()).collect();
    let errors: Vec<String> = strict.0.iter().map(|e| format!("{e} (ignored)")).collect();
    assert_eq!(warnings, errors);
    assert!(warnings.len() >= 5, "{warnings:?}");
    assert_eq!(l.pod.containers[0].name, "app");
}

/// The same loader serves `apply`, `diff` and `validate`: a manifest's
/// stored text is the native pod file, which reads back to the same pod.
#[test]
fn the_stored_text_is_the_native_pod_file() {
    let path = root().join("tests/data/kube/manifests/nginx-sidecar.yaml");
    let l = kube::load(&path, Unsupported::Error, kube_files()).unwrap_or_else(|d| panic!("{d}"));
    let again =
        spec::parse_str(&l.text, "stored.toml", "x").unwrap_or_else(|d| panic!("{d}\n{}", l.text));
    assert_eq!(again, l.pod);
}

fn podctl(args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_podctl"))
        .args(args)
        .current_dir(root())
        .env("PODCTL_STORE", "/nonexistent")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_commands_read_and_write_manifests() {
    let (code, out, err) = podctl(&["validate", "tests/data/kube/manifests/nginx-sidecar.yaml"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("tests/data/kube/manifests/nginx-sidecar.yaml: pod nginx, 4 containers"),
        "{out}"
    );
    let (code, _, err) = podctl(&[
        "validate",
        "tests/data/kube/invalid/misspelt-containers.yaml",
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("did you mean `containers`?"), "{err}");
    let (code, out, err) = podctl(&[
        "validate",
        "--ignore-unsupported",
        "tests/data/kube/invalid/unsupported-many.yaml",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("pod many"), "{out}");
    assert!(
        err.lines()
            .all(|l| l.starts_with("podctl: warning: ") && l.ends_with("(ignored)")),
        "{err}"
    );
    let (code, out, err) = podctl(&[
        "apply",
        "--dry-run",
        "tests/data/kube/manifests/nginx-sidecar.yaml",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("pod-nginx.slice"), "{out}");
    let (code, out, err) = podctl(&[
        "kube",
        "generate",
        "--service",
        "tests/data/kube/pods/everything.toml",
    ]);
    assert_eq!(code, 0, "{err}");
    let want = fs::read_to_string(root().join("tests/data/kube/generated/everything.yaml"))
        .unwrap()
        + "---\n"
        + &fs::read_to_string(root().join("tests/data/kube/generated/everything.service.yaml"))
            .unwrap();
    assert_eq!(out, want);
    let (code, _, err) = podctl(&["kube", "generate", "--service", "examples/web.toml"]);
    assert_eq!(code, 1);
    assert!(err.contains("publishes no ports"), "{err}");
    let (code, _, err) = podctl(&["kube", "generate", "no-such-pod"]);
    assert_eq!(code, 1);
    assert!(err.contains("no pod \"no-such-pod\" is applied"), "{err}");
}

/// configMap volumes: which files, with which content and mode, in the
/// pod's directory under `Layout::kube_files`; the container binds it
/// read-only. A secret volume: a podctl secret per key (`SECRET.KEY`),
/// mounted as a file under the mountPath; its values go to apply in memory,
/// and nothing of them is in the native text.
#[test]
fn config_map_volumes_are_files_and_secret_volumes_podctl_secrets() {
    let path = root().join("tests/data/kube/manifests/config.yaml");
    let base = Path::new("/elsewhere/kube");
    let l = kube::load(&path, Unsupported::Error, base).unwrap_or_else(|d| panic!("{d}"));
    let dirs: Vec<_> = l.files.iter().map(|v| v.dir.clone()).collect();
    assert_eq!(dirs, [base.join("config-demo").join("config")]);
    let files: Vec<(String, String, u32)> = l.files[0]
        .files
        .iter()
        .map(|f| {
            let text = String::from_utf8(f.content.clone()).unwrap();
            (f.path.clone(), text, f.mode)
        })
        .collect();
    assert_eq!(
        files,
        [("mode.conf".to_string(), "production".to_string(), 0o640)]
    );
    let app = &l.pod.containers[0];
    let secrets: Vec<(&str, &str, u32)> = app
        .secrets
        .files
        .iter()
        .map(|f| (f.name.as_str(), f.target.as_str(), f.mode))
        .collect();
    assert_eq!(
        secrets,
        [
            ("app-secret.password", "/run/secrets/app/password", 0o400),
            ("app-secret.user", "/run/secrets/app/user", 0o400),
        ]
    );
    let env: Vec<(&str, &str)> = app
        .secrets
        .env
        .iter()
        .map(|(v, n)| (v.as_str(), n.as_str()))
        .collect();
    assert_eq!(
        env,
        [
            ("APP_PASSWORD", "app-secret.password"),
            ("APP_USER", "app-secret.user"),
        ]
    );
    assert!(!app.env.contains_key("APP_PASSWORD"), "{:?}", app.env);
    let stored: Vec<(&str, &[u8])> = l
        .secret_values
        .0
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_slice()))
        .collect();
    assert_eq!(
        stored,
        [
            ("app-secret.password", b"s3cr3t".as_slice()),
            ("app-secret.user", b"admin".as_slice()),
        ]
    );
    assert!(
        !l.text.contains("s3cr3t") && !l.text.contains("admin"),
        "{}",
        l.text
    );
    let mounts: Vec<_> = app
        .volumes
        .iter()
        .filter(|v| v.target.starts_with("/etc/app") || v.target.starts_with("/run/secrets"))
        .collect();
    assert_eq!(mounts.len(), 1);
    assert!(mounts.iter().all(|v| v.read_only));
}

/// A manifest file over the size limit is refused before it is parsed,
/// with the limit in the message; an alias bomb is refused by the bytes it
/// expands to.
#[test]
fn oversized_manifests_and_alias_bombs_are_refused_with_the_limit() {
    let dir = std::env::temp_dir().join(format!("podctl-kube-big-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    let path = dir.join("big.yaml");
    let limit = 4 << 20;
    // Sparse: the reader stops at the limit, it does not read 8 GiB.
    fs::File::create(&path).unwrap().set_len(8 << 30).unwrap();
    let d = kube::load(&path, Unsupported::Error, kube_files()).unwrap_err();
    assert_eq!(d.0.len(), 1);
    // About the whole file (line 0), before any parsing.
    assert_eq!(d.0[0].line, 0, "{d}");
    assert!(
        d.0[0].message.contains(&format!(
            "has {} bytes, more than the {limit} a manifest may have",
            8u64 << 30
        )),
        "{d}"
    );
    fs::remove_dir_all(&dir).unwrap();
    let bomb =
        fs::read_to_string(root().join("tests/data/kube/invalid/alias-bomb-bytes.yaml")).unwrap();
    let (code, _, err) = podctl(&["validate", "tests/data/kube/invalid/alias-bomb-bytes.yaml"]);
    assert_eq!(code, 1);
    assert!(bomb.len() < 10_000, "the bomb is a small file");
    assert!(err.contains("more than 16777216 bytes"), "{err}");
}

/// A Secret's values are shown by no command that reads a manifest: they
/// are named (`SECRET.KEY`); the plain values are shown; the native text
/// holds none, so nothing is marked.
#[test]
fn secret_values_are_not_shown() {
    let file = "tests/data/kube/manifests/config.yaml";
    for args in [
        vec!["validate", file],
        vec!["validate", "--output", "json", file],
        vec!["apply", "--dry-run", file],
        vec!["apply", "--dry-run", "--output", "json", file],
        vec!["kube", "generate", file],
    ] {
        let (code, out, err) = podctl(&args);
        assert_eq!(code, 0, "{args:?}: {err}");
        assert!(
            !out.contains("s3cr3t") && !err.contains("s3cr3t"),
            "{args:?} shows the secret:\n{out}{err}"
        );
        if args[0] != "validate" {
            assert!(out.contains("app-secret"), "{args:?}:\n{out}");
            assert!(
                out.contains("production"),
                "{args:?} hides a plain value:\n{out}"
            );
        }
    }
    let l = kube::load(&root().join(file), Unsupported::Error, kube_files()).unwrap();
    assert!(
        !l.text.lines().any(|l| l.ends_with(kube::secret::MARK)),
        "{}",
        l.text
    );
    assert!(kube::secret::marked(&l.text).is_empty());
}

/// A projected volume: its ConfigMap's and Downward API's files (the
/// labels as the kubelet writes them, the CPU limit in cores) and an empty
/// mount point (mode 0) for each secret, in one directory bound read-only;
/// each secret a podctl secret mounted at its path in it. A downwardAPI
/// volume is such a directory too.
#[test]
fn projected_volumes_are_one_directory_with_the_secrets_mounted_in_it() {
    let path = root().join("tests/data/kube/manifests/projected-secret-downwardapi-configmap.yaml");
    let base = Path::new("/elsewhere/kube");
    let l = kube::load(&path, Unsupported::Error, base).unwrap_or_else(|d| panic!("{d}"));
    assert_eq!(l.files.len(), 1);
    assert_eq!(l.files[0].dir, base.join("volume-test").join("all-in-one"));
    let files: Vec<(String, String, u32)> = l.files[0]
        .files
        .iter()
        .map(|f| {
            let text = String::from_utf8(f.content.clone()).unwrap();
            (f.path.clone(), text, f.mode)
        })
        .collect();
    let want = [
        ("labels", "app=\"volume-test\"", 0o644),
        ("cpu_limit", "1", 0o644),
        ("my-group/my-config", "log_level = info\n", 0o644),
        ("my-group/my-username", "", 0),
    ];
    let want: Vec<(String, String, u32)> = want
        .iter()
        .map(|(p, c, m)| (p.to_string(), c.to_string(), *m))
        .collect();
    assert_eq!(files, want);
    let app = &l.pod.containers[0];
    let dir = base.join("volume-test/all-in-one");
    let binds: Vec<(String, String, bool)> = app
        .volumes
        .iter()
        .map(|v| (format!("{:?}", v.source), v.target.clone(), v.read_only))
        .collect();
    assert_eq!(
        binds,
        [(
            format!(
                "{:?}",
                podctl::model::VolumeSource::Bind(dir.display().to_string())
            ),
            "/projected-volume".to_string(),
            true
        )]
    );
    let secrets: Vec<(&str, &str, u32)> = app
        .secrets
        .files
        .iter()
        .map(|f| (f.name.as_str(), f.target.as_str(), f.mode))
        .collect();
    assert_eq!(
        secrets,
        [(
            "mysecret.username",
            "/projected-volume/my-group/my-username",
            0o400
        )]
    );
    assert!(!l.text.contains("admin"), "{}", l.text);

    let path = root().join("tests/data/kube/manifests/dapi-volume.yaml");
    let l = kube::load(&path, Unsupported::Error, base).unwrap_or_else(|d| panic!("{d}"));
    let content = |p: &str| {
        let f = l.files[0].files.iter().find(|f| f.path == p).unwrap();
        String::from_utf8(f.content.clone()).unwrap()
    };
    assert_eq!(
        content("labels"),
        "cluster=\"test-cluster1\"\nrack=\"rack-22\"\nzone=\"us-est-coast\""
    );
    assert_eq!(
        content("annotations"),
        "build=\"two\"\nbuilder=\"john-doe\""
    );
}

/// `apply DIR` reads a directory as `kubectl apply -f DIR` does: the
/// documentation's ConfigMaps (`configmaps.yaml`) and Secret
/// (`secret.yaml`) are found by the Pods of the other files, unedited,
/// each of which plans as `NAME.plan` and generates YAML that plans the
/// same; read alone, each Pod is refused, located at its reference.
#[test]
fn a_directorys_config_maps_and_secrets_serve_the_pods_of_its_other_files() {
    let dir = root().join("tests/data/kube/dir");
    let all = files("tests/data/kube/dir", "yaml");
    let gathered = kube::gather(&all).unwrap_or_else(|d| panic!("{d}"));
    let mut failures = Vec::new();
    let mut pods = Vec::new();
    for path in &all {
        let label = path.display().to_string();
        if gathered.objects_only(&label) {
            continue;
        }
        pods.push(stem(path));
        let l = kube::load_in(path, Unsupported::Error, kube_files(), Some(&gathered))
            .unwrap_or_else(|d| panic!("{d}"));
        let plan = render::human(&plan::build(&l.shown()));
        failures.extend(expect(&path.with_extension("plan"), &plan));
        // The Secret of the other file is stored with the pod, and shown by nothing.
        if l.text.contains("test-secret.") {
            assert_eq!(
                l.secret_values.0.keys().collect::<Vec<_>>(),
                ["test-secret.password", "test-secret.username"]
            );
            assert!(!plan.contains("my-app"), "{plan}");
        }
        let yaml = kube::generate::pod(&l.pod);
        match kube::parse_str(&yaml, &label, Unsupported::Error, kube_files()) {
            Ok(back) if plan::build(&back.pod) == plan::build(&l.pod) => {}
            Ok(_) => failures.push(format!(
                "{label}: the generated YAML plans differently:\n{yaml}"
            )),
            Err(d) => failures.push(format!(
                "{label}: the generated YAML is refused:\n{d}\n{yaml}"
            )),
        }
        // Alone, a Pod whose ConfigMap or Secret volume is in another file
        // is refused; a secretKeyRef names the stored podctl secret, which
        // apply then needs in the store.
        match kube::load(path, Unsupported::Error, kube_files()) {
            Err(alone) => assert!(alone.to_string().contains(" in this file ("), "{alone}"),
            Ok(alone) => {
                assert_eq!(stem(path), "secret-envars-pod");
                assert!(alone.secret_values.0.is_empty());
            }
        }
    }
    assert_eq!(
        pods,
        ["pod-configmap-volume", "secret-envars-pod", "secret-pod"],
        "{}",
        dir.display()
    );
    all_passed(failures);
}

/// A directory's objects are checked before any pod: a ConfigMap defined
/// in two files is refused at the second, naming the first; a Pod whose
/// ConfigMap is in no file says it looked in all of them. `validate` and
/// `apply` of such a directory change nothing (apply refuses every pod).
#[test]
fn a_directorys_objects_are_refused_located_and_nothing_is_applied() {
    let tmp = std::env::temp_dir().join(format!("podctl-kubedir-{}", std::process::id()));
    let _ = fs::remove_dir_all(&tmp);
    fs::create_dir_all(&tmp).unwrap();
    let src = root().join("tests/data/kube/dir");
    for f in ["configmaps.yaml", "pod-configmap-volume.yaml"] {
        fs::copy(src.join(f), tmp.join(f)).unwrap();
    }
    fs::write(
        tmp.join("more.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: special-config\ndata:\n  special.how: much\n",
    )
    .unwrap();
    let label = |f: &str| tmp.join(f).display().to_string();
    let (code, out, err) = podctl(&["validate", tmp.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert_eq!(
        err.trim(),
        format!(
            "{}:1:1: metadata.name: a second ConfigMap named \"special-config\" (the first is in {})",
            label("more.yaml"),
            label("configmaps.yaml")
        )
    );
    let (code, _, err) = podctl(&["apply", tmp.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("a second ConfigMap named"), "{err}");
    // The ConfigMap in no file: the pod's reference, located.
    fs::remove_file(tmp.join("more.yaml")).unwrap();
    fs::remove_file(tmp.join("configmaps.yaml")).unwrap();
    let (code, _, err) = podctl(&["validate", tmp.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(
        err.trim(),
        format!(
            "{}:24:18: spec.volumes[0].configMap: no ConfigMap named \"special-config\" in this file nor in another file of its directory (put it in one of the directory's files, or set optional: true)",
            label("pod-configmap-volume.yaml")
        )
    );
    fs::remove_dir_all(&tmp).unwrap();
}
