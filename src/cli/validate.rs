//! `podctl validate FILE...` and `podctl apply --dry-run FILE`: check pod
//! files and show what starting them would do, touching nothing on the host.

use crate::model::Pod;
use crate::plan::{self, render};
use crate::spec::{self, size};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Checks each file: a one-line summary on stdout for a valid one, every
/// diagnostic on stderr otherwise. Exit 0 only if all files are valid.
pub fn validate(files: &[PathBuf]) -> ExitCode {
    let mut all_valid = true;
    for file in files {
        match spec::load(file) {
            Ok(pod) => println!("{}", summary(&file.display().to_string(), &pod)),
            Err(diagnostics) => {
                all_valid = false;
                eprintln!("{diagnostics}");
            }
        }
    }
    if all_valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Loads a pod file and prints its plan, for a person or as pretty JSON.
pub fn dry_run(file: &Path, json: bool) -> ExitCode {
    let pod = match spec::load(file) {
        Ok(pod) => pod,
        Err(diagnostics) => {
            eprintln!("{diagnostics}");
            return ExitCode::FAILURE;
        }
    };
    let plan = plan::build(&pod);
    if !json {
        print!("{}", render::human(&plan));
        return ExitCode::SUCCESS;
    }
    match serde_json::to_string_pretty(&plan) {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!(
                "podctl: {}: cannot render the plan as JSON: {e}",
                file.display()
            );
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
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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
