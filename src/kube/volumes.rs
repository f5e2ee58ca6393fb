//! `spec.volumes` (emptyDir, hostPath, persistentVolumeClaim, configMap,
//! secret, downwardAPI, projected) and each container's `volumeMounts`,
//! lowered to the pod's scratch volumes, the containers' `volumes` strings
//! and, for secret volumes, their `secrets` ([`super::secret_volume`]).

pub(crate) use super::mounts::mounts;
use super::native::{self, Native, origin};
use super::walk::{self, Cx, fields, join};
use super::yaml::Node;

/// A pod volume as a mount source.
#[derive(Debug, Clone)]
pub(crate) enum Source {
    /// An emptyDir: one of the pod's scratch volumes, by name.
    Scratch,
    /// A hostPath: a bind of this path.
    Host(String),
    /// A persistentVolumeClaim: the named volume of the claim; read-only?
    Claim(String, bool),
    /// A configMap volume: a bind of its files' directory, read-only.
    Files(String),
    /// A secret volume: podctl secrets, mounted one file each.
    Secret(Vec<super::secret_volume::Item>),
    /// A projected volume with secrets and other files: the bind of its
    /// files' directory (the relative paths of those files), read-only,
    /// and the secrets mounted in it.
    Mixed {
        dir: String,
        files: Vec<String>,
        secrets: Vec<super::secret_volume::Item>,
    },
    /// A kind podctl does not support, reported at the volume; its mounts
    /// are left out with it.
    Unsupported,
}

const VOLUME: [&str; 8] = [
    "name",
    "emptyDir",
    "hostPath",
    "persistentVolumeClaim",
    "configMap",
    "secret",
    "downwardAPI",
    "projected",
];
const VOLUME_UNSUPPORTED: [&str; 22] = [
    "ephemeral",
    "image",
    "nfs",
    "iscsi",
    "csi",
    "glusterfs",
    "cephfs",
    "rbd",
    "fc",
    "azureDisk",
    "azureFile",
    "awsElasticBlockStore",
    "gcePersistentDisk",
    "cinder",
    "flexVolume",
    "flocker",
    "portworxVolume",
    "quobyte",
    "scaleIO",
    "storageos",
    "vsphereVolume",
    "gitRepo",
];
/// hostPath types podctl honours: all of them want the path to exist.
const HOST_TYPES: [&str; 4] = ["", "Directory", "File", "Socket"];
/// hostPath types refused: a container's device rules (cgroup) allow only
/// the standard devices, so a device node bound in can never be opened.
const DEVICE_TYPES: [&str; 2] = ["CharDevice", "BlockDevice"];

/// What the volumes need of their pod: its name, what the Downward API
/// tells of it, the file's objects.
pub(crate) struct PodRef<'a> {
    pub name: &'a str,
    /// Where configMap volumes' files are: [`crate::layout::Layout::kube_files`].
    pub files: &'a std::path::Path,
    pub meta: &'a super::downward::Meta<'a>,
    pub objects: &'a super::refs::Refs,
}

