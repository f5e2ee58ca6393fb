//! The converter's behaviour on small manifests; the examples' round trips
//! and the catalogue of rejected manifests are in `tests/kube.rs`.

use super::*;

const HOST: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  annotations:\n    podctl.io/host-binaries: app\nspec:\n  containers:\n  - name: app\n    command: [/bin/sleep, infinity]\n";

fn ok(src: &str) -> Loaded {
    parse_str(src, "t.yaml", Unsupported::Error, crate::kube::test_files())
        .unwrap_or_else(|d| panic!("{d}"))
}

fn err(src: &str) -> String {
    parse_str(src, "t.yaml", Unsupported::Error, crate::kube::test_files())
        .unwrap_err()
        .to_string()
}

#[test]
fn a_minimal_pod_lowers_to_the_native_file() {
    let l = ok(HOST);
    assert_eq!(l.pod.name, "web");
    assert_eq!(l.pod.containers[0].name, "app");
    // Kubernetes' grace period, not podctl's default.
    assert_eq!(l.pod.containers[0].stop_timeout_ms, 30_000);
    println!("{}", l.text);
}

#[test]
fn misspelt_and_unsupported_fields_are_located() {
    let src = HOST.replace(
        "  - name: app\n",
        "  - name: app\n    resizePolicy: []\n    comand: [x]\n",
    );
    let e = err(&src);
    assert!(
        e.contains("t.yaml:10:5: spec.containers[0].resizePolicy: not supported by podctl"),
        "{e}"
    );
    assert!(
        e.contains(
            "t.yaml:11:5: spec.containers[0].comand: unknown field, did you mean `command`?"
        ),
        "{e}"
    );
}

/// `tty` and `stdin` are the pod file's keys; `stdinOnce` means nothing
/// where nothing attaches: a located note, never silently.
#[test]
fn tty_and_stdin_are_kept_and_stdin_once_is_noted() {
    let src = HOST.replace(
        "  - name: app\n",
        "  - name: app\n    tty: true\n    stdin: true\n    stdinOnce: true\n",
    );
    let l = ok(&src);
    let c = &l.pod.containers[0];
    assert!(c.tty && c.stdin, "{}", l.text);
    let notes: Vec<String> = l.warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(
        notes,
        [
            "t.yaml:12:16: spec.containers[0].stdinOnce: has no effect: nothing attaches to a container's stdin on podctl (ignored)"
        ]
    );
    // false is what podctl does anyway: nothing written.
    let off = ok(&HOST.replace(
        "  - name: app\n",
        "  - name: app\n    tty: false\n    stdin: false\n    stdinOnce: false\n",
    ));
    assert!(!off.pod.containers[0].tty && !off.pod.containers[0].stdin);
    assert!(off.warnings.is_empty() && !off.text.contains("tty"));
}

/// What a cluster's manifest says about scheduling has no effect on one
/// host: it is accepted, with a located note per field, never silently.
#[test]
fn scheduling_fields_are_accepted_with_a_note_each() {
    let src = HOST.replace(
        "spec:\n",
        "spec:\n  nodeSelector:\n    disktype: ssd\n  tolerations:\n  - key: k\n    operator: Exists\n  priorityClassName: high\n",
    );
    let l = ok(&src);
    let notes: Vec<String> = l.warnings.iter().map(|w| w.to_string()).collect();
    for (line, field) in [
        (8, "nodeSelector"),
        (10, "tolerations"),
        (13, "priorityClassName"),
    ] {
        let want =
            format!("t.yaml:{line}:3: spec.{field}: has no effect on a single host (ignored)");
        assert!(
            notes.iter().any(|n| n.contains(&want)),
            "{want} in {notes:?}"
        );
    }
    assert_eq!(notes.len(), 3, "{notes:?}");
}

/// `dnsPolicy: ClusterFirst` is what podctl does: accepted as it is (the
/// others: `kube::dns`); a value Kubernetes does not have is refused. `imagePullPolicy: IfNotPresent`, podctl's
/// default, is accepted on any container; the others are a pull policy,
/// which a container without an image cannot have (`kube::updates`).
#[test]
fn the_pull_and_dns_policies_podctl_follows_are_accepted() {
    let src = HOST
        .replace(
            "  - name: app\n",
            "  - name: app\n    imagePullPolicy: IfNotPresent\n",
        )
        .replace("spec:\n", "spec:\n  dnsPolicy: ClusterFirst\n");
    let l = ok(&src);
    assert!(l.warnings.is_empty(), "{:?}", l.warnings);
    let e = err(&src.replace("ClusterFirst", "ClusterLast"));
    assert!(
        e.contains("spec.dnsPolicy: \"ClusterLast\" is not a dnsPolicy"),
        "{e}"
    );
    let e = err(&src.replace("IfNotPresent", "Never"));
    assert!(
        e.contains("spec.containers[0].imagePullPolicy: only a container with an image is pulled"),
        "{e}"
    );
}

