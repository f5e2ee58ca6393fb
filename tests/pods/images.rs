//! Image trials against real registries in the guest
//! (tests/pods/image_rig.rs): pulls by tag, digest and short name; auth
//! and TLS answers; corrupt blobs; whiteouts as overlayfs shows them; a
//! layer shared by two images; oci:/oci-archive: sources; kill -9 mid-pull.

use super::image_rig::{self as ib, Env, PASSWORD, PLAIN, SECURE, USER};
use crate::rig::{Guest, TrialFn};

pub const TRIALS: &[(&str, TrialFn)] = &[
    (
        "images::pull_by_tag_and_by_digest",
        pull_by_tag_and_by_digest,
    ),
    (
        "images::short_name_through_registries_conf",
        short_name_through_registries_conf,
    ),
    (
        "images::auth_wrong_right_and_skopeo_login",
        auth_wrong_right_and_skopeo_login,
    ),
    (
        "images::corrupt_blob_rejected_nothing_stored",
        corrupt_blob_rejected_nothing_stored,
    ),
    (
        "images::whiteouts_and_opaque_dirs_in_overlay",
        whiteouts_and_opaque_dirs_in_overlay,
    ),
    (
        "images::shared_layer_stored_and_unpacked_once",
        shared_layer_stored_and_unpacked_once,
    ),
    (
        "images::oci_layout_and_archive_sources",
        oci_layout_and_archive_sources,
    ),
    (
        "images::kill9_mid_pull_then_pull_again",
        kill9_mid_pull_then_pull_again,
    ),
];

/// Prints the hex digest of the top layer of the OCI layout at argv[1].
const LAST_LAYER: &str = "import json,sys; d=sys.argv[1]; \
    m=json.load(open(d+\"/index.json\"))[\"manifests\"][0][\"digest\"][7:]; \
    print(json.load(open(d+\"/blobs/sha256/\"+m))[\"layers\"][-1][\"digest\"][7:])";

fn expect(cond: bool, msg: impl FnOnce() -> String) -> Result<(), String> {
    if cond { Ok(()) } else { Err(msg()) }
}

/// `podctl pull` prints `NAME@DIGEST`.
fn split_pulled(out: &str) -> (String, String) {
    let line = out.lines().last().unwrap_or_default();
    let (n, d) = line.rsplit_once('@').unwrap_or((line, ""));
    (n.to_string(), d.to_string())
}

/// The stored image's layer directories run busybox: a real root filesystem.
fn runs_busybox(g: &Guest, env: &Env, digest: &str) -> Result<(), String> {
    let images = env.images(g)?;
    let img = images
        .iter()
        .find(|i| i["digest"] == digest)
        .ok_or_else(|| format!("{digest} not in podctl images: {images:?}"))?;
    let base = img["layers"][0]
        .as_str()
        .unwrap_or_default()
        .trim_start_matches("sha256:");
    let out = g.ok(&format!(
        "chroot {}/layers/{base} /bin/sh -c 'read m < /etc/motd; echo hi from $m'",
        env.store
    ))?;
    expect(out == "hi from base", || {
        format!("chroot into the layer said {out:?}")
    })
}

fn pull_by_tag_and_by_digest(g: &Guest) -> Result<(), String> {
    ib::setup(g)?;
    let want = ib::registry_digest(g, &format!("{PLAIN}/bench/busybox:1"))?;
    let env = Env::new("tag");
    let out = env.podctl(g, &format!("pull {PLAIN}/bench/busybox:1"))?;
    let (name, digest) = split_pulled(&out);
    expect(
        name == format!("{PLAIN}/bench/busybox:1") && digest == want,
        || format!("pull by tag printed {out:?}, registry digest {want}"),
    )?;
    runs_busybox(g, &env, &digest)?;
    let env = Env::new("digest");
    let pinned = format!("{PLAIN}/bench/busybox@{want}");
    let out = env.podctl(g, &format!("pull {pinned}"))?;
    expect(split_pulled(&out) == (pinned.clone(), want.clone()), || {
        format!("pull by digest printed {out:?}")
    })?;
    runs_busybox(g, &env, &want)?;
    // A digest the registry does not have: 404, and which registry said so.
    let bad = format!("{PLAIN}/bench/busybox@sha256:{}", "0".repeat(64));
    let err = env.podctl_fails(g, &format!("pull {bad}"))?;
    expect(err.contains("404") && err.contains(PLAIN), || {
        format!("unknown digest: {err}")
    })
}

