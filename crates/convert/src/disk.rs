//! The two sides of the pipeline: a [`DiskReader`] maps and reads a virtual disk, a
//! [`DiskWriter`] receives it as [`Chunk`]s in order, each with its 4 KiB zero map.

use super::error::Result;
use super::sink::Sink;
use super::Format;

/// Zero detection granularity.
pub const PAGE: usize = 4096;

/// A run of the virtual disk starting at the offset asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Run {
    /// The run holds data (it may still read as zeros); otherwise it reads as zeros.
    pub data: bool,
    pub len: u64,
}

/// The run at `offset` of an image mapped in fixed `block`s: the first block's kind
/// (`is_data(block index)`), extended over following blocks of the same kind, up to `max`.
pub fn block_run(
    offset: u64,
    max: u64,
    block: u64,
    mut is_data: impl FnMut(u64) -> Result<bool>,
) -> Result<Run> {
    let limit = offset + max;
    let data = is_data(offset / block)?;
    let mut end = ((offset / block + 1) * block).min(limit);
    while end < limit && is_data(end / block)? == data {
        end = ((end / block + 1) * block).min(limit);
    }
    Ok(Run {
        data,
        len: end - offset,
    })
}

/// Read `buf` at `offset` of an image stored in fixed `block`s, one block's part at a time:
/// `read(block index, offset within the block, part)` fills each part.
pub fn block_read(
    offset: u64,
    buf: &mut [u8],
    block: u64,
    mut read: impl FnMut(u64, u64, &mut [u8]) -> Result<()>,
) -> Result<()> {
    let mut done = 0;
    while done < buf.len() {
        let pos = offset + done as u64;
        let within = pos % block;
        let n = ((block - within) as usize).min(buf.len() - done);
        read(pos / block, within, &mut buf[done..done + n])?;
        done += n;
    }
    Ok(())
}

/// What a reader found in the image's headers.
#[derive(Clone, Debug)]
pub struct DiskInfo {
    pub format: Format,
    pub virtual_size: u64,
    /// Format details for `--check` and the Conversions view ("cluster 65536", "dynamic").
    pub details: Vec<String>,
}

/// Reads a virtual disk of some format.
pub trait DiskReader: Send {
    fn info(&self) -> &DiskInfo;

    /// The allocation at `offset`: a run of data or zeros, `1..=max` bytes long.
    /// `offset < virtual_size` and `max > 0`.
    fn map(&mut self, offset: u64, max: u64) -> Result<Run>;

    /// Read guest bytes at `offset` (within the virtual size); unallocated parts read as zeros.
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<()>;
}

/// A span of the virtual disk handed to a writer. `data` is `None` when the whole chunk is
/// zeros; otherwise it holds every byte and `nonzero[i]` says whether page `i` has any data.
pub struct Chunk<'a> {
    pub offset: u64,
    pub len: usize,
    pub data: Option<&'a [u8]>,
    pub nonzero: &'a [bool],
}

impl Chunk<'_> {
    /// Whether `len` bytes at chunk-relative `start` are all zeros.
    pub fn is_zero(&self, start: usize, len: usize) -> bool {
        if self.data.is_none() {
            return true;
        }
        let first = start / PAGE;
        let last = (start + len).div_ceil(PAGE).min(self.nonzero.len());
        !self.nonzero[first..last].iter().any(|&nz| nz)
    }

    /// The bytes at chunk-relative `start` (only for chunks with data).
    pub fn bytes(&self, start: usize, len: usize) -> &[u8] {
        &self.data.expect("chunk has data")[start..start + len]
    }

    /// The `block`-sized pieces of the chunk (the last may be short) that hold data, as
    /// chunk-relative (start, length).
    pub fn data_blocks(&self, block: usize) -> impl Iterator<Item = (usize, usize)> + '_ {
        (0..self.len)
            .step_by(block)
            .map(move |rel| (rel, block.min(self.len - rel)))
            .filter(|&(rel, n)| !self.is_zero(rel, n))
    }

    /// Maximal runs of non-zero pages inside `[start, start + len)`, chunk-relative.
    pub fn data_runs(&self, start: usize, len: usize) -> Vec<(usize, usize)> {
        let mut runs = Vec::new();
        if self.data.is_none() {
            return runs;
        }
        let end = start + len;
        let mut page = start / PAGE;
        while page * PAGE < end {
            if self.nonzero[page] {
                let run_start = (page * PAGE).max(start);
                while page * PAGE < end && self.nonzero[page] {
                    page += 1;
                }
                runs.push((run_start, (page * PAGE).min(end) - run_start));
            } else {
                page += 1;
            }
        }
        runs
    }
}

/// Receives a virtual disk chunk by chunk: a format's writer, a cloud upload, a check.
pub trait ChunkWriter: Send {
    /// Chunks are multiples of this (except the last) and aligned to it.
    fn granularity(&self) -> usize {
        PAGE
    }

    /// The next chunk; chunks arrive in order and cover the virtual size exactly once.
    fn write(&mut self, chunk: &Chunk) -> Result<()>;

    /// `len` bytes of zeros at `offset` (whole chunks, in order with the chunks): a writer
    /// that needs nothing written for zeros takes them at once and returns `true`; the
    /// default asks for them as zero chunks, one at a time.
    fn skip(&mut self, _offset: u64, _len: u64) -> Result<bool> {
        Ok(false)
    }
}

/// Writes a virtual disk in some format into a local file.
pub trait DiskWriter: ChunkWriter {
    /// Write the trailing structures; hand back the sink to be committed.
    fn finish(self: Box<Self>) -> Result<Finished>;
}

/// A writer's output, ready to be made durable and moved into place.
pub struct Finished {
    pub sink: Sink,
    pub warnings: Vec<String>,
}

/// A virtual size rounded up to whole 512-byte sectors, with a warning for `format` when
/// that changed it.
pub fn whole_sectors(format: &str, size: u64, warnings: &mut Vec<String>) -> u64 {
    // (The last sector below 2^64 when rounding up would overflow.)
    let out = size.div_ceil(512).saturating_mul(512).max(size / 512 * 512);
    if out != size {
        warnings.push(format!(
            "{format} sizes are whole sectors: virtual size rounded up from {size} to {out} bytes"
        ));
    }
    out
}

/// Whether a buffer is all zeros: 64 bytes at a time (vectorised), stopping at the first
/// non-zero block.
pub fn is_all_zero(bytes: &[u8]) -> bool {
    let mut blocks = bytes.chunks_exact(64);
    for block in &mut blocks {
        let folded = block.chunks_exact(8).fold(0u64, |acc, w| {
            acc | u64::from_ne_bytes(w.try_into().expect("8 bytes"))
        });
        if folded != 0 {
            return false;
        }
    }
    blocks.remainder().iter().all(|&b| b == 0)
}
