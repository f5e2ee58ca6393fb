//! What `apply` does before it stops or changes anything: for each image a
//! pod names, the manifest it will run, pulled first if need be, as its
//! containers' pull policies say ([`PullPolicy`]). Nothing restarts until
//! every pull of every pod has succeeded.

use super::facts::{Pin, Pins, lookup};
use super::progress::Progress;
use super::resolve::{ImageError, find, pull_image};
use super::{HostConfig, Store};
use crate::model::{Pod, PullPolicy};
use std::collections::{BTreeMap, BTreeSet};

/// How one reference of a pod is settled: the strongest policy of the
/// containers that use it (`always` over `missing` over `never`), or
/// `always` for every reference when apply is told `--pull`.
pub fn policy_of(pod: &Pod, reference: &str, pull_all: bool) -> PullPolicy {
    if pull_all {
        return PullPolicy::Always;
    }
    let policies = pod
        .containers
        .iter()
        .filter(|c| c.image.as_deref() == Some(reference))
        .map(|c| c.updates.pull);
    policies.fold(PullPolicy::Never, |acc, p| match (acc, p) {
        (PullPolicy::Always, _) | (_, PullPolicy::Always) => PullPolicy::Always,
        (PullPolicy::Missing, _) | (_, PullPolicy::Missing) => PullPolicy::Missing,
        _ => PullPolicy::Never,
    })
}

/// For every pod (with the pins of the revision it runs), the pins it
/// will run: `missing` keeps a pinned manifest that is stored, else takes
/// the stored tag, else pulls it; `always` pulls the tag (once for all
/// pods) and takes what it names now; `never` takes the pin or the stored
/// tag, and is an error without either. The first error names pod,
/// container and reference (and every registry tried).
pub fn settle(
    paths: &crate::layout::Layout,
    pods: &[(&Pod, Pins)],
    pull_all: bool,
    progress: &dyn Progress,
) -> Result<BTreeMap<String, Pins>, String> {
    let mut out = BTreeMap::new();
    if pods
        .iter()
        .all(|(p, _)| p.containers.iter().all(|c| c.image.is_none()))
    {
        return Ok(out);
    }
    let store = Store::of(paths).map_err(|e| crate::error_chain(&e))?;
    let host = HostConfig::system();
    let mut pulled = BTreeSet::new();
    for (pod, current) in pods {
        let mut pins = Pins::new();
        for c in &pod.containers {
            let Some(reference) = c.image.as_deref() else {
                continue;
            };
            if pins.contains_key(reference) {
                continue;
            }
            let named = |e: ImageError| {
                format!(
                    "pod {} container {}: {}",
                    pod.name,
                    c.name,
                    crate::error_chain(&e)
                )
            };
            let policy = policy_of(pod, reference, pull_all);
            let pin = settle_one(&store, &host, current, reference, policy, &mut pulled, progress)
                .map_err(named)?
                .ok_or_else(|| {
                    format!(
                        "pod {} container {}: image {reference} is not stored and its pull policy is never \
                         (pull it with: podctl pull {reference}; or set pull = \"missing\")",
                        pod.name, c.name
                    )
                })?;
            pins.insert(reference.to_string(), pin);
        }
        out.insert(pod.name.clone(), pins);
    }
    Ok(out)
}

/// One reference's pin under `policy`; `None`: not stored and never pulled.
fn settle_one(
    store: &Store,
    host: &HostConfig,
    current: &Pins,
    reference: &str,
    policy: PullPolicy,
    pulled: &mut BTreeSet<String>,
    progress: &dyn Progress,
) -> Result<Option<Pin>, ImageError> {
    let pin_of = |(name, digest): (String, super::Digest)| Pin {
        name,
        digest: digest.to_string(),
    };
    if policy != PullPolicy::Always {
        if let Some(r) = lookup(store, host, current, reference)? {
            return Ok(Some(pin_of((r.name, r.digest))));
        }
        if let Some(found) = find(store, host, reference)? {
            return Ok(Some(pin_of(found)));
        }
        if policy == PullPolicy::Never {
            return Ok(None);
        }
    }
    if pulled.insert(reference.to_string()) {
        pull_image(store, host, reference, progress)?;
    }
    let found =
        find(store, host, reference)?.ok_or_else(|| ImageError::NotStored(reference.into()))?;
    Ok(Some(pin_of(found)))
}

/// Every pinned manifest in the store of `paths`, each missing one pulled again by its
/// digest from where its name says (a rollback to a revision whose image
/// was collected): the digest is verified as any pull's.
pub fn ensure_pinned(
    paths: &crate::layout::Layout,
    pins: &Pins,
    progress: &dyn Progress,
) -> Result<(), String> {
    if pins.is_empty() {
        return Ok(());
    }
    let store = Store::of(paths).map_err(|e| crate::error_chain(&e))?;
    let host = HostConfig::system();
    for (reference, pin) in pins {
        let failed = |e: ImageError| {
            format!(
                "image {reference} ({}): {}",
                pin.digest,
                crate::error_chain(&e)
            )
        };
        let digest = super::Digest::parse(&pin.digest)
            .map_err(|e| format!("image {reference}: pinned digest {}: {e}", pin.digest))?;
        if super::resolve::by_digest(&store, &pin.name, &digest)
            .map_err(failed)?
            .is_some()
        {
            continue;
        }
        let by_digest = match super::ImageRef::parse(&pin.name).map_err(|e| failed(e.into()))? {
            super::ImageRef::Registry(r) => {
                super::ImageRef::Registry(crate::model::reference::RegistryRef {
                    tag: None,
                    digest: Some(digest.clone()),
                    ..r
                })
                .to_string()
            }
            other => {
                return Err(format!(
                    "image {reference}: manifest {} of {other} is no longer stored and only a registry image can be fetched again by digest",
                    pin.digest
                ));
            }
        };
        pull_image(&store, &host, &by_digest, progress).map_err(failed)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(src: &str) -> Pod {
        crate::spec::parse_str(src, "t.toml", "t").unwrap()
    }

    /// The strongest policy of the containers sharing a reference wins;
    /// `--pull` makes every reference `always`.
    #[test]
    fn a_reference_takes_the_strongest_policy() {
        let mut p = pod(
            "[containers.a]\nimage = \"x:1\"\n[containers.b]\nimage = \"x:1\"\n[containers.c]\nimage = \"y:1\"\n",
        );
        assert_eq!(policy_of(&p, "x:1", false), PullPolicy::Missing);
        p.containers[0].updates.pull = PullPolicy::Never;
        assert_eq!(policy_of(&p, "x:1", false), PullPolicy::Missing);
        p.containers[1].updates.pull = PullPolicy::Never;
        assert_eq!(policy_of(&p, "x:1", false), PullPolicy::Never);
        p.containers[1].updates.pull = PullPolicy::Always;
        assert_eq!(policy_of(&p, "x:1", false), PullPolicy::Always);
        assert_eq!(policy_of(&p, "y:1", false), PullPolicy::Missing);
        assert_eq!(policy_of(&p, "y:1", true), PullPolicy::Always);
    }
}