fn short_name_through_registries_conf(g: &Guest) -> Result<(), String> {
    ib::setup(g)?;
    let env = Env::new("short");
    let out = env.podctl(g, "pull bench/busybox:1")?;
    let (name, _) = split_pulled(&out);
    expect(name == format!("{PLAIN}/bench/busybox:1"), || {
        format!("short name resolved to {name:?} (registries.conf searches {PLAIN})")
    })?;
    // Another search list: the first registry lacks it, the second has it.
    let mut other = Env::new("short2");
    other.conf = "/root/registries-short2.conf".into();
    g.ok(&format!(
        "printf '%s\\n' 'unqualified-search-registries = [\"{PLAIN}\", \"localhost:5009\"]' \
         '[[registry]]' 'location = \"{PLAIN}\"' 'insecure = true' \
         '[[registry]]' 'location = \"localhost:5009\"' 'blocked = true' > {}",
        other.conf
    ))?;
    let err = other.podctl_fails(g, "pull bench/nothing-here:1")?;
    expect(
        err.contains(&format!("{PLAIN}/bench/nothing-here:1"))
            && err.contains("404")
            && err.contains("blocked"),
        || format!("every candidate and its answer should be named: {err}"),
    )
}

fn auth_wrong_right_and_skopeo_login(g: &Guest) -> Result<(), String> {
    ib::setup(g)?;
    let image = format!("{SECURE}/bench/busybox:1");
    let env = Env::new("auth");
    // No credentials: the registry answers 401.
    let err = env.podctl_fails(g, &format!("pull {image}"))?;
    expect(err.contains("401") && err.contains(SECURE), || {
        format!("anonymous: {err}")
    })?;
    // A wrong password: 401, naming the user and the file it came from.
    g.ok(&format!(
        "printf '{{\"auths\":{{\"{SECURE}\":{{\"auth\":\"%s\"}}}}}}' $(printf '{USER}:wrong' | base64) > {}",
        env.auth
    ))?;
    let err = env.podctl_fails(g, &format!("pull {image}"))?;
    expect(
        err.contains("401") && err.contains(USER) && err.contains(&env.auth),
        || format!("wrong password: {err}"),
    )?;
    // `skopeo login` writes the file; then the pull works.
    g.ok(&format!("rm -f {a}; ip netns exec {ns} skopeo login --authfile {a} -u {USER} -p {PASSWORD} {SECURE}", a = env.auth, ns = ib::NETNS))?;
    let out = env.podctl(g, &format!("pull {image}"))?;
    expect(split_pulled(&out).0 == image, || {
        format!("authenticated pull: {out}")
    })?;
    // The certificate is for "localhost": 127.0.0.1 is a TLS error, said so.
    let err = env.podctl_fails(g, "pull 127.0.0.1:5000/bench/busybox:1")?;
    expect(
        err.contains("TLS") && err.contains("127.0.0.1:5000"),
        || format!("wrong name: {err}"),
    )
}

