//! Digests an auto-update rolled back from (`POD/bad.json`): the next
//! `podctl auto-update` does not try them again; a tag that moves on to
//! another digest is tried as usual.

use super::{RevisionError, Revisions};
use crate::supervise::state::write_atomic;
use std::collections::BTreeMap;

/// Per image reference, the digests that failed in this pod.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Bad(pub BTreeMap<String, Vec<String>>);

impl Bad {
    pub fn contains(&self, reference: &str, digest: &str) -> bool {
        self.0
            .get(reference)
            .is_some_and(|d| d.iter().any(|x| x == digest))
    }
}

impl Revisions {
    fn bad_path(&self) -> std::path::PathBuf {
        self.dir().join("bad.json")
    }

    /// The digests marked bad for this pod.
    pub fn bad(&self) -> Result<Bad, RevisionError> {
        let p = self.bad_path();
        match std::fs::read(&p) {
            Ok(b) => serde_json::from_slice(&b).map_err(|e| RevisionError::Damaged {
                pod: self.pod().to_string(),
                path: p,
                why: e.to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Bad::default()),
            Err(e) => Err(self.io("read", &p)(e)),
        }
    }

    /// Marks each `(reference, digest)` bad (at most the last 10 per
    /// reference are remembered).
    pub fn mark_bad(&self, failed: &[(String, String)]) -> Result<(), RevisionError> {
        let mut bad = self.bad()?;
        for (reference, digest) in failed {
            let list = bad.0.entry(reference.clone()).or_default();
            if !list.contains(digest) {
                list.push(digest.clone());
            }
            let over = list.len().saturating_sub(10);
            list.drain(..over);
        }
        let p = self.bad_path();
        let bytes = serde_json::to_vec_pretty(&bad).expect("a map of strings serializes");
        write_atomic(&p, &bytes).map_err(self.io("write", &p))
    }
}
