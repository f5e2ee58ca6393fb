//! Hostile images in the container tier: what an image from a registry
//! cannot do. Its device nodes are not stored and open nothing; its setuid
//! binaries grant nothing, not even to a process entered later with
//! `podctl exec`; sparse and gzip bombs are refused within the layer limit
//! and a blob that does not match its digest is refused, each leaving
//! nothing in the store; and a layer a running container stacks survives a
//! garbage collection after its image's name moved on.
//!
//! The layers no tar writer makes (device entries, GNU sparse files) are
//! built here with python3's tarfile and GNU tar, and made into images by
//! tests/rig/mklayers.sh; the others by tests/rig/mkimage.sh.

use super::common::{wait_pid, write_pod};
use super::image_pods::{self, apply_cmd};
use super::image_rig::{self as ib, NETNS, PLAIN};
use crate::rig::{Guest, TrialFn};

pub const TRIALS: &[(&str, TrialFn)] = &[
    (
        "hostile_image::device_nodes_are_not_stored_and_open_nothing",
        device_nodes_are_not_stored_and_open_nothing,
    ),
    (
        "hostile_image::setuid_binary_grants_nothing_even_to_exec",
        setuid_binary_grants_nothing_even_to_exec,
    ),
    (
        "hostile_image::sparse_and_gzip_bombs_are_refused_leaving_nothing",
        sparse_and_gzip_bombs_are_refused_leaving_nothing,
    ),
    (
        "hostile_image::blob_not_matching_its_digest_leaves_nothing",
        blob_not_matching_its_digest_leaves_nothing,
    ),
    (
        "hostile_image::gc_keeps_the_layers_of_a_running_container",
        gc_keeps_the_layers_of_a_running_container,
    ),
];

const MKLAYERS_SH: &str = include_str!("../rig/mklayers.sh");
/// The system store (a tmpfs in the container tier, see image_pods).
const STORE: &str = "/var/lib/podctl/storage";
const SRC: &str = "/root/img-src/hostile";

fn expect(cond: bool, msg: impl FnOnce() -> String) -> Result<(), String> {
    if cond { Ok(()) } else { Err(msg()) }
}

/// The registries, the system store and the busybox base of image_pods,
/// plus mklayers.sh and the base layer as a blob.
fn setup(g: &Guest) -> Result<(), String> {
    image_pods::setup(g)?;
    g.ok(&format!(
        "exec 9>{dir}/hostile.lock; flock 9; [ -e {dir}/hostile.ready ] && exit 0
         set -e
         cat > {dir}/mklayers.sh <<'PODCTL_EOF'\n{MKLAYERS_SH}\nPODCTL_EOF
         rm -rf {SRC}; mkdir -p {SRC}
         tar -C /root/img-src/pods/base --numeric-owner -czf {SRC}/base.tgz .
         touch {dir}/hostile.ready",
        dir = ib::DIR
    ))
    .map(|_| ())
}

/// Makes an image of layer blobs `layers` (paths in the guest) and pushes
/// it to the plain registry as `repo:1`.
fn push_layers(g: &Guest, repo: &str, layers: &[&str]) -> Result<(), String> {
    let layout = format!("/root/images/{}", repo.replace('/', "-"));
    g.ok(&format!(
        "set -e; rm -rf {layout}; bash {}/mklayers.sh {layout} 1 {} >/dev/null
         ip netns exec {NETNS} skopeo copy -q --dest-tls-verify=false oci:{layout}:1 docker://{PLAIN}/{repo}:1",
        ib::DIR,
        layers.join(" ")
    ))
    .map(|_| ())
}

fn apply(g: &Guest, name: &str, toml: &str) -> Result<String, String> {
    let path = write_pod(g, name, toml)?;
    g.ok(&apply_cmd(&path))
}

/// The mount options of the image root of `pod`'s `container` on the host
/// (the runtime's own bind of it inside the container does not show them:
/// there, devices are kept out by the unpacker and the device cgroup, and
/// setuid by no_new_privileges).
fn host_root_options(g: &Guest, pod: &str, container: &str) -> Result<String, String> {
    g.ok(&format!(
        "awk '$5 == \"/run/podctl/oci/{pod}.{container}/rootfs\" {{print $6}}' /proc/1/mountinfo | tail -1"
    ))
}