fn corrupt_blob_rejected_nothing_stored(g: &Guest) -> Result<(), String> {
    ib::setup(g)?;
    let prep = "rm -rf /root/img-src/corrupt && mkdir -p /root/img-src/corrupt && head -c 300000 /dev/urandom > /root/img-src/corrupt/data";
    ib::push_image(
        g,
        prep,
        &["/root/img-src/base", "/root/img-src/corrupt"],
        "bench/corrupt",
        "1",
    )?;
    let layer = g.ok(&format!(
        "python3 -c '{LAST_LAYER}' /root/images/bench-corrupt"
    ))?;
    let data = format!(
        "/var/lib/podctl-reg/plain/docker/registry/v2/blobs/sha256/{}/{layer}/data",
        &layer[..2]
    );
    // Flip one byte in the middle of the registry's copy.
    g.ok(&format!(
        "b=$(dd if={data} bs=1 skip=150000 count=1 2>/dev/null | od -An -tu1 | tr -d ' '); \
         printf \"$(printf '\\\\%03o' $(( b ^ 255 )))\" | dd of={data} bs=1 seek=150000 conv=notrunc 2>/dev/null"
    ))?;
    let env = Env::new("corrupt");
    let err = env.podctl_fails(g, &format!("pull {PLAIN}/bench/corrupt:1"))?;
    expect(
        err.contains(&layer) && err.contains("corrupt") && !err.contains("retrying"),
        || format!("corrupt layer {layer}: {err}"),
    )?;
    let blobs = env.ls(g, "blobs/sha256")?;
    expect(!blobs.contains(&layer), || {
        format!("the corrupt blob was stored: {blobs:?}")
    })?;
    expect(env.ls(g, "tmp")?.is_empty(), || {
        "partial files left in tmp/".into()
    })?;
    expect(env.ls(g, &format!("layers/{layer}"))?.is_empty(), || {
        "corrupt layer unpacked".into()
    })?;
    let images = env.images(g)?;
    expect(images.is_empty(), || {
        format!("an image was recorded: {images:?}")
    })
}

fn whiteouts_and_opaque_dirs_in_overlay(g: &Guest) -> Result<(), String> {
    ib::setup(g)?;
    let prep = "s=/root/img-src/wh; rm -rf $s; mkdir -p $s/low/etc $s/low/opt/sub $s/up/etc $s/up/opt; \
        echo k > $s/low/etc/keep; echo g > $s/low/etc/gone; echo 1 > $s/low/opt/old; echo 2 > $s/low/opt/sub/old2; \
        touch $s/up/etc/.wh.gone $s/up/opt/.wh..wh..opq; echo n > $s/up/opt/new";
    ib::push_image(
        g,
        prep,
        &["/root/img-src/wh/low", "/root/img-src/wh/up"],
        "bench/whiteout",
        "1",
    )?;
    let env = Env::new("whiteout");
    let out = env.podctl(g, &format!("pull {PLAIN}/bench/whiteout:1"))?;
    let (_, digest) = split_pulled(&out);
    let images = env.images(g)?;
    let img = images
        .iter()
        .find(|i| i["digest"] == digest)
        .ok_or("image not listed")?;
    let dirs: Vec<String> = img["layers"]
        .as_array()
        .ok_or("no layers")?
        .iter()
        .rev()
        .map(|l| {
            format!(
                "{}/layers/{}",
                env.store,
                l.as_str().unwrap_or_default().trim_start_matches("sha256:")
            )
        })
        .collect();
    // The container's root will be this overlay: top layer first.
    let seen = g.ok(&format!(
        "m=$(mktemp -d); unshare -m sh -c 'mount -t overlay overlay -o lowerdir={} \"$0\" && \
         echo etc: $(ls -A \"$0\"/etc) && echo opt: $(ls -A \"$0\"/opt)' $m; rmdir $m",
        dirs.join(":")
    ))?;
    expect(
        seen.contains("etc: keep")
            && seen.contains("opt: new")
            && !seen.contains("gone")
            && !seen.contains("old"),
        || format!("overlay of the image shows:\n{seen}\n(want etc: keep, opt: new)"),
    )
}

