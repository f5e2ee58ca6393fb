use super::*;
use crate::kube::{Loaded, Unsupported, generate, parse_str};

/// A Pod with `annotations` (indented lines) whose container `app` runs
/// `image` with `more` (container fields), and a host container `tool`.
fn manifest(annotations: &str, image: &str, more: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  annotations:\n    podctl.io/host-binaries: tool\n{annotations}spec:\n  containers:\n  - name: app\n    image: {image}\n{more}  - name: tool\n    command: [/bin/sleep, infinity]\n"
    )
}

fn read(src: &str, policy: Unsupported) -> Result<Loaded, String> {
    parse_str(src, "t.yaml", policy, crate::kube::test_files()).map_err(|d| d.to_string())
}

fn ok(src: &str) -> Loaded {
    read(src, Unsupported::Error).unwrap_or_else(|e| panic!("{e}\n{src}"))
}

fn err(src: &str) -> String {
    match read(src, Unsupported::Error) {
        Ok(l) => panic!("accepted:\n{}", l.text),
        Err(e) => e,
    }
}

fn notes(l: &Loaded) -> Vec<String> {
    l.warnings.iter().map(|w| w.to_string()).collect()
}

#[test]
fn each_image_pull_policy_is_a_pull_policy() {
    for (k8s, want) in [
        ("IfNotPresent", PullPolicy::Missing),
        ("Always", PullPolicy::Always),
        ("Never", PullPolicy::Never),
    ] {
        let more = format!("    imagePullPolicy: {k8s}\n");
        let l = ok(&manifest("", "nginx:1.25", &more));
        assert_eq!(l.pod.containers[0].updates.pull, want, "{k8s}");
        // IfNotPresent is podctl's default: the native file says nothing.
        assert_eq!(
            l.text.contains("pull = "),
            k8s != "IfNotPresent",
            "{}",
            l.text
        );
        assert!(l.warnings.is_empty(), "{:?}", l.warnings);
    }
}

#[test]
fn an_unknown_pull_policy_or_one_without_an_image_is_located() {
    let e = err(&manifest(
        "",
        "nginx:1.25",
        "    imagePullPolicy: Sometimes\n",
    ));
    assert_eq!(
        e,
        "t.yaml:11:22: spec.containers[0].imagePullPolicy: \"Sometimes\" is not an image pull policy (Always, IfNotPresent, Never)"
    );
    // A host container is never pulled: IfNotPresent says so, the others
    // are the pod file's error, at the field.
    let host = |policy: &str| {
        manifest("", "nginx:1.25", "").replace(
            "    command: [/bin/sleep, infinity]\n",
            &format!("    command: [/bin/sleep, infinity]\n    imagePullPolicy: {policy}\n"),
        )
    };
    ok(&host("IfNotPresent"));
    assert_eq!(
        err(&host("Never")),
        "t.yaml:13:22: spec.containers[1].imagePullPolicy: only a container with an image is pulled (this one runs the host's binaries)"
    );
}

/// Kubernetes pulls `:latest` and untagged images at every start when
/// imagePullPolicy is left out; podctl keeps its default and says so.
#[test]
fn a_latest_image_without_a_policy_gets_a_note() {
    for image in ["nginx", "nginx:latest", "localhost:5000/app"] {
        let l = ok(&manifest("", image, ""));
        assert_eq!(l.pod.containers[0].updates.pull, PullPolicy::Missing);
        assert_eq!(
            notes(&l),
            [
                "t.yaml:10:12: spec.containers[0].image: imagePullPolicy left out: Kubernetes pulls a :latest or untagged image at every start (Always), podctl only when it is not stored (IfNotPresent); write imagePullPolicy: Always to pull it at every apply"
            ],
            "{image}"
        );
        let l = ok(&manifest("", image, "    imagePullPolicy: IfNotPresent\n"));
        assert!(l.warnings.is_empty(), "{image}: {:?}", l.warnings);
    }
    let digest = format!("nginx@sha256:{}", "1".repeat(64));
    for image in ["nginx:1.25", digest.as_str()] {
        assert!(ok(&manifest("", image, "")).warnings.is_empty(), "{image}");
    }
}

