//! Hostile Kubernetes manifests on a real systemd: ConfigMap and Secret
//! keys and volume names that name paths outside the volume's directory
//! (absolute, `../`), mounted or not, are refused by `validate` at their
//! line and column and make `apply` write and delete nothing; an apply that
//! fails its checks writes no file; a Secret's values appear in no output
//! and no file others can read.

use super::common::*;
use crate::rig::{Guest, TrialFn};

pub const TRIALS: &[(&str, TrialFn)] = &[
    (
        "hostile_manifest::escaping_names_write_and_delete_nothing",
        escaping_names_write_and_delete_nothing,
    ),
    (
        "hostile_manifest::failed_checks_write_no_file",
        failed_checks_write_no_file,
    ),
    ("hostile_manifest::secrets_stay_secret", secrets_stay_secret),
];

/// The directories a hostile manifest aims at, each with a canary file.
const TARGETS: [&str; 4] = [
    "/root/hm-abs-volume",
    "/root/hm-rel-volume",
    "/root/hm-abs-key",
    "/root/hm-rel-key",
];

/// From `/var/lib/podctl/kube/POD/` up to `/`.
const UP: &str = "../../../../../";

/// One manifest per way out: (file name, the hostile name, the manifest).
fn escaping() -> Vec<(&'static str, String, String)> {
    let pod = |name: &str, mount: bool, volume: &str, source: &str| {
        let mounts = if mount {
            format!("    volumeMounts:\n    - name: \"{volume}\"\n      mountPath: /hm\n")
        } else {
            String::new()
        };
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  annotations:\n    podctl.io/host-binaries: app\nspec:\n  containers:\n  - name: app\n    command: [/bin/sleep, \"7790\"]\n{mounts}  volumes:\n  - name: \"{volume}\"\n{source}"
        )
    };
    let config_map = |key: &str| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hm\ndata:\n  \"{key}\": planted\n  ok: fine\n---\n"
        )
    };
    let secret = |key: &str| {
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: hm\nstringData:\n  \"{key}\": planted\n---\n"
        )
    };
    let cm_source = "    configMap:\n      name: hm\n";
    let secret_source = "    secret:\n      secretName: hm\n";
    vec![
        (
            "hm-abs-volume.yaml",
            "/root/hm-abs-volume".into(),
            config_map("x") + &pod("hmabsvol", false, "/root/hm-abs-volume", cm_source),
        ),
        (
            "hm-rel-volume.yaml",
            format!("{UP}root/hm-rel-volume"),
            secret("x")
                + &pod(
                    "hmrelvol",
                    true,
                    &format!("{UP}root/hm-rel-volume"),
                    secret_source,
                ),
        ),
        (
            "hm-abs-key.yaml",
            "/root/hm-abs-key/planted".into(),
            config_map("/root/hm-abs-key/planted") + &pod("hmabskey", true, "conf", cm_source),
        ),
        (
            "hm-rel-key.yaml",
            format!("{UP}{UP}root/hm-rel-key/planted"),
            secret(&format!("{UP}{UP}root/hm-rel-key/planted"))
                + &pod("hmrelkey", false, "conf", secret_source),
        ),
    ]
}

/// Whether a diagnostic `FILE:LINE:COL: ...` points at `name` (quoted or
/// not) in `manifest`.
fn points_at(diagnostic: &str, file: &str, manifest: &str, name: &str) -> bool {
    let Some(rest) = diagnostic.strip_prefix(&format!("{file}:")) else {
        return false;
    };
    let mut parts = rest.splitn(3, ':');
    let (Some(Ok(line)), Some(Ok(col))) = (
        parts.next().map(str::parse::<usize>),
        parts.next().map(str::parse::<usize>),
    ) else {
        return false;
    };
    let text = manifest
        .lines()
        .nth(line.wrapping_sub(1))
        .unwrap_or_default();
    let at: String = text.chars().skip(col.wrapping_sub(1)).collect();
    at.trim_start_matches('"').starts_with(name)
}

/// Each target holds its canary and nothing else.
fn canaries_intact(g: &Guest) -> Result<(), String> {
    for t in TARGETS {
        let listing = g.ok(&format!("ls -A {t}"))?;
        if listing.trim() != "canary" {
            return Err(format!(
                "{t} was changed by a manifest: it holds {listing:?} (only `canary` was there)"
            ));
        }
    }
    Ok(())
}

