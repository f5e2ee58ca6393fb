//! A pod's groups and an emptyDir's sizeLimit on a real systemd, from
//! Kubernetes manifests. `fsGroup`: in a pod with a user namespace of its
//! own, the emptyDir (a scratch volume on disk) is the group's through the
//! mapping and the claim's named volume (idmapped) is the group's on disk
//! as written, setgid, so the files the container's user (1000:3000)
//! makes in them are the group's, seen from the host with `stat` and in the
//! container with `id` and `stat`; the processes have fsGroup and
//! supplementalGroups. An on-disk emptyDir past its sizeLimit: the pod is
//! evicted, the reason in `podctl status` and an `evicted` event in
//! `podctl events`, and it is not started again.

use super::common::{assert_gone, status, wait_pid};
use super::image_pods::{self, APP, apply_cmd};
use crate::rig::{Guest, TrialFn, wait_for};
use std::time::Duration;

pub const TRIALS: &[(&str, TrialFn)] = &[
    (
        "kube_groups::fs_group_is_the_volumes_group_and_the_processes",
        fs_group_is_the_volumes_group_and_the_processes,
    ),
    (
        "kube_groups::an_emptydir_past_its_size_limit_evicts_the_pod",
        an_emptydir_past_its_size_limit_evicts_the_pod,
    ),
];

fn expect(cond: bool, msg: impl FnOnce() -> String) -> Result<(), String> {
    if cond { Ok(()) } else { Err(msg()) }
}

fn write_manifest(g: &Guest, name: &str, text: &str) -> Result<String, String> {
    let path = format!("/root/pods/{name}.yaml");
    g.ok(&format!(
        "mkdir -p /root/pods && cat > {path} <<'PODCTL_EOF'\n{text}PODCTL_EOF"
    ))?;
    Ok(path)
}

/// The documentation's security-context example, with the bench's image,
/// a claim besides the emptyDir, and a script that writes in both.
fn groups_manifest() -> String {
    format!(
        r#"apiVersion: v1
kind: Pod
metadata:
  name: kgrp
  annotations:
    podctl.io/network: none
spec:
  hostUsers: false
  securityContext:
    runAsUser: 1000
    runAsGroup: 3000
    fsGroup: 2000
    supplementalGroups: [4000]
  volumes:
  - name: sec-ctx-vol
    emptyDir: {{}}
  - name: claim
    persistentVolumeClaim:
      claimName: kgrpvol
  containers:
  - name: sec-ctx-demo
    image: {APP}
    args: ["echo x > /data/demo/file; echo y > /claim/file; busybox mkdir /claim/dir; exec sleep 1841"]
    volumeMounts:
    - name: sec-ctx-vol
      mountPath: /data/demo
    - name: claim
      mountPath: /claim
    securityContext:
      allowPrivilegeEscalation: false
"#
    )
}

