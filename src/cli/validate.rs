//! `podctl validate FILE...` and `podctl apply --dry-run FILE`: check pod
//! files and show what starting them would do, touching nothing on the host.

use super::output::{self, Format};
use crate::kube::Unsupported;
use crate::layout::Layout;
use crate::model::Pod;
use crate::plan::{self, render};
use crate::spec::{Diagnostics, size};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Checks each file: a one-line summary on stdout for a valid one, every
/// diagnostic on stderr otherwise; as JSON or YAML, one array on stdout
/// (see [`FileReport`]). Exit 0 only if all files are valid.
pub fn validate(
    files: &[PathBuf],
    format: Format,
    policy: Unsupported,
    paths: &Layout,
) -> ExitCode {
    // A directory is its pod files, read as `apply DIR` reads them.
    let mut results: Vec<(String, Result<Pod, Diagnostics>)> = Vec::new();
    for f in files {
        let label = f.display().to_string();
        if !f.is_dir() {
            results.push((
                label,
                super::read::definition(f, policy, paths).map(|d| d.pod),
            ));
            continue;
        }
        match super::read::each(f, policy, paths) {
            Ok(read) => results.extend(
                read.into_iter()
                    .map(|(f, r)| (f.display().to_string(), r.map(|d| d.pod))),
            ),
            Err(d) => results.push((label, Err(d))),
        }
    }
    let all_valid = results.iter().all(|(_, r)| r.is_ok());
    if format != Format::Human {
        let reports: Vec<FileReport> = results.iter().map(|(f, r)| report(f, r)).collect();
        if let Err(e) = output::print(format, &reports) {
            eprintln!("podctl: cannot render the result: {e}");
            return ExitCode::FAILURE;
        }
    } else {
        for (file, result) in &results {
            match result {
                Ok(pod) => println!("{}", summary(file, pod)),
                Err(diagnostics) => eprintln!("{diagnostics}"),
            }
        }
    }
    if all_valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// `validate --output json`: one object per file.
#[derive(Debug, Serialize)]
pub struct FileReport {
    pub file: String,
    pub valid: bool,
    /// The pod's name (valid files only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod: Option<String>,
    /// Its containers, in file order (valid files only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub containers: Option<Vec<String>>,
    /// Every problem found; empty for a valid file.
    pub errors: Vec<ErrorReport>,
}

/// One diagnostic; `line` and `column` are 1-based, 0 when about the whole file.
#[derive(Debug, Serialize)]
pub struct ErrorReport {
    pub file: String,
    pub line: usize,
    pub column: usize,
    /// Dotted key, e.g. `containers.app.resources.memory`; empty for syntax errors.
    pub key: String,
    pub message: String,
}

pub fn report(file: &str, result: &Result<Pod, Diagnostics>) -> FileReport {
    match result {
        Ok(pod) => FileReport {
            file: file.to_string(),
            valid: true,
            pod: Some(pod.name.clone()),
            containers: Some(pod.containers.iter().map(|c| c.name.clone()).collect()),
            errors: Vec::new(),
        },
        Err(d) => FileReport {
            file: file.to_string(),
            valid: false,
            pod: None,
            containers: None,
            errors: d
                .0
                .iter()
                .map(|d| ErrorReport {
                    file: d.file.clone(),
                    line: d.line,
                    column: d.column,
                    key: d.key.clone(),
                    message: d.message.clone(),
                })
                .collect(),
        },
    }
}

/// Loads a pod file and prints its plan, for a person, as JSON or as YAML.
pub fn dry_run(
    paths: &crate::layout::Layout,
    file: &Path,
    format: Format,
    policy: Unsupported,
    pull: bool,
) -> ExitCode {
    // The plan shown, not run: secrets are replaced by `<secret>`.
    let pod = match super::read::shown(file, policy, paths) {
        Ok(pod) => pod,
        Err(diagnostics) => {
            eprintln!("{diagnostics}");
            return ExitCode::FAILURE;
        }
    };
    let facts = crate::apply::facts_as_they_are(paths, &pod);
    let plan = plan::assemble(&pod, &facts);
    match output::print(format, &plan) {
        Ok(false) => {
            print!("{}", render::human(&plan));
            let pulls = super::pulls::lines(&pod, &facts, pull);
            if !pulls.is_empty() {
                print!("\n{}\n", pulls.join("\n"));
            }
            if let Some(text) = plan::needs::dropin(&pod) {
                let dir = crate::apply::dropin::dir(paths, &pod.name);
                let file = dir.join(crate::apply::dropin::Part::Needs.file_name());
                print!("\n{}:\n{text}", file.display());
            }
            ExitCode::SUCCESS
        }
        Ok(true) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("podctl: {}: cannot render the plan: {e}", file.display());
            ExitCode::FAILURE
        }
    }
}

