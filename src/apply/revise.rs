//! A pod's stored file run with given pins, as a new revision: what
//! `podctl rollback` and `podctl auto-update` do. `apply` reads pod files;
//! these read the store, so the pod's source directory is left as it is.

use super::{Applier, Definition, Planned};
use crate::image::facts::{Pins, SystemStore};
use crate::plan::decide::Changes;
use anyhow::Context;

impl Applier<'_> {
    /// Runs `text` as pod `name` with each image pinned as `pins` (a
    /// pinned manifest no longer stored is pulled again by digest first),
    /// recorded as this applier's cause.
    pub fn apply_pinned(&self, name: &str, text: &str, pins: &Pins) -> anyhow::Result<Changes> {
        let paths = self.paths;
        let stored = paths.definition(name);
        let pod = crate::spec::parse_str(text, &stored.display().to_string(), name)
            .with_context(|| format!("pod {name}: its stored file does not parse"))?;
        crate::image::policy::ensure_pinned(paths, pins, &*crate::image::progress::for_stderr())
            .map_err(|e| anyhow::anyhow!("pod {name}: {e}\nnothing was changed"))?;
        let definition = Definition {
            file: stored,
            pod,
            text: text.to_string(),
            files: Vec::new(),
            secrets: Default::default(),
            warnings: Vec::new(),
        };
        let images = SystemStore {
            root: paths.images.clone(),
            pins: [(name.to_string(), pins.clone())].into(),
        };
        let planned: Vec<Planned> =
            super::assemble_all(vec![definition], &images, &crate::ids::Allocate(paths))?;
        let path = std::env::var("PATH").unwrap_or_else(|_| crate::plan::DEFAULT_PATH.into());
        let problems = super::preflight(&planned, &path);
        if !problems.is_empty() {
            anyhow::bail!("{}\nnothing was changed", problems.join("\n"));
        }
        self.apply(&planned[0])
    }
}
