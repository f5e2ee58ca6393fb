//! Kubernetes Pod manifests in (`podctl apply pod.yaml`) and out
//! (`podctl kube generate`).
//!
//! In: the YAML is parsed with positions (`yaml`, on saphyr-parser), its
//! documents (one Pod, the ConfigMaps and Secrets it uses) are checked
//! field by field (unknown fields with "did you mean", fields podctl does
//! not support as such) and lowered to the native pod file (`native`),
//! which [`crate::spec`] then reads into the same [`Pod`] as any TOML file:
//! there is one validation and one model. The pod file reader's problems
//! are put back at the YAML field each native line came from. The native
//! text is what `apply` stores and the supervisor runs.
//!
//! Out: [`generate`] writes a Pod (and a Service) from the model; what the
//! Kubernetes API cannot say goes in `podctl.io/` annotations, so that
//! applying the YAML gives the plan of the TOML.
//!
//! Modules: `yaml` (the tree with positions, bounded), `walk` (fields,
//! typos, unsupported fields), `docs` and `refs` (the documents, ConfigMaps
//! and Secrets), `rules` (Kubernetes' rules for the keys, volume names and
//! paths that become files), `pod` (and `pod_cx`, what its containers need
//! of it), `container`, `image`, `env`, `ports`,
//! `probe`, `security`, `dns` (dnsPolicy, dnsConfig; both ways), `volumes`,
//! [`files`] (configMap volumes),
//! `secret_volume` (secret volumes as podctl secrets), `annotations`
//! (`podctl.io/`), `updates` (imagePullPolicy, Podman's autoupdate
//! annotations; both ways), `quantity`, `native` (the pod file text and each line's
//! origin), [`secret`] (Secrets as podctl secrets; what no output shows);
//! `generate`, `gen_container`, `gen_volumes` and `yaml_out` the way out
//! (`annotations` and `userns`, hostUsers, both ways).
//! Nothing here touches the host but [`write`] (relative
//! to directories it opened, no symlink followed), which `apply` calls once
//! the pod passed its checks.

mod annotations;
mod container;
mod dns;
mod docs;
mod downward;
mod env;
pub mod files;
mod gen_container;
mod gen_hooks;
mod gen_volumes;
pub mod generate;
mod groups;
mod hooks;
mod image;
mod mounts;
mod native;
mod needs;
mod pod;
mod pod_cx;
mod ports;
mod probe;
mod projected;
mod quantity;
mod refs;
mod resource_env;
mod rules;
pub mod secret;
mod secret_volume;
mod security;
mod updates;
mod userns;
mod volumes;
mod walk;
pub mod write;
mod yaml;
mod yaml_out;

pub use refs::Directory;
pub use walk::Unsupported;

use crate::model::Pod;
use crate::spec::diag::Sink;
use crate::spec::{Diagnostic, Diagnostics};
use std::path::Path;

/// A manifest read into a pod.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub pod: Pod,
    /// The native pod file it lowers to (what `apply` stores).
    pub text: String,
    /// Unsupported fields ignored under [`Unsupported::Warn`], located.
    pub warnings: Vec<Diagnostic>,
    /// The files of its configMap volumes, which apply writes
    /// ([`write::write`]) once the pod passed its checks, before it starts.
    pub files: Vec<files::VolumeFiles>,
    /// What no output may show: the values of the file's Secrets
    /// ([`secret::redact`]).
    pub secrets: Vec<String>,
    /// The file's Secrets as podctl secrets, which apply stores (encrypted)
    /// before it stores the pod; in memory only.
    pub secret_values: secret::Values,
}

impl Loaded {
    /// The pod as it may be printed: secrets replaced by `<secret>`.
    pub fn shown(&self) -> Pod {
        let mut pod = self.pod.clone();
        secret::redact(&mut pod, &self.secrets);
        pod
    }
}

/// Whether a path names a Kubernetes manifest (`.yaml` or `.yml`) rather
/// than a pod file.
pub fn is_manifest(path: &Path) -> bool {
    path.extension().is_some_and(|x| x == "yaml" || x == "yml")
}

/// A manifest lowered: the native text, the origin of each of its lines,
/// the warnings and the volumes' files.
struct Lowered {
    text: String,
    origins: Vec<native::Origin>,
    warnings: Vec<Diagnostic>,
    files: Vec<files::VolumeFiles>,
    secrets: Vec<String>,
    secret_values: secret::Values,
}

fn lower_str(
    src: &str,
    file: &str,
    policy: Unsupported,
    base: &Path,
    dir: Option<&Directory>,
) -> Result<Lowered, Diagnostics> {
    let docs = yaml::parse(src).map_err(|e| {
        let mut sink = Sink::new(file, src);
        sink.error(e.offset..e.offset, "", e.message);
        Diagnostics(sink.finish())
    })?;
    let mut cx = walk::Cx::new(file, src, policy);
    let native = docs::lower(&mut cx, &docs, base, dir.map(|d| (d, file)));
    if cx.errors.has_errors() {
        return Err(Diagnostics(dedup(cx.errors.finish())));
    }
    let native = native.expect("no errors: a pod");
    let rendered = native.render(file);
    Ok(Lowered {
        text: rendered.text,
        origins: rendered.origins,
        warnings: dedup(cx.warnings.finish()),
        files: native.files,
        secrets: native.secrets,
        secret_values: native.secret_store,
    })
}

