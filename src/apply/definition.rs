//! A pod's definition as apply reads it: a pod file or a Kubernetes
//! manifest, read and parsed once, with the native text apply stores and
//! the files of the manifest's volumes.

use crate::kube::files::VolumeFiles;
use crate::kube::{Loaded, Unsupported};
use crate::layout::Layout;
use crate::model::Pod;
use crate::spec::{Diagnostic, Diagnostics};
use std::path::{Path, PathBuf};

/// One pod, read from one file.
#[derive(Debug, Clone)]
pub struct Definition {
    /// The file it was read from (its directory is the pod's source for
    /// `apply --prune`).
    pub file: PathBuf,
    pub pod: Pod,
    /// The native pod file apply stores (a manifest's, lowered).
    pub text: String,
    /// The files of its configMap volumes, written once every check passed.
    pub files: Vec<VolumeFiles>,
    /// A manifest's Secrets as podctl secrets: stored (encrypted) by apply
    /// before the pod; in memory only.
    pub secrets: crate::kube::secret::Values,
    /// Fields ignored under [`Unsupported::Warn`], located: for the caller
    /// to show.
    pub warnings: Vec<Diagnostic>,
}

impl Definition {
    /// Reads and validates `file` (by its extension a pod file or a
    /// manifest; its configMap volumes' files are to go under the layout's
    /// `kube_files`), the networks it names against those defined in the
    /// layout's `networks`; every problem is located at `file:line:column`.
    pub fn read(
        file: &Path,
        policy: Unsupported,
        paths: &Layout,
    ) -> Result<Definition, Diagnostics> {
        Definition::read_in(file, policy, paths, None)
    }

    /// As [`Definition::read`], for one file of a directory applied whole:
    /// the ConfigMaps and Secrets of its other files (`dir`) are the pod's too.
    pub fn read_in(
        file: &Path,
        policy: Unsupported,
        paths: &Layout,
        dir: Option<&crate::kube::Directory>,
    ) -> Result<Definition, Diagnostics> {
        let d = crate::kube::load_in(file, policy, &paths.kube_files, dir)
            .map(|l| Definition::from_loaded(file, l))?;
        check_networks(&d.pod, &d.text, file, &paths.networks)?;
        super::rootless::check(&d.pod, file, paths)?;
        Ok(d)
    }

    /// A definition of what was read from `file`.
    pub fn from_loaded(file: &Path, l: Loaded) -> Definition {
        Definition {
            file: file.to_path_buf(),
            pod: l.pod,
            text: l.text,
            files: l.files,
            secrets: l.secret_values,
            warnings: l.warnings,
        }
    }
}

/// The networks `pod` (read from `text` of `file`) names are defined in
/// `dir`; the definitions are read only when it names one besides the
/// default.
pub fn check_networks(pod: &Pod, text: &str, file: &Path, dir: &Path) -> Result<(), Diagnostics> {
    use crate::net::config::{DEFAULT_NETWORK, load_all};
    if pod.network.networks.iter().all(|n| n == DEFAULT_NETWORK) {
        return Ok(());
    }
    let known = load_all(dir)
        .map(|defs| defs.into_iter().map(|d| d.name).collect::<Vec<_>>())
        .map_err(|d| d.to_string().replace('\n', "; "));
    crate::spec::check_networks(
        text,
        &file.display().to_string(),
        known.as_deref().map_err(String::as_str),
        dir,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pod file naming a network is checked against the networks of the
    /// directory given, located at the name.
    #[test]
    fn the_networks_a_pod_names_are_those_of_the_directory_given() {
        let dir = std::env::temp_dir().join(format!("podctl-defnet-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let networks = dir.join("networks");
        std::fs::create_dir_all(&networks).unwrap();
        let file = dir.join("web.toml");
        std::fs::write(
            &file,
            "networks = [\"podctl\", \"backend\"]\n\n[containers.app]\ncommand = [\"/bin/sleep\", \"infinity\"]\n",
        )
        .unwrap();
        let paths = Layout::under(&dir);
        let read = || Definition::read(&file, Unsupported::Error, &paths);
        let e = read().unwrap_err().to_string();
        assert_eq!(
            e,
            format!(
                "{}:1:23: networks: unknown network \"backend\" (known: podctl); define it in {}/backend.toml or with `podctl network create backend --subnet CIDR`",
                file.display(),
                networks.display()
            )
        );
        std::fs::write(networks.join("backend.toml"), "subnet = \"10.90.0.0/24\"\n").unwrap();
        assert_eq!(read().unwrap().pod.network.networks, ["podctl", "backend"]);
        std::fs::write(networks.join("backend.toml"), "subnet = 1\n").unwrap();
        let e = read().unwrap_err().to_string();
        assert!(
            e.contains(":1:23: networks: cannot check network \"backend\": the network definitions have problems: "),
            "{e}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
