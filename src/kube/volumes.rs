//! `spec.volumes` (emptyDir, hostPath, persistentVolumeClaim, configMap,
//! secret) and each container's `volumeMounts`, lowered to the pod's
//! scratch volumes, the containers' `volumes` strings and, for secret
//! volumes, their `secrets` ([`super::secret_volume`]).

use super::native::{self, Native, Origin, origin};
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
    /// A kind podctl does not support, reported at the volume; its mounts
    /// are left out with it.
    Unsupported,
}

const VOLUME: [&str; 6] = [
    "name",
    "emptyDir",
    "hostPath",
    "persistentVolumeClaim",
    "configMap",
    "secret",
];
const VOLUME_UNSUPPORTED: [&str; 24] = [
    "projected",
    "downwardAPI",
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

/// Reads `spec.volumes`; emptyDirs become the pod's scratch volumes in `out`.
/// What the volumes need of their pod: its name and the file's objects.
pub(crate) struct PodRef<'a> {
    pub name: &'a str,
    /// Where configMap volumes' files are: [`crate::layout::Layout::kube_files`].
    pub files: &'a std::path::Path,
    pub objects: &'a super::refs::Refs,
}

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
        let [name, empty, host, claim, config_map, secret] =
            fields(cx, v, &path, VOLUME, &VOLUME_UNSUPPORTED);
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
        let given = [empty, host, claim, config_map, secret]
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
                    "give exactly one source: emptyDir, hostPath, persistentVolumeClaim, configMap or secret",
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

/// An emptyDir as a scratch volume's native value: `{}` on disk, or a
/// tmpfs with `medium: Memory` and a `sizeLimit`.
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
        (false, Some(s)) => {
            cx.unsupported(
                s,
                &join(path, "sizeLimit"),
                "a sizeLimit on disk (only with medium: Memory)",
            );
            Some("{}".into())
        }
        (false, None) => Some("{}".into()),
    }
}

/// One container's mounts: native `volumes` and `secrets` elements.
#[derive(Default)]
pub(crate) struct Mounts {
    pub volumes: Vec<(String, Origin)>,
    pub secrets: Vec<(String, Origin)>,
}

/// One container's `volumeMounts` as native volume strings and secrets.
pub(crate) fn mounts(cx: &mut Cx, n: &Node, path: &str, vols: &[(String, Source)]) -> Mounts {
    let mut all = Mounts::default();
    let out = &mut all.volumes;
    for (i, m) in walk::seq(cx, n, path).iter().enumerate() {
        let p = format!("{path}[{i}]");
        let [name, target, ro, sub] = fields(
            cx,
            m,
            &p,
            ["name", "mountPath", "readOnly", "subPath"],
            &["mountPropagation", "subPathExpr", "recursiveReadOnly"],
        );
        let name = name.and_then(|n| walk::string(cx, n, &join(&p, "name")));
        let target = target.and_then(|t| walk::string(cx, t, &join(&p, "mountPath")));
        let (Some(name), Some(target)) = (name, target) else {
            cx.error(m, &p, "a volume mount needs name and mountPath");
            continue;
        };
        let mut read_only = ro
            .and_then(|r| walk::boolean(cx, r, &join(&p, "readOnly")))
            .unwrap_or(false);
        let sub = sub.and_then(|s| Some((walk::string(cx, s, &join(&p, "subPath"))?, s)));
        // A subPath stays inside its volume, as in Kubernetes.
        if let Some((s, n)) = sub
            && let Err(e) = super::rules::relative_path(s)
        {
            cx.error(n, &join(&p, "subPath"), e);
            continue;
        }
        let Some((_, source)) = vols.iter().find(|(n, _)| n == name) else {
            let names: Vec<&str> = vols.iter().map(|(n, _)| n.as_str()).collect();
            let hint = crate::spec::names::suggest(name, &names)
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            cx.error(
                m,
                &join(&p, "name"),
                format!("no volume named {name:?} in spec.volumes{hint}"),
            );
            continue;
        };
        let src = match source {
            Source::Unsupported => continue,
            // Read-only files, as in Kubernetes, whatever readOnly says.
            Source::Secret(items) => {
                let files = super::secret_volume::mounted(items, target, sub.map(|(s, _)| s));
                if let Some((s, n)) = sub
                    && files.is_empty()
                {
                    cx.error(
                        n,
                        &join(&p, "subPath"),
                        format!("{s:?} is no item of the secret volume {name:?}"),
                    );
                }
                all.secrets
                    .extend(files.into_iter().map(|f| (f, origin(m, &p))));
                continue;
            }
            Source::Files(dir) => {
                // Kubernetes mounts them read-only, whatever readOnly says.
                read_only = true;
                match sub {
                    Some((s, _)) => format!("{dir}/{s}"),
                    None => dir.clone(),
                }
            }
            Source::Host(h) => match sub {
                Some((s, _)) => format!("{}/{s}", h.trim_end_matches('/')),
                None => h.clone(),
            },
            Source::Scratch | Source::Claim(..) => {
                if let Some((_, s)) = sub {
                    cx.unsupported(
                        s,
                        &join(&p, "subPath"),
                        "subPath of an emptyDir or a claim (only of a hostPath)",
                    );
                }
                match source {
                    Source::Claim(c, claim_ro) => {
                        read_only |= claim_ro;
                        c.clone()
                    }
                    _ => name.to_string(),
                }
            }
        };
        let text = format!("{src}:{target}{}", if read_only { ":ro" } else { "" });
        out.push((native::string(&text), origin(m, &p)));
    }
    all
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
