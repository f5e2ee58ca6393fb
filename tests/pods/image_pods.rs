//! Pods that run images, in the container tier: the
//! image's entrypoint, cmd, env, workdir and user; `args` and the pod
//! file's keys over them; whiteouts in a running container; the
//! model pod (a web server and a sidecar over localhost); an apply with
//! an unknown image changes nothing; a read-only root; upper layers gone
//! after down; rmi/prune/images know the stored pods.
//!
//! Images are built here from busybox-static (the bench root has no nginx:
//! busybox `httpd` serves the web page) and pushed to the guest's plain
//! registry. The guest's root is an overlayfs, which cannot hold the store's
//! whiteouts nor be an upper layer: the system store and the containers'
//! upper layers live on tmpfs mounts made here.

use super::common::{container_field, status, wait_pid, write_pod};
use super::image_rig::{self as ib, NETNS, PLAIN, REGISTRIES_CONF};
use crate::rig::{Guest, TrialFn, VmTrial, wait_for};
use std::time::Duration;

pub const TRIALS: &[(&str, TrialFn)] = &[
    (
        "image_pods::image_config_and_pod_file_keys",
        image_config_and_pod_file_keys,
    ),
    (
        "image_pods::seed_pod_web_and_sidecar_over_localhost",
        seed_pod_web_and_sidecar_over_localhost,
    ),
    (
        "image_pods::unknown_image_changes_nothing",
        unknown_image_changes_nothing,
    ),
    (
        "image_pods::read_only_root_cannot_be_written",
        read_only_root_cannot_be_written,
    ),
    (
        "image_pods::whiteouts_in_a_running_container",
        whiteouts_in_a_running_container,
    ),
    (
        "image_pods::rmi_prune_and_images_know_the_pods",
        rmi_prune_and_images_know_the_pods,
    ),
    (
        "image_pods::bridge_pod_etc_files_in_the_image_root",
        bridge_pod_etc_files_in_the_image_root,
    ),
];

/// VM tier: an image pod comes back after a reboot with no registry.
pub const VM_TRIALS: &[VmTrial] = &[VmTrial::reboot(
    "image_pods::image_pod_after_reboot_without_registry",
    image_pod_before_reboot,
    image_pod_after_reboot,
)];

/// Where image containers' upper layers live.
pub const CONTAINERS: &str = "/var/lib/podctl/containers";
/// `bench/app:1`: runs as `www`, writes `GREETING|PWD|UID` to /www/result.
pub const APP: &str = "localhost:5001/bench/app:1";
/// `bench/web:1`: busybox httpd on port 80 serving /www.
pub const WEB: &str = "localhost:5001/bench/web:1";
/// [`APP`] under a name only the rmi/prune trial uses.
const PRUNE_REF: &str = "localhost:5001/bench/app-prune:1";
const APP_CONFIG: &str = r#"{"Entrypoint":["/bin/sh","-c"],"Cmd":["echo \"$GREETING|$(pwd)|$(id -u)\" > /www/result; exec sleep 1401"],"Env":["PATH=/bin","GREETING=from-image"],"WorkingDir":"/www","User":"www"}"#;
const WEB_CONFIG: &str = r#"{"Entrypoint":["/bin/httpd"],"Cmd":["-f","-p","80","-h","/www"],"Env":["PATH=/bin"],"StopSignal":"SIGTERM"}"#;

fn expect(cond: bool, msg: impl FnOnce() -> String) -> Result<(), String> {
    if cond { Ok(()) } else { Err(msg()) }
}

