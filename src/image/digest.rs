//! A writer that hashes what passes through (content digests, `sha256:HEX`,
//! are [`crate::model::digest`]'s: a pod file names them too).

pub use crate::model::digest::{BadDigest, Digest};
use sha2::{Digest as _, Sha256};
use std::io::{self, Write};

/// Hashes and counts everything written through it into `inner`.
pub struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    written: u64,
}

impl<W: Write> HashingWriter<W> {
    pub fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: Sha256::new(),
            written: 0,
        }
    }

    /// The digest and size of what was written, and the inner writer.
    pub fn finish(self) -> (Digest, u64, W) {
        let d = Digest::from_sha256(&self.hasher.finalize());
        (d, self.written, self.inner)
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.written += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Passes at most `left` bytes on; past that every write fails and `over`
/// says why.
pub struct Capped<'a> {
    pub inner: &'a mut dyn Write,
    pub left: u64,
    pub over: bool,
}

impl Write for Capped<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.len() as u64 > self.left {
            self.over = true;
            return Err(io::Error::other(
                "the blob is longer than its descriptor says",
            ));
        }
        let n = self.inner.write(buf)?;
        self.left -= n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
