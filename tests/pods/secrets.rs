//! Secrets kept by systemd (`podctl secret`): a value reaches a container
//! of a user-namespaced image pod as a file at /run/secrets/NAME and as an
//! environment variable, for root and for a non-root user inside; it is in
//! no file under /etc/podctl or /var/lib/podctl in plaintext, in no output
//! of podctl's, and no unprivileged host user can read it anywhere podctl
//! or systemd keep it; a secret in use is not removed; a missing one stops
//! apply, naming it. A Kubernetes Secret in a manifest becomes podctl
//! secrets (`SECRET.KEY`): its values reach the container by env and by a
//! secret volume, are stored encrypted only, and a new value restarts the
//! pod. In the VM: a pod comes back after a reboot with its secrets
//! (systemd's host key is on the VM's disk).

use super::common::{wait_pid, write_pod};
use super::image_pods::{self, APP, apply_cmd};
use crate::rig::{Guest, TrialFn, VmTrial};
use std::time::Duration;

pub const TRIALS: &[(&str, TrialFn)] = &[
    (
        "secrets::a_value_reaches_its_container_and_nobody_else",
        a_value_reaches_its_container_and_nobody_else,
    ),
    (
        "secrets::a_missing_secret_stops_apply_and_changes_nothing",
        a_missing_secret_stops_apply_and_changes_nothing,
    ),
    (
        "secrets::a_manifests_secret_is_stored_encrypted_and_reaches_its_container",
        a_manifests_secret_is_stored_encrypted_and_reaches_its_container,
    ),
];

pub const VM_TRIALS: &[VmTrial] = &[VmTrial::reboot(
    "secrets::a_pod_has_its_secrets_after_a_reboot",
    secrets_before_reboot,
    secrets_after_reboot,
)];

/// The value: found nowhere else by chance.
const VALUE: &str = "Zq7-pod-secret-4a1f-value";

fn expect(cond: bool, msg: impl FnOnce() -> String) -> Result<(), String> {
    if cond { Ok(()) } else { Err(msg()) }
}

fn pod(name: &str, secret: &str) -> String {
    pod_tagged(name, secret, (1801, 1802))
}

/// [`pod`] whose containers run `sleep APP` and `sleep SIDE`.
fn pod_tagged(name: &str, secret: &str, (app, side): (u32, u32)) -> String {
    format!(
        "name = \"{name}\"\nnetwork = \"none\"\n\
         [containers.app]\nimage = \"{APP}\"\nuser = 0\n\
         secrets = [\"{secret}\"]\nenv = {{ PASSWORD = {{ secret = \"{secret}\" }} }}\n\
         args = [\"exec sleep {app}\"]\n\
         [containers.side]\nimage = \"{APP}\"\nuser = 1000\nsecrets = [\"{secret}\"]\n\
         args = [\"exec sleep {side}\"]\n"
    )
}

/// The files under `dirs` that hold [`VALUE`] (as root sees them).
fn holding(g: &Guest, dirs: &str) -> Result<Vec<String>, String> {
    let out = g.sh(&format!("grep -rlsF -- '{VALUE}' {dirs} 2>/dev/null; true"));
    Ok(out.stdout.lines().map(String::from).collect())
}