/// A manifest's Secret: each key a podctl secret `SECRET.KEY`, named in
/// the native text (env, secret files with their targets and modes) and
/// stored from memory; a Secret not in the file is a stored one; `$(VAR)`
/// of a secret variable is left as written; an empty key is a plain "".
#[test]
fn secrets_lower_to_podctl_secrets_by_name() {
    let src = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: s3cr3t\n  user: admin\n  empty: \"\"\n---\n{}",
        HOST.replace(
            "    command: [/bin/sleep, infinity]\n",
            "    command: [/bin/echo, \"$(PASSWORD)\"]\n    envFrom:\n    - secretRef:\n        name: db\n      prefix: DB_\n    env:\n    - name: PASSWORD\n      valueFrom:\n        secretKeyRef: {name: db, key: password}\n    - name: TOKEN\n      valueFrom:\n        secretKeyRef: {name: api, key: token}\n    volumeMounts:\n    - {name: creds, mountPath: /etc/creds}\n    - {name: stored, mountPath: /etc/api/token, subPath: t}\n  volumes:\n  - name: creds\n    secret:\n      secretName: db\n      defaultMode: 0440\n      items:\n      - {key: password, path: pw}\n      - {key: user, path: sub/user, mode: 0444}\n  - name: stored\n    secret:\n      secretName: api\n      items:\n      - {key: token, path: t}\n"
        )
    );
    let l = ok(&src);
    assert!(
        !l.text.contains("s3cr3t") && !l.text.contains("admin"),
        "{}",
        l.text
    );
    let c = &l.pod.containers[0];
    let env: Vec<(&str, &str)> = c
        .secrets
        .env
        .iter()
        .map(|(v, n)| (v.as_str(), n.as_str()))
        .collect();
    assert_eq!(
        env,
        [
            ("DB_password", "db.password"),
            ("DB_user", "db.user"),
            ("PASSWORD", "db.password"),
            ("TOKEN", "api.token"),
        ]
    );
    assert_eq!(c.env.get("DB_empty").map(String::as_str), Some(""));
    assert_eq!(
        c.command.as_deref(),
        Some(&["/bin/echo".to_string(), "$(PASSWORD)".to_string()][..])
    );
    let files: Vec<(&str, &str, u32)> = c
        .secrets
        .files
        .iter()
        .map(|f| (f.name.as_str(), f.target.as_str(), f.mode))
        .collect();
    assert_eq!(
        files,
        [
            ("db.password", "/etc/creds/pw", 0o440),
            ("db.user", "/etc/creds/sub/user", 0o444),
            ("api.token", "/etc/api/token", 0o400),
        ]
    );
    let stored: Vec<&str> = l.secret_values.0.keys().map(String::as_str).collect();
    assert_eq!(stored, ["db.password", "db.user"], "{:?}", l.secret_values);
    assert_eq!(l.secret_values.0["db.password"], b"s3cr3t");
    assert!(l.files.is_empty(), "no file of a secret: {:?}", l.files);
}

