//! `kube generate` of volumes: the pod's `volumes` list, built as the
//! containers' mounts need them, and each container's `volumeMounts`.

use super::annotations::{Annotations, toml_list};
use super::quantity;
use super::yaml_out::{MapB, Y};
use crate::model::{Container, Pod, VolumeSource};

/// The pod's `volumes` list, built as mounts need them.
pub(crate) struct Volumes {
    items: Vec<(String, Y)>,
    hosts: Vec<(String, String)>,
    claims: Vec<(String, String)>,
}

impl Volumes {
    pub(crate) fn new(p: &Pod) -> Self {
        let items = p
            .volumes
            .iter()
            .map(|v| {
                let empty = match v.size {
                    None => MapB::default().done(),
                    Some(n) => MapB::default()
                        .str("medium", "Memory")
                        .str("sizeLimit", &quantity::format_bytes(n))
                        .done(),
                };
                (
                    v.name.clone(),
                    MapB::default()
                        .str("name", &v.name)
                        .put("emptyDir", empty)
                        .done(),
                )
            })
            .collect();
        Volumes {
            items,
            hosts: Vec::new(),
            claims: Vec::new(),
        }
    }

    /// A name no volume has yet, from `base`.
    fn fresh(&self, base: &str) -> String {
        let taken = |n: &str| self.items.iter().any(|(x, _)| x == n);
        if !taken(base) {
            return base.to_string();
        }
        (2..)
            .map(|i| format!("{base}-{i}"))
            .find(|n| !taken(n))
            .expect("a free name")
    }

    fn host(&mut self, path: &str) -> String {
        if let Some((_, n)) = self.hosts.iter().find(|(p, _)| p == path) {
            return n.clone();
        }
        let name = self.fresh(&format!("host-{}", self.hosts.len() + 1));
        let y = MapB::default()
            .str("name", &name)
            .put("hostPath", MapB::default().str("path", path).done())
            .done();
        self.items.push((name.clone(), y));
        self.hosts.push((path.to_string(), name.clone()));
        name
    }

    fn claim(&mut self, claim: &str) -> String {
        if let Some((_, n)) = self.claims.iter().find(|(c, _)| c == claim) {
            return n.clone();
        }
        let name = self.fresh(&format!("claim-{claim}"));
        let y = MapB::default()
            .str("name", &name)
            .put(
                "persistentVolumeClaim",
                MapB::default().str("claimName", claim).done(),
            )
            .done();
        self.items.push((name.clone(), y));
        self.claims.push((claim.to_string(), name.clone()));
        name
    }

    pub(crate) fn done(self) -> Vec<Y> {
        self.items.into_iter().map(|(_, y)| y).collect()
    }
}

/// volumeMounts, or the whole native list in an annotation when a mount
/// has no Kubernetes form (a container's own tmpfs).
pub(crate) fn mounts(c: &Container, vols: &mut Volumes, notes: &mut Annotations) -> Y {
    if c.volumes
        .iter()
        .any(|v| matches!(v.source, VolumeSource::Tmpfs(_)))
    {
        let v: Vec<String> = c.volumes.iter().map(native_volume).collect();
        notes.toml(
            &format!("{}.volumes", c.name),
            toml_list(v.iter().map(String::as_str)),
        );
        return Y::Seq(Vec::new());
    }
    let items = c
        .volumes
        .iter()
        .map(|v| {
            let name = match &v.source {
                VolumeSource::Bind(path) => vols.host(path),
                VolumeSource::Named(n) => vols.claim(n),
                VolumeSource::Scratch(n) => n.clone(),
                VolumeSource::Tmpfs(_) => unreachable!("handled above"),
            };
            let mut m = MapB::default();
            m.str("name", &name).str("mountPath", &v.target);
            if v.read_only {
                m.put("readOnly", Y::Bool(true));
            }
            m.done()
        })
        .collect();
    Y::Seq(items)
}

fn native_volume(v: &crate::model::Volume) -> String {
    let src = match &v.source {
        VolumeSource::Bind(p) => p.clone(),
        VolumeSource::Named(n) | VolumeSource::Scratch(n) => n.clone(),
        VolumeSource::Tmpfs(None) => "tmpfs".into(),
        VolumeSource::Tmpfs(Some(n)) => {
            return format!(
                "tmpfs:{}:size={}{}",
                v.target,
                n,
                if v.read_only { ",ro" } else { "" }
            );
        }
    };
    format!("{src}:{}{}", v.target, if v.read_only { ":ro" } else { "" })
}
