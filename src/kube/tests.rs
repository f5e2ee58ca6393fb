//! The converter's behaviour on small manifests; the examples' round trips
//! and the catalogue of rejected manifests are in `tests/kube.rs`.

use super::*;

const HOST: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  annotations:\n    podctl.io/host-binaries: app\nspec:\n  containers:\n  - name: app\n    command: [/bin/sleep, infinity]\n";

fn ok(src: &str) -> Loaded {
    parse_str(src, "t.yaml", Unsupported::Error, crate::kube::test_files())
        .unwrap_or_else(|d| panic!("{d}"))
}

fn err(src: &str) -> String {
    parse_str(src, "t.yaml", Unsupported::Error, crate::kube::test_files())
        .unwrap_err()
        .to_string()
}

#[test]
fn a_minimal_pod_lowers_to_the_native_file() {
    let l = ok(HOST);
    assert_eq!(l.pod.name, "web");
    assert_eq!(l.pod.containers[0].name, "app");
    // Kubernetes' grace period, not podctl's default.
    assert_eq!(l.pod.containers[0].stop_timeout_ms, 30_000);
    println!("{}", l.text);
}

#[test]
fn misspelt_and_unsupported_fields_are_located() {
    let src = HOST.replace(
        "  - name: app\n",
        "  - name: app\n    imagePullPolicy: Always\n    comand: [x]\n",
    );
    let e = err(&src);
    assert!(
        e.contains("t.yaml:10:5: spec.containers[0].imagePullPolicy: not supported by podctl"),
        "{e}"
    );
    assert!(
        e.contains(
            "t.yaml:11:5: spec.containers[0].comand: unknown field, did you mean `command`?"
        ),
        "{e}"
    );
}

/// What a cluster's manifest says about scheduling has no effect on one
/// host: it is accepted, with a located note per field, never silently.
#[test]
fn scheduling_fields_are_accepted_with_a_note_each() {
    let src = HOST.replace(
        "spec:\n",
        "spec:\n  nodeSelector:\n    disktype: ssd\n  tolerations:\n  - key: k\n    operator: Exists\n  priorityClassName: high\n",
    );
    let l = ok(&src);
    let notes: Vec<String> = l.warnings.iter().map(|w| w.to_string()).collect();
    for (line, field) in [
        (8, "nodeSelector"),
        (10, "tolerations"),
        (13, "priorityClassName"),
    ] {
        let want =
            format!("t.yaml:{line}:3: spec.{field}: has no effect on a single host (ignored)");
        assert!(
            notes.iter().any(|n| n.contains(&want)),
            "{want} in {notes:?}"
        );
    }
    assert_eq!(notes.len(), 3, "{notes:?}");
}

/// `imagePullPolicy: IfNotPresent` and `dnsPolicy: ClusterFirst` are what
/// podctl does: accepted as they are; the other values are refused.
#[test]
fn the_pull_and_dns_policies_podctl_follows_are_accepted() {
    let src = HOST
        .replace(
            "  - name: app\n",
            "  - name: app\n    imagePullPolicy: IfNotPresent\n",
        )
        .replace("spec:\n", "spec:\n  dnsPolicy: ClusterFirst\n");
    let l = ok(&src);
    assert!(l.warnings.is_empty(), "{:?}", l.warnings);
    let e = err(&src.replace("ClusterFirst", "Default"));
    assert!(e.contains("spec.dnsPolicy: not supported by podctl"), "{e}");
    let e = err(&src.replace("IfNotPresent", "Never"));
    assert!(
        e.contains("spec.containers[0].imagePullPolicy: not supported by podctl"),
        "{e}"
    );
}
