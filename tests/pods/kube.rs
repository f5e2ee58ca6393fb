//! Kubernetes manifests on a real systemd: a YAML Pod with its
//! ConfigMap, an init container, a native sidecar, a readiness probe and an
//! emptyDir runs; the YAML `kube generate` makes of an applied pod applies
//! back as unchanged (same processes).

use super::common::*;
use super::confined::journal_until;
use crate::rig::{Guest, TrialFn};

pub const TRIALS: &[(&str, TrialFn)] = &[
    ("kube::yaml_pod_runs", yaml_pod_runs),
    (
        "kube::generated_yaml_applies_unchanged",
        generated_yaml_applies_unchanged,
    ),
    ("kube::probe_initial_delay", probe_initial_delay),
];

/// Host binaries (the guest has no images to run): the containers are
/// named in podctl.io/host-binaries.
const MANIFEST: &str = r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: kyaml-config
data:
  greeting: hello-7710
---
apiVersion: v1
kind: Pod
metadata:
  name: kyaml
  annotations:
    podctl.io/host-binaries: setup, tail, app
spec:
  initContainers:
  - name: setup
    command: [/bin/sh, -c, 'echo prepared > /work/ready']
    volumeMounts:
    - name: work
      mountPath: /work
  - name: tail
    restartPolicy: Always
    command: [/bin/sleep, "7711"]
  containers:
  - name: app
    command: [/bin/sh, -c]
    args: ['echo "greeting=$GREETING pod=$POD_NAME file=$(cat /work/ready) conf=$(cat /kyaml-conf/greeting.txt)"; echo END; exec sleep 7712']
    env:
    - name: GREETING
      valueFrom:
        configMapKeyRef:
          name: kyaml-config
          key: greeting
    - name: POD_NAME
      valueFrom:
        fieldRef:
          fieldPath: metadata.name
    readinessProbe:
      exec:
        command: [/bin/test, -e, /work/ready]
      periodSeconds: 1
    volumeMounts:
    - name: work
      mountPath: /work
      readOnly: true
    - name: config
      mountPath: /kyaml-conf
  terminationGracePeriodSeconds: 5
  volumes:
  - name: config
    configMap:
      name: kyaml-config
      items:
      - key: greeting
        path: greeting.txt
  - name: work
    emptyDir: {}
"#;

fn yaml_pod_runs(g: &Guest) -> Result<(), String> {
    g.ok(&format!(
        "mkdir -p /root/pods && cat > /root/pods/kyaml.yaml <<'PODCTL_EOF'\n{MANIFEST}PODCTL_EOF"
    ))?;
    let out = g.ok("podctl apply /root/pods/kyaml.yaml")?;
    if !out.contains("kyaml: created") {
        return Err(format!("apply of the manifest said:\n{out}"));
    }
    let log = journal_until(g, "kyaml", "app", "END")?;
    if !log
        .lines()
        .any(|l| l == "greeting=hello-7710 pod=kyaml file=prepared conf=hello-7710")
    {
        return Err(format!(
            "the app did not get its ConfigMap value, pod name, the init container's file and the configMap volume's file:\n{log}"
        ));
    }
    let st = status(g, "kyaml")?;
    for (c, state) in [("app", "running"), ("tail", "running")] {
        if container_field(&st, c, "state") != state {
            return Err(format!("{c} is not {state}: {st:#}"));
        }
    }
    if container_field(&st, "app", "ready") != true {
        return Err(format!("app is not ready: {st:#}"));
    }
    // The sidecar started before the app (its pid is older) and keeps running.
    let (tail, app) = (wait_pid(g, "/bin/sleep 7711")?, wait_pid(g, "sleep 7712")?);
    if tail >= app {
        return Err(format!(
            "the sidecar (pid {tail}) did not start before the app (pid {app})"
        ));
    }
    // What apply stored and the supervisor runs is the native pod file.
    let stored = g.ok("head -1 /etc/podctl/pods/kyaml.toml")?;
    if !stored.starts_with("# podctl pod file made from the Kubernetes manifest") {
        return Err(format!("stored definition: {stored}"));
    }
    let again = g.ok("podctl apply /root/pods/kyaml.yaml")?;
    if !again.contains("unchanged") || wait_pid(g, "sleep 7712")? != app {
        return Err(format!(
            "a second apply of the same manifest changed something:\n{again}"
        ));
    }
    // A plain down keeps the files (the stored definition still binds them).
    g.ok("podctl down kyaml && test -s /var/lib/podctl/kube/kyaml/config/greeting.txt")?;
    g.ok("podctl down --purge kyaml")?;
    if g.sh("test -e /var/lib/podctl/kube/kyaml").success() {
        return Err("down --purge left the manifest's configMap files".into());
    }
    assert_gone(g, "kyaml", &["/bin/sleep 7711", "sleep 7712"])
}

