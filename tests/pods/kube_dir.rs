//! `podctl apply DIR` on a real systemd, as `kubectl apply -f DIR`: the
//! Kubernetes documentation's ConfigMaps (`configmaps.yaml`) and Secret
//! (`secret.yaml`), unedited, serve a Pod of another file of the
//! directory (its env, envFrom, a configMap volume and a secretKeyRef);
//! the Secret is stored as podctl secrets, its value in no file of the
//! host's. A directory with one bad file applies nothing.

use super::common::{assert_gone, wait_pid};
use crate::rig::{Guest, TrialFn};

pub const TRIALS: &[(&str, TrialFn)] = &[(
    "kube_dir::a_pod_finds_the_config_maps_and_secrets_of_its_directory",
    a_pod_finds_the_config_maps_and_secrets_of_its_directory,
)];

fn expect(cond: bool, msg: impl FnOnce() -> String) -> Result<(), String> {
    if cond { Ok(()) } else { Err(msg()) }
}

const DIR: &str = "/root/kdir";

fn files() -> [(&'static str, String); 3] {
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/kube/dir");
    let read = |f: &str| std::fs::read_to_string(data.join(f)).expect("the documentation's files");
    [
        ("configmaps.yaml", read("configmaps.yaml")),
        ("secret.yaml", read("secret.yaml")),
        ("pod.yaml", POD.to_string()),
    ]
}

const POD: &str = r#"apiVersion: v1
kind: Pod
metadata:
  name: kdir
  annotations:
    podctl.io/host-binaries: app
    podctl.io/network: none
spec:
  containers:
  - name: app
    command: [sleep, "1861"]
    env:
    - name: SPECIAL_LEVEL_KEY
      valueFrom:
        configMapKeyRef:
          name: special-config
          key: special.how
    - name: SECRET_USERNAME
      valueFrom:
        secretKeyRef:
          name: test-secret
          key: username
    envFrom:
    - configMapRef:
        name: env-config
    volumeMounts:
    - name: config-volume
      mountPath: /kdir-config
  volumes:
  - name: config-volume
    configMap:
      name: special-config
"#;

fn a_pod_finds_the_config_maps_and_secrets_of_its_directory(g: &Guest) -> Result<(), String> {
    let cleanup =
        "podctl down --purge kdir; podctl secret rm test-secret.username test-secret.password";
    let _ = g.sh(cleanup);
    g.ok(&format!("rm -rf {DIR} && mkdir -p {DIR}"))?;
    for (name, text) in files() {
        g.ok(&format!(
            "cat > {DIR}/{name} <<'PODCTL_EOF'\n{text}PODCTL_EOF"
        ))?;
    }
    // A bad file beside them: nothing is applied, the error located.
    g.ok(&format!(
        "printf 'apiVersion: v1\\nkind: ConfigMap\\nmetadata:\\n  name: env-config\\n' > {DIR}/again.yaml"
    ))?;
    let refused = g.sh(&format!("podctl apply {DIR}"));
    expect(
        !refused.success()
            && refused.stderr.contains(&format!(
                "{DIR}/configmaps.yaml:14:1: [1].metadata.name: a second ConfigMap named \"env-config\" (the first is in {DIR}/again.yaml)"
            )),
        || format!("apply of a directory with a second env-config: {refused:?}"),
    )?;
    let stored = g.sh("podctl secret ls").stdout;
    expect(
        !g.sh("systemctl is-active pod@kdir.service").success() && !stored.contains("test-secret"),
        || format!("a refused directory applied something: secrets {stored}"),
    )?;
    g.ok(&format!("rm {DIR}/again.yaml"))?;
    let out = g.ok(&format!("podctl apply {DIR}"))?;
    expect(out.contains("kdir: created"), || {
        format!("apply said:\n{out}")
    })?;
    let app = wait_pid(g, "sleep 1861")?;
    // The command's own environment (a secret is in no exec's).
    let env = g.ok(&format!("tr '\\0' '\\n' < /proc/{app}/environ"))?;
    for want in [
        "SPECIAL_LEVEL_KEY=very",
        "log_level=INFO",
        "SECRET_USERNAME=my-app",
    ] {
        expect(env.lines().any(|l| l == want), || {
            format!("{want} not in the container's environment:\n{env}")
        })?;
    }
    let file = g.ok("podctl exec kdir app -- cat /kdir-config/special.how")?;
    expect(file == "very", || {
        format!("/kdir-config/special.how: {file:?}")
    })?;
    // The Secret's keys are podctl secrets; its value in no file of podctl's.
    let stored = g.ok("podctl secret ls")?;
    expect(
        stored.contains("test-secret.username") && stored.contains("test-secret.password"),
        || format!("podctl secret ls:\n{stored}"),
    )?;
    let out = g.sh(
        "grep -rlsF -- '39528$vdg7Jb' /etc/podctl /var/lib/podctl /etc/systemd 2>/dev/null; true",
    );
    expect(out.stdout.trim().is_empty(), || {
        format!("the password is in plaintext in {}", out.stdout)
    })?;
    // Applied again: unchanged.
    let again = g.ok(&format!("podctl apply {DIR}"))?;
    expect(again.contains("kdir: unchanged"), || {
        format!("apply again said:\n{again}")
    })?;
    g.ok("podctl down --purge kdir")?;
    let _ = g.sh(cleanup);
    assert_gone(g, "kdir", &["sleep 1861"])
}
