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

/// One pod file of those named, and what reading it gave.
pub type Read = (std::path::PathBuf, Result<Definition, Diagnostics>);

/// Reads every pod file named (a file, or each of a directory), each one's
/// warnings printed. A directory's manifests are read as `kubectl apply -f
/// DIR` reads them: the ConfigMaps and Secrets of each of its files are
/// every Pod's of it, and a file of such objects only is no pod. The error
/// (the objects' problems, located) is for the directory as a whole.
pub fn each(target: &Path, policy: Unsupported, paths: &Layout) -> Result<Vec<Read>, Diagnostics> {
    let files = crate::apply::pod_files(target).map_err(|e| {
        Diagnostics(vec![crate::spec::Diagnostic {
            file: target.display().to_string(),
            line: 0,
            column: 0,
            key: String::new(),
            message: format!("{e:#}"),
        }])
    })?;
    let dir = match target.is_dir() {
        true => Some(crate::kube::gather(&files)?),
        false => None,
    };
    let mut out = Vec::new();
    for f in files {
        if let Some(d) = &dir
            && d.objects_only(&f.display().to_string())
        {
            continue;
        }
        let read = Definition::read_in(&f, policy, paths, dir.as_ref());
        if let Ok(d) = &read {
            warn(&d.warnings);
        }
        out.push((f, read));
    }
    Ok(out)
}

/// Reads every pod file named (a file, or each of a directory: see
/// [`each`]); all of them must load.
pub fn definitions(
    target: &Path,
    policy: crate::kube::Unsupported,
    paths: &Layout,
) -> anyhow::Result<Vec<Definition>> {
    let mut definitions = Vec::new();
    let mut errors = Vec::new();
    for (_, read) in each(target, policy, paths)? {
        match read {
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
