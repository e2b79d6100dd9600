//! Raw images: the reader maps holes with SEEK_DATA/SEEK_HOLE; the writer leaves zero pages
//! as holes (sparse output) and sets the length at the end.

use super::disk::{Chunk, ChunkWriter, DiskInfo, DiskReader, DiskWriter, Finished, Run};
use super::error::Result;
use super::sink::Sink;
use super::source::Source;
use super::Format;

/// Reads a raw image (or a window of a file holding one).
pub struct RawReader {
    src: Source,
    info: DiskInfo,
    /// Cached `[start, end)` known to be data or hole.
    known: (u64, u64, bool),
}

impl RawReader {
    pub fn new(src: Source, format: Format) -> RawReader {
        let info = DiskInfo {
            format,
            virtual_size: src.len(),
            details: Vec::new(),
        };
        RawReader {
            src,
            info,
            known: (0, 0, false),
        }
    }

    /// A raw reader over the first `size` bytes of `src` (a fixed VHD's data, a flat extent).
    pub fn with_size(src: Source, format: Format, size: u64) -> Result<RawReader> {
        let window = src.window(0, size.min(src.len()))?;
        let mut reader = RawReader::new(window, format);
        reader.info.virtual_size = size;
        Ok(reader)
    }

    pub fn info_mut(&mut self) -> &mut DiskInfo {
        &mut self.info
    }
}

impl DiskReader for RawReader {
    fn info(&self) -> &DiskInfo {
        &self.info
    }

    fn map(&mut self, offset: u64, max: u64) -> Result<Run> {
        let (start, end, _) = self.known;
        if !(start <= offset && offset < end) {
            self.known = match self.src.next_data(offset) {
                // Past the file's end (a shorter window) reads as zeros.
                None => (offset, u64::MAX, false),
                Some(d) if d > offset => (offset, d, false),
                Some(_) => (offset, self.src.next_hole(offset).max(offset + 1), true),
            };
        }
        let (_, end, data) = self.known;
        Ok(Run {
            data,
            len: (end - offset).min(max),
        })
    }

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<()> {
        let n = self.src.read_upto(offset, buf)?;
        buf[n..].fill(0);
        Ok(())
    }
}

/// Writes a raw image, sparse.
pub struct RawWriter {
    sink: Sink,
    size: u64,
}

impl RawWriter {
    pub fn new(sink: Sink, size: u64) -> RawWriter {
        RawWriter { sink, size }
    }
}

/// Write a chunk's data runs at `base + chunk offset`, leaving zero pages as holes.
pub fn write_sparse(sink: &mut Sink, base: u64, chunk: &Chunk) -> Result<()> {
    for (start, len) in chunk.data_runs(0, chunk.len) {
        sink.write_at(base + chunk.offset + start as u64, chunk.bytes(start, len))?;
    }
    sink.final_upto(base + chunk.offset + chunk.len as u64);
    Ok(())
}

impl ChunkWriter for RawWriter {
    fn write(&mut self, chunk: &Chunk) -> Result<()> {
        write_sparse(&mut self.sink, 0, chunk)
    }

    /// Zeros are a hole: only the final length (set at the end) covers them.
    fn skip(&mut self, offset: u64, len: u64) -> Result<bool> {
        self.sink.final_upto(offset + len);
        Ok(true)
    }
}

impl DiskWriter for RawWriter {
    fn finish(mut self: Box<Self>) -> Result<Finished> {
        self.sink.set_len(self.size)?;
        Ok(Finished {
            sink: self.sink,
            warnings: Vec::new(),
        })
    }
}