/// Parses and validates a manifest into a pod; its configMap volumes'
/// files are to go under `files` ([`crate::layout::Layout::kube_files`]).
pub fn parse_str(
    src: &str,
    file: &str,
    policy: Unsupported,
    files: &Path,
) -> Result<Loaded, Diagnostics> {
    parse_in(src, file, policy, files, None)
}

/// As [`parse_str`], for one file of a directory applied whole: the
/// ConfigMaps and Secrets of its other files ([`Directory::gather`]) are
/// the Pod's too.
pub fn parse_in(
    src: &str,
    file: &str,
    policy: Unsupported,
    files: &Path,
    dir: Option<&Directory>,
) -> Result<Loaded, Diagnostics> {
    let Lowered {
        text,
        origins,
        warnings,
        files,
        secrets,
        secret_values,
    } = lower_str(src, file, policy, files, dir)?;
    match crate::spec::parse_str(&text, file, "pod") {
        Ok(pod) => Ok(Loaded {
            pod,
            text,
            warnings,
            files,
            secrets,
            secret_values,
        }),
        Err(d) => {
            // Back to the YAML: each native line knows its field.
            let mut sink = Sink::new(file, src);
            for d in d.0 {
                let o = origins
                    .get(d.line.saturating_sub(1))
                    .or(origins.first())
                    .expect("a rendered file has lines");
                sink.error(o.offset..o.offset, &o.path, d.message);
            }
            Err(Diagnostics(dedup(sink.finish())))
        }
    }
}

/// The same problem found once per container (a pod-wide field lowered
/// into each) is said once.
fn dedup(mut d: Vec<Diagnostic>) -> Vec<Diagnostic> {
    let mut seen = std::collections::HashSet::new();
    d.retain(|x| seen.insert(format!("{x}")));
    d
}

/// Reads a manifest or a pod file (by extension), with the native text; a
/// manifest's configMap volumes' files are to go under `files`.
pub fn load(path: &Path, policy: Unsupported, files: &Path) -> Result<Loaded, Diagnostics> {
    load_in(path, policy, files, None)
}

/// As [`load`], for one file of a directory applied whole (`dir`, gathered
/// from the same files' texts).
pub fn load_in(
    path: &Path,
    policy: Unsupported,
    files: &Path,
    dir: Option<&Directory>,
) -> Result<Loaded, Diagnostics> {
    if !is_manifest(path) {
        return crate::spec::load_with_text(path).map(|(pod, text)| Loaded {
            secrets: secret::marked(&text),
            pod,
            text,
            warnings: Vec::new(),
            files: Vec::new(),
            secret_values: Default::default(),
        });
    }
    let src = read_manifest(path)?;
    parse_in(&src, &path.display().to_string(), policy, files, dir)
}

/// A manifest's text, read within the size limit (labelled by its path).
pub fn read_manifest(path: &Path) -> Result<String, Diagnostics> {
    let label = path.display().to_string();
    let whole_file = |message: String| {
        Diagnostics(vec![Diagnostic {
            file: label.clone(),
            line: 0,
            column: 0,
            key: String::new(),
            message,
        }])
    };
    // Read no more than the limit (and one byte to know it is passed).
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| {
            use std::io::Read;
            f.take(yaml::MAX_FILE_BYTES as u64 + 1)
                .read_to_end(&mut bytes)
        })
        .map_err(|e| whole_file(format!("cannot read: {e}")))?;
    if bytes.len() > yaml::MAX_FILE_BYTES {
        let len = std::fs::metadata(path).map_or(bytes.len() as u64, |m| m.len());
        return Err(whole_file(yaml::too_big(len as usize)));
    }
    match String::from_utf8(bytes) {
        Ok(src) => Ok(src),
        Err(e) => {
            let bytes = e.as_bytes();
            let valid = e.utf8_error().valid_up_to();
            let good = std::str::from_utf8(&bytes[..valid]).unwrap_or_default();
            let mut sink = Sink::new(&label, good);
            sink.error(good.len()..good.len(), "", "invalid UTF-8");
            Err(Diagnostics(sink.finish()))
        }
    }
}

/// The objects of the manifests among `paths` (the files of a directory
/// applied whole), each file read once here and once as its pod.
pub fn gather(paths: &[std::path::PathBuf]) -> Result<Directory, Diagnostics> {
    let mut sources = Vec::new();
    for p in paths.iter().filter(|p| is_manifest(p)) {
        sources.push((p.display().to_string(), read_manifest(p)?));
    }
    Directory::gather(&sources)
}

#[cfg(test)]
mod tests;

/// Where the tests' configMap volumes' files go: the host's default.
#[cfg(test)]
pub(crate) fn test_files() -> &'static Path {
    Path::new("/var/lib/podctl/kube")
}
