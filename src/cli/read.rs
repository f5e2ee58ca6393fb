//! Pod files and Kubernetes manifests as the commands read them, alike:
//! each ignored field of `--ignore-unsupported` is one warning on stderr.

use crate::apply::Definition;
use crate::kube::Unsupported;
use crate::layout::Layout;
use crate::model::Pod;
use crate::spec::Diagnostics;
use anyhow::bail;
use std::path::Path;

/// Reads a pod file or a manifest (by extension), once; the networks it
/// names must be defined in the layout's `networks`, and a manifest's
/// configMap volumes' files are to go under its `kube_files`.
pub fn definition(
    path: &Path,
    policy: Unsupported,
    paths: &Layout,
) -> Result<Definition, Diagnostics> {
    let d = Definition::read(path, policy, paths)?;
    warn(&d.warnings);
    Ok(d)
}

/// Reads every pod file named (a file, or each of a directory); all of them
/// must load, and each one's warnings are printed.
pub fn definitions(
    target: &Path,
    policy: crate::kube::Unsupported,
    paths: &Layout,
) -> anyhow::Result<Vec<Definition>> {
    let mut definitions = Vec::new();
    let mut errors = Vec::new();
    for f in crate::apply::pod_files(target)? {
        match definition(&f, policy, paths) {
            Ok(d) => definitions.push(d),
            Err(d) => errors.push(d.to_string()),
        }
    }
    if !errors.is_empty() {
        bail!("{}", errors.join("\n"));
    }
    Ok(definitions)
}

/// A pod file or manifest for printing: the pod with its secrets replaced
/// by `<secret>`; the networks it names must be defined in the layout's.
pub fn shown(path: &Path, policy: Unsupported, paths: &Layout) -> Result<Pod, Diagnostics> {
    let loaded = crate::kube::load(path, policy, &paths.kube_files)?;
    crate::apply::check_networks(&loaded.pod, &loaded.text, path, &paths.networks)?;
    warn(&loaded.warnings);
    Ok(loaded.shown())
}

fn warn(warnings: &[crate::spec::Diagnostic]) {
    for w in warnings {
        eprintln!("podctl: warning: {w}");
    }
}
