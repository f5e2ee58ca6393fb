//! hostUsers and `podctl.io/userns`, in, out and back.

use crate::kube::{Unsupported, generate, parse_str};
use crate::model::{DEFAULT_USERNS_SIZE, IdMap, UserNs};

const AUTO: UserNs = UserNs::Auto {
    size: DEFAULT_USERNS_SIZE,
};

/// A one-container Pod; `spec` and `annotations` are lines of those
/// mappings (indented by the caller), `security` the container's
/// securityContext lines.
fn manifest(annotations: &str, spec: &str, security: &str) -> String {
    let annotations = if annotations.is_empty() {
        String::new()
    } else {
        format!("  annotations:\n{annotations}")
    };
    let security = if security.is_empty() {
        String::new()
    } else {
        format!("    securityContext:\n{security}")
    };
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n{annotations}spec:\n{spec}  containers:\n  - name: app\n    image: nginx:1.25\n{security}"
    )
}

fn userns(src: &str) -> UserNs {
    match parse_str(src, "t.yaml", Unsupported::Error, crate::kube::test_files()) {
        Ok(l) => l.pod.userns,
        Err(d) => panic!("{d}\n{src}"),
    }
}

fn err(src: &str) -> String {
    match parse_str(src, "t.yaml", Unsupported::Error, crate::kube::test_files()) {
        Ok(l) => panic!("accepted: {:?}\n{src}", l.pod.userns),
        Err(d) => d.to_string(),
    }
}

#[test]
fn host_users_false_is_auto_and_true_is_host() {
    let src = manifest("", "  hostUsers: false\n", "");
    assert_eq!(userns(&src), AUTO);
    let text = parse_str(
        &src,
        "t.yaml",
        Unsupported::Error,
        crate::kube::test_files(),
    )
    .unwrap()
    .text;
    assert!(text.contains("\nuserns = \"auto\"\n"), "{text}");
    assert_eq!(
        userns(&manifest("", "  hostUsers: true\n", "")),
        UserNs::Host
    );
}

/// Unlike Kubernetes (the host's), a missing hostUsers is podctl's default.
#[test]
fn without_host_users_podctl_decides() {
    let src = manifest("", "", "");
    let l = parse_str(
        &src,
        "t.yaml",
        Unsupported::Error,
        crate::kube::test_files(),
    )
    .unwrap();
    assert!(!l.text.contains("userns"), "{}", l.text);
    assert_eq!(l.pod.userns, AUTO);
    let src = manifest("", "  hostNetwork: true\n", "");
    assert_eq!(userns(&src), UserNs::Host);
    assert_eq!(userns(&manifest("", "  hostUsers: null\n", "")), AUTO);
}

#[test]
fn host_users_must_be_a_boolean() {
    let e = err(&manifest("", "  hostUsers: \"false\"\n", ""));
    assert_eq!(
        e,
        "t.yaml:6:14: spec.hostUsers: expected true or false, found a string"
    );
}

/// What needs the host's user namespace is named in the manifest's terms,
/// at hostUsers.
#[test]
fn host_users_false_with_what_needs_the_host_is_refused_in_yaml_terms() {
    let e = err(&manifest(
        "",
        "  hostUsers: false\n  hostNetwork: true\n  hostPID: true\n",
        "",
    ));
    let lines: Vec<&str> = e.lines().collect();
    assert_eq!(lines.len(), 2, "{e}");
    assert!(
        lines[0].starts_with("t.yaml:6:14: spec.hostUsers: the pod takes the host's net namespace (spec.hostNetwork: true), which a pod with a user namespace of its own (hostUsers: false) cannot have; remove it, or set hostUsers: true"),
        "{e}"
    );
    assert!(lines[1].contains("(spec.hostPID: true)"), "{e}");
    assert!(!e.contains("userns ="), "pod file words: {e}");

    let e = err(&manifest(
        "",
        "  hostUsers: false\n",
        "      privileged: true\n",
    ));
    assert!(
        e.contains("spec.hostUsers: container app is privileged (spec.containers[0].securityContext.privileged: true), which a pod"),
        "{e}"
    );
    assert_eq!(e.lines().count(), 1, "{e}");

    let host = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  annotations:\n    podctl.io/host-binaries: app\nspec:\n  hostUsers: false\n  containers:\n  - name: app\n    command: [/bin/sleep, infinity]\n";
    let e = err(host);
    assert!(
        e.contains("spec.hostUsers: container app has no image: it runs on the host's root (podctl.io/host-binaries), which a pod"),
        "{e}"
    );
    assert_eq!(e.lines().count(), 1, "{e}");
    // hostUsers: true, or left out, goes with all of them.
    assert_eq!(
        userns(&host.replace("hostUsers: false", "hostUsers: true")),
        UserNs::Host
    );
}

