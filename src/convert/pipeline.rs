//! The pump: reads the virtual disk a chunk at a time through the reader's allocation map,
//! finds zero pages (4 KiB), and hands each chunk to the writer in order, reporting progress.

use super::disk::{is_all_zero, Chunk, DiskReader, DiskWriter, PAGE};
use super::error::{ConvertError, Result};

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

/// Pump the whole disk from `reader` into `writer`. `progress` is called after each chunk and
/// may return `false` to cancel. Returns the number of data bytes.
pub fn pump(
    reader: &mut dyn DiskReader,
    writer: &mut dyn DiskWriter,
    progress: &mut dyn FnMut(Progress) -> bool,
) -> Result<u64> {
    let total = reader.info().virtual_size;
    let gran = writer.granularity().max(PAGE);
    let chunk_len = CHUNK.div_ceil(gran) * gran;
    let mut buf = vec![0u8; chunk_len];
    let mut nonzero = vec![false; chunk_len / PAGE];
    let mut runs: Vec<(u64, u64, bool)> = Vec::new();
    let mut done = 0u64;
    let mut data_total = 0u64;
    while done < total {
        let len = ((total - done) as usize).min(chunk_len);
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
        let mut any = false;
        nonzero[..pages].fill(false);
        if runs.iter().any(|r| r.2) {
            for &(at, rlen, data) in &runs {
                let rel = (at - done) as usize;
                let slice = &mut buf[rel..rel + rlen as usize];
                if data {
                    reader.read_at(at, slice)?;
                } else {
                    slice.fill(0);
                }
            }
            // Zero detection only where the reader mapped data.
            for &(at, rlen, _) in runs.iter().filter(|r| r.2) {
                let rel = (at - done) as usize;
                let (first, last) = (rel / PAGE, (rel + rlen as usize).div_ceil(PAGE));
                for (i, nz) in nonzero[first..last].iter_mut().enumerate() {
                    let p = first + i;
                    let page = &buf[p * PAGE..((p + 1) * PAGE).min(len)];
                    if !*nz && !is_all_zero(page) {
                        *nz = true;
                        any = true;
                    }
                }
            }
            data_total += nonzero[..pages]
                .iter()
                .enumerate()
                .filter(|(_, &nz)| nz)
                .map(|(p, _)| (((p + 1) * PAGE).min(len) - p * PAGE) as u64)
                .sum::<u64>();
        }
        let chunk = Chunk {
            offset: done,
            len,
            data: any.then_some(&buf[..len]),
            nonzero: &nonzero[..pages],
        };
        writer.write(&chunk)?;
        done = end;
        if !progress(Progress {
            done,
            total,
            data: data_total,
        }) {
            return Err(ConvertError::Cancelled);
        }
    }
    Ok(data_total)
}
