//! Podman 4.3 as the real peer of `podctl kube generate` and of a YAML
//! `podctl apply`, in the VM tier (Podman needs cgroup v2
//! controllers). The image is image_pods' `bench/web:1` (busybox httpd on
//! port 80), loaded into Podman from its OCI layout and tagged with the
//! registry name the manifests carry (podctl pulls it from the bench's
//! registry, Podman finds it in its store). The VM has no network card: both peers run their pods
//! on a bridge of their own (netavark) and publish the port on the VM's
//! loopback.

use super::common::assert_gone;
use super::image_pods::{self, WEB};
use super::image_rig::{NETNS, REGISTRIES_CONF};
use crate::rig::{Guest, VmTrial, wait_for};
use std::time::Duration;

pub const VM_TRIALS: &[VmTrial] = &[
    VmTrial::once(
        "kube_peer::podman_kube_play_runs_podctl_kube_generate",
        podman_plays_podctl_yaml,
    ),
    VmTrial::once(
        "kube_peer::podctl_applies_podman_kube_generate",
        podctl_applies_podman_yaml,
    ),
];

/// The page bench/web:1 serves.
const PAGE: &str = "hello from the image";
/// How long a published port may take to answer (TCG VM, first Podman run
/// builds its pause image).
const ANSWER_TIMEOUT: Duration = Duration::from_secs(60);

fn expect(cond: bool, msg: impl FnOnce() -> String) -> Result<(), String> {
    if cond { Ok(()) } else { Err(msg()) }
}

/// `podctl ARGS` where the registry is reachable (its namespace).
fn podctl_reg(args: &str) -> String {
    format!("ip netns exec {NETNS} env CONTAINERS_REGISTRIES_CONF={REGISTRIES_CONF} podctl {args}")
}

/// bench/web:1 in Podman's store under its registry name, from the OCI
/// layout image_pods built (once per boot).
fn podman_image(g: &Guest) -> Result<(), String> {
    image_pods::setup(g)?;
    g.ok(&format!(
        "podman image exists {WEB} && exit 0
         id=$(podman pull -q oci:/root/images/bench-web:1) && podman tag $id {WEB}"
    ))
    .map(|_| ())
}

/// The body of http://127.0.0.1:PORT/ once it answers.
fn answers(g: &Guest, port: u16, who: &str) -> Result<(), String> {
    let url = format!("http://127.0.0.1:{port}/");
    wait_for(ANSWER_TIMEOUT, &format!("{who} answering on {url}"), || {
        Ok(g.sh(&format!("curl -sf -m 2 {url}")).stdout.trim() == PAGE)
    })
    .map_err(|e| {
        format!(
            "{e} (curl: {:?})",
            g.sh(&format!("curl -sS -m 2 {url}")).stderr
        )
    })
}

/// Nothing answers on the port any more.
fn silent(g: &Guest, port: u16, after: &str) -> Result<(), String> {
    let out = g.sh(&format!("curl -sf -m 2 http://127.0.0.1:{port}/"));
    expect(!out.success(), || {
        format!("port {port} still answers after {after}: {}", out.stdout)
    })
}

/// A podctl pod file publishing port 28310 → `podctl kube generate` →
/// `podman kube play` of that YAML, unedited: Podman's pod answers there.
/// (That podctl runs what it generates is the round-trip tests' and the
/// container tier's part; not applying it here keeps the VM tier short.)
fn podman_plays_podctl_yaml(g: &Guest) -> Result<(), String> {
    const PORT: u16 = 28310;
    podman_image(g)?;
    let toml = format!(
        "name = \"kout\"\nnetwork = \"bridge\"\nports = [\"{PORT}:80\"]\n\
         [containers.web]\nimage = \"{WEB}\"\n"
    );
    g.ok(&format!(
        "mkdir -p /root/pods && cat > /root/pods/kout.toml <<'PODCTL_EOF'\n{toml}PODCTL_EOF"
    ))?;
    g.ok("podctl kube generate /root/pods/kout.toml > /root/pods/kout.yaml")?;
    let yaml = g.ok("cat /root/pods/kout.yaml")?;
    let play = g.sh("podman kube play /root/pods/kout.yaml");
    expect(play.success(), || {
        format!(
            "podman kube play of podctl's manifest failed ({}):\n{}{}\nmanifest:\n{yaml}",
            play.status, play.stdout, play.stderr
        )
    })?;
    let served = answers(g, PORT, "Podman's pod kout").map_err(|e| {
        format!(
            "{e}\nmanifest:\n{yaml}\n{}",
            g.sh("podman pod ps; podman ps -a; podman logs kout-web")
                .stdout
        )
    });
    // -t 0: busybox httpd as PID 1 ignores SIGTERM; no need to wait for it.
    let rm = g.sh("podman pod rm -f -t 0 kout");
    served?;
    expect(rm.success(), || {
        format!("podman pod rm kout: {}", rm.stderr)
    })?;
    silent(g, PORT, "podman pod rm")
}

/// A Podman pod publishing port 28311 → `podman kube generate` → `podctl
/// apply` of that YAML, unedited: podctl's pod answers there. (Podman's pod
/// is only created, not started: `kube generate` needs no more.)
fn podctl_applies_podman_yaml(g: &Guest) -> Result<(), String> {
    const PORT: u16 = 28311;
    podman_image(g)?;
    g.ok(&format!(
        "podman pod create --name kin -p {PORT}:80 >/dev/null && \
         podman create --pod kin --name web {WEB} >/dev/null && \
         mkdir -p /root/pods && podman kube generate kin > /root/pods/kin.yaml && \
         podman pod rm -f kin >/dev/null"
    ))?;
    let yaml = g.ok("cat /root/pods/kin.yaml")?;
    let apply = g.sh(&podctl_reg("apply /root/pods/kin.yaml"));
    expect(apply.success(), || {
        format!(
            "podctl apply of Podman's manifest failed ({}):\n{}{}\nmanifest:\n{yaml}",
            apply.status, apply.stdout, apply.stderr
        )
    })?;
    let served =
        answers(g, PORT, "podctl's pod kin").map_err(|e| format!("{e}\nmanifest:\n{yaml}"));
    g.ok("podctl down --purge kin")?;
    served?;
    assert_gone(g, "kin", &[])?;
    silent(g, PORT, "podctl down")
}
