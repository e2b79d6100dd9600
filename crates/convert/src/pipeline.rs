//! The pump: a reading thread takes the virtual disk a chunk at a time through the reader's
//! allocation map and finds zero pages (4 KiB); this thread hands each chunk to the writer in
//! order, reporting progress.

use super::disk::{is_all_zero, Chunk, ChunkWriter, DiskReader, PAGE};
use super::error::{ConvertError, Result};
use std::sync::mpsc;

/// Chunk size when the writer's granularity is smaller.
const CHUNK: usize = 1 << 20;

/// Where a conversion is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// Virtual bytes processed.
    pub done: u64,
    pub total: u64,
    /// Of those, bytes in non-zero pages.
    pub data: u64,
}

/// Chunks in flight between the reading thread and the writing one.
const DEPTH: usize = 4;

/// One chunk's buffer, filled by the reading thread and written by the writing one.
struct Slot {
    offset: u64,
    len: usize,
    buf: Vec<u8>,
    nonzero: Vec<bool>,
    /// Any non-zero page.
    any: bool,
    /// Bytes in non-zero pages.
    data: u64,
    /// Not 0: the slot stands for this many bytes of zeros at `offset` (a stretch the
    /// reader's map says is unallocated), handed over without a buffer.
    span: u64,
}

impl Slot {
    fn new(chunk_len: usize) -> Slot {
        Slot {
            offset: 0,
            len: 0,
            buf: vec![0u8; chunk_len],
            nonzero: vec![false; chunk_len / PAGE],
            any: false,
            data: 0,
            span: 0,
        }
    }

    fn chunk(&self) -> Chunk<'_> {
        Chunk {
            offset: self.offset,
            len: self.len,
            data: self.any.then_some(&self.buf[..self.len]),
            nonzero: &self.nonzero[..self.len.div_ceil(PAGE)],
        }
    }
}

/// Pump the whole disk from `reader` into `writer`. A second thread reads and zero-detects
/// the next chunks while this one writes. `progress` is called after each chunk and may
/// return `false` to cancel. Returns the number of data bytes.
pub fn pump(
    reader: &mut dyn DiskReader,
    writer: &mut dyn ChunkWriter,
    progress: &mut dyn FnMut(Progress) -> bool,
) -> Result<u64> {
    let total = reader.info().virtual_size;
    let gran = writer.granularity().max(PAGE);
    let chunk_len = CHUNK.div_ceil(gran) * gran;
    std::thread::scope(|scope| {
        let (full_tx, full_rx) = mpsc::sync_channel::<Result<Slot>>(DEPTH);
        let (free_tx, free_rx) = mpsc::sync_channel::<Slot>(DEPTH);
        for _ in 0..DEPTH {
            let _ = free_tx.send(Slot::new(chunk_len));
        }
        let producer = std::thread::Builder::new()
            .name("drydock-read".into())
            .spawn_scoped(scope, move || {
                let mut runs = Vec::new();
                let mut done = 0u64;
                while done < total {
                    // The writing side hung up: cancelled or failed.
                    let Ok(mut slot) = free_rx.recv() else { return };
                    let filled = next_slot(reader, &mut slot, done, total, chunk_len, &mut runs);
                    let Ok(advanced) = filled else {
                        let _ = full_tx.send(filled.map(|_| slot));
                        return;
                    };
                    if full_tx.send(Ok(slot)).is_err() {
                        return;
                    }
                    done += advanced;
                }
            })
            .map_err(|e| ConvertError::Usage(format!("cannot start the reading thread: {e}")))?;
        let zeros = vec![false; chunk_len / PAGE];
        let mut consume = || -> Result<u64> {
            let mut done = 0u64;
            let mut data_total = 0u64;
            while done < total {
                let Ok(filled) = full_rx.recv() else {
                    return Err(ConvertError::Usage(
                        "the reading thread stopped early".into(),
                    ));
                };
                let slot = filled?;
                if slot.span > 0 {
                    let end = slot.offset + slot.span;
                    if !writer.skip(slot.offset, slot.span)? {
                        // This writer wants every chunk: zeros, a chunk at a time.
                        let mut at = slot.offset;
                        while at < end {
                            let len = (end - at).min(chunk_len as u64) as usize;
                            writer.write(&Chunk {
                                offset: at,
                                len,
                                data: None,
                                nonzero: &zeros[..len.div_ceil(PAGE)],
                            })?;
                            at += len as u64;
                            let p = Progress {
                                done: at,
                                total,
                                data: data_total,
                            };
                            if at < end && !progress(p) {
                                return Err(ConvertError::Cancelled);
                            }
                        }
                    }
                    done = end;
                } else {
                    writer.write(&slot.chunk())?;
                    done = slot.offset + slot.len as u64;
                    data_total += slot.data;
                }
                if !progress(Progress {
                    done,
                    total,
                    data: data_total,
                }) {
                    return Err(ConvertError::Cancelled);
                }
                let _ = free_tx.send(slot);
            }
            Ok(data_total)
        };
        let result = consume();
        // Hang up so a reader still working stops at its next chunk.
        drop(full_rx);
        drop(free_tx);
        if let Err(panic) = producer.join() {
            std::panic::resume_unwind(panic);
        }
        result
    })
}

