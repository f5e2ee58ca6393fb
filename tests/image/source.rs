//! An in-memory [`Source`] over a [`Repo`] that counts blob fetches and can
//! be slowed down, for the store's once-only and concurrency guarantees.

use super::build::Repo;
use podctl::image::manifest::Descriptor;
use podctl::image::source::{Failure, Source, SourceError};
use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone)]
pub struct Mem {
    pub repo: Repo,
    pub fetches: Arc<Mutex<HashMap<String, u32>>>,
    /// Pause before each blob's last half (lets a second pull overlap).
    pub delay: Duration,
    /// Fail this many blob fetches with a transient error first.
    pub flaky: Arc<Mutex<u32>>,
}

impl Mem {
    pub fn new(repo: Repo) -> Mem {
        Mem {
            repo,
            fetches: Default::default(),
            delay: Duration::ZERO,
            flaky: Default::default(),
        }
    }
    pub fn count(&self, digest: &str) -> u32 {
        self.fetches
            .lock()
            .unwrap()
            .get(digest)
            .copied()
            .unwrap_or(0)
    }
}

impl Source for Mem {
    fn describe(&self) -> String {
        "memory".into()
    }
    fn manifest(&mut self, reference: &str) -> Result<Vec<u8>, SourceError> {
        let d = self
            .repo
            .tags
            .get(reference)
            .cloned()
            .unwrap_or(reference.to_string());
        self.repo
            .blobs
            .get(&d)
            .cloned()
            .ok_or_else(|| SourceError::new(format!("manifest {reference}"), Failure::NotFound, ""))
    }
    fn blob(
        &mut self,
        d: &Descriptor,
        out: &mut dyn Write,
        progress: &mut dyn FnMut(u64),
    ) -> Result<(), SourceError> {
        let digest = d.digest().to_string();
        *self
            .fetches
            .lock()
            .unwrap()
            .entry(digest.clone())
            .or_default() += 1;
        let data = self
            .repo
            .blobs
            .get(&digest)
            .ok_or_else(|| SourceError::new(format!("blob {digest}"), Failure::NotFound, ""))?;
        let half = data.len() / 2;
        out.write_all(&data[..half]).unwrap();
        {
            let mut flaky = self.flaky.lock().unwrap();
            if *flaky > 0 {
                *flaky -= 1;
                return Err(SourceError::new(
                    format!("blob {digest}"),
                    Failure::Interrupted,
                    "connection reset",
                ));
            }
        }
        std::thread::sleep(self.delay);
        out.write_all(&data[half..]).unwrap();
        progress(data.len() as u64);
        Ok(())
    }
}