#[test]
fn the_annotation_gives_the_range() {
    let fixed = "    podctl.io/userns: '{ uid = 200000, gid = 300000, size = 65536 }'\n";
    let want = UserNs::Fixed(IdMap {
        uid: 200_000,
        gid: 300_000,
        size: 65_536,
    });
    assert_eq!(userns(&manifest(fixed, "  hostUsers: false\n", "")), want);
    assert_eq!(userns(&manifest(fixed, "", "")), want);
    let size = "    podctl.io/userns: '{ size = 1024 }'\n";
    assert_eq!(
        userns(&manifest(size, "  hostUsers: false\n", "")),
        UserNs::Auto { size: 1024 }
    );
    let host = "    podctl.io/userns: host\n";
    assert_eq!(
        userns(&manifest(host, "  hostUsers: true\n", "")),
        UserNs::Host
    );
}

#[test]
fn host_users_and_the_annotation_must_agree() {
    let fixed = "    podctl.io/userns: '{ uid = 200000, size = 65536 }'\n";
    let e = err(&manifest(fixed, "  hostUsers: true\n", ""));
    assert_eq!(
        e,
        "t.yaml:8:14: spec.hostUsers: true, but metadata.annotations.podctl.io/userns gives the pod a user namespace of its own; remove one, or make them agree"
    );
    let e = err(&manifest(
        "    podctl.io/userns: host\n",
        "  hostUsers: false\n",
        "",
    ));
    assert!(
        e.contains("spec.hostUsers: false, but metadata.annotations.podctl.io/userns gives the pod the host's user namespace"),
        "{e}"
    );
    // The range with what needs the host: said in the manifest's terms.
    let e = err(&manifest(
        fixed,
        "  hostUsers: false\n  hostIPC: true\n",
        "",
    ));
    assert!(
        e.contains("spec.hostUsers: the pod takes the host's ipc namespace (spec.hostIPC: true)"),
        "{e}"
    );
    // The host's namespaces from the annotation, likewise.
    let e = err(&manifest(
        "    podctl.io/host: '[\"uts\"]'\n",
        "  hostUsers: false\n",
        "",
    ));
    assert_eq!(
        e,
        "t.yaml:8:14: spec.hostUsers: the pod takes the host's uts namespace (metadata.annotations.podctl.io/host), which a pod with a user namespace of its own (hostUsers: false) cannot have; remove it, or set hostUsers: true"
    );
    // A bad range is the pod file reader's, located at the annotation.
    let e = err(&manifest(
        "    podctl.io/userns: '{ uid = 0 }'\n",
        "  hostUsers: false\n",
        "",
    ));
    assert!(
        e.starts_with("t.yaml:6:5: metadata.annotations.podctl.io/userns: "),
        "{e}"
    );
}

fn pod_of(toml: &str) -> crate::model::Pod {
    crate::spec::parse_str(toml, "t.toml", "t").unwrap_or_else(|d| panic!("{d}"))
}

const POD: &str = "name = \"web\"\n[containers.app]\nimage = \"nginx:1.25\"\n";

#[test]
fn generate_writes_host_users_and_the_range() {
    let cases = [
        ("", "  hostUsers: false\n", None),
        ("userns = \"host\"\n", "  hostUsers: true\n", None),
        (
            "userns = { size = 1024 }\n",
            "  hostUsers: false\n",
            Some("podctl.io/userns: '{ size = 1024 }'"),
        ),
        (
            "userns = { uid = 200000, gid = 300000, size = 4096 }\n",
            "  hostUsers: false\n",
            Some("podctl.io/userns: '{ uid = 200000, gid = 300000, size = 4096 }'"),
        ),
    ];
    for (key, field, note) in cases {
        let yaml = generate::pod(&pod_of(&format!("{key}{POD}")));
        assert!(yaml.contains(field), "{key}: {yaml}");
        match note {
            Some(n) => assert!(yaml.contains(n), "{key}: {yaml}"),
            None => assert!(!yaml.contains("podctl.io/userns"), "{key}: {yaml}"),
        }
    }
    // The host's because the pod needs it: said as well.
    let yaml = generate::pod(&pod_of(&format!("host = [\"net\"]\n{POD}")));
    assert!(yaml.contains("  hostUsers: true\n"), "{yaml}");
}

#[test]
fn every_user_namespace_round_trips() {
    for key in [
        "",
        "userns = \"auto\"\n",
        "userns = \"host\"\n",
        "userns = { size = 1024 }\n",
        "userns = { size = 65536 }\n",
        "userns = { uid = 200000, size = 65536 }\n",
        "userns = { uid = 200000, gid = 300000, size = 4096 }\n",
        "host = [\"pid\"]\n",
    ] {
        let pod = pod_of(&format!("{key}{POD}"));
        let yaml = generate::pod(&pod);
        let back = parse_str(
            &yaml,
            "t.yaml",
            Unsupported::Error,
            crate::kube::test_files(),
        )
        .unwrap_or_else(|d| panic!("{key}: {d}\n{yaml}"));
        assert_eq!(back.pod.userns, pod.userns, "{key}\n{yaml}");
        assert_eq!(
            crate::plan::build(&back.pod),
            crate::plan::build(&pod),
            "{key}"
        );
    }
}
