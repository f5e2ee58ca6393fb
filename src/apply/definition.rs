//! A pod's definition as apply reads it: a pod file or a Kubernetes
//! manifest, read and parsed once, with the native text apply stores and
//! the files of the manifest's volumes.

use crate::kube::files::VolumeFiles;
use crate::kube::{Loaded, Unsupported};
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
    /// manifest; its configMap volumes' files are to go under `files`,
    /// [`crate::layout::Layout::kube_files`]); every problem is located at
    /// `file:line:column`.
    pub fn read(file: &Path, policy: Unsupported, files: &Path) -> Result<Definition, Diagnostics> {
        crate::kube::load(file, policy, files).map(|l| Definition::from_loaded(file, l))
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
