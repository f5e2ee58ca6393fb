//! Kubernetes projected volumes and DNS policies on a real systemd: a
//! manifest's projected volume (a Secret's key, a ConfigMap's key, the
//! Downward API's labels, namespace and limits) is one directory in a
//! user-namespaced image container, each file with its content, the
//! secret's value in no file of the host's but its memory-backed one; the
//! YAML `kube generate` makes of it plans the same. A `dnsPolicy: None`
//! pod's /etc/resolv.conf is exactly its dnsConfig, on a bridge and on the
//! host's network (where the host's own file stays as it is).

use super::common::{assert_gone, wait_pid};
use super::image_pods::{self, APP, apply_cmd};
use crate::rig::{Guest, TrialFn};

pub const TRIALS: &[(&str, TrialFn)] = &[
    (
        "kube_projected::a_projected_volume_holds_its_secret_config_and_downward_files",
        a_projected_volume_holds_its_secret_config_and_downward_files,
    ),
    (
        "kube_projected::dns_policy_none_is_exactly_the_dns_config",
        dns_policy_none_is_exactly_the_dns_config,
    ),
];

fn expect(cond: bool, msg: impl FnOnce() -> String) -> Result<(), String> {
    if cond { Ok(()) } else { Err(msg()) }
}

/// The Secret's value: found nowhere else by chance.
const USER: &str = "Kp5-projected-user-31ad";

fn projected_manifest() -> String {
    format!(
        r#"apiVersion: v1
kind: Secret
metadata:
  name: kproj-secret
stringData:
  username: {USER}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: kproj-config
data:
  config: log_level=info-7731
---
apiVersion: v1
kind: Pod
metadata:
  name: kproj
  namespace: trial
  labels:
    app: kproj
    tier: "7732"
  annotations:
    podctl.io/network: none
spec:
  containers:
  - name: app
    image: {APP}
    args: ["exec sleep 1831"]
    resources:
      limits:
        cpu: "1"
        memory: 64Mi
    securityContext:
      runAsUser: 1000
      runAsGroup: 1000
    volumeMounts:
    - name: all-in-one
      mountPath: /projected-volume
      readOnly: true
  volumes:
  - name: all-in-one
    projected:
      sources:
      - secret:
          name: kproj-secret
          items:
          - key: username
            path: my-group/my-username
      - downwardAPI:
          items:
          - path: labels
            fieldRef:
              fieldPath: metadata.labels
          - path: namespace
            fieldRef:
              fieldPath: metadata.namespace
          - path: cpu_limit
            resourceFieldRef:
              containerName: app
              resource: limits.cpu
          - path: mem_limit
            resourceFieldRef:
              containerName: app
              resource: limits.memory
              divisor: 1Mi
      - configMap:
          name: kproj-config
          items:
          - key: config
            path: my-group/my-config
"#
    )
}

