//! `podctl kube generate NAME|FILE [--service]`, and the file loader that
//! `apply`, `diff` and `validate` share: pod files and Kubernetes manifests
//! alike, printing the warnings of `--ignore-unsupported`.

use crate::kube::{self, Unsupported};
use crate::model::Pod;
use crate::runtime::Paths;
use crate::spec::Diagnostics;
use anyhow::Context;
use std::path::Path;

/// Reads a pod file or a manifest (by extension) into the pod and the
/// native text to store; each ignored field is one warning on stderr.
pub fn load(path: &Path, policy: Unsupported) -> Result<(Pod, String), Diagnostics> {
    load_all(path, policy).map(|l| (l.pod, l.text))
}

/// [`load`], with the manifest's volume files and secrets.
pub fn load_all(path: &Path, policy: Unsupported) -> Result<kube::Loaded, Diagnostics> {
    let loaded = kube::load(path, policy)?;
    for w in &loaded.warnings {
        eprintln!("podctl: warning: {w}");
    }
    Ok(loaded)
}

/// [`load`] for printing: the pod with its secrets replaced by `<secret>`.
pub fn load_shown(path: &Path, policy: Unsupported) -> Result<Pod, Diagnostics> {
    load_all(path, policy).map(|l| l.shown())
}

/// The plan the checks before apply look at: the bind sources that
/// writing the manifest's volume files makes (not written yet: nothing is
/// written before the checks pass) are taken as there.
pub fn checked_plan(
    pod: &crate::model::Pod,
    files: &[crate::kube::files::VolumeFiles],
) -> crate::plan::Plan {
    let mut plan = crate::plan::build(pod);
    for c in &mut plan.containers {
        for v in &mut c.volumes {
            if let crate::model::VolumeSource::Bind(src) = &mut v.source
                && crate::kube::files::will_exist(files, src)
            {
                // A path that exists, for the existence check only.
                *src = "/".into();
            }
        }
    }
    plan
}

/// Writes a pod's configMap and secret volumes' files: once it passed
/// every check, just before it is started.
pub fn write_files(pod: &str, files: &[kube::files::VolumeFiles]) -> anyhow::Result<()> {
    for v in files {
        kube::files::write(v)
            .with_context(|| format!("pod {pod}: cannot write {}", v.dir.display()))?;
    }
    Ok(())
}

pub fn run(command: super::args::KubeCommand) -> anyhow::Result<()> {
    match command {
        super::args::KubeCommand::Generate { pod, service } => generate(&pod, service),
    }
}

/// A pod file or manifest when `target` names a file (or has a pod file's
/// extension), else an applied pod's stored definition.
fn generate(target: &str, service: bool) -> anyhow::Result<()> {
    let path = Path::new(target);
    let is_file =
        path.is_file() || kube::is_manifest(path) || path.extension().is_some_and(|x| x == "toml");
    let pod = if is_file {
        load_shown(path, Unsupported::Error)?
    } else {
        let stored = Paths::from_env().definition(target);
        let text = std::fs::read_to_string(&stored).with_context(|| {
            format!(
                "no pod {target:?} is applied (cannot read {})",
                stored.display()
            )
        })?;
        let mut pod = crate::spec::parse_str(&text, &stored.display().to_string(), target)?;
        kube::secret::redact(&mut pod, &kube::secret::marked(&text));
        pod
    };
    print!("{}", kube::generate::pod(&pod));
    if service {
        match kube::generate::service(&pod) {
            Some(s) => print!("---\n{s}"),
            None => anyhow::bail!("pod {} publishes no ports: no Service to make", pod.name),
        }
    }
    Ok(())
}
