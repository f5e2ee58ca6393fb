//! Shell completion: pod names from the store (`/etc/podctl/pods`, or
//! PODCTL_STORE) and, after a pod name, that pod's container names. The
//! shells call `COMPLETE=SHELL podctl -- WORDS...` (clap_complete's dynamic
//! engine); `podctl __generate completions DIR` writes the scripts that do so.

use crate::layout::Layout;
use clap_complete::engine::CompletionCandidate;
use std::path::Path;

/// The environment variable the completion scripts set to ask for candidates.
pub const COMPLETE_VAR: &str = "COMPLETE";

/// Names of the stored pods, sorted.
pub fn pod_names(store: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(store)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            name.strip_suffix(".toml").map(str::to_string)
        })
        .filter(|n| !n.is_empty() && !n.starts_with('.'))
        .collect();
    names.sort();
    names
}

/// Container names of the stored pod `pod` (none if it cannot be read).
pub fn container_names(store: &Path, pod: &str) -> Vec<String> {
    let path = store.join(format!("{pod}.toml"));
    match crate::spec::load(&path) {
        Ok(p) => p.containers.into_iter().map(|c| c.name).collect(),
        Err(_) => Vec::new(),
    }
}

/// The pod a completion request is about: the first word after the
/// subcommand that names a stored pod.
pub fn pod_in_words(store: &Path, words: &[String]) -> Option<String> {
    let pods = pod_names(store);
    words.iter().find(|w| pods.contains(w)).cloned()
}

pub(crate) fn pods() -> Vec<CompletionCandidate> {
    pod_names(&Layout::from_env().store)
        .into_iter()
        .map(CompletionCandidate::new)
        .collect()
}

pub(crate) fn containers() -> Vec<CompletionCandidate> {
    // The engine gives a completer only the word being completed; the whole
    // command line is this process's arguments: `podctl -- podctl exec POD ...`.
    let store = Layout::from_env().store;
    let words: Vec<String> = std::env::args().skip(3).collect();
    let Some(pod) = pod_in_words(&store, &words) else {
        return Vec::new();
    };
    container_names(&store, &pod)
        .into_iter()
        .map(CompletionCandidate::new)
        .collect()
}

pub(crate) fn volumes() -> Vec<CompletionCandidate> {
    let dir = Layout::from_env().oci().volumes();
    crate::oci::volumes::names(&dir)
        .unwrap_or_default()
        .into_iter()
        .map(CompletionCandidate::new)
        .collect()
}

/// Writes `podctl.bash`, `_podctl` (zsh) and `podctl.fish` into `dir`; they
/// call `completer` (the installed binary) for candidates.
pub fn write_scripts(dir: &Path, completer: &str) -> std::io::Result<()> {
    use clap_complete::env::{Bash, EnvCompleter, Fish, Zsh};
    std::fs::create_dir_all(dir)?;
    let shells: [(&dyn EnvCompleter, &str); 3] = [
        (&Bash, "podctl.bash"),
        (&Zsh, "_podctl"),
        (&Fish, "podctl.fish"),
    ];
    for (shell, file) in shells {
        let mut out = std::fs::File::create(dir.join(file))?;
        shell.write_registration(COMPLETE_VAR, "podctl", "podctl", completer, &mut out)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pods_and_their_containers() {
        let dir = std::env::temp_dir().join(format!("podctl-complete-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("web.toml"),
            "[containers.app]\ncommand = [\"true\"]\n[containers.side]\ncommand = [\"true\"]\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("db.toml"),
            "[containers.pg]\ncommand = [\"true\"]\n",
        )
        .unwrap();
        std::fs::write(dir.join("notes.txt"), "").unwrap();
        assert_eq!(pod_names(&dir), ["db", "web"]);
        let words: Vec<String> = ["exec", "-i", "web", ""].map(String::from).to_vec();
        assert_eq!(pod_in_words(&dir, &words).as_deref(), Some("web"));
        assert_eq!(container_names(&dir, "web"), ["app", "side"]);
        assert!(container_names(&dir, "nope").is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn scripts_call_the_installed_binary() {
        let dir = std::env::temp_dir().join(format!("podctl-compscripts-{}", std::process::id()));
        write_scripts(&dir, "/usr/bin/podctl").unwrap();
        for f in ["podctl.bash", "_podctl", "podctl.fish"] {
            let text = std::fs::read_to_string(dir.join(f)).unwrap();
            assert!(text.contains("/usr/bin/podctl"), "{f}: {text}");
            assert!(text.contains("COMPLETE="), "{f}: {text}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