fn device_nodes_are_not_stored_and_open_nothing(g: &Guest) -> Result<(), String> {
    setup(g)?;
    // A loop device open to all, /dev/mem and /dev/null under other names.
    g.ok(&format!(
        "set -e; python3 - <<'PY'
import tarfile
with tarfile.open('{SRC}/dev.tgz', 'w:gz', format=tarfile.GNU_FORMAT) as t:
    for name, kind, major, minor in [('loopdev', tarfile.BLKTYPE, 7, 0),
                                     ('mem', tarfile.CHRTYPE, 1, 1),
                                     ('null2', tarfile.CHRTYPE, 1, 3)]:
        i = tarfile.TarInfo(name)
        i.type, i.devmajor, i.devminor, i.mode = kind, major, minor, 0o666
        t.addfile(i)
PY"
    ))?;
    push_layers(
        g,
        "bench/hostile-dev",
        &[&format!("{SRC}/base.tgz"), &format!("{SRC}/dev.tgz")],
    )?;
    let dev_layer = g.ok(&format!("sha256sum {SRC}/dev.tgz | cut -d' ' -f1"))?;
    apply(
        g,
        "hdev",
        &format!(
            "name = \"hdev\"\nnetwork = \"none\"\n[containers.app]\nimage = \"{PLAIN}/bench/hostile-dev:1\"\n\
             user = 0\ncommand = [\"/bin/sleep\", \"1431\"]\n"
        ),
    )?;
    wait_pid(g, "/bin/sleep 1431")?;
    let result = (|| {
        let stored = g.ok(&format!(
            "find {STORE}/layers/{dev_layer} -type b -o -type c | sort"
        ))?;
        expect(stored.is_empty(), || {
            format!("device nodes in the stored layer:\n{stored}")
        })?;
        let seen = g.ok(
            "podctl exec hdev app -- sh -c 'for f in /loopdev /mem /null2; do \
               if [ -e $f ]; then echo $f present; fi; \
               if head -c1 $f >/dev/null 2>&1; then echo $f opened; fi; done; \
               mknod /made c 1 3 2>/dev/null && (echo x > /made) 2>/dev/null && echo made opened; true'"
        )?;
        expect(seen.is_empty(), || format!("in the container:\n{seen}"))?;
        let opts = host_root_options(g, "hdev", "app")?;
        expect(opts.split(',').any(|o| o == "nodev"), || {
            format!("the image root is mounted {opts:?}, without nodev")
        })
    })();
    g.ok("podctl down --purge hdev")?;
    result
}