fn escaping_names_write_and_delete_nothing(g: &Guest) -> Result<(), String> {
    for t in TARGETS {
        g.ok(&format!("mkdir -p {t} && echo keep > {t}/canary"))?;
    }
    for (file, hostile, manifest) in escaping() {
        let path = format!("/root/pods/{file}");
        g.ok(&format!(
            "mkdir -p /root/pods && cat > {path} <<'PODCTL_EOF'\n{manifest}PODCTL_EOF"
        ))?;
        let v = g.sh(&format!("podctl validate {path}"));
        if v.success()
            || !v
                .stderr
                .lines()
                .any(|l| points_at(l, &path, &manifest, &hostile))
        {
            return Err(format!(
                "podctl validate {file} should refuse {hostile:?} at its line and column (exit {}):\n{}{}\n{manifest}",
                v.status, v.stdout, v.stderr
            ));
        }
        for cmd in ["apply", "apply --dry-run", "diff"] {
            let out = g.sh(&format!("podctl {cmd} {path}"));
            if out.success() {
                return Err(format!(
                    "podctl {cmd} {file} succeeded:\n{}{}",
                    out.stdout, out.stderr
                ));
            }
        }
        canaries_intact(g).map_err(|e| format!("after {file}: {e}"))?;
    }
    for p in ["hmabsvol", "hmrelvol", "hmabskey", "hmrelkey"] {
        if g.sh(&format!("test -e /var/lib/podctl/kube/{p}")).success() {
            return Err(format!("a refused manifest left /var/lib/podctl/kube/{p}"));
        }
    }
    Ok(())
}

/// A manifest whose checks fail (a hostPath that does not exist): apply
/// refuses it and its configMap files are not written.
const FAILS_CHECKS: &str = r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: hmcheck
data:
  greeting: hello
---
apiVersion: v1
kind: Pod
metadata:
  name: hmcheck
  annotations:
    podctl.io/host-binaries: app
spec:
  containers:
  - name: app
    command: [/bin/sleep, "7791"]
    volumeMounts:
    - name: conf
      mountPath: /conf
    - name: missing
      mountPath: /missing
  volumes:
  - name: conf
    configMap:
      name: hmcheck
  - name: missing
    hostPath:
      path: /nonexistent/hm-7791
"#;

fn failed_checks_write_no_file(g: &Guest) -> Result<(), String> {
    g.ok(&format!(
        "mkdir -p /root/pods && cat > /root/pods/hmcheck.yaml <<'PODCTL_EOF'\n{FAILS_CHECKS}PODCTL_EOF"
    ))?;
    let out = g.sh("podctl apply /root/pods/hmcheck.yaml");
    if out.success() || !out.stderr.contains("/nonexistent/hm-7791") {
        return Err(format!(
            "apply should refuse the missing hostPath:\n{}{}",
            out.stdout, out.stderr
        ));
    }
    if g.sh("test -e /var/lib/podctl/kube/hmcheck").success() {
        let files = g.sh("find /var/lib/podctl/kube/hmcheck").stdout;
        return Err(format!(
            "the refused apply wrote the configMap's files:\n{files}"
        ));
    }
    if g.sh("test -e /etc/podctl/pods/hmcheck.toml").success() {
        return Err("the refused apply stored the pod".into());
    }
    Ok(())
}

/// Secret values that must appear in no output.
const SECRET_VALUES: [&str; 3] = ["hm-b64-secret-7792", "hm-plain-secret-7792", "hm-from-7792"];

/// A Secret given as env (`secretKeyRef`, `envFrom`) and as a volume. The
/// app checks from inside that it got them (against the values reversed:
/// the manifest's command holds no secret), and says only yes or no;
/// `$(VAR)` of a secret variable stays as written (its value is never put
/// into the pod file).
const SECRET_POD: &str = r#"apiVersion: v1
kind: Secret
metadata:
  name: hmsecret
data:
  password: aG0tYjY0LXNlY3JldC03Nzky
stringData:
  token: hm-plain-secret-7792
---
apiVersion: v1
kind: Secret
metadata:
  name: hmfrom
stringData:
  FROM_SECRET: hm-from-7792
---
apiVersion: v1
kind: Pod
metadata:
  name: hmsecret
  annotations:
    podctl.io/host-binaries: app
spec:
  containers:
  - name: app
    command: [/bin/sh, -c]
    args: ['r() { printf %s "$1" | rev; }; if test "$(r "$PASSWORD")" = 2977-terces-46b-mh && test "$(r "$FROM_SECRET")" = 2977-morf-mh && test "$DERIVED" = "x-\$(TOKEN)" && test "$(rev /sec/token)" = 2977-terces-nialp-mh; then echo SECRETS-OK; else echo SECRETS-BAD; fi; echo END; exec sleep 7792']
    envFrom:
    - secretRef:
        name: hmfrom
    env:
    - name: PASSWORD
      valueFrom:
        secretKeyRef:
          name: hmsecret
          key: password
    - name: TOKEN
      valueFrom:
        secretKeyRef:
          name: hmsecret
          key: token
    - name: DERIVED
      value: x-$(TOKEN)
    - name: PLAIN
      value: visible-7792
    volumeMounts:
    - name: sec
      mountPath: /sec
  terminationGracePeriodSeconds: 2
  volumes:
  - name: sec
    secret:
      secretName: hmsecret
"#;

fn no_secret_in(what: &str, out: &crate::rig::Output) -> Result<(), String> {
    for s in SECRET_VALUES {
        if out.stdout.contains(s) || out.stderr.contains(s) {
            return Err(format!(
                "{what} shows the secret value {s}:\n{}{}",
                out.stdout, out.stderr
            ));
        }
    }
    Ok(())
}

