//! Deciding who gets which IDs, purely: [`Allocations`] is the ranges pods
//! hold, by pod name, and the functions over it pick, keep, free and
//! reclaim them.

use super::IdsError;
use super::subid::SubIds;
use crate::model::{DEFAULT_USERNS_SIZE, IdMap};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::ops::Range;

/// The ranges pods hold, by pod name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocations {
    pub pods: BTreeMap<String, IdMap>,
}

impl Allocations {
    /// Drops the entries of pods that are neither `stored` nor `running`
    /// (left by a crash between removing a pod and releasing its range),
    /// except `keep`'s; returns their pods. A stored pod keeps its range
    /// while stopped; a running one keeps it after its definition is gone,
    /// as its processes and files still have those IDs.
    pub fn reclaim(
        &mut self,
        keep: &str,
        stored: impl Fn(&str) -> bool,
        running: impl Fn(&str) -> bool,
    ) -> Vec<String> {
        let stale: Vec<String> = self
            .pods
            .keys()
            .filter(|p| p.as_str() != keep && !stored(p) && !running(p))
            .cloned()
            .collect();
        for p in &stale {
            self.pods.remove(p);
        }
        stale
    }

    /// `pod`'s range of `size` IDs, recorded. The one it holds is kept when
    /// of that size and still within the entries; otherwise (first time, a
    /// new size, entries shrunk) the old one is freed and the lowest free
    /// one taken: it starts where the old one did if it fits there.
    pub fn assign(&mut self, pod: &str, size: u32, ids: &SubIds) -> Result<IdMap, IdsError> {
        if size == 0 {
            return Err(IdsError::EmptySize);
        }
        if let Some(m) = self.pods.get(pod)
            && m.size == size
            && ids.uid.covers(m.uid, size)
            && ids.gid.covers(m.gid, size)
        {
            return Ok(*m);
        }
        self.pods.remove(pod);
        let m = self.pick(size, ids)?;
        self.pods.insert(pod.to_string(), m);
        Ok(m)
    }

    /// Frees `pod`'s range; returns it.
    pub fn release(&mut self, pod: &str) -> Option<IdMap> {
        self.pods.remove(pod)
    }

    /// The lowest free range of `size` IDs, meeting no pod's UIDs and GIDs.
    /// When the two files' entries are the same, the same offset for both
    /// if there is one free (the common case: `0-65535 -> N-N+65535` alone).
    fn pick(&self, size: u32, ids: &SubIds) -> Result<IdMap, IdsError> {
        let uids: Vec<Range<u64>> = self.pods.values().map(|m| span(m.uid, m.size)).collect();
        let gids: Vec<Range<u64>> = self.pods.values().map(|m| span(m.gid, m.size)).collect();
        let (n, align) = (u64::from(size), alignment(size));
        let same = (ids.uid.ranges == ids.gid.ranges)
            .then(|| lowest_free(&ids.uid.ranges, &[&uids[..], &gids[..]].concat(), n, align))
            .flatten();
        let (uid, gid) = match same {
            Some(x) => (x, x),
            None => {
                let uid = lowest_free(&ids.uid.ranges, &uids, n, align);
                let gid = lowest_free(&ids.gid.ranges, &gids, n, align);
                uid.zip(gid).ok_or_else(|| IdsError::Exhausted {
                    size,
                    pods: self.pods.len(),
                    subuid: ids.uid.path.clone(),
                    subgid: ids.gid.path.clone(),
                })?
            }
        };
        Ok(IdMap {
            uid: id(uid),
            gid: id(gid),
            size,
        })
    }
}

/// Where ranges of `size` IDs may start: at multiples of the size, or of
/// 65,536 for larger ones, so that ranges are easy to tell apart
/// (`2147483648-2147549183`, the next at `2147549184`...).
fn alignment(size: u32) -> u64 {
    u64::from(size.min(DEFAULT_USERNS_SIZE))
}

/// The host IDs `start..start+size`.
fn span(start: u32, size: u32) -> Range<u64> {
    u64::from(start)..u64::from(start) + u64::from(size)
}

/// An ID of a range within the entries (which end below `u32::MAX`).
fn id(x: u64) -> u32 {
    u32::try_from(x).expect("the entries end below u32::MAX")
}

/// The lowest multiple of `align` from which `size` IDs lie within one of
/// `free` (sorted) and meet none of `used`.
fn lowest_free(free: &[Range<u64>], used: &[Range<u64>], size: u64, align: u64) -> Option<u64> {
    let up = |x: u64| x.div_ceil(align) * align;
    for r in free {
        let mut at = up(r.start);
        while at + size <= r.end {
            let clash = used
                .iter()
                .filter(|u| u.start < at + size && at < u.end)
                .map(|u| u.end)
                .max();
            match clash {
                None => return Some(at),
                // Past what it met: `at` only grows, so this ends.
                Some(end) => at = up(end),
            }
        }
    }
    None
}

#[cfg(test)]
mod tests;
