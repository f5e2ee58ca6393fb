//! `podctl.io/needs` and `podctl.io/wants`: the pods a pod starts after,
//! comma-separated (`db,cache`), both ways. Read as the pod file's `needs`
//! and `wants` lists (checked there: names, duplicates, the pod itself);
//! written by `generate` when the pod has any.

use super::annotations::{Annotations, PREFIX, toml_list};
use crate::model::Pod;

/// The annotations' keys under `podctl.io/`: the pod file's keys.
pub(crate) const KEYS: [&str; 2] = ["needs", "wants"];

/// For `podctl.io/needs` or `podctl.io/wants`: the TOML list of its
/// comma-separated names; None for any other annotation.
pub(crate) fn lower(key: &str, value: &str) -> Option<String> {
    let rest = key.strip_prefix(PREFIX)?;
    KEYS.contains(&rest)
        .then(|| toml_list(value.split(',').map(str::trim).filter(|s| !s.is_empty())))
}

/// `podctl.io/needs` and `podctl.io/wants` of a pod that has them.
pub(crate) fn generate(p: &Pod, notes: &mut Annotations) {
    for (key, names) in KEYS.into_iter().zip([&p.needs, &p.wants]) {
        if !names.is_empty() {
            notes.0.push((format!("{PREFIX}{key}"), names.join(",")));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::kube::{Unsupported, generate, parse_str};

    fn manifest(annotations: &str) -> String {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  annotations:\n{annotations}spec:\n  containers:\n  - name: app\n    image: nginx:1.25\n"
        )
    }

    fn err(src: &str) -> String {
        match parse_str(src, "t.yaml", Unsupported::Error, crate::kube::test_files()) {
            Ok(l) => panic!("accepted: {:?}", l.pod.needs),
            Err(d) => d.to_string(),
        }
    }

    #[test]
    fn the_annotations_are_comma_separated_lists() {
        let src = manifest("    podctl.io/needs: db, api\n    podctl.io/wants: cache\n");
        let l = parse_str(
            &src,
            "t.yaml",
            Unsupported::Error,
            crate::kube::test_files(),
        )
        .unwrap_or_else(|d| panic!("{d}"));
        assert_eq!(l.pod.needs, ["db", "api"]);
        assert_eq!(l.pod.wants, ["cache"]);
        assert!(l.text.contains("needs = [\"db\", \"api\"]"), "{}", l.text);
    }

    #[test]
    fn a_bad_name_is_located_at_the_annotation() {
        let src = manifest("    podctl.io/needs: db,Web_1\n");
        let e = err(&src);
        assert!(
            e.contains("t.yaml:6:5: ") && e.contains("\"Web_1\" is not a valid pod name"),
            "{e}"
        );
        let own = manifest("    podctl.io/wants: web\n");
        let e = err(&own);
        assert!(e.contains("a pod cannot need itself"), "{e}");
    }

    #[test]
    fn needs_and_wants_round_trip() {
        for key in [
            "",
            "needs = [\"db\"]\n",
            "needs = [\"db\", \"api\"]\nwants = [\"cache\"]\n",
            "wants = [\"cache\", \"log\"]\n",
        ] {
            let src = format!("name = \"web\"\n{key}[containers.app]\nimage = \"nginx:1.25\"\n");
            let pod = crate::spec::parse_str(&src, "t.toml", "t").unwrap();
            let yaml = generate::pod(&pod);
            if pod.needs.is_empty() {
                assert!(!yaml.contains("podctl.io/needs"), "{yaml}");
            } else {
                // YAML quotes a value with a comma: 'db,api'.
                let line = format!("podctl.io/needs: {}", pod.needs.join(","));
                let quoted = format!("podctl.io/needs: '{}'", pod.needs.join(","));
                assert!(yaml.contains(&line) || yaml.contains(&quoted), "{yaml}");
            }
            let back = parse_str(
                &yaml,
                "t.yaml",
                Unsupported::Error,
                crate::kube::test_files(),
            )
            .unwrap_or_else(|d| panic!("{key}: {d}\n{yaml}"));
            assert_eq!(
                (&back.pod.needs, &back.pod.wants),
                (&pod.needs, &pod.wants),
                "{yaml}"
            );
        }
    }
}
