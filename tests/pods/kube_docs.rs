//! A Kubernetes-docs-style manifest runs with no edits:
//! tests/data/kube/manifests/nginx-sidecar.yaml, as written (images
//! `nginx:1.25` and `busybox:1.36`, Docker Hub short names), applied in the
//! container tier. Docker Hub is the guest's plain registry here: a
//! registries.conf of this trial's own maps the `docker.io` prefix to it,
//! and the two images are built here and pushed as `library/nginx:1.25` and
//! `library/busybox:1.36`. `nginx:1.25` is the guest root's Debian nginx
//! (binary, libraries, mime.types) with a config in the style of the
//! official image's; `busybox:1.36` is busybox-static with every applet.

use super::common::{assert_gone, container_field, status, wait_pid};
use super::image_pods;
use super::image_rig::{self as ib, NETNS};
use crate::rig::{Guest, TrialFn, wait_for};
use std::time::Duration;

pub const TRIALS: &[(&str, TrialFn)] = &[(
    "kube_docs::nginx_manifest_runs_unedited",
    nginx_manifest_runs_unedited,
)];

/// The manifest, byte for byte as in the repository.
const MANIFEST: &str = include_str!("../data/kube/manifests/nginx-sidecar.yaml");
/// Docker Hub short names resolve to the guest's plain registry.
const DOCKER_HUB_CONF: &str = "/etc/podctl-bench/registries-docker-hub.conf";
const CONF_TEXT: &str = r#"unqualified-search-registries = ["docker.io"]

[[registry]]
prefix = "docker.io"
location = "localhost:5001"
insecure = true
"#;
/// As the official image's /etc/nginx/nginx.conf, with the error log on
/// stderr (the official image links /var/log/nginx/error.log there; the
/// manifest mounts an emptyDir over /var/log/nginx).
const NGINX_CONF: &str = "user nginx;
worker_processes 1;
error_log stderr notice;
pid /run/nginx.pid;
events { worker_connections 1024; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log /var/log/nginx/access.log;
    server {
        listen 80;
        server_name localhost;
        location / {
            root /usr/share/nginx/html;
            index index.html;
        }
    }
}
";
const PATH_ENV: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// Where the image sources are prepared in the guest.
const SRC: &str = "/root/img-src/kdocs";
/// What the init container writes and nginx must serve.
const PAGE: &str = "<h1>Hello from the init container</h1>";

fn expect(cond: bool, msg: impl FnOnce() -> String) -> Result<(), String> {
    if cond { Ok(()) } else { Err(msg()) }
}