#[test]
fn kubernetes_pulls_latest_and_untagged_images_at_every_start() {
    let digest = format!("@sha256:{}", "a".repeat(64));
    for (image, always) in [
        ("nginx", true),
        ("nginx:latest", true),
        ("docker.io/library/nginx", true),
        ("nginx:1.25", false),
        (&format!("nginx{digest}"), false),
        (&format!("nginx:latest{digest}"), true),
        ("oci:/srv/layout", false),
        ("oci-archive:/srv/image.tar:latest", false),
    ] {
        assert_eq!(pulled_at_every_start(image), always, "{image}");
    }
}

/// Podman's `io.containers.autoupdate` is the pod's `auto_update` (its
/// image containers'), `io.containers.autoupdate/CONTAINER` one
/// container's, which wins.
#[test]
fn podmans_autoupdate_annotations_are_auto_update() {
    let auto = |annotations: &str| -> Vec<bool> {
        let src = manifest(annotations, "nginx:1.25", "").replace(
            "  - name: tool\n",
            "  - name: side\n    image: nginx:1.25\n  - name: tool\n",
        );
        ok(&src)
            .pod
            .containers
            .iter()
            .map(|c| c.updates.auto_update)
            .collect()
    };
    assert_eq!(auto(""), [false, false, false]);
    assert_eq!(
        auto("    io.containers.autoupdate: registry\n"),
        [true, true, false]
    );
    assert_eq!(
        auto("    io.containers.autoupdate/side: registry\n"),
        [false, true, false]
    );
    assert_eq!(
        auto(
            "    io.containers.autoupdate: registry\n    io.containers.autoupdate/app: disabled\n"
        ),
        [false, true, false]
    );
    // Another annotation that merely starts the same is not Podman's.
    assert_eq!(
        auto("    io.containers.autoupdate.authfile: /etc/auth.json\n"),
        [false, false, false]
    );
}

#[test]
fn a_bad_autoupdate_annotation_is_an_error_naming_it() {
    let e = err(&manifest(
        "    io.containers.autoupdate: enabled\n",
        "nginx:1.25",
        "",
    ));
    assert_eq!(
        e,
        "t.yaml:7:5: metadata.annotations.io.containers.autoupdate: \"enabled\" is not an auto-update policy (allowed: registry, disabled)"
    );
    let e = err(&manifest(
        "    io.containers.autoupdate/nope: registry\n",
        "nginx:1.25",
        "",
    ));
    assert_eq!(
        e,
        "t.yaml:7:5: metadata.annotations.io.containers.autoupdate/nope: no container named \"nope\""
    );
    let e = err(&manifest(
        "    io.containers.autoupdate/tool: registry\n",
        "nginx:1.25",
        "",
    ));
    assert_eq!(
        e,
        "t.yaml:7:5: metadata.annotations.io.containers.autoupdate/tool: only a container with an image is updated (this one runs the host's binaries)"
    );
    let e = err(&manifest(
        "    io.containers.autoupdate/app: registry\n    podctl.io/app.auto_update: disabled\n",
        "nginx:1.25",
        "",
    ));
    assert!(
        e.contains("io.containers.autoupdate/app: also set by metadata.annotations.podctl.io/app.auto_update"),
        "{e}"
    );
    let never = manifest(
        "    io.containers.autoupdate: registry\n",
        "nginx:1.25",
        "    imagePullPolicy: Never\n",
    );
    assert!(
        err(&never).starts_with("t.yaml:12:22: spec.containers[0].imagePullPolicy: \"never\" in a pod with auto_update = \"registry\""),
        "{}",
        err(&never)
    );
}

