//! The SHA-256 a transfer computes of the disk it moves, as the bytes pass on their way to
//! the destination: the digest `drydock:source` carries, so copies of one build compare
//! equal wherever they are.

use super::TransferError;
use crate::convert::disk::{Chunk, ChunkWriter};
use crate::convert::{self, pipeline, DiskReader, Progress};
use sha2::{Digest, Sha256};

/// Hashes the virtual disk as it passes, then hands chunks on. The digest covers the bytes
/// up to the last non-zero one: a cloud that pads a disk with zeros (EBS to whole GiB)
/// keeps its digest, so copies of one build compare equal across clouds; for a disk that
/// ends in data it is the SHA-256 of the raw image. The hashing itself runs on a thread of
/// its own (at most [`HASH_LAG`] pieces behind), so it never holds the destination back.
struct Hashing<'a> {
    inner: &'a mut dyn ChunkWriter,
    tx: std::sync::mpsc::SyncSender<Piece>,
    /// Zero bytes seen since the last non-zero one, not handed over yet.
    pending: u64,
}

/// What the hashing thread hashes next.
enum Piece {
    Data(Vec<u8>),
    Zeros(u64),
}

/// Chunks (of 1 MiB) the hashing thread may fall behind by.
const HASH_LAG: usize = 128;

/// The SHA-256 of what a [`Hashing`] handed over, once its thread is done.
pub(super) struct PendingDigest(std::thread::JoinHandle<String>);

impl PendingDigest {
    fn start() -> Result<(std::sync::mpsc::SyncSender<Piece>, PendingDigest), TransferError> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Piece>(HASH_LAG);
        let thread = std::thread::Builder::new()
            .name("drydock-sha256".into())
            .spawn(move || {
                let mut hash = Sha256::new();
                let zeros = vec![0u8; 1 << 20];
                while let Ok(piece) = rx.recv() {
                    match piece {
                        Piece::Data(d) => hash.update(&d),
                        Piece::Zeros(mut n) => {
                            while n > 0 {
                                let k = n.min(zeros.len() as u64) as usize;
                                hash.update(&zeros[..k]);
                                n -= k as u64;
                            }
                        }
                    }
                }
                hex(&hash.finalize())
            })
            .map_err(|e| TransferError::Usage(format!("cannot start the hashing thread: {e}")))?;
        Ok((tx, PendingDigest(thread)))
    }

    /// The digest (waits for the thread to hash what is left).
    pub(super) fn finish(self) -> Result<String, TransferError> {
        self.0
            .join()
            .map_err(|_| TransferError::Usage("the hashing thread failed".into()))
    }
}

impl Hashing<'_> {
    fn hand(&mut self, piece: Piece) -> convert::Result<()> {
        self.tx
            .send(piece)
            .map_err(|_| convert::ConvertError::Usage("the hashing thread stopped".into()))
    }

    fn flush_zeros(&mut self) -> convert::Result<()> {
        if self.pending > 0 {
            let n = std::mem::take(&mut self.pending);
            self.hand(Piece::Zeros(n))?;
        }
        Ok(())
    }
}

impl ChunkWriter for Hashing<'_> {
    fn granularity(&self) -> usize {
        self.inner.granularity()
    }

    fn write(&mut self, chunk: &Chunk) -> convert::Result<()> {
        match chunk.data {
            Some(d) => {
                // The last non-zero page, then the last non-zero byte in it.
                let page = convert::disk::PAGE;
                let end = chunk.nonzero.iter().rposition(|&nz| nz).map_or(0, |p| {
                    let from = p * page;
                    let to = (from + page).min(d.len());
                    d[from..to]
                        .iter()
                        .rposition(|&b| b != 0)
                        .map_or(from, |i| from + i + 1)
                });
                if end > 0 {
                    self.flush_zeros()?;
                    self.hand(Piece::Data(d[..end].to_vec()))?;
                }
                self.pending += (d.len() - end) as u64;
            }
            None => self.pending += chunk.len as u64,
        }
        self.inner.write(chunk)
    }

    /// Zeros are hashed only if data follows them: a long stretch is passed on at once
    /// when the destination takes it so.
    fn skip(&mut self, offset: u64, len: u64) -> convert::Result<bool> {
        let taken = self.inner.skip(offset, len)?;
        if taken {
            self.pending += len;
        }
        Ok(taken)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Pump `reader` into `writer`, hashing; returns the data bytes and the digest to come.
pub(super) fn pump_hashing(
    reader: &mut dyn DiskReader,
    writer: &mut dyn ChunkWriter,
    progress: &mut dyn FnMut(Progress) -> bool,
) -> Result<(u64, PendingDigest), TransferError> {
    let (tx, digest) = PendingDigest::start()?;
    let mut hashing = Hashing {
        inner: writer,
        tx,
        pending: 0,
    };
    let data = pipeline::pump(reader, &mut hashing, progress)?;
    Ok((data, digest))
}

/// Pump `reader` into `writer`, hashing; returns (data bytes, sha256).
pub(super) fn pump_hashed(
    reader: &mut dyn DiskReader,
    writer: &mut dyn ChunkWriter,
    progress: &mut dyn FnMut(Progress) -> bool,
) -> Result<(u64, String), TransferError> {
    let (data, digest) = pump_hashing(reader, writer, progress)?;
    Ok((data, digest.finish()?))
}
