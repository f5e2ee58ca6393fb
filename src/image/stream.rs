//! A layer unpacked while its blob is fetched. The fetched bytes go to the
//! blob (hashed and verified by [`Store::put_blob`]) and, through a bounded
//! channel, to the unpacker in a second thread, into a temporary directory
//! that becomes the layer only once the blob verified. A pull of a big
//! layer then takes about the longer of the download and the unpack, not
//! their sum; a blob that fails verification leaves no layer.

use super::digest::Digest;
use super::error::{StoreError, io_err};
use super::store::{PutError, Store};
use std::io::{self, Read, Write};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

/// Chunks in flight between the download and the unpacker (each what one
/// write of the download carries: up to a few hundred KiB).
const CHUNKS: usize = 64;

/// Writes to the blob, and copies what was written to the unpacker while
/// it listens (an unpacker that stopped early is told nothing more; its
/// error comes when it is joined).
struct Tee<'a> {
    blob: &'a mut dyn Write,
    unpacker: Option<SyncSender<Vec<u8>>>,
}

impl Write for Tee<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.blob.write(buf)?;
        if let Some(tx) = &self.unpacker
            && tx.send(buf[..n].to_vec()).is_err()
        {
            self.unpacker = None;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.blob.flush()
    }
}

/// The unpacker's side of the channel; EOF once the download's side is gone.
struct Chunks {
    rx: Receiver<Vec<u8>>,
    chunk: Vec<u8>,
    at: usize,
}

impl Read for Chunks {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.at == self.chunk.len() {
            match self.rx.recv() {
                Ok(c) => (self.chunk, self.at) = (c, 0),
                Err(_) => return Ok(0),
            }
        }
        let n = out.len().min(self.chunk.len() - self.at);
        out[..n].copy_from_slice(&self.chunk[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

impl Store {
    /// [`Store::put_blob`] of a layer's blob, unpacked on the way when
    /// neither the blob nor the layer is stored yet (otherwise only the
    /// blob is put: [`Store::ensure_layer`] unpacks it from the store).
    /// Returns whether the blob was fetched.
    pub fn put_layer_blob<E>(
        &self,
        digest: &Digest,
        size: Option<u64>,
        fill: impl FnOnce(&mut dyn Write) -> Result<(), E>,
    ) -> Result<bool, PutError<E>> {
        // The layer's lock first, then the blob's (put_blob): the order
        // every path takes.
        let _lock = self
            .lock(&format!("layer-{}", digest.hex()))
            .map_err(PutError::Store)?;
        if self.has_blob(digest) || self.layer_path(digest).is_dir() {
            return self.put_blob(digest, size, fill);
        }
        let tmp = self.tmp_path("layer");
        std::fs::create_dir(&tmp)
            .map_err(io_err(&tmp))
            .map_err(PutError::Store)?;
        let (tx, rx) = sync_channel(CHUNKS);
        let dest = tmp.clone();
        let store = self.clone();
        // The declared size: the blob is cut off past it (put_blob).
        let budget = self
            .limits()
            .budget(size.unwrap_or(self.limits().max_bytes));
        let unpacker = std::thread::spawn(move || {
            let mut chunks = Chunks {
                rx,
                chunk: Vec::new(),
                at: 0,
            };
            store.unpack_layer(&mut chunks, &dest, &budget)
        });
        let put = self.put_blob(digest, size, |w| {
            let mut tee = Tee {
                blob: w,
                unpacker: Some(tx),
            };
            fill(&mut tee)
        });
        let unpacked = unpacker.join();
        let keep = match (&put, unpacked) {
            (Ok(true), Ok(Ok(_))) => Ok(true),
            // The blob verified but cannot be a layer: neither is kept.
            (Ok(true), Ok(Err(e))) => Err(self.layer_failed(digest, e)),
            (Ok(true), Err(_)) => Err(StoreError::Io {
                path: tmp.clone(),
                source: io::Error::other("the layer's unpacker panicked"),
            }),
            // Not fetched here (stored meanwhile) or not verified: no layer.
            _ => Ok(false),
        };
        match keep {
            Ok(true) => {
                self.commit_layer(&tmp, digest).map_err(PutError::Store)?;
                put
            }
            Ok(false) => {
                self.discard(&tmp);
                put
            }
            Err(e) => {
                self.discard(&tmp);
                // A helper that failed says nothing of the blob: kept.
                if put.is_ok() && !matches!(e, StoreError::Userns { .. }) {
                    let _ = std::fs::remove_file(self.blob_path(digest));
                }
                Err(PutError::Store(e))
            }
        }
    }
}