/// Fill `slot` with what follows `done`: a span of zeros where the reader's map says a
/// stretch of at least a chunk is unallocated (so cost follows the data, not the virtual
/// size), else the next chunk. Returns how far it advances.
fn next_slot(
    reader: &mut dyn DiskReader,
    slot: &mut Slot,
    done: u64,
    total: u64,
    chunk_len: usize,
    runs: &mut Vec<(u64, u64, bool)>,
) -> Result<u64> {
    let rest = total - done;
    let chunk = chunk_len as u64;
    slot.span = 0;
    if rest > chunk {
        let run = reader.map(done, rest)?;
        if !run.data && run.len >= chunk && run.len <= rest {
            // Whole chunks only, so the chunks after it stay aligned (the last may be short).
            let span = if run.len == rest {
                rest
            } else {
                run.len / chunk * chunk
            };
            slot.offset = done;
            slot.len = 0;
            slot.any = false;
            slot.data = 0;
            slot.span = span;
            return Ok(span);
        }
    }
    let len = rest.min(chunk) as usize;
    fill(reader, slot, done, len, runs)?;
    Ok(len as u64)
}

/// Read the chunk of `len` bytes at `done` into `slot`: ask the reader for its map, read the
/// data runs, zero the rest and find the non-zero pages (only where the reader mapped data).
fn fill(
    reader: &mut dyn DiskReader,
    slot: &mut Slot,
    done: u64,
    len: usize,
    runs: &mut Vec<(u64, u64, bool)>,
) -> Result<()> {
    slot.offset = done;
    slot.len = len;
    slot.any = false;
    slot.data = 0;
    runs.clear();
    let mut pos = done;
    let end = done + len as u64;
    while pos < end {
        let run = reader.map(pos, end - pos)?;
        if run.len == 0 || run.len > end - pos {
            return Err(ConvertError::Usage(format!(
                "{} reader mapped {} bytes at {pos} (asked for at most {})",
                reader.info().format.name(),
                run.len,
                end - pos
            )));
        }
        match runs.last_mut() {
            Some(last) if last.2 == run.data => last.1 += run.len,
            _ => runs.push((pos, run.len, run.data)),
        }
        pos += run.len;
    }
    let pages = len.div_ceil(PAGE);
    let (buf, nonzero) = (&mut slot.buf, &mut slot.nonzero);
    nonzero[..pages].fill(false);
    if !runs.iter().any(|r| r.2) {
        return Ok(());
    }
    for &(at, rlen, data) in runs.iter() {
        let rel = (at - done) as usize;
        let part = &mut buf[rel..rel + rlen as usize];
        if data {
            reader.read_at(at, part)?;
        } else {
            part.fill(0);
        }
    }
    // Zero detection only where the reader mapped data.
    for &(at, rlen, _) in runs.iter().filter(|r| r.2) {
        let rel = (at - done) as usize;
        let (first, last) = (rel / PAGE, (rel + rlen as usize).div_ceil(PAGE));
        for p in first..last {
            let page = &buf[p * PAGE..((p + 1) * PAGE).min(len)];
            if !nonzero[p] && !is_all_zero(page) {
                nonzero[p] = true;
                slot.any = true;
                slot.data += page.len() as u64;
            }
        }
    }
    Ok(())
}
