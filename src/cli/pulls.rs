//! What `apply --dry-run` says about pulls: per image reference, whether
//! apply would pull it and, where the pull policy (or `--pull`) asks the
//! registry, the digest the pod runs beside the one the registry names now
//! (asked without pulling: [`crate::image::remote`]).

use crate::image::facts::Pins;
use crate::model::{Pod, PullPolicy};

/// One line per image reference of `pod` that apply would pull or ask the
/// registry about; `facts` are the images as the pod runs them.
pub fn lines(pod: &Pod, facts: &crate::plan::Facts, pull_all: bool) -> Vec<String> {
    let host = crate::image::HostConfig::system();
    let running: Pins = crate::image::facts::pins_of(facts);
    let mut out = Vec::new();
    let mut seen = Vec::new();
    for reference in pod.containers.iter().filter_map(|c| c.image.as_deref()) {
        if seen.contains(&reference) {
            continue;
        }
        seen.push(reference);
        let now = running.get(reference).map(|p| p.digest.as_str());
        let policy = crate::image::policy::policy_of(pod, reference, pull_all);
        let line = match (policy, now) {
            (PullPolicy::Never, None) => {
                "not stored, and pull = \"never\": apply would fail".to_string()
            }
            (PullPolicy::Missing, None) => "not stored: apply would pull it".to_string(),
            (PullPolicy::Never | PullPolicy::Missing, Some(_)) => continue,
            (PullPolicy::Always, now) => match crate::image::remote::current(&host, reference) {
                Ok(r) if Some(r.digest.as_str()) == now => format!("current ({})", r.digest),
                Ok(r) => format!(
                    "apply would pull {} (runs {})",
                    r.digest,
                    now.unwrap_or("nothing yet")
                ),
                Err(e) => format!("cannot ask the registry: {}", crate::error_chain(&e)),
            },
        };
        out.push(format!("image {reference}: {line}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stored image kept by `missing` or `never` needs no line; one not
    /// stored is pulled, or fails under `never`; `always` asks where the
    /// image comes from and says when it cannot.
    #[test]
    fn what_apply_would_pull() {
        let pod = crate::spec::parse_str(
            "[containers.a]\nimage = \"kept:1\"\n[containers.b]\nimage = \"new:1\"\n\
             [containers.c]\nimage = \"gone:1\"\npull = \"never\"\n\
             [containers.d]\nimage = \"oci:/nonexistent/podctl-layout:1\"\npull = \"always\"\n",
            "t.toml",
            "t",
        )
        .unwrap();
        let mut facts = crate::plan::Facts::default();
        facts.images.insert(
            "kept:1".into(),
            crate::plan::image::ImageFacts {
                name: "docker.io/library/kept:1".into(),
                digest: format!("sha256:{}", "ab".repeat(32)),
                ..Default::default()
            },
        );
        let got = lines(&pod, &facts, false);
        assert_eq!(got.len(), 3, "{got:?}");
        assert_eq!(got[0], "image new:1: not stored: apply would pull it");
        assert_eq!(
            got[1],
            "image gone:1: not stored, and pull = \"never\": apply would fail"
        );
        assert!(
            got[2].starts_with("image oci:/nonexistent/podctl-layout:1: cannot ask the registry: "),
            "{got:?}"
        );
        // --pull: every reference is asked about, the stored one too.
        assert!(
            lines(&pod, &facts, true)
                .iter()
                .any(|l| l.starts_with("image kept:1: cannot ask the registry"))
        );
    }
}