fn shared_layer_stored_and_unpacked_once(g: &Guest) -> Result<(), String> {
    ib::setup(g)?;
    let prep = "rm -rf /root/img-src/app2 && mkdir -p /root/img-src/app2 && echo two > /root/img-src/app2/app";
    ib::push_image(
        g,
        prep,
        &["/root/img-src/base", "/root/img-src/app2"],
        "bench/app2",
        "1",
    )?;
    let env = Env::new("shared");
    env.podctl(g, &format!("pull {PLAIN}/bench/busybox:1"))?;
    let layers_before = env.ls(g, "layers")?;
    let out = g.sh(&env.wrap(&format!("podctl pull {PLAIN}/bench/app2:1")));
    expect(out.success(), || format!("second pull: {}", out.stderr))?;
    let layers = env.ls(g, "layers")?;
    expect(layers_before.len() == 1 && layers.len() == 2, || {
        format!("layers/ before {layers_before:?}, after {layers:?} (the base must be stored once)")
    })?;
    expect(
        out.stderr
            .contains(&format!("{}: already stored", &layers_before[0][..12])),
        || format!("the shared layer was fetched again:\n{}", out.stderr),
    )?;
    let images = env.images(g)?;
    let firsts: Vec<&serde_json::Value> = images.iter().map(|i| &i["layers"][0]).collect();
    expect(images.len() == 2 && firsts[0] == firsts[1], || {
        format!("images: {images:?}")
    })
}

fn oci_layout_and_archive_sources(g: &Guest) -> Result<(), String> {
    ib::setup(g)?;
    let env = Env::new("layout");
    let out = env.podctl(g, "pull oci:/root/images/busybox:1")?;
    let (name, digest) = split_pulled(&out);
    expect(name == "oci:/root/images/busybox:1", || {
        format!("stored as {name}")
    })?;
    runs_busybox(g, &env, &digest)?;
    g.ok("tar -C /root/images/busybox -cf /root/images/busybox.tar .")?;
    let env2 = Env::new("archive");
    let out = env2.podctl(g, "pull oci-archive:/root/images/busybox.tar:1")?;
    let (_, d2) = split_pulled(&out);
    expect(d2 == digest, || {
        format!("archive gave {d2}, layout {digest}")
    })?;
    runs_busybox(g, &env2, &d2)?;
    expect(env2.ls(g, "tmp")?.is_empty(), || {
        "the extracted archive was left in tmp/".into()
    })
}

fn kill9_mid_pull_then_pull_again(g: &Guest) -> Result<(), String> {
    ib::setup(g)?;
    let prep = "rm -rf /root/img-src/big && mkdir -p /root/img-src/big && head -c 60000000 /dev/urandom > /root/img-src/big/blob";
    ib::push_image(
        g,
        prep,
        &["/root/img-src/base", "/root/img-src/big"],
        "bench/big",
        "1",
    )?;
    let want = g.ok("sha256sum /root/img-src/big/blob | cut -d' ' -f1")?;
    let env = Env::new("kill");
    for delay in ["0.2", "0.6", "1.2"] {
        g.ok(&format!(
            "{} & p=$!; sleep {delay}; kill -9 $p; wait $p || true",
            env.wrap(&format!("podctl pull {PLAIN}/bench/big:1 >/dev/null 2>&1"))
        ))?;
        // Whatever is in blobs/ matches its name; no image is recorded half.
        let bad = g.ok(&format!(
            "cd {}/blobs/sha256 && for h in $(ls); do [ \"$(sha256sum $h | cut -d' ' -f1)\" = $h ] || echo $h; done",
            env.store
        ))?;
        expect(bad.is_empty(), || {
            format!("after kill at {delay} s, blobs not matching their names: {bad}")
        })?;
    }
    let out = env.podctl(g, &format!("pull {PLAIN}/bench/big:1"))?;
    let (_, digest) = split_pulled(&out);
    let images = env.images(g)?;
    let img = images
        .iter()
        .find(|i| i["digest"] == digest)
        .ok_or("not listed")?;
    let top = img["layers"][1]
        .as_str()
        .unwrap_or_default()
        .trim_start_matches("sha256:")
        .to_string();
    let got = g.ok(&format!(
        "sha256sum {}/layers/{top}/blob | cut -d' ' -f1",
        env.store
    ))?;
    expect(got == want, || {
        format!("layer content after kill+pull: {got}, want {want}")
    })?;
    expect(env.ls(g, "tmp")?.is_empty(), || {
        "tmp/ not cleaned after the killed pulls".into()
    })
}