fn a_value_reaches_its_container_and_nobody_else(g: &Guest) -> Result<(), String> {
    image_pods::setup(g)?;
    let _ = g.sh("podctl down --purge sca; podctl secret rm sca-db");
    // Through stdin: the value is never a file of the guest's.
    g.ok(&format!(
        "printf %s '{VALUE}' | podctl secret create sca-db -"
    ))?;
    let path = write_pod(g, "sca", &pod("sca", "sca-db"))?;
    let dry = g.ok(&format!("podctl apply --dry-run {path}"))?;
    g.ok(&apply_cmd(&path))?;
    let (app, side) = (wait_pid(g, "sleep 1801")?, wait_pid(g, "sleep 1802")?);
    // systemd loads it for the pod's service, from the drop-in.
    let dropin = g.ok("systemctl cat pod@sca.service")?;
    expect(
        dropin.contains("LoadCredentialEncrypted=sca-db:/etc/podctl/credstore.encrypted/sca-db"),
        || format!("pod@sca.service has no credential:\n{dropin}"),
    )?;
    // As a file, for root and for user 1000 inside; as env.
    let file = g.ok("podctl exec sca app -- cat /run/secrets/sca-db")?;
    expect(file == VALUE, || {
        format!("app's /run/secrets/sca-db: {file:?}")
    })?;
    let file = g.ok("podctl exec sca side -- cat /run/secrets/sca-db")?;
    expect(file == VALUE, || format!("side (user 1000): {file:?}"))?;
    let env = g.ok(&format!("tr '\\0' '\\n' < /proc/{app}/environ"))?;
    expect(
        env.lines().any(|l| l == format!("PASSWORD={VALUE}")),
        || format!("app's environment lacks PASSWORD: {env}"),
    )?;
    let mounts = g.ok("podctl exec sca side -- cat /proc/self/mounts")?;
    let mount = mounts
        .lines()
        .find(|l| l.contains(" /run/secrets/sca-db "))
        .unwrap_or_default();
    expect(mount.contains(" ro,"), || {
        format!("not read-only: {mount:?}")
    })?;
    let _ = side;
    // Encrypted at rest: never in plaintext under /etc/podctl or /var/lib/podctl.
    let at_rest = holding(g, "/etc/podctl /var/lib/podctl /etc/systemd")?;
    expect(at_rest.is_empty(), || {
        format!("the value is in plaintext in {at_rest:?}")
    })?;
    let sealed = g.ok("head -c 200 /etc/podctl/credstore.encrypted/sca-db | base64 -w0")?;
    expect(!sealed.is_empty(), || "no encrypted credential".into())?;
    // In no output of podctl's.
    let mut outputs = vec![("apply --dry-run".to_string(), dry)];
    for cmd in [
        "podctl status sca",
        "podctl status sca --json",
        "podctl inspect sca",
        "podctl secret ls",
        "podctl secret ls -o json",
        "podctl secret inspect sca-db",
        "podctl secret inspect sca-db -o json",
        "podctl kube generate sca",
        "podctl diff /root/pods/sca.toml",
    ] {
        let o = g.sh(cmd);
        outputs.push((cmd.to_string(), format!("{}{}", o.stdout, o.stderr)));
    }
    for (cmd, out) in &outputs {
        expect(!out.contains(VALUE), || {
            format!("{cmd} prints the value:\n{out}")
        })?;
    }
    let inspect = g.ok("podctl secret inspect sca-db")?;
    expect(inspect.contains("used by: sca"), || {
        format!("secret inspect does not name the pod:\n{inspect}")
    })?;
    // Where it is in plaintext (memory only), no unprivileged host user reads it.
    let plain = holding(g, "/run /tmp /dev/shm")?;
    expect(
        plain
            .iter()
            .any(|p| p.starts_with("/run/credentials/pod@sca.service/"))
            && plain
                .iter()
                .any(|p| p.starts_with("/run/podctl/pods/sca/secrets/")),
        || format!("the value is not where expected: {plain:?}"),
    )?;
    for p in &plain {
        for who in ["--reuid=65534 --regid=65534", "--reuid=1000 --regid=1000"] {
            let o = g.sh(&format!("setpriv {who} --clear-groups cat '{p}'"));
            expect(o.status != 0 && !o.stdout.contains(VALUE), || {
                format!("setpriv {who} reads {p}: {}", o.stdout)
            })?;
        }
    }
    // In use: not removed.
    let rm = g.sh("podctl secret rm sca-db");
    expect(
        rm.status != 0 && rm.stderr.contains("used by pod sca"),
        || {
            format!(
                "secret rm of a used secret: status {}, {}",
                rm.status, rm.stderr
            )
        },
    )?;
    // Gone with the pod: its files, its drop-in; then the secret can go.
    g.ok("podctl down --purge sca")?;
    let left = holding(g, "/run/podctl /run/credentials")?;
    expect(left.is_empty(), || format!("left after down: {left:?}"))?;
    expect(
        g.sh("test -e /etc/systemd/system/pod@sca.service.d/50-podctl-credentials.conf")
            .status
            != 0,
        || "the drop-in stays after down --purge".into(),
    )?;
    g.ok("podctl secret rm sca-db").map(|_| ())
}

fn a_missing_secret_stops_apply_and_changes_nothing(g: &Guest) -> Result<(), String> {
    let path = write_pod(
        g,
        "scm",
        "[containers.app]\ncommand = [\"/bin/sleep\", \"1811\"]\nsecrets = [\"scm-none\"]\n",
    )?;
    let o = g.sh(&format!("podctl apply {path}"));
    expect(
        o.status != 0 && o.stderr.contains("container app") && o.stderr.contains("\"scm-none\""),
        || {
            format!(
                "apply with a missing secret: status {}, {}",
                o.status, o.stderr
            )
        },
    )?;
    expect(
        g.sh("test -e /etc/podctl/pods/scm.toml").status != 0,
        || "the pod was stored".into(),
    )?;
    expect(
        g.sh("systemctl is-active pod@scm.service").stdout.trim() != "active",
        || "the pod started".into(),
    )
}