/// `kube generate NAME` of a pod applied from TOML, applied back: the same
/// plan, so nothing restarts.
fn generated_yaml_applies_unchanged(g: &Guest) -> Result<(), String> {
    let toml = "name = \"kgen\"\n[resources]\nmemory = \"256M\"\n\
        [containers.app]\ncommand = [\"sleep\", \"7721\"]\nresources = { memory = \"128M\" }\n\
        ready = { exec = [\"/bin/true\"], interval = \"500ms\" }\n\
        [containers.side]\ncommand = [\"/bin/sleep\", \"7722\"]\nafter = { app = \"ready\" }\nstop_timeout = \"3s\"\n";
    apply(g, "kgen", toml)?;
    let (app, side) = (wait_pid(g, "sleep 7721")?, wait_pid(g, "/bin/sleep 7722")?);
    g.ok("podctl kube generate kgen > /root/pods/kgen.yaml")?;
    let diff = g.ok("podctl diff /root/pods/kgen.yaml")?;
    if !diff.contains("unchanged") || diff.contains("restart") {
        return Err(format!(
            "the generated manifest differs from the running pod:\n{diff}\n{}",
            g.ok("cat /root/pods/kgen.yaml")?
        ));
    }
    // Another text, the same plan: the supervisor reloads and restarts nothing.
    g.ok("podctl apply /root/pods/kgen.yaml")?;
    same(
        "app pid",
        &app.to_string(),
        &wait_pid(g, "sleep 7721")?.to_string(),
    )?;
    same(
        "side pid",
        &side.to_string(),
        &wait_pid(g, "/bin/sleep 7722")?.to_string(),
    )?;
    g.ok("podctl down --purge kgen")?;
    assert_gone(g, "kgen", &["sleep 7721", "/bin/sleep 7722"])
}

/// `initialDelaySeconds`: the readiness probe's first attempt waits that
/// long after the start, so apply (which waits for READY=1) takes at least
/// that; the probe itself passes at once.
fn probe_initial_delay(g: &Guest) -> Result<(), String> {
    const DELAY_S: u64 = 3;
    let manifest = format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: kdelay\n  annotations:\n    podctl.io/host-binaries: app\n\
         spec:\n  containers:\n  - name: app\n    command: [/bin/sleep, \"7731\"]\n    readinessProbe:\n      \
         exec:\n        command: [/bin/true]\n      initialDelaySeconds: {DELAY_S}\n      periodSeconds: 1\n"
    );
    g.ok(&format!(
        "mkdir -p /root/pods && cat > /root/pods/kdelay.yaml <<'PODCTL_EOF'\n{manifest}PODCTL_EOF"
    ))?;
    let start = std::time::Instant::now();
    g.ok("podctl apply /root/pods/kdelay.yaml")?;
    let took = start.elapsed();
    let st = status(g, "kdelay")?;
    if container_field(&st, "app", "ready") != true {
        return Err(format!("app is not ready after apply: {st:#}"));
    }
    if took < std::time::Duration::from_secs(DELAY_S) {
        return Err(format!(
            "apply returned after {took:?}: the probe did not wait its {DELAY_S} s delay"
        ));
    }
    g.ok("podctl down --purge kdelay")?;
    assert_gone(g, "kdelay", &["/bin/sleep 7731"])
}