/// A container's limits and requests as env (`resourceFieldRef`): divided
/// by `divisor` and rounded up; a request left out is the limit; a limit
/// left out, another resource or an unknown container are located errors.
#[test]
fn resource_fields_are_the_containers_amounts() {
    let pod = |env: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  \
             - name: app\n    image: nginx:1.25\n    resources:\n      limits:\n        \
             cpu: 250m\n        memory: 64Mi\n    env:\n{env}  - name: side\n    \
             image: nginx:1.25\n"
        )
    };
    let var = |name: &str, body: &str| {
        format!("    - name: {name}\n      valueFrom:\n        resourceFieldRef:\n{body}")
    };
    let src = pod(&[
        var("CPU", "          resource: limits.cpu\n"),
        var(
            "MILLI",
            "          resource: requests.cpu\n          divisor: 1m\n",
        ),
        var(
            "MEM_MI",
            "          resource: limits.memory\n          divisor: 1Mi\n",
        ),
        var(
            "APP_MEM",
            "          containerName: app\n          resource: requests.memory\n",
        ),
    ]
    .concat());
    let l = ok(&src);
    let env = &l.pod.containers[0].env;
    let get = |k: &str| env.get(k).map(String::as_str);
    assert_eq!(get("CPU"), Some("1"), "250m rounds up to a core");
    assert_eq!(get("MILLI"), Some("250"), "a request left out is the limit");
    assert_eq!(get("MEM_MI"), Some("64"));
    assert_eq!(get("APP_MEM"), Some("67108864"));
    let e = err(&pod(&var(
        "X",
        "          containerName: side\n          resource: limits.cpu\n",
    )));
    assert!(
        e.contains("resourceFieldRef.resource: container \"side\" has no resources.limits.cpu"),
        "{e}"
    );
    let e = err(&pod(&var(
        "X",
        "          containerName: nope\n          resource: limits.cpu\n",
    )));
    assert!(e.contains("no container named \"nope\" in this pod"), "{e}");
    let e = err(&pod(&var(
        "X",
        "          resource: limits.ephemeral-storage\n",
    )));
    assert!(
        e.contains("not supported by podctl: resource limits.ephemeral-storage"),
        "{e}"
    );
}

/// A subPath of a projected volume with secrets: the directory's part
/// (bound when it holds other files) and the secrets under it.
#[test]
fn a_sub_path_of_a_projected_volume_picks_its_files_and_secrets() {
    let objects =
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  u: admin\n---\n";
    let pod = HOST.replace(
        "    command: [/bin/sleep, infinity]\n",
        "    command: [/bin/sleep, infinity]\n    volumeMounts:\n    - {name: all, mountPath: /g, subPath: group}\n    - {name: all, mountPath: /u, subPath: group/user}\n    - {name: all, mountPath: /n, subPath: name}\n  volumes:\n  - name: all\n    projected:\n      sources:\n      - secret: {name: s, items: [{key: u, path: group/user}]}\n      - downwardAPI:\n          items:\n          - {path: group/ns, fieldRef: {fieldPath: metadata.namespace}}\n          - {path: name, fieldRef: {fieldPath: metadata.name}}\n",
    );
    let l = ok(&format!("{objects}{pod}"));
    let app = &l.pod.containers[0];
    let dir = crate::kube::test_files().join("web/all");
    let binds: Vec<String> = app
        .volumes
        .iter()
        .map(|v| format!("{:?} -> {}", v.source, v.target))
        .collect();
    assert_eq!(
        binds,
        [
            format!("Bind({:?}) -> /g", dir.join("group").display().to_string()),
            format!("Bind({:?}) -> /n", dir.join("name").display().to_string()),
        ]
    );
    let secrets: Vec<&str> = app
        .secrets
        .files
        .iter()
        .map(|f| f.target.as_str())
        .collect();
    assert_eq!(secrets, ["/g/user", "/u"]);
    let e = err(&format!(
        "{objects}{}",
        pod.replace("subPath: name", "subPath: other")
    ));
    assert!(
        e.contains("subPath: \"other\" is no item of the projected volume \"all\""),
        "{e}"
    );
}

/// A directory's Secrets are checked together: keys of two files that
/// would be one podctl secret are refused at the second, naming the file
/// of the first; a file of objects only is no pod's.
#[test]
fn a_directorys_secrets_are_one_namespace() {
    let one =
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: a\nstringData:\n  b.c: x\n".to_string();
    let two =
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: a.b\nstringData:\n  c: y\n".to_string();
    let e = Directory::gather(&[("one.yaml".into(), one.clone()), ("two.yaml".into(), two)])
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "two.yaml:1:1: data.c: the podctl secret a.b.c would be both this key and the Secret \"a\"'s key \"b.c\" (in one.yaml): rename one"
    );
    let dir =
        Directory::gather(&[("one.yaml".into(), one), ("pod.yaml".into(), HOST.into())]).unwrap();
    assert!(dir.objects_only("one.yaml") && !dir.objects_only("pod.yaml"));
    // The pod gets the other file's Secret to store, and hides its value.
    let l = parse_in(
        HOST,
        "pod.yaml",
        Unsupported::Error,
        crate::kube::test_files(),
        Some(&dir),
    )
    .unwrap();
    assert_eq!(l.secret_values.0.keys().collect::<Vec<_>>(), ["a.b.c"]);
    assert_eq!(l.secrets, ["x"]);
}
