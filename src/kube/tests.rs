//! The converter's behaviour on small manifests; the examples' round trips
//! and the catalogue of rejected manifests are in `tests/kube.rs`.

use super::*;

const HOST: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  annotations:\n    podctl.io/host-binaries: app\nspec:\n  containers:\n  - name: app\n    command: [/bin/sleep, infinity]\n";

fn ok(src: &str) -> Loaded {
    parse_str(src, "t.yaml", Unsupported::Error).unwrap_or_else(|d| panic!("{d}"))
}

fn err(src: &str) -> String {
    parse_str(src, "t.yaml", Unsupported::Error)
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