fn a_projected_volume_holds_its_secret_config_and_downward_files(g: &Guest) -> Result<(), String> {
    image_pods::setup(g)?;
    // The guest's /var/lib is an overlay, which cannot be mounted idmapped:
    // the pod's files directory is a tmpfs (as the userns trials' volumes).
    let files = "/var/lib/podctl/kube/kproj";
    let _ = g.sh(&format!(
        "podctl down kproj; umount {files}; podctl down --purge kproj; podctl secret rm kproj-secret.username"
    ));
    g.ok(&format!(
        "mkdir -p {files} && mount -t tmpfs -o mode=0700 tmpfs {files}"
    ))?;
    g.ok(&format!(
        "mkdir -p /root/pods && cat > /root/pods/kproj.yaml <<'PODCTL_EOF'\n{}PODCTL_EOF",
        projected_manifest()
    ))?;
    let out = g.ok(&apply_cmd("/root/pods/kproj.yaml"))?;
    expect(out.contains("kproj: created"), || {
        format!("apply said:\n{out}")
    })?;
    let app = wait_pid(g, "sleep 1831")?;
    // Every source's files, with their content, seen by user 1000 inside.
    for (file, want) in [
        ("my-group/my-username", USER),
        ("my-group/my-config", "log_level=info-7731"),
        ("labels", "app=\"kproj\"\ntier=\"7732\""),
        ("namespace", "trial"),
        ("cpu_limit", "1"),
        ("mem_limit", "64"),
    ] {
        let seen = g.ok(&format!(
            "podctl exec kproj app -- cat /projected-volume/{file}"
        ))?;
        expect(seen == want, || {
            format!("/projected-volume/{file}: {seen:?}, expected {want:?}")
        })?;
    }
    let ls = g.ok("podctl exec kproj app -- ls /projected-volume/my-group")?;
    expect(
        ls.split_whitespace().eq(["my-config", "my-username"]),
        || format!("ls /projected-volume/my-group: {ls:?}"),
    )?;
    // The directory is read-only in the container.
    let write = g.sh("podctl exec kproj app -- touch /projected-volume/new");
    expect(!write.success(), || {
        "a file could be made in the projected volume".into()
    })?;
    // The secret's value is in no file of podctl's: its mount point there is empty.
    let point = "/var/lib/podctl/kube/kproj/all-in-one/my-group/my-username";
    let st = g.ok(&format!("stat -c '%s %a' {point}"))?;
    // (Nor is the secret mounted there on the host: the container's mounts
    // stay the container's.)
    let mounts = g.sh("grep -E 'kproj|idmapped' /proc/self/mountinfo").stdout;
    expect(st == "0 0", || {
        format!("{point}: size and mode {st:?}; the host's mounts:\n{mounts}")
    })?;
    let out = g.sh(&format!(
        "grep -rlsF -- '{USER}' /etc/podctl /var/lib/podctl /etc/systemd 2>/dev/null; true"
    ));
    expect(out.stdout.trim().is_empty(), || {
        format!("{USER} is in plaintext in {}", out.stdout)
    })?;
    // `kube generate` writes it as the directory and a secret volume: the
    // same plan, nothing to do.
    g.ok("podctl kube generate kproj > /root/pods/kproj-generated.yaml")?;
    let diff = g.ok(&apply_cmd("/root/pods/kproj-generated.yaml").replace(" apply ", " diff "))?;
    expect(
        diff.contains("unchanged") && !diff.contains("restart"),
        || {
            format!(
                "the generated manifest differs from the running pod:\n{diff}\n{}",
                g.ok("cat /root/pods/kproj-generated.yaml")
                    .unwrap_or_default()
            )
        },
    )?;
    expect(wait_pid(g, "sleep 1831")? == app, || {
        "the pod restarted".into()
    })?;
    g.ok(&format!(
        "podctl down kproj && umount {files} && podctl down --purge kproj"
    ))?;
    g.ok("podctl secret rm kproj-secret.username")?;
    assert_gone(g, "kproj", &["sleep 1831"])
}

/// The resolv.conf of the documentation's dnsPolicy None example.
const RESOLV: &str = "# generated by podctl\nsearch ns1.svc.cluster-domain.example my.dns.search.suffix\noptions ndots:2 edns0\nnameserver 192.0.2.1";

fn dns_manifest(name: &str, sleep: u32, host_network: bool) -> String {
    let host = if host_network {
        "  hostNetwork: true\n"
    } else {
        ""
    };
    format!(
        r#"apiVersion: v1
kind: Pod
metadata:
  name: {name}
  annotations:
    podctl.io/host-binaries: test
spec:
{host}  containers:
    - name: test
      command: [sleep, "{sleep}"]
  dnsPolicy: "None"
  dnsConfig:
    nameservers:
      - 192.0.2.1
    searches:
      - ns1.svc.cluster-domain.example
      - my.dns.search.suffix
    options:
      - name: ndots
        value: "2"
      - name: edns0
"#
    )
}

fn dns_policy_none_is_exactly_the_dns_config(g: &Guest) -> Result<(), String> {
    let host_before = g.ok("cat /etc/resolv.conf")?;
    for (name, sleep, host_network) in [("kdns", 1841, false), ("kdnsh", 1842, true)] {
        let _ = g.sh(&format!("podctl down --purge {name}"));
        g.ok(&format!(
            "mkdir -p /root/pods && cat > /root/pods/{name}.yaml <<'PODCTL_EOF'\n{}PODCTL_EOF",
            dns_manifest(name, sleep, host_network)
        ))?;
        let out = g.ok(&format!("podctl apply /root/pods/{name}.yaml"))?;
        expect(out.contains(&format!("{name}: created")), || {
            format!("apply said:\n{out}")
        })?;
        wait_pid(g, &format!("sleep {sleep}"))?;
        let seen = g.ok(&format!("podctl exec {name} test -- cat /etc/resolv.conf"))?;
        expect(seen == RESOLV, || {
            format!("{name}: /etc/resolv.conf is\n{seen}\nexpected\n{RESOLV}")
        })?;
        g.ok(&format!("podctl down --purge {name}"))?;
        assert_gone(g, name, &[&format!("sleep {sleep}")])?;
        // Its files go with the pod.
        expect(
            !g.sh(&format!("test -e /run/podctl/net/{name}")).success(),
            || format!("/run/podctl/net/{name} is left after down"),
        )?;
    }
    let host_after = g.ok("cat /etc/resolv.conf")?;
    expect(host_after == host_before, || {
        format!("the host's resolv.conf changed:\n{host_before}\n---\n{host_after}")
    })
}