fn fs_group_is_the_volumes_group_and_the_processes(g: &Guest) -> Result<(), String> {
    image_pods::setup(g)?;
    // The guest's /var/lib is an overlay, which cannot be mounted idmapped:
    // the named volume is a tmpfs (as the userns trials' volumes), with a
    // file the host's root left there before.
    let vol = "/var/lib/podctl/volumes/kgrpvol";
    let _ = g.sh(&format!("podctl down --purge kgrp; umount {vol}"));
    g.ok(&format!(
        "mkdir -p {vol} && mount -t tmpfs -o mode=0755 tmpfs {vol} && echo old > {vol}/old && chmod 0600 {vol}/old"
    ))?;
    let path = write_manifest(g, "kgrp", &groups_manifest())?;
    let out = g.ok(&apply_cmd(&path))?;
    expect(out.contains("kgrp: created"), || {
        format!("apply said:\n{out}")
    })?;
    wait_pid(g, "sleep 1841")?;
    // In the container: the user, its group, fsGroup and supplementalGroups.
    let id = g.ok("podctl exec kgrp sec-ctx-demo -- id")?;
    let groups = id.split_once("groups=").map_or("", |(_, g)| g);
    let has = |g: &str| groups.split(',').any(|x| x.split('(').next() == Some(g));
    expect(
        id.starts_with("uid=1000") && id.contains(" gid=3000") && has("2000") && has("4000"),
        || format!("id in the container: {id}"),
    )?;
    let scratch = "/var/lib/podctl/scratch/kgrp/sec-ctx-vol";
    wait_for(Duration::from_secs(20), "the container's files", || {
        Ok(
            g.sh(&format!("test -s {scratch}/file && test -d {vol}/dir"))
                .success(),
        )
    })?;
    let inside = g.ok(
        "podctl exec kgrp sec-ctx-demo -- busybox stat -c '%n %g %a' /data/demo /data/demo/file /claim /claim/file /claim/dir /claim/old",
    )?;
    let want = "/data/demo 2000 2775\n/data/demo/file 2000 644\n/claim 2000 2775\n\
                /claim/file 2000 644\n/claim/dir 2000 2755\n/claim/old 2000 660";
    expect(inside == want, || {
        format!("in the container:\n{inside}\nexpected:\n{want}")
    })?;
    // From the host: the emptyDir through the pod's range, the claim as written.
    let gid = status(g, "kgrp")?["sandbox"]["userns"]["gid"]
        .as_u64()
        .ok_or("no userns range in podctl status")?;
    let host = g.ok(&format!(
        "stat -c '%g %a' {scratch} {scratch}/file {vol} {vol}/file {vol}/old"
    ))?;
    let want = format!(
        "{s} 2775\n{s} 644\n2000 2775\n2000 644\n2000 660",
        s = gid + 2000
    );
    expect(host == want, || {
        format!("on the host:\n{host}\nexpected:\n{want}")
    })?;
    // `kube generate` writes the groups back: nothing to do.
    g.ok("podctl kube generate kgrp > /root/pods/kgrp-generated.yaml")?;
    let diff = g.ok(&apply_cmd("/root/pods/kgrp-generated.yaml").replace(" apply ", " diff "))?;
    expect(diff.contains("unchanged"), || {
        format!("the generated manifest differs from the running pod:\n{diff}")
    })?;
    g.ok(&format!("podctl down --purge kgrp && umount {vol}"))?;
    assert_gone(g, "kgrp", &["sleep 1841"])
}

fn an_emptydir_past_its_size_limit_evicts_the_pod(g: &Guest) -> Result<(), String> {
    image_pods::setup(g)?;
    let _ = g.sh("podctl down --purge kevict");
    let manifest = format!(
        r#"apiVersion: v1
kind: Pod
metadata:
  name: kevict
  annotations:
    podctl.io/network: none
spec:
  containers:
  - image: {APP}
    name: test-container
    args: ["sleep 2; busybox dd if=/dev/zero of=/cache/big bs=1024 count=3072; exec sleep 1851"]
    securityContext:
      runAsUser: 0
    volumeMounts:
    - mountPath: /cache
      name: cache-volume
  volumes:
  - name: cache-volume
    emptyDir:
      sizeLimit: 1Mi
"#
    );
    let path = write_manifest(g, "kevict", &manifest)?;
    g.ok(&apply_cmd(&path))?;
    let reason = "scratch volume cache-volume holds 3";
    wait_for(Duration::from_secs(60), "kevict evicted", || {
        Ok(status(g, "kevict").is_ok_and(|s| s["phase"] == "evicted"))
    })?;
    let st = status(g, "kevict")?;
    let why = st["reason"].as_str().unwrap_or_default();
    expect(
        why.starts_with(reason) && why.ends_with("over its limit of 1M"),
        || format!("podctl status --json: {st:#}"),
    )?;
    let human = g.ok("podctl status kevict")?;
    expect(human.contains(&format!("evicted: {why}")), || {
        format!("podctl status:\n{human}")
    })?;
    let events = g.ok("podctl events kevict")?;
    expect(
        events
            .lines()
            .any(|l| l.contains("kevict/test-container evicted") && l.contains(why)),
        || format!("podctl events:\n{events}"),
    )?;
    // Stopped, and not started again.
    wait_for(Duration::from_secs(20), "kevict's container gone", || {
        Ok(!g.sh("pgrep -xf 'sleep 1851'").success())
    })?;
    std::thread::sleep(Duration::from_secs(3));
    let active = g.ok("systemctl show -P ActiveState pod@kevict.service")?;
    expect(active != "active" && active != "activating", || {
        format!("pod@kevict.service is {active} after its eviction")
    })?;
    expect(!g.sh("pgrep -xf 'sleep 1851'").success(), || {
        "kevict runs again after its eviction".into()
    })?;
    g.ok("podctl down --purge kevict").map(|_| ())
}