/// `web.toml: pod web, 2 containers (app, sidecar), shares ipc,net,uts, limits memory=512M cpu=50% tasks=256`.
pub fn summary(label: &str, pod: &Pod) -> String {
    let n = pod.containers.len();
    let names: Vec<&str> = pod.containers.iter().map(|c| c.name.as_str()).collect();
    let mut out = format!(
        "{label}: pod {}, {n} container{} ({})",
        pod.name,
        if n == 1 { "" } else { "s" },
        names.join(", ")
    );
    let list = |ns: &[crate::model::Namespace]| {
        let mut v: Vec<&str> = ns.iter().map(|n| n.as_str()).collect();
        v.sort_unstable();
        v.join(",")
    };
    if pod.share.is_empty() {
        out.push_str(", shares nothing");
    } else {
        out.push_str(&format!(", shares {}", list(&pod.share)));
    }
    if !pod.host.is_empty() {
        out.push_str(&format!(", host {}", list(&pod.host)));
    }
    let r = &pod.resources;
    let limits: Vec<String> = [
        r.memory.map(|m| format!("memory={}", size::format_size(m))),
        r.cpu_percent
            .map(|c| format!("cpu={}", size::format_percent(c))),
        r.tasks.map(|t| format!("tasks={t}")),
    ]
    .into_iter()
    .flatten()
    .collect();
    if limits.is_empty() {
        out.push_str(", no pod limits");
    } else {
        out.push_str(&format!(", limits {}", limits.join(" ")));
    }
    if !pod.autostart {
        out.push_str(", no autostart");
    }
    if let Some(needs) = plan::needs::human(pod) {
        out.push_str(&format!(", {needs}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec;

    #[test]
    fn json_report_has_located_errors() {
        let bad = "name = \"web\"\n[containers.app]\ncommand = [\"true\"]\nresources = { memory = \"lots\" }\n";
        let good = "[containers.app]\ncommand = [\"true\"]\n";
        let reports = vec![
            report("good.toml", &spec::parse_str(good, "good.toml", "good")),
            report("bad.toml", &spec::parse_str(bad, "bad.toml", "web")),
        ];
        let got = serde_json::to_value(&reports).unwrap();
        let want: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/data/json/validate.json")).unwrap();
        assert_eq!(got, want, "{}", serde_json::to_string_pretty(&got).unwrap());
    }

    #[test]
    fn summary_names_containers_namespaces_and_limits() {
        let src = "name = \"web\"\nresources = { memory = \"512M\", cpu = \"50%\", tasks = 256 }\n\
                   [containers.app]\ncommand = [\"true\"]\n[containers.sidecar]\ncommand = [\"true\"]\n";
        let pod = spec::parse_str(src, "web.toml", "web").unwrap();
        assert_eq!(
            summary("web.toml", &pod),
            "web.toml: pod web, 2 containers (app, sidecar), shares ipc,net,uts, limits memory=512M cpu=50% tasks=256"
        );
        let src = "host = [\"net\"]\nautostart = false\n[containers.a]\ncommand = [\"true\"]\n";
        let pod = spec::parse_str(src, "x.toml", "x").unwrap();
        assert_eq!(
            summary("x.toml", &pod),
            "x.toml: pod x, 1 container (a), shares ipc,uts, host net, no pod limits, no autostart"
        );
    }
}