/// The registries and the system store (image_pods' setup), the two images
/// and the registries.conf, once per boot.
fn setup(g: &Guest) -> Result<(), String> {
    static ONCE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _once = ONCE.lock().unwrap_or_else(|e| e.into_inner());
    image_pods::setup(g)?;
    if g.sh("test -e /run/podctl-bench/kdocs.ready").success() {
        return Ok(());
    }
    g.ok(&format!(
        "set -e; rm -rf {SRC}; mkdir -p {SRC}/bb/bin {SRC}/bb/etc {SRC}/bb/root {SRC}/bb/tmp
         cp /bin/busybox {SRC}/bb/bin/busybox
         for a in $(/bin/busybox --list); do [ $a = busybox ] || ln -s busybox {SRC}/bb/bin/$a; done
         printf 'root:x:0:0:root:/root:/bin/sh\\nnobody:x:65534:65534:nobody:/home:/bin/false\\n' > {SRC}/bb/etc/passwd
         printf 'root:x:0:\\nnogroup:x:65534:\\n' > {SRC}/bb/etc/group
         chmod 1777 {SRC}/bb/tmp
         n={SRC}/nginx
         mkdir -p $n/usr/sbin $n/etc/nginx $n/var/log/nginx $n/var/lib/nginx $n/usr/share/nginx/html $n/run $n/tmp
         chmod 1777 $n/tmp
         cp /usr/sbin/nginx $n/usr/sbin/nginx
         for l in $(ldd /usr/sbin/nginx | grep -o '/[^ ]*'); do cp -L --parents $l $n; done
         cp /etc/nginx/mime.types $n/etc/nginx/mime.types
         printf 'root:x:0:0:root:/root:/bin/sh\\nnginx:x:101:101:nginx user:/nonexistent:/bin/false\\n' > $n/etc/passwd
         printf 'root:x:0:\\nnginx:x:101:\\n' > $n/etc/group
         echo '<h1>Welcome to nginx!</h1>' > $n/usr/share/nginx/html/index.html
         cat > $n/etc/nginx/nginx.conf <<'PODCTL_EOF'\n{NGINX_CONF}PODCTL_EOF
         cat > {DOCKER_HUB_CONF} <<'PODCTL_EOF'\n{CONF_TEXT}PODCTL_EOF"
    ))?;
    ib::push_image_with(
        g,
        "true",
        &[&format!("{SRC}/bb")],
        "library/busybox",
        "1.36",
        Some(&format!(r#"{{"Cmd":["sh"],"Env":["{PATH_ENV}"]}}"#)),
    )?;
    ib::push_image_with(
        g,
        "true",
        &[&format!("{SRC}/nginx")],
        "library/nginx",
        "1.25",
        Some(&format!(
            r#"{{"Cmd":["nginx","-g","daemon off;"],"Env":["{PATH_ENV}"],"ExposedPorts":{{"80/tcp":{{}}}},"StopSignal":"SIGQUIT"}}"#
        )),
    )?;
    g.ok("touch /run/podctl-bench/kdocs.ready").map(|_| ())
}

/// `podctl events nginx --output json`: (container, event, detail), oldest first.
fn events(g: &Guest) -> Result<Vec<(String, String, String)>, String> {
    let out = g.ok("podctl events nginx --output json")?;
    out.lines()
        .map(|l| {
            let v: serde_json::Value =
                serde_json::from_str(l).map_err(|e| format!("podctl events: {e}: {l}"))?;
            let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
            Ok((s("container"), s("event"), s("detail")))
        })
        .collect()
}

/// The index of the first event `what` of container `c`.
fn first(evs: &[(String, String, String)], c: &str, what: &str) -> Result<usize, String> {
    evs.iter()
        .position(|(ctr, e, _)| ctr == c && e == what)
        .ok_or_else(|| format!("no {what} event of {c} in {evs:?}"))
}

fn nginx_manifest_runs_unedited(g: &Guest) -> Result<(), String> {
    setup(g)?;
    g.ok(&format!(
        "mkdir -p /root/pods && cat > /root/pods/nginx-sidecar.yaml <<'PODCTL_EOF'\n{MANIFEST}PODCTL_EOF"
    ))?;
    let out = g.ok(&format!(
        "ip netns exec {NETNS} env CONTAINERS_REGISTRIES_CONF={DOCKER_HUB_CONF} podctl apply /root/pods/nginx-sidecar.yaml"
    ))?;
    expect(out.contains("nginx: created"), || {
        format!("apply of the manifest said:\n{out}")
    })?;
    // Requests are what systemd has for them, on the container's scope:
    // cpu 250m as the kubelet weighs it, memory 64Mi protected from reclaim.
    g.expect_property("pod-nginx.nginx.scope", "CPUWeight", "10")?;
    g.expect_property("pod-nginx.nginx.scope", "MemoryLow", "67108864")?;
    g.expect_property("pod-nginx.nginx.scope", "MemoryMax", "134217728")?;
    // nginx is the image's (the master runs the image's Cmd in its root).
    let master = wait_pid(g, "nginx: master process nginx -g daemon off;")?;
    let passwd = g.ok(&format!("cat /proc/{master}/root/etc/passwd"))?;
    expect(passwd.contains("nginx:x:101:101"), || {
        format!("nginx's root is not the nginx image's:\n{passwd}")
    })?;
    // The readiness probe (httpGet / on port 80) made nginx ready.
    wait_for(Duration::from_secs(30), "nginx ready", || {
        Ok(container_field(&status(g, "nginx")?, "nginx", "ready") == true)
    })
    .map_err(|e| format!("{e}: {:#}", status(g, "nginx").unwrap_or_default()))?;
    // The init container ran to completion (exit 0) and only then did the
    // native sidecar and the app containers start.
    let st = status(g, "nginx")?;
    let (state, exit) = (
        container_field(&st, "init-content", "state"),
        container_field(&st, "init-content", "last_exit"),
    );
    expect(state == "completed" && exit == "exited 0", || {
        format!("init-content is {state} ({exit}), want completed (exited 0): {st:#}")
    })?;
    let evs = events(g)?;
    let init = first(&evs, "init-content", "started")?;
    for c in ["log-shipper", "nginx", "debug"] {
        let started = first(&evs, c, "started")?;
        expect(init < started, || {
            format!("{c} started before init-content: {evs:?}")
        })?;
    }
    expect(
        first(&evs, "log-shipper", "started")? < first(&evs, "nginx", "started")?,
        || format!("the sidecar log-shipper did not start before nginx: {evs:?}"),
    )?;
    // nginx answers on port 80 of the pod's loopback, from another
    // container, with the page the init container left in the emptyDir.
    let page = g.ok("podctl exec nginx debug -- wget -qO- http://localhost:80/")?;
    expect(page == PAGE, || {
        format!("http://localhost:80/ from the debug container gave {page:?}, want {PAGE:?}")
    })?;
    // The access log nginx writes into the `logs` emptyDir is what the
    // sidecar follows: the request above (busybox wget's user agent).
    let logs = wait_for(
        Duration::from_secs(10),
        "the request in log-shipper's output",
        || {
            Ok(g.sh("podctl logs nginx log-shipper")
                .stdout
                .contains("\"GET / HTTP/1.1\" 200"))
        },
    )
    .map(|()| g.sh("podctl logs nginx log-shipper").stdout);
    let logs =
        logs.map_err(|e| format!("{e}:\n{}", g.sh("podctl logs nginx log-shipper").stdout))?;
    expect(
        logs.lines()
            .any(|l| l.contains("\"GET / HTTP/1.1\" 200") && l.contains("Wget")),
        || format!("log-shipper did not follow nginx's access log (no wget request):\n{logs}"),
    )?;
    let st = status(g, "nginx")?;
    for c in ["log-shipper", "nginx", "debug"] {
        expect(container_field(&st, c, "state") == "running", || {
            format!("{c} is not running: {st:#}")
        })?;
    }
    g.ok("podctl down --purge nginx")?;
    assert_gone(g, "nginx", &["nginx: master process nginx -g daemon off;"])
}
