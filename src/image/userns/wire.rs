//! What podctl and its user-namespace helper say to each other: one JSON
//! line of request (then, for an unpack, the layer's bytes), one JSON line
//! of answer. Errors cross as data and come back as the same
//! [`UnpackError`] (errno kept), so a refused layer reads the same whether
//! it was unpacked here or there.

use crate::image::unpack::{Budget, Stats, UnpackError};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::io;
use std::path::PathBuf;

/// The longest request line the helper reads (a removal lists paths).
pub const MAX_REQUEST: u64 = 16 << 20;

/// What the helper is asked to do, as root of the user's namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Request {
    /// Unpack the layer that follows on stdin into `dest` (an empty
    /// directory), owners mapped within IDs `0..=count`.
    Unpack {
        dest: PathBuf,
        budget: Budget,
        count: u32,
    },
    /// Remove each path (a directory with everything in it); a missing
    /// one is not an error.
    Remove { paths: Vec<PathBuf> },
}

/// The helper's answer.
#[derive(Debug, Serialize, Deserialize)]
pub enum Answer {
    Unpacked(Stats),
    Removed,
    Failed(Failure),
}

/// An error, as data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Failure {
    Escape {
        entry: String,
        why: String,
    },
    Unmapped {
        entry: String,
        uid: u64,
        gid: u64,
        max: u64,
    },
    Entry {
        entry: String,
        error: IoFailure,
    },
    Read(IoFailure),
    Zstd(String),
    TooBig {
        limit: String,
    },
    TooManyEntries {
        limit: u64,
    },
    /// A path the helper could not remove.
    Remove {
        path: PathBuf,
        error: IoFailure,
    },
    /// The helper could not do what it was asked (not mapped, a bad request).
    Helper(String),
}

/// An `io::Error` as data: its errno when it has one, else its message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IoFailure {
    pub errno: Option<i32>,
    pub message: String,
}

impl From<&io::Error> for IoFailure {
    fn from(e: &io::Error) -> Self {
        IoFailure {
            errno: e.raw_os_error(),
            message: e.to_string(),
        }
    }
}

impl IoFailure {
    pub fn error(&self) -> io::Error {
        match self.errno {
            Some(n) => io::Error::from_raw_os_error(n),
            None => io::Error::other(self.message.clone()),
        }
    }
}

impl From<&UnpackError> for Failure {
    fn from(e: &UnpackError) -> Self {
        match e {
            UnpackError::Escape { entry, why } => Failure::Escape {
                entry: entry.clone(),
                why: why.to_string(),
            },
            UnpackError::Unmapped {
                entry,
                uid,
                gid,
                max,
            } => Failure::Unmapped {
                entry: entry.clone(),
                uid: *uid,
                gid: *gid,
                max: *max,
            },
            UnpackError::Entry { entry, source } => Failure::Entry {
                entry: entry.clone(),
                error: source.into(),
            },
            UnpackError::Read(e) => Failure::Read(e.into()),
            UnpackError::Zstd(s) => Failure::Zstd(s.clone()),
            UnpackError::TooBig { limit } => Failure::TooBig {
                limit: limit.clone(),
            },
            UnpackError::TooManyEntries { limit } => Failure::TooManyEntries { limit: *limit },
        }
    }
}

impl Failure {
    /// The unpack error this says, if it is one.
    pub fn unpack_error(&self) -> Option<UnpackError> {
        Some(match self.clone() {
            Failure::Escape { entry, why } => UnpackError::Escape {
                entry,
                why: Cow::Owned(why),
            },
            Failure::Unmapped {
                entry,
                uid,
                gid,
                max,
            } => UnpackError::Unmapped {
                entry,
                uid,
                gid,
                max,
            },
            Failure::Entry { entry, error } => UnpackError::Entry {
                entry,
                source: error.error(),
            },
            Failure::Read(e) => UnpackError::Read(e.error()),
            Failure::Zstd(s) => UnpackError::Zstd(s),
            Failure::TooBig { limit } => UnpackError::TooBig { limit },
            Failure::TooManyEntries { limit } => UnpackError::TooManyEntries { limit },
            Failure::Remove { .. } | Failure::Helper(_) => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every unpack error comes back from the helper as it was said there,
    /// errno included (the store's hints read it).
    #[test]
    fn unpack_errors_cross_unchanged() {
        let errors = [
            UnpackError::Escape {
                entry: "../x".into(),
                why: Cow::Borrowed("\"..\" would leave the layer"),
            },
            UnpackError::Unmapped {
                entry: "etc/shadow".into(),
                uid: 70_000,
                gid: 0,
                max: 65_536,
            },
            UnpackError::Entry {
                entry: "srv/.wh.x".into(),
                source: io::Error::from_raw_os_error(nix::libc::EPERM),
            },
            UnpackError::Entry {
                entry: "l".into(),
                source: io::Error::other("hard link target \"t\" is not in this layer"),
            },
            UnpackError::Read(io::Error::from_raw_os_error(nix::libc::EIO)),
            UnpackError::Zstd("bad frame".into()),
            UnpackError::TooBig {
                limit: "64 MiB".into(),
            },
            UnpackError::TooManyEntries { limit: 7 },
        ];
        for e in errors {
            let line = serde_json::to_string(&Answer::Failed(Failure::from(&e))).unwrap();
            let Answer::Failed(f) = serde_json::from_str(&line).unwrap() else {
                panic!("{line}");
            };
            let back = f.unpack_error().unwrap();
            assert_eq!(back.to_string(), e.to_string());
            if let (UnpackError::Entry { source: a, .. }, UnpackError::Entry { source: b, .. }) =
                (&back, &e)
            {
                assert_eq!(a.raw_os_error(), b.raw_os_error());
            }
        }
        let remove = Failure::Remove {
            path: "/s/layers/a".into(),
            error: (&io::Error::from_raw_os_error(nix::libc::EACCES)).into(),
        };
        assert!(remove.unpack_error().is_none());
    }
}