/// Podman's `local` policy (an image updated from the store) is not
/// podctl's: unsupported, so `--ignore-unsupported` reads the rest.
#[test]
fn podmans_local_policy_is_not_supported() {
    let src = manifest(
        "    io.containers.autoupdate/app: local\n",
        "nginx:1.25",
        "",
    );
    assert_eq!(
        err(&src),
        "t.yaml:7:5: metadata.annotations.io.containers.autoupdate/app: not supported by podctl: the auto-update policy \"local\" (podctl updates from a registry: registry, disabled)"
    );
    let l = read(&src, Unsupported::Warn).unwrap();
    assert!(!l.pod.containers[0].updates.auto_update);
    assert_eq!(l.warnings.len(), 1, "{:?}", l.warnings);
}

#[test]
fn the_deadline_and_history_are_podctl_annotations() {
    let l = ok(&manifest(
        "    podctl.io/update_deadline: 2m\n    podctl.io/revision_history: \"3\"\n",
        "nginx:1.25",
        "",
    ));
    assert_eq!(l.pod.updates.deadline_ms, Some(120_000));
    assert_eq!(l.pod.updates.history, 3);
    let e = err(&manifest(
        "    podctl.io/revision_history: \"0\"\n",
        "nginx:1.25",
        "",
    ));
    assert_eq!(
        e,
        "t.yaml:7:5: metadata.annotations.podctl.io/revision_history: 0 is out of range (from 1 to 1000)"
    );
}

/// `kube generate` writes what reads back as the same settings, and
/// `imagePullPolicy` only where Kubernetes' default would differ.
#[test]
fn generate_writes_the_settings_back() {
    let pod_file = |top: &str, app: &str, side: &str| {
        format!(
            "name = \"web\"\n{top}[containers.app]\nimage = \"nginx:1.25\"\n{app}\
             [containers.side]\nimage = \"busybox\"\n{side}\
             [containers.tool]\ncommand = [\"/bin/sleep\", \"infinity\"]\n"
        )
    };
    let cases = [
        (
            pod_file("", "", ""),
            vec!["- name: side\n    image: busybox\n    imagePullPolicy: IfNotPresent\n"],
            vec![
                "imagePullPolicy: Always",
                "imagePullPolicy: Never",
                "autoupdate",
                "podctl.io/update",
                "podctl.io/revision",
            ],
        ),
        (
            pod_file(
                "auto_update = \"registry\"\nupdate_deadline = \"1500ms\"\nrevision_history = 3\n",
                "pull = \"always\"\n",
                "",
            ),
            vec![
                "io.containers.autoupdate: registry\n",
                "podctl.io/update_deadline: 1500ms\n",
                "podctl.io/revision_history: '3'\n",
                "image: nginx:1.25\n    imagePullPolicy: Always\n",
            ],
            vec!["autoupdate/"],
        ),
        (
            pod_file("", "auto_update = \"registry\"\n", "pull = \"never\"\n"),
            vec![
                "io.containers.autoupdate/app: registry\n",
                "image: busybox\n    imagePullPolicy: Never\n",
            ],
            vec![
                "io.containers.autoupdate: ",
                "autoupdate/side",
                "autoupdate/tool",
            ],
        ),
        (
            pod_file(
                "auto_update = \"registry\"\n",
                "",
                "pull = \"always\"\nauto_update = \"disabled\"\n",
            ),
            vec![
                "io.containers.autoupdate/app: registry\n",
                "image: busybox\n    imagePullPolicy: Always\n",
            ],
            vec!["io.containers.autoupdate: ", "autoupdate/side"],
        ),
    ];
    for (src, has, lacks) in cases {
        let pod = crate::spec::parse_str(&src, "web.toml", "web").unwrap_or_else(|d| panic!("{d}"));
        let yaml = generate::pod(&pod);
        for text in has {
            assert!(yaml.contains(text), "{text:?} not in\n{yaml}");
        }
        for text in lacks {
            assert!(!yaml.contains(text), "{text:?} in\n{yaml}");
        }
        let back = ok(&yaml);
        assert!(back.warnings.is_empty(), "{:?}\n{yaml}", back.warnings);
        assert_eq!(back.pod.updates, pod.updates, "{yaml}");
        let updates = |p: &Pod| -> Vec<_> { p.containers.iter().map(|c| c.updates).collect() };
        assert_eq!(updates(&back.pod), updates(&pod), "{yaml}");
    }
}
