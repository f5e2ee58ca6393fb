//! `podctl kube generate NAME|FILE [--service]`.

use crate::kube::{self, Unsupported};
use crate::layout::Layout;
use anyhow::Context;
use std::path::Path;

pub fn run(paths: &Layout, command: super::args::KubeCommand) -> anyhow::Result<()> {
    match command {
        super::args::KubeCommand::Generate { pod, service } => generate(paths, &pod, service),
    }
}

/// A pod file or manifest when `target` names a file (or has a pod file's
/// extension), else an applied pod's stored definition.
fn generate(paths: &Layout, target: &str, service: bool) -> anyhow::Result<()> {
    let path = Path::new(target);
    let is_file =
        path.is_file() || kube::is_manifest(path) || path.extension().is_some_and(|x| x == "toml");
    let pod = if is_file {
        super::read::shown(path, Unsupported::Error, paths)?
    } else {
        let stored = paths.definition(target);
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