/// The registries, tmpfs for the system store and upper layers, and the
/// two images, once per boot.
pub fn setup(g: &Guest) -> Result<(), String> {
    // Trials run in parallel threads: one builds, the others wait.
    static ONCE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _once = ONCE.lock().unwrap_or_else(|e| e.into_inner());
    ib::setup(g)?;
    g.ok(&format!(
        "[ -e /run/podctl-bench/pods.ready ] && exit 0
         set -e
         # Only where the root is an overlay (the container tier); the VM's
         # ext4 keeps the store across its reboot.
         mkdir -p {store} {CONTAINERS}
         if [ \"$(stat -fc %T /var/lib)\" = overlayfs ]; then
           for d in {store} {CONTAINERS}; do mountpoint -q $d || mount -t tmpfs -o mode=0700 tmpfs $d; done
         fi
         s=/root/img-src/pods; rm -rf $s; mkdir -p $s/base/bin $s/base/etc $s/base/www $s/app/www $s/web/www
         cp /bin/busybox $s/base/bin/busybox
         for a in sh sleep httpd wget id cat ls touch echo pwd tr; do ln -s busybox $s/base/bin/$a; done
         printf 'root:x:0:0::/root:/bin/sh\\nwww:x:33:33::/www:/bin/sh\\n' > $s/base/etc/passwd
         printf 'root:x:0:\\nwww:x:33:\\n' > $s/base/etc/group
         echo '127.0.0.1 localhost' > $s/base/etc/hosts
         chown 33:33 $s/base/www $s/app/www
         echo 'hello from the image' > $s/web/www/index.html",
        store = "/var/lib/podctl/storage"
    ))?;
    if g.sh("test -e /run/podctl-bench/pods.ready").success() {
        return Ok(());
    }
    let s = "/root/img-src/pods";
    ib::push_image_with(
        g,
        "true",
        &[&format!("{s}/base"), &format!("{s}/app")],
        "bench/app",
        "1",
        Some(APP_CONFIG),
    )?;
    ib::push_image_with(
        g,
        "true",
        &[&format!("{s}/base"), &format!("{s}/web")],
        "bench/web",
        "1",
        Some(WEB_CONFIG),
    )?;
    g.ok("touch /run/podctl-bench/pods.ready").map(|_| ())
}

/// `podctl apply` where the registries are reachable (their namespace).
pub fn apply_cmd(path: &str) -> String {
    format!(
        "ip netns exec {NETNS} env CONTAINERS_REGISTRIES_CONF={REGISTRIES_CONF} podctl apply {path}"
    )
}

fn apply(g: &Guest, name: &str, toml: &str) -> Result<String, String> {
    let path = write_pod(g, name, toml)?;
    g.ok(&apply_cmd(&path))
}

/// The file the container wrote in its upper layer, once there.
pub fn upper_file(g: &Guest, pod: &str, c: &str, file: &str) -> Result<String, String> {
    let path = format!("{CONTAINERS}/{pod}/{c}/upper/{file}");
    wait_for(Duration::from_secs(20), &path, || {
        Ok(g.sh(&format!("test -s {path}")).success())
    })?;
    g.ok(&format!("cat {path}"))
}

/// After down: no upper layer and no overlay of the pod left mounted.
pub fn nothing_left(g: &Guest, pod: &str) -> Result<(), String> {
    let left = g.ok(&format!(
        "ls -d {CONTAINERS}/{pod} 2>/dev/null; grep -c ' /run/podctl/oci/{pod}\\.' /proc/self/mountinfo || true"
    ))?;
    expect(left == "0", || {
        format!(
            "after down, left of pod {pod}: {left:?} (want no {CONTAINERS}/{pod}, no rootfs mount)"
        )
    })
}

fn image_config_and_pod_file_keys(g: &Guest) -> Result<(), String> {
    setup(g)?;
    apply(
        g,
        "imgrun",
        &format!(
            "name = \"imgrun\"\nnetwork = \"none\"\n\
             [containers.app]\nimage = \"{APP}\"\n\
             [containers.over]\nimage = \"{APP}\"\nenv = {{ GREETING = \"from-pod\" }}\nworkdir = \"/\"\nuser = 0\n\
             args = [\"echo \\\"$GREETING|$(pwd)|$(id -u)\\\" > /www/result; exec sleep 1402\"]\n"
        ),
    )?;
    let app = wait_pid(g, "sleep 1401")?;
    wait_pid(g, "sleep 1402")?;
    let got = upper_file(g, "imgrun", "app", "www/result")?;
    expect(got == "from-image|/www|33", || {
        format!("app (image's entrypoint, cmd, env, workdir, user) wrote {got:?}")
    })?;
    let got = upper_file(g, "imgrun", "over", "www/result")?;
    expect(got == "from-pod|/|0", || {
        format!("over (args, env, workdir, user of the pod file) wrote {got:?}")
    })?;
    // Its root is the image's, not the host's.
    let passwd = g.ok(&format!("cat /proc/{app}/root/etc/passwd"))?;
    expect(passwd.contains("www:x:33:33"), || {
        format!("app's /etc/passwd is not the image's:\n{passwd}")
    })?;
    // --dry-run shows the stored digest and the effective command.
    let plan = g.ok("podctl apply --dry-run /root/pods/imgrun.toml")?;
    let digest = ib::registry_digest(g, APP)?;
    expect(
        plan.contains(&format!("image: {APP} = {APP}@{digest}"))
            && plan.contains(
                "argv: [\"/bin/sh\", \"-c\", \"echo \\\"$GREETING|$(pwd)|$(id -u)\\\" > /www/result; exec sleep 1401\"]",
            ),
        || format!("apply --dry-run shows neither digest {digest} nor the image's command:\n{plan}"),
    )?;
    // exec gets the image's env, workdir and user (a name of the image's).
    let got = g.ok("podctl exec imgrun app -- /bin/sh -c 'echo \"$GREETING|$(pwd)|$(id -u)\"'")?;
    expect(got == "from-image|/www|33", || {
        format!("podctl exec in app ran as {got:?}")
    })?;
    let got = g.ok("podctl exec -u www imgrun over -- /bin/id -u")?;
    expect(got == "33", || {
        format!("podctl exec -u www in over: {got:?}")
    })?;
    let mode = g.ok(&format!("stat -c %a {CONTAINERS}/imgrun/app"))?;
    expect(mode == "700", || {
        format!("{CONTAINERS}/imgrun/app is {mode}")
    })?;
    g.ok("podctl down --purge imgrun")?;
    nothing_left(g, "imgrun")
}

fn seed_pod_web_and_sidecar_over_localhost(g: &Guest) -> Result<(), String> {
    setup(g)?;
    apply(
        g,
        "seed",
        &format!(
            "name = \"seed\"\nnetwork = \"none\"\n\
             [containers.web]\nimage = \"{WEB}\"\n\
             [containers.curl]\nimage = \"{APP}\"\ncommand = [\"/bin/sh\", \"-c\"]\n\
             args = [\"while :; do wget -qO- http://localhost:80/ && sleep 1403; sleep 1; done\"]\n\
             volumes = [\"tmpfs:/var/cache/seed-new\"]\n"
        ),
    )?;
    // A target the image root lacks is made in its upper layer, not refused
    // as it is for a host-root container (and nothing appears on the host).
    expect(!g.sh("test -e /var/cache/seed-new").success(), || {
        "the image container's volume target was made on the host".into()
    })?;
    wait_pid(g, "/bin/httpd -f -p 80 -h /www")?;
    // The sidecar got the page through the pod's loopback, then sleeps.
    wait_pid(g, "sleep 1403")?;
    let logs = g.ok("podctl logs seed curl")?;
    expect(logs.contains("hello from the image"), || {
        format!("podctl logs seed curl:\n{logs}")
    })?;
    let table = g.ok("podctl inspect seed")?;
    for row in ["web", "curl"] {
        let got = super::isolation::inspect_marks(&table, row)?;
        expect(
            // An image pod: its own user namespace, the sandbox's.
            got == ["shared", "shared", "shared", "shared", "own", "own", "own"],
            || format!("inspect row {row}: {got:?} (user net ipc uts pid mnt cgroup):\n{table}"),
        )?;
    }
    g.ok("podctl down --purge seed")?;
    nothing_left(g, "seed")
}

fn unknown_image_changes_nothing(g: &Guest) -> Result<(), String> {
    setup(g)?;
    let pod = |image: &str| {
        format!(
            "name = \"imgkeep\"\nnetwork = \"none\"\n[containers.app]\nimage = \"{image}\"\n\
             command = [\"/bin/sleep\", \"1404\"]\n"
        )
    };
    apply(g, "imgkeep", &pod(APP))?;
    let pid = wait_pid(g, "/bin/sleep 1404")?;
    let before = status(g, "imgkeep")?;
    let stored = g.ok("cat /etc/podctl/pods/imgkeep.toml")?;
    let missing = format!("{PLAIN}/bench/nope:1");
    let path = write_pod(g, "imgkeep", &pod(&missing))?;
    let out = g.sh(&apply_cmd(&path));
    expect(!out.success(), || {
        format!("apply with {missing} succeeded:\n{}", out.stdout)
    })?;
    expect(
        out.stderr.contains(&missing)
            && out.stderr.contains(&format!("from {PLAIN}"))
            && out.stderr.contains("404")
            && out.stderr.contains("nothing was changed"),
        || {
            format!(
                "the error names neither reference, registry nor answer:\n{}",
                out.stderr
            )
        },
    )?;
    let now = wait_pid(g, "/bin/sleep 1404")?;
    expect(now == pid, || format!("app's pid went from {pid} to {now}"))?;
    let after = status(g, "imgkeep")?;
    for field in ["pid", "restarts", "state"] {
        let (a, b) = (
            container_field(&before, "app", field),
            container_field(&after, "app", field),
        );
        expect(a == b, || format!("app's {field} went from {a} to {b}"))?;
    }
    let still = g.ok("cat /etc/podctl/pods/imgkeep.toml")?;
    expect(still == stored, || {
        format!("the stored definition changed:\n{still}")
    })?;
    g.ok("podctl down --purge imgkeep").map(|_| ())
}

fn read_only_root_cannot_be_written(g: &Guest) -> Result<(), String> {
    setup(g)?;
    apply(
        g,
        "imgro",
        &format!(
            "name = \"imgro\"\nnetwork = \"none\"\n[containers.ro]\nimage = \"{APP}\"\nuser = 0\n\
             read_only = true\n\
             args = [\"if touch /x || touch /www/x; then echo WROTE; else echo REFUSED; fi; exec sleep 1405\"]\n"
        ),
    )?;
    wait_pid(g, "sleep 1405")?;
    wait_for(Duration::from_secs(10), "ro's output", || {
        Ok(g.sh("podctl logs imgro ro").stdout.contains("REFUSED"))
    })
    .map_err(|e| format!("{e}:\n{}", g.sh("podctl logs imgro ro").stdout))?;
    let upper = g.sh(&format!("ls -d {CONTAINERS}/imgro/ro/upper"));
    expect(!upper.success(), || {
        format!("a read-only root has an upper layer: {}", upper.stdout)
    })?;
    g.ok("podctl down --purge imgro")?;
    nothing_left(g, "imgro")
}

fn whiteouts_in_a_running_container(g: &Guest) -> Result<(), String> {
    setup(g)?;
    let prep = "s=/root/img-src/pods-wh; rm -rf $s; mkdir -p $s/low/etc $s/low/opt/sub $s/up/etc $s/up/opt; \
        echo k > $s/low/etc/keep; echo g > $s/low/etc/gone; echo 1 > $s/low/opt/old; echo 2 > $s/low/opt/sub/old2; \
        touch $s/up/etc/.wh.gone $s/up/opt/.wh..wh..opq; echo n > $s/up/opt/new";
    ib::push_image_with(
        g,
        prep,
        &[
            "/root/img-src/pods/base",
            "/root/img-src/pods-wh/low",
            "/root/img-src/pods-wh/up",
        ],
        "bench/wh-run",
        "1",
        Some(r#"{"Cmd":["/bin/sleep","1406"],"Env":["PATH=/bin"]}"#),
    )?;
    apply(
        g,
        "imgwh",
        &format!(
            "name = \"imgwh\"\nnetwork = \"none\"\n[containers.app]\nimage = \"{PLAIN}/bench/wh-run:1\"\n"
        ),
    )?;
    let pid = wait_pid(g, "/bin/sleep 1406")?;
    let seen = g.ok(&format!(
        "echo etc: $(ls -A /proc/{pid}/root/etc | grep -v -e passwd -e group -e hosts); echo opt: $(ls -A /proc/{pid}/root/opt)"
    ))?;
    expect(seen == "etc: keep\nopt: new", || {
        format!("the running container sees:\n{seen}\n(want etc: keep, opt: new)")
    })?;
    g.ok("podctl down --purge imgwh").map(|_| ())
}

fn rmi_prune_and_images_know_the_pods(g: &Guest) -> Result<(), String> {
    setup(g)?;
    // A reference no other trial's pod uses: stored pods are the host's, and
    // the last rmi must find none using it.
    g.ok(&format!(
        "ip netns exec {} skopeo copy -q --src-tls-verify=false --dest-tls-verify=false \
         docker://{APP} docker://{PRUNE_REF}",
        ib::NETNS
    ))?;
    apply(
        g,
        "imguse",
        &format!(
            "name = \"imguse\"\nnetwork = \"none\"\n[containers.app]\nimage = \"{PRUNE_REF}\"\n\
             command = [\"/bin/sleep\", \"1407\"]\n"
        ),
    )?;
    wait_pid(g, "/bin/sleep 1407")?;
    // A store of this trial's own (a prune of the system store would race
    // the other trials' applies), with the stored pods of the host.
    let env = ib::Env::new("prune");
    env.podctl(g, &format!("pull {PRUNE_REF}"))?;
    env.podctl(g, &format!("pull {PLAIN}/bench/busybox:1"))?;
    let images = env.images(g)?;
    let app = images
        .iter()
        .find(|i| i["reference"] == PRUNE_REF)
        .ok_or_else(|| format!("{PRUNE_REF} not listed: {images:?}"))?;
    let used: Vec<&str> = app["used_by"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default();
    expect(used.contains(&"imguse"), || {
        format!("images --json: {PRUNE_REF} used by {used:?}, want imguse")
    })?;
    let table = env.podctl(g, "images")?;
    expect(
        table
            .lines()
            .any(|l| l.starts_with(PRUNE_REF) && l.contains("imguse")),
        || format!("podctl images shows no user of {PRUNE_REF}:\n{table}"),
    )?;
    let err = env.podctl_fails(g, &format!("rmi {PRUNE_REF}"))?;
    expect(err.contains("pod imguse"), || {
        format!("rmi of an image in use: {err}")
    })?;
    env.podctl(g, "image prune")?;
    let left: Vec<String> = env
        .images(g)?
        .iter()
        .filter_map(|i| i["reference"].as_str().map(String::from))
        .collect();
    expect(left == [PRUNE_REF], || {
        format!("after prune: {left:?} (want only {PRUNE_REF}, which imguse uses)")
    })?;
    g.ok("podctl down --purge imguse")?;
    // No stored pod uses it any more: rmi goes through.
    env.podctl(g, &format!("rmi {PRUNE_REF}")).map(|_| ())
}

/// On a bridge network the image root gets the pod network's /etc/hosts
/// and /etc/resolv.conf (not the image's, not the host's).
fn bridge_pod_etc_files_in_the_image_root(g: &Guest) -> Result<(), String> {
    setup(g)?;
    apply(
        g,
        "imgnet",
        &format!(
            "name = \"imgnet\"\nhostname = \"imgnet-host\"\n[containers.app]\nimage = \"{APP}\"\n\
             command = [\"/bin/sleep\", \"1409\"]\n"
        ),
    )?;
    let pid = wait_pid(g, "/bin/sleep 1409")?;
    for f in ["hosts", "resolv.conf"] {
        let inside = g.ok(&format!("cat /proc/{pid}/root/etc/{f}"))?;
        let pods = g.ok(&format!("cat /run/podctl/net/imgnet/{f}"))?;
        expect(inside == pods, || {
            format!("the container's /etc/{f}:\n{inside}\nthe pod network's:\n{pods}")
        })?;
    }
    let hosts = g.ok(&format!("cat /proc/{pid}/root/etc/hosts"))?;
    expect(hosts.contains("imgnet-host"), || {
        format!("/etc/hosts lacks the pod's hostname:\n{hosts}")
    })?;
    g.ok("podctl down --purge imgnet")?;
    nothing_left(g, "imgnet")
}

/// Phase 1: an image pod (autostart), running; the registry is only up in
/// this boot (its netns and services are not made again).
fn image_pod_before_reboot(g: &Guest) -> Result<(), String> {
    setup(g)?;
    apply(
        g,
        "imgboot",
        &format!(
            "name = \"imgboot\"\nnetwork = \"none\"\n[containers.app]\nimage = \"{APP}\"\n\
             args = [\"echo \\\"$GREETING|$(pwd)|$(id -u)\\\" > /www/result; exec sleep 1408\"]\n"
        ),
    )?;
    wait_pid(g, "sleep 1408")?;
    let got = upper_file(g, "imgboot", "app", "www/result")?;
    expect(got == "from-image|/www|33", || {
        format!("before reboot: {got:?}")
    })?;
    // Left in the writable layer: the start after the reboot must drop it.
    g.ok(&format!(
        "touch {CONTAINERS}/imgboot/app/upper/www/before-reboot"
    ))?;
    g.ok("cat /proc/sys/kernel/random/boot_id > /var/lib/podctl-imgboot-boot-id")
        .map(|_| ())
}

/// Phase 2: a new boot, no registry, and the pod runs its image again (a
/// fresh upper layer: the old one went at the start).
fn image_pod_after_reboot(g: &Guest) -> Result<(), String> {
    if g.ok("cat /var/lib/podctl-imgboot-boot-id")?
        == g.ok("cat /proc/sys/kernel/random/boot_id")?
    {
        return Err("phase 2 ran in the same boot".into());
    }
    let reg = g.sh(&format!(
        "ip netns exec {NETNS} curl -sf http://{PLAIN}/v2/ || curl -sf http://{PLAIN}/v2/"
    ));
    expect(!reg.success(), || {
        format!("the registry answers after the reboot: {}", reg.stdout)
    })?;
    g.wait_property(
        "pod@imgboot.service",
        "ActiveState",
        "active",
        Duration::from_secs(90),
    )?;
    let pid = wait_pid(g, "sleep 1408")?;
    let passwd = g.ok(&format!("cat /proc/{pid}/root/etc/passwd"))?;
    expect(passwd.contains("www:x:33:33"), || {
        format!("after reboot the root is not the image's:\n{passwd}")
    })?;
    let got = upper_file(g, "imgboot", "app", "www/result")?;
    expect(got == "from-image|/www|33", || {
        format!("after reboot: {got:?}")
    })?;
    let stale = g.sh(&format!(
        "ls {CONTAINERS}/imgboot/app/upper/www/before-reboot"
    ));
    expect(!stale.success(), || {
        "the upper layer of the previous boot was kept".to_string()
    })?;
    g.ok("podctl down --purge imgboot")?;
    nothing_left(g, "imgboot")
}
