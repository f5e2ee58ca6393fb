//! `kube generate` of volumes: the pod's `volumes` list, built as the
//! containers' mounts need them, and each container's `volumeMounts`. A
//! secret file is a `secret` volume with one item, mounted with a
//! `subPath` at its target: names only, never a value.

use super::annotations::{Annotations, toml_list};
use super::quantity;
use super::yaml_out::{MapB, Y};
use crate::model::{Container, Pod, SECRET_FILE_MODE, VolumeSource};

/// The pod's `volumes` list, built as mounts need them.
pub(crate) struct Volumes {
    items: Vec<(String, Y)>,
    hosts: Vec<(String, String)>,
    claims: Vec<(String, String)>,
    /// (secret, mode) of each secret volume, and its name.
    secrets: Vec<((String, u32), String)>,
}

impl Volumes {
    pub(crate) fn new(p: &Pod) -> Self {
        let items = p
            .volumes
            .iter()
            .map(|v| {
                let empty = match (v.size, v.limit) {
                    (None, None) => MapB::default().done(),
                    (None, Some(n)) => MapB::default()
                        .str("sizeLimit", &quantity::format_bytes(n))
                        .done(),
                    (Some(n), _) => MapB::default()
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
            secrets: Vec::new(),
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

    /// The volume of podctl secret `name` written as key `key` of Secret
    /// `secret` (one item, path `key`) with `mode`.
    fn secret(&mut self, name: &str, (secret, key): (&str, &str), mode: u32) -> String {
        let id = (name.to_string(), mode);
        if let Some((_, n)) = self.secrets.iter().find(|(s, _)| *s == id) {
            return n.clone();
        }
        let vol = self.fresh(&format!("secret-{}", self.secrets.len() + 1));
        let mut item = MapB::default();
        item.str("key", key).str("path", key);
        if mode != SECRET_FILE_MODE {
            item.put("mode", Y::Int(mode as i64));
        }
        let y = MapB::default()
            .str("name", &vol)
            .put(
                "secret",
                MapB::default()
                    .str("secretName", secret)
                    .put("items", Y::Seq(vec![item.done()]))
                    .done(),
            )
            .done();
        self.items.push((vol.clone(), y));
        self.secrets.push((id, vol.clone()));
        vol
    }

    pub(crate) fn done(self) -> Vec<Y> {
        self.items.into_iter().map(|(_, y)| y).collect()
    }
}

/// volumeMounts, or the whole native list in an annotation when a mount
/// has no Kubernetes form (a container's own tmpfs; a secret whose name is
/// not `SECRET.KEY`, [`super::secret::split`]); then the secret files'.
pub(crate) fn mounts(c: &Container, vols: &mut Volumes, notes: &mut Annotations) -> Y {
    let Y::Seq(mut items) = volume_mounts(c, vols, notes) else {
        unreachable!("a list")
    };
    let files = &c.secrets.files;
    if files
        .iter()
        .all(|f| super::secret::split(&f.name).is_some())
    {
        for f in files {
            let (secret, key) = super::secret::split(&f.name).expect("checked");
            let name = vols.secret(&f.name, (secret, key), f.mode);
            let m = MapB::default()
                .str("name", &name)
                .str("mountPath", &f.target)
                .str("subPath", key)
                .done();
            items.push(m);
        }
    } else {
        let v: Vec<String> = files.iter().map(super::secret_volume::native).collect();
        notes.toml(
            &format!("{}.secrets", c.name),
            format!("[{}]", v.join(", ")),
        );
    }
    Y::Seq(items)
}

fn volume_mounts(c: &Container, vols: &mut Volumes, notes: &mut Annotations) -> Y {
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
