//! What one layer may unpack to. A layer is hostile until unpacked: a few
//! kilobytes of gzip or zstd can expand to terabytes of zeros, a GNU sparse
//! entry can declare any size, and a tar can hold millions of empty
//! entries. Every layer gets a budget from its compressed size; the
//! decompressed tar stream and the sum of its files' sizes must both stay
//! within it, and its entries within a count.

use std::cell::Cell;
use std::io::{self, Read};
use std::rc::Rc;

/// Reviewed defaults (see [`Limits::default`]).
///
/// Ratio: gzip tops out near 1:1030 (all zeros) and real layers are 1:2 to
/// 1:20; 1:100 leaves room for text-heavy layers and refuses bombs.
pub const RATIO: u64 = 100;
/// Any layer may unpack to this much, however small its blob.
pub const FLOOR: u64 = 64 << 20;
/// No layer may unpack to more, however big its blob.
pub const MAX_LAYER_BYTES: u64 = 32 << 30;
/// Entries (files, directories, links, whiteouts) in one layer: the
/// biggest real images hold a few hundred thousand files in all layers.
pub const MAX_ENTRIES: u64 = 1_000_000;
/// Manifests, indexes and image configs: what containerd and Podman accept.
pub const MAX_DOCUMENT: u64 = 4 << 20;

/// The limits a store applies to every layer it unpacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Limits {
    /// Unpacked bytes allowed per compressed byte of the layer's blob.
    pub ratio: u64,
    /// Unpacked bytes any layer may have.
    pub floor: u64,
    /// Unpacked bytes no layer may exceed.
    pub max_bytes: u64,
    /// Entries in one layer.
    pub max_entries: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            ratio: RATIO,
            floor: FLOOR,
            max_bytes: MAX_LAYER_BYTES,
            max_entries: MAX_ENTRIES,
        }
    }
}

/// The environment variables that change [`Limits::default`] (for a host
/// whose images legitimately unpack past them): unpacked bytes per
/// compressed byte, the floor and the ceiling in bytes, the entry count.
pub const ENV: [&str; 4] = [
    "PODCTL_LAYER_RATIO",
    "PODCTL_LAYER_FLOOR",
    "PODCTL_LAYER_MAX_BYTES",
    "PODCTL_LAYER_MAX_ENTRIES",
];

/// A limit variable that is not a positive whole number.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{var}={value:?}: expected a positive whole number")]
pub struct BadLimit {
    pub var: String,
    pub value: String,
}

impl Limits {
    /// The defaults, each replaced by its [`ENV`] variable where `get`
    /// (the environment) sets one.
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Result<Limits, BadLimit> {
        let mut l = Limits::default();
        let fields = [
            &mut l.ratio,
            &mut l.floor,
            &mut l.max_bytes,
            &mut l.max_entries,
        ];
        for (var, field) in ENV.iter().zip(fields) {
            if let Some(value) = get(var) {
                *field = value
                    .trim()
                    .parse()
                    .ok()
                    .filter(|&n: &u64| n > 0)
                    .ok_or_else(|| BadLimit {
                        var: var.to_string(),
                        value,
                    })?;
            }
        }
        Ok(l)
    }

    /// The budget of a layer whose blob is `compressed` bytes.
    pub fn budget(&self, compressed: u64) -> Budget {
        Budget {
            bytes: compressed
                .saturating_mul(self.ratio)
                .max(self.floor)
                .min(self.max_bytes),
            entries: self.max_entries,
            compressed,
            limits: *self,
        }
    }
}

/// What one layer may unpack to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Budget {
    /// Bytes: of the decompressed tar, and of all its files together.
    pub bytes: u64,
    pub entries: u64,
    /// The blob's size the budget was derived from (for messages).
    pub compressed: u64,
    pub limits: Limits,
}

impl Budget {
    /// A budget of exactly `bytes` and `entries` (tests, tools).
    pub fn fixed(bytes: u64, entries: u64) -> Budget {
        Budget {
            bytes,
            entries,
            compressed: 0,
            limits: Limits {
                ratio: 0,
                floor: bytes,
                max_bytes: bytes,
                max_entries: entries,
            },
        }
    }

    /// How the byte budget was derived, for the error that refuses a layer.
    pub fn explain(&self) -> String {
        let l = &self.limits;
        if self.compressed == 0 {
            return format!("{} bytes", self.bytes);
        }
        format!(
            "{} bytes: {} x its {} compressed bytes, at least {} and at most {}",
            self.bytes, l.ratio, self.compressed, l.floor, l.max_bytes
        )
    }
}

/// Counts what is read through it and fails once more than `limit` bytes
/// came: the decompressed tar stream, so no entry (data, PAX records, long
/// names) can make the unpacker read or hold more than the budget.
pub(super) struct Bounded<R> {
    pub inner: R,
    pub left: u64,
    /// Set when the limit stopped the stream (every later error is that one).
    pub over: Rc<Cell<bool>>,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        match self.left.checked_sub(n as u64) {
            Some(left) => {
                self.left = left;
                Ok(n)
            }
            None => {
                self.over.set(true);
                Err(io::Error::other("the layer's byte budget is spent"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_replace_defaults_and_bad_values_are_named() {
        let l = Limits::from_vars(|v| match v {
            "PODCTL_LAYER_RATIO" => Some("500".into()),
            "PODCTL_LAYER_MAX_ENTRIES" => Some(" 7 ".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(
            l,
            Limits {
                ratio: 500,
                max_entries: 7,
                ..Limits::default()
            }
        );
        assert_eq!(Limits::from_vars(|_| None).unwrap(), Limits::default());
        for bad in ["", "0", "-1", "1e9", "lots"] {
            let e = Limits::from_vars(|v| (v == "PODCTL_LAYER_FLOOR").then(|| bad.into()));
            assert_eq!(
                e.unwrap_err().to_string(),
                format!("PODCTL_LAYER_FLOOR={bad:?}: expected a positive whole number")
            );
        }
    }
}