fn setuid_binary_grants_nothing_even_to_exec(g: &Guest) -> Result<(), String> {
    setup(g)?;
    // coreutils' id, setuid root: it reports the effective uid it gets
    // (busybox drops a setuid it was not built for, proving nothing).
    let prep = format!(
        "s={SRC}/suid; rm -rf $s; mkdir -p $s/bin
         cp /usr/bin/id $s/bin/idsuid; chown 0:0 $s/bin/idsuid; chmod 4755 $s/bin/idsuid
         for l in $(ldd /usr/bin/id | grep -o '/[^ ]*'); do cp --parents -L $l $s; done"
    );
    ib::push_image_with(
        g,
        &prep,
        &["/root/img-src/pods/base", &format!("{SRC}/suid")],
        "bench/hostile-suid",
        "1",
        Some(r#"{"Cmd":["/bin/sleep","1432"],"Env":["PATH=/bin"]}"#),
    )?;
    apply(
        g,
        "hsuid",
        &format!(
            "name = \"hsuid\"\nnetwork = \"none\"\n[containers.app]\nimage = \"{PLAIN}/bench/hostile-suid:1\"\n\
             user = 1000\ncommand = [\"/bin/sh\", \"-c\", \"echo euid=$(/bin/idsuid -u); exec /bin/sleep 1432\"]\n"
        ),
    )?;
    let pid = wait_pid(g, "/bin/sleep 1432")?;
    let result = (|| {
        let mode = g.ok(&format!("stat -c %a /proc/{pid}/root/bin/idsuid"))?;
        expect(mode == "4755", || {
            format!("the image's setuid bit was not kept (mode {mode}): the trial proves nothing")
        })?;
        // A process entered later: no no_new_privs bit of its own.
        let euid = g.ok("podctl exec hsuid app -- /bin/idsuid -u")?;
        let whole = g.sh("podctl exec hsuid app -- /bin/idsuid").stdout;
        expect(euid == "1000", || {
            format!("a setuid-root binary from the image ran with euid {euid}: {whole}")
        })?;
        let logs = g.ok("podctl logs hsuid app")?;
        expect(
            logs.contains("euid=1000") && !logs.contains("euid=0"),
            || format!("the container's own process ran it as: {logs}"),
        )?;
        let opts = host_root_options(g, "hsuid", "app")?;
        expect(opts.split(',').any(|o| o == "nosuid"), || {
            format!("the image root is mounted {opts:?}, without nosuid")
        })
    })();
    g.ok("podctl down --purge hsuid")?;
    result
}

/// A refused pull into a store of the trial's own: the error names the
/// limit, and neither the layer nor its blob nor a name is kept.
fn refused(
    g: &Guest,
    env: &ib::Env,
    image: &str,
    layer_blob: &str,
    why: &str,
) -> Result<(), String> {
    let err = env.podctl_fails(g, &format!("pull {image}"))?;
    let hex = g.ok(&format!("sha256sum {layer_blob} | cut -d' ' -f1"))?;
    expect(err.contains(why) && err.contains(&hex), || {
        format!("pull {image}: the error names no {why:?} or layer {hex}:\n{err}")
    })?;
    let layers = env.ls(g, "layers")?;
    let blobs = env.ls(g, "blobs/sha256")?;
    let tmp = env.ls(g, "tmp")?;
    expect(
        layers.is_empty() && !blobs.contains(&hex) && tmp.is_empty(),
        || format!("left after {image}: layers {layers:?}, tmp {tmp:?}, blobs {blobs:?}"),
    )?;
    let images = env.images(g)?;
    expect(images.is_empty(), || format!("images stored: {images:?}"))
}

fn sparse_and_gzip_bombs_are_refused_leaving_nothing(g: &Guest) -> Result<(), String> {
    setup(g)?;
    // 256 MiB of holes in a GNU sparse entry (a layer of a few hundred
    // bytes), and 256 MiB of zeros gzipped (about 250 KB): both far over
    // the ratio, both over the 64 MiB floor.
    g.ok(&format!(
        "set -e; d={SRC}/bombs; rm -rf $d; mkdir -p $d/sparse $d/zeros
         truncate -s 256M $d/sparse/holes
         tar -C $d/sparse -S --format=gnu --numeric-owner -czf {SRC}/sparse.tgz .
         head -c 256M /dev/zero > $d/zeros/zeros
         tar -C $d/zeros --numeric-owner -c . | gzip -9 > {SRC}/zeros.tgz
         rm -rf $d"
    ))?;
    let sizes = g.ok(&format!("stat -c %s {SRC}/sparse.tgz {SRC}/zeros.tgz"))?;
    push_layers(g, "bench/sparse-bomb", &[&format!("{SRC}/sparse.tgz")])?;
    push_layers(g, "bench/gzip-bomb", &[&format!("{SRC}/zeros.tgz")])?;
    let env = ib::Env::new("bombs");
    // Both, each into an empty store: one refusal does not hide the other.
    let mut failures = Vec::new();
    for (image, blob) in [("sparse-bomb", "sparse.tgz"), ("gzip-bomb", "zeros.tgz")] {
        g.ok(&format!("rm -rf {}", env.store))?;
        if let Err(e) = refused(
            g,
            &env,
            &format!("{PLAIN}/bench/{image}:1"),
            &format!("{SRC}/{blob}"),
            "limit of",
        ) {
            failures.push(e);
        }
    }
    expect(failures.is_empty(), || {
        format!("{}\n(layer blob sizes: {sizes})", failures.join("\n"))
    })
}

fn blob_not_matching_its_digest_leaves_nothing(g: &Guest) -> Result<(), String> {
    setup(g)?;
    g.ok(&format!(
        "set -e; d={SRC}/bad; rm -rf $d; mkdir -p $d; echo original > $d/file
         tar -C $d --numeric-owner -czf {SRC}/bad.tgz ."
    ))?;
    push_layers(g, "bench/bad-digest", &[&format!("{SRC}/bad.tgz")])?;
    // The registry now serves other bytes, of the same length, under the digest.
    let hex = g.ok(&format!("sha256sum {SRC}/bad.tgz | cut -d' ' -f1"))?;
    g.ok(&format!(
        "set -e; f=/var/lib/podctl-reg/plain/docker/registry/v2/blobs/sha256/{}/{hex}/data
         n=$(stat -c %s $f); head -c $((n - 8)) {SRC}/bad.tgz > $f.new
         printf 'XXXXXXXX' >> $f.new; mv $f.new $f",
        &hex[..2]
    ))?;
    let env = ib::Env::new("bad-digest");
    g.ok(&format!("rm -rf {}", env.store))?;
    refused(
        g,
        &env,
        &format!("{PLAIN}/bench/bad-digest:1"),
        &format!("{SRC}/bad.tgz"),
        "corrupt",
    )
}

fn gc_keeps_the_layers_of_a_running_container(g: &Guest) -> Result<(), String> {
    setup(g)?;
    let image = format!("{PLAIN}/bench/hostile-gc:1");
    let layer = |text: &str, blob: &str| {
        format!(
            "d={SRC}/gc; rm -rf $d; mkdir -p $d; echo {text} > $d/mine
             tar -C $d --numeric-owner -czf {SRC}/{blob} ."
        )
    };
    g.ok(&format!("set -e; {}", layer("first", "gc1.tgz")))?;
    push_layers(
        g,
        "bench/hostile-gc",
        &[&format!("{SRC}/base.tgz"), &format!("{SRC}/gc1.tgz")],
    )?;
    let first = g.ok(&format!("sha256sum {SRC}/gc1.tgz | cut -d' ' -f1"))?;
    apply(
        g,
        "hgc",
        &format!(
            "name = \"hgc\"\nnetwork = \"none\"\n[containers.app]\nimage = \"{image}\"\n\
             user = 0\ncommand = [\"/bin/sleep\", \"1433\"]\n"
        ),
    )?;
    let pid = wait_pid(g, "/bin/sleep 1433")?;
    let result = (|| {
        // The name moves to another image; the first one's layer is then
        // reached by no name, only by the running container's root.
        g.ok(&format!("set -e; {}", layer("second", "gc2.tgz")))?;
        push_layers(
            g,
            "bench/hostile-gc",
            &[&format!("{SRC}/base.tgz"), &format!("{SRC}/gc2.tgz")],
        )?;
        g.ok(&format!(
            "ip netns exec {NETNS} env CONTAINERS_REGISTRIES_CONF={} podctl pull {image}",
            ib::REGISTRIES_CONF
        ))?;
        // rmi of an image nobody uses collects the store's garbage.
        push_layers(g, "bench/hostile-gc-other", &[&format!("{SRC}/base.tgz")])?;
        let other = format!("{PLAIN}/bench/hostile-gc-other:1");
        g.ok(&format!(
            "ip netns exec {NETNS} env CONTAINERS_REGISTRIES_CONF={} podctl pull {other} && podctl rmi {other}",
            ib::REGISTRIES_CONF
        ))?;
        let kept = g.sh(&format!("test -d {STORE}/layers/{first}")).success();
        let seen = g.sh(&format!("cat /proc/{pid}/root/mine")).stdout;
        expect(kept && seen.trim() == "first", || {
            format!(
                "after the collection: layer {first} kept: {kept}; the container reads {seen:?} from it"
            )
        })
    })();
    g.ok("podctl down --purge hgc")?;
    result
}
