//! Images once stored: `podctl apply` of a pod
//! whose image is stored needs no registry (the registries listen only on
//! their namespace's loopback: from the guest's own namespace there is
//! none), and an image of more layers than one page of overlay options can
//! name by path runs with every layer.

use super::common::{wait_pid, write_pod};
use super::image_pods::{APP, CONTAINERS, apply_cmd, nothing_left, setup, upper_file};
use super::image_rig::{DIR, PLAIN, REGISTRIES_CONF};
use crate::rig::{Guest, TrialFn};

pub const TRIALS: &[(&str, TrialFn)] = &[
    (
        "image_offline::apply_of_a_stored_image_needs_no_registry",
        apply_of_a_stored_image_needs_no_registry,
    ),
    (
        "image_offline::sixty_layers_in_one_overlay",
        sixty_layers_in_one_overlay,
    ),
];

fn expect(cond: bool, msg: impl FnOnce() -> String) -> Result<(), String> {
    if cond { Ok(()) } else { Err(msg()) }
}

/// `podctl apply PATH` in the guest's own namespace: no registry reachable.
fn apply_offline(path: &str) -> String {
    format!("env CONTAINERS_REGISTRIES_CONF={REGISTRIES_CONF} podctl apply {path}")
}

fn apply_of_a_stored_image_needs_no_registry(g: &Guest) -> Result<(), String> {
    setup(g)?;
    let pod = |image: &str, sleep: u32| {
        format!(
            "network = \"none\"\n[containers.app]\nimage = \"{image}\"\n\
             args = [\"exec sleep {sleep}\"]\n"
        )
    };
    // The first apply where the registry answers: it pulls and stores
    // (and the stored pod keeps the image from a parallel prune).
    let path = write_pod(g, "imgnoreg", &pod(APP, 1411))?;
    g.ok(&apply_cmd(&path))?;
    wait_pid(g, "sleep 1411")?;
    let reach = g.sh(&format!("curl -sf --max-time 3 http://{PLAIN}/v2/"));
    expect(!reach.success(), || {
        format!(
            "the registry answers outside its namespace: {}",
            reach.stdout
        )
    })?;
    // A changed file: the container restarts from the stored image.
    write_pod(g, "imgnoreg", &pod(APP, 1412))?;
    let out = g.sh(&apply_offline(&path));
    expect(out.success(), || {
        format!(
            "apply of a stored image with no registry failed:\n{}{}",
            out.stdout, out.stderr
        )
    })?;
    wait_pid(g, "sleep 1412")?;
    // Down, then up again from nothing: still no registry needed.
    g.ok("podctl down imgnoreg")?;
    let out = g.sh(&apply_offline(&path));
    expect(out.success() && out.stdout.contains("created"), || {
        format!(
            "apply after down with no registry:\n{}{}",
            out.stdout, out.stderr
        )
    })?;
    wait_pid(g, "sleep 1412")?;
    // The control: an image that is not stored does need the registry
    // here, and the apply says so and changes nothing.
    let absent = format!("{PLAIN}/bench/never-pushed:1");
    let other = write_pod(g, "imgnoreg2", &pod(&absent, 1413))?;
    let out = g.sh(&apply_offline(&other));
    expect(
        !out.success() && out.stderr.contains(PLAIN) && out.stderr.contains("nothing was changed"),
        || {
            format!(
                "apply of an image not stored, with no registry: {:?}\n{}{}",
                out.status, out.stdout, out.stderr
            )
        },
    )?;
    g.ok("podctl down --purge imgnoreg")?;
    nothing_left(g, "imgnoreg")
}

/// Layers in the test image, over the ~40 whose store paths fit a page.
const LAYERS: usize = 60;

fn sixty_layers_in_one_overlay(g: &Guest) -> Result<(), String> {
    setup(g)?;
    // busybox at the bottom, then one layer per file /layers/N.
    let src = "/root/img-src/many";
    g.ok(&format!(
        "set -e; rm -rf {src} && mkdir -p {src}/base/bin
         cp /bin/busybox {src}/base/bin/busybox
         for a in sh sleep ls wc cat; do ln -s busybox {src}/base/bin/$a; done
         for i in $(seq 1 {LAYERS}); do mkdir -p {src}/l$i/layers && echo $i > {src}/l$i/layers/$i; done
         rm -rf /root/images/many
         IMAGE_CONFIG='{{\"Cmd\":[\"/bin/sh\"],\"Env\":[\"PATH=/bin\"]}}' \
           bash {DIR}/mkimage.sh /root/images/many 1 /bin/sh {src}/base $(for i in $(seq 1 {LAYERS}); do echo {src}/l$i; done)"
    ))?;
    let path = write_pod(
        g,
        "imgmany",
        // The host's user namespace: the layers' own paths, too long for
        // one page of mount options (a pod's own names short attach points).
        "network = \"none\"\nuserns = \"host\"\n[containers.app]\nimage = \"oci:/root/images/many:1\"\n\
         command = [\"/bin/sh\", \"-c\", \"ls /layers | wc -l > /count; exec sleep 1414\"]\n",
    )?;
    let out = g.sh(&format!("podctl apply {path}"));
    expect(out.success(), || {
        format!(
            "apply of a {LAYERS}-layer image:\n{}{}",
            out.stdout, out.stderr
        )
    })?;
    let pid = wait_pid(g, "sleep 1414")?;
    // Every layer is seen, and the count went to the container's upper layer.
    let count = upper_file(g, "imgmany", "app", "count")?;
    expect(count.trim() == LAYERS.to_string(), || {
        format!("the container sees {count:?} of {LAYERS} layers")
    })?;
    // The overlay names its layers by descriptor (the paths do not fit).
    let mount = g.ok(&format!(
        "grep ' / / ' /proc/{pid}/mountinfo || grep ' / / ' /proc/{pid}/mountinfo"
    ))?;
    expect(
        mount.contains("overlay") && mount.contains("lowerdir=/proc/self/fd/"),
        || format!("the container's root: {mount}"),
    )?;
    let upper = format!("upperdir={CONTAINERS}/imgmany/app/upper");
    expect(mount.contains(&upper), || {
        format!("the root has no upper layer ({upper}): {mount}")
    })?;
    g.ok("podctl down --purge imgmany && podctl rmi oci:/root/images/many:1")?;
    nothing_left(g, "imgmany")
}