/// The values of the manifest's Secret (before and after a change): found
/// nowhere else by chance.
const K_PASSWORD: &str = "Kq4-kube-secret-pw-77c1";
const K_TOKEN: &str = "Kq4-kube-secret-token-0b2e";
const K_CHANGED: &str = "Kq4-kube-secret-pw-changed-5d90";

fn manifest(password: &str) -> String {
    format!(
        r#"apiVersion: v1
kind: Secret
metadata:
  name: skube
stringData:
  password: {password}
  token: {K_TOKEN}
---
apiVersion: v1
kind: Pod
metadata:
  name: skube
  annotations:
    podctl.io/network: none
spec:
  containers:
  - name: app
    image: {APP}
    args: ["exec sleep 1821"]
    securityContext:
      runAsUser: 1000
      runAsGroup: 1000
    env:
    - name: PASSWORD
      valueFrom:
        secretKeyRef:
          name: skube
          key: password
    volumeMounts:
    - name: creds
      mountPath: /etc/creds
  volumes:
  - name: creds
    secret:
      secretName: skube
      items:
      - key: password
        path: password
      - key: token
        path: sub/token
        mode: 0440
"#
    )
}

fn a_manifests_secret_is_stored_encrypted_and_reaches_its_container(
    g: &Guest,
) -> Result<(), String> {
    image_pods::setup(g)?;
    let _ = g.sh(
        "podctl down --purge skube; podctl secret rm skube.password; podctl secret rm skube.token",
    );
    let write = |password: &str| {
        g.ok(&format!(
            "mkdir -p /root/pods && cat > /root/pods/skube.yaml <<'PODCTL_EOF'\n{}PODCTL_EOF",
            manifest(password)
        ))
    };
    write(K_PASSWORD)?;
    let dry = g.ok("podctl apply --dry-run /root/pods/skube.yaml")?;
    g.ok(&apply_cmd("/root/pods/skube.yaml"))?;
    let app = wait_pid(g, "sleep 1821")?;
    // By env and as files of user 1000, with their modes.
    let env = g.ok(&format!("tr '\\0' '\\n' < /proc/{app}/environ"))?;
    expect(
        env.lines().any(|l| l == format!("PASSWORD={K_PASSWORD}")),
        || format!("app's environment lacks PASSWORD: {env}"),
    )?;
    // (The host's file of each: its name, `NAME@INDEX`, and its mode; the
    // owner is user 1000 as mapped, who alone reads a 0400 file.)
    let dir = "/run/podctl/pods/skube/secrets/app";
    for (file, value, host, mode) in [
        ("/etc/creds/password", K_PASSWORD, "skube.password@0", "400"),
        ("/etc/creds/sub/token", K_TOKEN, "skube.token@1", "440"),
    ] {
        let seen = g.ok(&format!("podctl exec skube app -- cat {file}"))?;
        expect(seen == value, || format!("{file}: {seen:?}"))?;
        let st = g.ok(&format!("stat -c '%a' {dir}/{host}"))?;
        expect(st.trim() == mode, || format!("{dir}/{host}: mode {st:?}"))?;
    }
    // Stored encrypted, by name; in plaintext in no file of podctl's or systemd's.
    let ls = g.ok("podctl secret ls")?;
    expect(
        ls.contains("skube.password") && ls.contains("skube.token"),
        || format!("secret ls:\n{ls}"),
    )?;
    let stored = g.ok("cat /etc/podctl/pods/skube.toml")?;
    expect(stored.contains("skube.password"), || {
        format!("the stored pod does not name its secret:\n{stored}")
    })?;
    for value in [K_PASSWORD, K_TOKEN] {
        let out = g.sh(&format!(
            "grep -rlsF -- '{value}' /etc/podctl /var/lib/podctl /etc/systemd 2>/dev/null; true"
        ));
        expect(out.stdout.trim().is_empty(), || {
            format!("{value} is in plaintext in {}", out.stdout)
        })?;
    }
    let generated = g.ok("podctl kube generate skube")?;
    let mut outputs = vec![
        ("apply --dry-run", dry),
        ("kube generate", generated.clone()),
    ];
    outputs.push(("secret ls", ls));
    for (cmd, out) in &outputs {
        expect(!out.contains(K_PASSWORD) && !out.contains(K_TOKEN), || {
            format!("{cmd} prints a value:\n{out}")
        })?;
    }
    expect(generated.contains("secretKeyRef"), || {
        format!("kube generate names no Secret:\n{generated}")
    })?;
    // The same values again: nothing restarts.
    let again = g.ok(&apply_cmd("/root/pods/skube.yaml"))?;
    expect(
        again.contains("unchanged") && wait_pid(g, "sleep 1821")? == app,
        || format!("a second apply of the same Secret: {again}"),
    )?;
    // A new value: replaced, and the pod restarts to see it.
    write(K_CHANGED)?;
    let changed = g.ok(&apply_cmd("/root/pods/skube.yaml"))?;
    expect(changed.contains("recreated"), || {
        format!("apply of a new value: {changed}")
    })?;
    let app2 = wait_pid(g, "sleep 1821")?;
    expect(app2 != app, || "the pod did not restart".into())?;
    let seen = g.ok("podctl exec skube app -- cat /etc/creds/password")?;
    expect(seen == K_CHANGED, || format!("after the change: {seen:?}"))?;
    let out = g.sh(&format!(
        "grep -rlsF -- '{K_CHANGED}' /etc/podctl /var/lib/podctl /etc/systemd 2>/dev/null; true"
    ));
    expect(out.stdout.trim().is_empty(), || {
        format!("the new value is in plaintext in {}", out.stdout)
    })?;
    g.ok("podctl down --purge skube")?;
    g.ok("podctl secret rm skube.password && podctl secret rm skube.token")
        .map(|_| ())
}