/// Reads `spec.volumes`; emptyDirs become the pod's scratch volumes in `out`.
pub(crate) fn read_pod(
    cx: &mut Cx,
    n: Option<&Node>,
    pod: PodRef<'_>,
    out: &mut Native,
) -> Vec<(String, Source)> {
    let mut vols: Vec<(String, Source)> = Vec::new();
    let Some(n) = n else { return vols };
    for (i, v) in walk::seq(cx, n, "spec.volumes").iter().enumerate() {
        let path = format!("spec.volumes[{i}]");
        let [
            name,
            empty,
            host,
            claim,
            config_map,
            secret,
            downward,
            projected,
        ] = fields(cx, v, &path, VOLUME, &VOLUME_UNSUPPORTED);
        let Some(name) = name.and_then(|n| walk::string(cx, n, &join(&path, "name"))) else {
            if name.is_none() {
                cx.error(v, &path, "missing name");
            }
            continue;
        };
        // The name is a directory's (configMap, secret) or a scratch
        // volume's: a DNS-1123 label, as Kubernetes wants.
        if let Err(e) = super::rules::volume_name(name) {
            cx.error(name_node(v), &join(&path, "name"), e);
            // Its mounts are left out with it (said once, here).
            vols.push((name.to_string(), Source::Unsupported));
            continue;
        }
        if vols.iter().any(|(n, _)| n == name) {
            cx.error(
                v,
                &join(&path, "name"),
                format!("a second volume named {name:?}"),
            );
            continue;
        }
        let given = [empty, host, claim, config_map, secret, downward, projected]
            .iter()
            .filter(|x| x.is_some())
            .count();
        let source = if given != 1 {
            let unsupported_source =
                walk::map(cx, v, &path)
                    .unwrap_or_default()
                    .iter()
                    .any(|(k, _)| {
                        VOLUME_UNSUPPORTED.contains(&k.key_text().unwrap_or_default().as_str())
                    });
            // An unsupported kind of source was reported as such already.
            if given == 0 && unsupported_source {
                vols.push((name.to_string(), Source::Unsupported));
            } else {
                cx.error(
                    v,
                    &path,
                    "give exactly one source: emptyDir, hostPath, persistentVolumeClaim, configMap, secret, downwardAPI or projected",
                );
            }
            continue;
        } else if let Some(e) = empty {
            match scratch_size(cx, e, &join(&path, "emptyDir")) {
                Some(size) => {
                    out.volumes.push((name.to_string(), size, origin(v, &path)));
                    Source::Scratch
                }
                None => continue,
            }
        } else if let Some(n) = secret {
            let at = join(&path, "secret");
            match super::secret_volume::read(cx, n, &at, pod.objects) {
                Some(items) => Source::Secret(items),
                None => continue,
            }
        } else if let Some(n) = projected {
            let at = join(&path, "projected");
            match super::projected::read(cx, n, &at, pod.meta, pod.objects) {
                Some(p) => projected_source(p, &pod, name, out),
                None => continue,
            }
        } else if let Some(n) = downward {
            let at = join(&path, "downwardAPI");
            match super::downward::read(cx, n, &at, pod.meta) {
                Some(files) => {
                    let p = super::projected::Projected {
                        files,
                        secrets: Vec::new(),
                    };
                    projected_source(p, &pod, name, out)
                }
                None => continue,
            }
        } else if let Some(n) = config_map {
            let at = join(&path, "configMap");
            let dirs = (pod.files, pod.name, name);
            match super::files::read(cx, n, &at, dirs, pod.objects) {
                Some(files) => {
                    let dir = files.dir.display().to_string();
                    out.files.push(files);
                    Source::Files(dir)
                }
                None => continue,
            }
        } else if let Some(h) = host {
            let p = join(&path, "hostPath");
            let [hp, ty] = fields(cx, h, &p, ["path", "type"], &[]);
            let t = ty.and_then(|t| walk::string(cx, t, &join(&p, "type")));
            if let Some(t) = t
                && DEVICE_TYPES.contains(&t)
            {
                cx.error(
                    ty.expect("set"),
                    &join(&p, "type"),
                    format!("type {t} cannot work: a podctl container may open only the standard devices (its device cgroup denies every other), so a device bound in from the host cannot be opened"),
                );
                vols.push((name.to_string(), Source::Unsupported));
                continue;
            }
            if let Some(t) = t
                && !HOST_TYPES.contains(&t)
            {
                cx.unsupported(
                    ty.expect("set"),
                    &join(&p, "type"),
                    &format!("type {t} (podctl binds only paths that exist)"),
                );
            }
            match hp.and_then(|hp| walk::string(cx, hp, &join(&p, "path"))) {
                Some(hp) => Source::Host(hp.to_string()),
                None => {
                    if hp.is_none() {
                        cx.error(h, &p, "missing path");
                    }
                    continue;
                }
            }
        } else {
            let c = claim.expect("one source");
            let p = join(&path, "persistentVolumeClaim");
            let [cn, ro] = fields(cx, c, &p, ["claimName", "readOnly"], &[]);
            let ro = ro
                .and_then(|r| walk::boolean(cx, r, &join(&p, "readOnly")))
                .unwrap_or(false);
            match cn.and_then(|n| walk::string(cx, n, &join(&p, "claimName"))) {
                Some(n) => Source::Claim(n.to_string(), ro),
                None => {
                    if cn.is_none() {
                        cx.error(c, &p, "missing claimName");
                    }
                    continue;
                }
            }
        };
        vols.push((name.to_string(), source));
    }
    vols
}

/// A projected (or downwardAPI) volume's source: a secret volume when it
/// has only secrets, else the bind of its directory, whose files go to
/// `out` for apply to write (with the secrets' mount points).
fn projected_source(
    p: super::projected::Projected,
    pod: &PodRef<'_>,
    volume: &str,
    out: &mut Native,
) -> Source {
    if p.files.is_empty() && !p.secrets.is_empty() {
        return Source::Secret(p.secrets);
    }
    let dir = super::files::dir(pod.files, pod.name, volume);
    out.files.push(super::files::VolumeFiles {
        pod: pod.name.to_string(),
        volume: volume.to_string(),
        dir: dir.clone(),
        files: p.with_mount_points(),
    });
    let dir = dir.display().to_string();
    if p.secrets.is_empty() {
        return Source::Files(dir);
    }
    Source::Mixed {
        dir,
        files: p.files.into_iter().map(|f| f.path).collect(),
        secrets: p.secrets,
    }
}

/// An emptyDir as a scratch volume's native value: `{}` on disk (with a
/// `limit` for a `sizeLimit`), or a tmpfs with `medium: Memory` and a
/// `sizeLimit`.
fn scratch_size(cx: &mut Cx, n: &Node, path: &str) -> Option<String> {
    let [medium, size] = fields(cx, n, path, ["medium", "sizeLimit"], &[]);
    let memory = match medium.and_then(|m| walk::string(cx, m, &join(path, "medium"))) {
        None | Some("") => false,
        Some("Memory") => true,
        Some(other) => {
            cx.unsupported(
                medium.expect("set"),
                &join(path, "medium"),
                &format!("medium {other}"),
            );
            false
        }
    };
    match (memory, size) {
        (true, Some(s)) => {
            let bytes = super::quantity::memory(cx, s, &join(path, "sizeLimit"))?;
            Some(format!("{{ size = {} }}", native::string(&bytes)))
        }
        (true, None) => {
            cx.unsupported(medium.expect("set"), &join(path, "medium"), "medium: Memory without a sizeLimit (podctl's memory scratch volumes are tmpfs of a given size)");
            Some("{}".into())
        }
        // On disk: the pod is evicted past it, as the kubelet does.
        (false, Some(s)) => {
            let bytes = super::quantity::memory(cx, s, &join(path, "sizeLimit"))?;
            Some(format!("{{ limit = {} }}", native::string(&bytes)))
        }
        (false, None) => Some("{}".into()),
    }
}

/// The `name` field of a volume, to locate a problem with it (the volume
/// itself when there is none).
fn name_node(v: &Node) -> &Node {
    match &v.value {
        super::yaml::Value::Map(pairs) => pairs
            .iter()
            .find(|(k, _)| k.key_text().as_deref() == Some("name"))
            .map_or(v, |(_, n)| n),
        _ => v,
    }
}
