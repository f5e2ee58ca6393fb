//! Guest-side helpers for the image trials: the bench's registries
//! (tests/rig/registry.sh), test images built from busybox-static
//! (tests/rig/mkimage.sh) and pushed with skopeo, and `podctl` runs with a
//! store, registries.conf and auth file of the trial's own.

use crate::rig::Guest;

const REGISTRY_SH: &str = include_str!("../rig/registry.sh");
const MKIMAGE_SH: &str = include_str!("../rig/mkimage.sh");
/// Where the scripts go in the guest.
pub const DIR: &str = "/run/podctl-bench";
/// The namespace whose loopback the registries listen on.
pub const NETNS: &str = "podctl-reg";
pub const SECURE: &str = "localhost:5000";
pub const PLAIN: &str = "localhost:5001";
pub const USER: &str = "bench";
pub const PASSWORD: &str = "bench-pw";
pub const REGISTRIES_CONF: &str = "/etc/podctl-bench/registries.conf";

/// Writes `text` to `path` in the guest atomically (trials run in parallel).
fn install(g: &Guest, path: &str, text: &str) -> Result<(), String> {
    g.ok(&format!(
        "mkdir -p {DIR} && t=$(mktemp -p {DIR}) && cat > $t <<'PODCTL_EOF'\n{text}\nPODCTL_EOF\nchmod +x $t && mv $t {path}"
    ))
    .map(|_| ())
}

/// Starts the registries (once per boot) and builds and pushes the shared
/// base image `bench/busybox:1` to both (once per boot).
pub fn setup(g: &Guest) -> Result<(), String> {
    install(g, &format!("{DIR}/registry.sh"), REGISTRY_SH)?;
    install(g, &format!("{DIR}/mkimage.sh"), MKIMAGE_SH)?;
    // Through bash: the VM's /run is noexec.
    g.ok(&format!("bash {DIR}/registry.sh"))?;
    g.ok(&format!(
        "exec 9>{DIR}/base.lock; flock 9; [ -e {DIR}/base.ready ] && exit 0
         set -e
         rm -rf /root/img-src/base && mkdir -p /root/img-src/base/bin /root/img-src/base/etc
         cp /bin/busybox /root/img-src/base/bin/busybox
         ln -s busybox /root/img-src/base/bin/sh
         echo base > /root/img-src/base/etc/motd
         rm -rf /root/images/busybox
         bash {DIR}/mkimage.sh /root/images/busybox 1 /bin/sh /root/img-src/base >/dev/null
         {push} oci:/root/images/busybox:1 docker://{PLAIN}/bench/busybox:1
         {push} --dest-creds {USER}:{PASSWORD} oci:/root/images/busybox:1 docker://{SECURE}/bench/busybox:1
         touch {DIR}/base.ready",
        push = push_cmd()
    ))
    .map(|_| ())
}

/// `skopeo copy` in the registries' namespace (TLS checked against
/// certs.d; the plain registry needs --dest-tls-verify=false).
fn push_cmd() -> String {
    format!("ip netns exec {NETNS} skopeo copy -q --dest-tls-verify=false")
}

/// Builds an image from `layers` (directories prepared by `prepare`, a
/// shell snippet run first) and pushes it to the plain registry as
/// `repo:tag`. Returns the manifest digest.
pub fn push_image(
    g: &Guest,
    prepare: &str,
    layers: &[&str],
    repo: &str,
    tag: &str,
) -> Result<String, String> {
    push_image_with(g, prepare, layers, repo, tag, None)
}

/// [`push_image`] with the image config's `config` object (JSON) given.
pub fn push_image_with(
    g: &Guest,
    prepare: &str,
    layers: &[&str],
    repo: &str,
    tag: &str,
    config: Option<&str>,
) -> Result<String, String> {
    let layout = format!("/root/images/{}", repo.replace('/', "-"));
    let config = config
        .map(|c| format!("IMAGE_CONFIG='{c}' "))
        .unwrap_or_default();
    let digest = g.ok(&format!(
        "set -e; {prepare}\n rm -rf {layout}; {config}bash {DIR}/mkimage.sh {layout} {tag} /bin/sh {}",
        layers.join(" ")
    ))?;
    g.ok(&format!(
        "{} oci:{layout}:{tag} docker://{PLAIN}/{repo}:{tag}",
        push_cmd()
    ))?;
    Ok(digest)
}

/// A trial's own environment for podctl: store, registries.conf, auth file.
pub struct Env {
    pub store: String,
    pub conf: String,
    pub auth: String,
}

impl Env {
    pub fn new(name: &str) -> Env {
        Env {
            store: format!("/var/lib/podctl-images/{name}"),
            conf: REGISTRIES_CONF.into(),
            auth: format!("/root/auth-{name}.json"),
        }
    }

    /// `cmd` with this environment, in the registries' namespace.
    pub fn wrap(&self, cmd: &str) -> String {
        format!(
            "ip netns exec {NETNS} env PODCTL_STORAGE={} CONTAINERS_REGISTRIES_CONF={} REGISTRY_AUTH_FILE={} {cmd}",
            self.store, self.conf, self.auth
        )
    }

    /// `podctl ARGS` that must succeed; its stdout.
    pub fn podctl(&self, g: &Guest, args: &str) -> Result<String, String> {
        g.ok(&self.wrap(&format!("podctl {args}")))
    }

    /// `podctl ARGS` that must fail; its stderr.
    pub fn podctl_fails(&self, g: &Guest, args: &str) -> Result<String, String> {
        let out = g.sh(&self.wrap(&format!("podctl {args}")));
        if out.success() {
            return Err(format!(
                "podctl {args} succeeded, expected a failure:\n{}{}",
                out.stdout, out.stderr
            ));
        }
        Ok(out.stderr)
    }

    /// `podctl images --json` parsed.
    pub fn images(&self, g: &Guest) -> Result<Vec<serde_json::Value>, String> {
        let out = self.podctl(g, "images --json")?;
        serde_json::from_str(&out).map_err(|e| format!("podctl images --json: {e}: {out}"))
    }

    /// Files directly under the store's `dir` (e.g. `blobs/sha256`).
    pub fn ls(&self, g: &Guest, dir: &str) -> Result<Vec<String>, String> {
        let out = g.ok(&format!("ls -A {}/{dir} 2>/dev/null || true", self.store))?;
        Ok(out.lines().map(String::from).collect())
    }
}

/// The manifest digest of `image` as the registry serves it.
pub fn registry_digest(g: &Guest, image: &str) -> Result<String, String> {
    g.ok(&format!(
        "ip netns exec {NETNS} skopeo inspect --raw --tls-verify=false docker://{image} | sha256sum | cut -d' ' -f1"
    ))
    .map(|h| format!("sha256:{h}"))
}