const BOOT_POD: &str = "scboot";
const BOOT_SECRET: &str = "scboot-db";
const BOOT_NOTE: &str = "/var/lib/podctl-scboot-boot";

/// The value as root (app) and user 1000 (side) read it at
/// /run/secrets/NAME, and app's PASSWORD.
fn values_inside(g: &Guest) -> Result<(), String> {
    let app = wait_pid(g, "sleep 1851")?;
    wait_pid(g, "sleep 1852")?;
    for c in ["app", "side"] {
        let file = g.ok(&format!(
            "podctl exec {BOOT_POD} {c} -- cat /run/secrets/{BOOT_SECRET}"
        ))?;
        expect(file == VALUE, || {
            format!("{c}'s /run/secrets/{BOOT_SECRET}: {file:?}")
        })?;
    }
    let env = g.ok(&format!("tr '\\0' '\\n' < /proc/{app}/environ"))?;
    expect(
        env.lines().any(|l| l == format!("PASSWORD={VALUE}")),
        || format!("app's environment lacks PASSWORD: {env}"),
    )?;
    let at_rest = holding(g, "/etc/podctl /var/lib/podctl /etc/systemd")?;
    expect(at_rest.is_empty(), || {
        format!("the value is in plaintext in {at_rest:?}")
    })
}

/// Phase 1: the secret made, the pod applied with it (file and env).
fn secrets_before_reboot(g: &Guest) -> Result<(), String> {
    image_pods::setup(g)?;
    g.ok(&format!(
        "printf %s '{VALUE}' | podctl secret create {BOOT_SECRET} -"
    ))?;
    let path = write_pod(
        g,
        BOOT_POD,
        &pod_tagged(BOOT_POD, BOOT_SECRET, (1851, 1852)),
    )?;
    g.ok(&apply_cmd(&path))?;
    values_inside(g)?;
    g.ok(&format!(
        "cat /proc/sys/kernel/random/boot_id > {BOOT_NOTE}"
    ))
    .map(|_| ())
}

/// Phase 2: a new boot (no registry), the pod back with the value, which
/// is still nowhere on disk in plaintext.
fn secrets_after_reboot(g: &Guest) -> Result<(), String> {
    if g.ok(&format!("cat {BOOT_NOTE}"))? == g.ok("cat /proc/sys/kernel/random/boot_id")? {
        return Err("phase 2 ran in the same boot".into());
    }
    g.wait_property(
        &format!("pod@{BOOT_POD}.service"),
        "ActiveState",
        "active",
        Duration::from_secs(90),
    )?;
    values_inside(g)?;
    g.ok(&format!("podctl down --purge {BOOT_POD}"))?;
    g.ok(&format!("podctl secret rm {BOOT_SECRET}")).map(|_| ())
}