fn secrets_stay_secret(g: &Guest) -> Result<(), String> {
    let path = "/root/pods/hmsecret.yaml";
    g.ok(&format!(
        "mkdir -p /root/pods && cat > {path} <<'PODCTL_EOF'\n{SECRET_POD}PODCTL_EOF"
    ))?;
    let before = [
        format!("podctl validate {path}"),
        format!("podctl validate --output json {path}"),
        format!("podctl apply --dry-run {path}"),
        format!("podctl apply --dry-run --output json {path}"),
        // Not applied yet: a difference (exit 1, as kubectl diff).
        format!("podctl diff {path}; test $? -eq 1"),
        format!("podctl kube generate {path}"),
    ];
    for cmd in &before {
        let out = g.sh(cmd);
        if !out.success() {
            return Err(format!("{cmd} failed:\n{}{}", out.stdout, out.stderr));
        }
        no_secret_in(cmd, &out)?;
    }
    // The plain value is shown: redaction is of secrets only.
    if !g
        .ok(&format!("podctl apply --dry-run {path}"))?
        .contains("visible-7792")
    {
        return Err("apply --dry-run hides a value that is no secret".into());
    }
    let out = g.sh(&format!("podctl apply {path}"));
    if !out.success() {
        return Err(format!("apply failed:\n{}{}", out.stdout, out.stderr));
    }
    no_secret_in("podctl apply", &out)?;
    let log = super::confined::journal_until(g, "hmsecret", "app", "END")?;
    if !log.contains("SECRETS-OK") {
        return Err(format!("the container did not get its secrets:\n{log}"));
    }
    let after = [
        format!("podctl diff {path}"),
        "podctl kube generate hmsecret".to_string(),
        "podctl status hmsecret".to_string(),
        "podctl status hmsecret --json".to_string(),
        "podctl inspect hmsecret".to_string(),
        "podctl inspect hmsecret --output json".to_string(),
        "podctl ps".to_string(),
    ];
    for cmd in &after {
        let out = g.sh(cmd);
        if !out.success() {
            return Err(format!("{cmd} failed:\n{}{}", out.stdout, out.stderr));
        }
        no_secret_in(cmd, &out)?;
    }
    // On disk: no plaintext where podctl or systemd keep files; the
    // stored pod file names its secrets (SECRET.KEY), encrypted in the
    // store. In memory-backed files, none can be read by another user
    // than root (its mode, or a directory on its way, keeps them out).
    // The check can tell: nobody reads a public file, and the container's
    // secret files are found holding the secret.
    for s in SECRET_VALUES {
        let holders = g.sh(&format!(
            "grep -rlF -- '{s}' /etc/podctl /var/lib/podctl /etc/systemd 2>/dev/null; true"
        ));
        if !holders.stdout.trim().is_empty() {
            return Err(format!("{s} is in plaintext on disk: {}", holders.stdout));
        }
    }
    let stored = g.ok("cat /etc/podctl/pods/hmsecret.toml")?;
    if !stored.contains("hmsecret.password") || !stored.contains("hmfrom.FROM_SECRET") {
        return Err(format!(
            "the stored pod file does not name its secrets:\n{stored}"
        ));
    }
    let ls = g.ok("ls /etc/podctl/credstore.encrypted")?;
    if !ls.contains("hmsecret.token") {
        return Err(format!("the secrets are not in the store: {ls}"));
    }
    g.ok("setpriv --reuid=65534 --regid=65534 --clear-groups cat /etc/hostname")?;
    let holders = g
        .sh("grep -rlF -- hm-plain-secret-7792 /run/podctl 2>/dev/null; true")
        .stdout;
    if !holders.contains("/run/podctl/pods/hmsecret/secrets/app/") {
        return Err(format!(
            "the container's secret files do not hold it: {holders}"
        ));
    }
    for s in SECRET_VALUES {
        let readable = g.ok(&format!(
            "grep -rlF -- '{s}' /etc/podctl /run/podctl /var/lib/podctl 2>/dev/null | while read -r f; do \
             if setpriv --reuid=65534 --regid=65534 --clear-groups cat \"$f\" >/dev/null 2>&1; then echo \"$f\"; fi; done"
        ))?;
        if !readable.trim().is_empty() {
            return Err(format!(
                "files holding the secret {s} can be read by user nobody:\n{readable}"
            ));
        }
    }
    let stored = g.ok("stat -c %a /etc/podctl/pods/hmsecret.toml")?;
    if stored.trim() != "600" {
        return Err(format!("the stored pod file has mode {stored}, not 600"));
    }
    let files = g.ok("find /run/podctl/pods/hmsecret/secrets/app -type f -printf '%m %p\\n'")?;
    if files.lines().count() != 2 || files.lines().any(|l| !l.starts_with("400 ")) {
        return Err(format!(
            "the secret volume's files should be 0400 (password, token):\n{files}"
        ));
    }
    g.ok("podctl down --purge hmsecret")?;
    g.ok("for s in hmsecret.password hmsecret.token hmfrom.FROM_SECRET; do podctl secret rm $s; done")?;
    assert_gone(g, "hmsecret", &["sleep 7792"])
}
