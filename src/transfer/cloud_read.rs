//! A cloud disk as an engine reader: the allocation map comes from the cloud's list of
//! written blocks or page ranges, and a background task fetches the allocated pieces in
//! order, `concurrency` at a time, into a bounded queue the pump reads from. Memory stays
//! at `concurrency` pieces however large the disk.

use crate::convert::disk::{DiskInfo, DiskReader, Run};
use crate::convert::{ConvertError, Format, Result};
use drydock_api::transfer::CloudDisk;
use futures_util::StreamExt;
use std::sync::Arc;
use tokio::sync::mpsc;

type Piece = std::result::Result<(u64, Vec<u8>), String>;

/// Reads a [`CloudDisk`] for the pump.
pub struct CloudReader {
    disk: Arc<dyn CloudDisk>,
    info: DiskInfo,
    rx: mpsc::Receiver<Piece>,
    /// The piece being consumed: its offset and bytes.
    current: Option<(u64, Vec<u8>)>,
    task: tokio::task::JoinHandle<()>,
}

/// The pieces reads are made of: each allocated range cut at `block` boundaries.
fn pieces(allocated: &[(u64, u64)], block: u64) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    for &(start, len) in allocated {
        let end = start + len;
        let mut at = start;
        while at < end {
            let next = ((at / block) + 1) * block;
            let n = next.min(end) - at;
            out.push((at, n));
            at += n;
        }
    }
    out
}

impl CloudReader {
    /// Start fetching `disk`'s pieces on `rt`, `concurrency` at a time.
    pub fn new(
        disk: Arc<dyn CloudDisk>,
        rt: tokio::runtime::Handle,
        concurrency: usize,
    ) -> CloudReader {
        let layout = disk.layout().clone();
        let conc = concurrency.max(1);
        let (tx, rx) = mpsc::channel::<Piece>(conc);
        let fetcher = disk.clone();
        let task = rt.spawn(async move {
            let list = pieces(&layout.allocated, layout.block.max(512));
            let mut fetches = futures_util::stream::iter(list)
                .map(|(off, len)| {
                    let d = fetcher.clone();
                    async move {
                        d.read(off, len)
                            .await
                            .map(|b| (off, b))
                            .map_err(|e| e.to_string())
                    }
                })
                .buffered(conc);
            while let Some(piece) = fetches.next().await {
                let failed = piece.is_err();
                if tx.send(piece).await.is_err() || failed {
                    return;
                }
            }
        });
        let data: u64 = disk.layout().allocated.iter().map(|r| r.1).sum();
        let info = DiskInfo {
            format: Format::Raw,
            virtual_size: disk.layout().size,
            details: vec![
                disk.image().name.clone(),
                format!("{} allocated", crate::convert::human_bytes(data)),
            ],
        };
        CloudReader {
            disk,
            info,
            rx,
            current: None,
            task,
        }
    }

    /// The piece holding `offset`, advancing the queue past earlier ones.
    fn piece_at(&mut self, offset: u64) -> Result<&(u64, Vec<u8>)> {
        loop {
            if let Some((at, bytes)) = &self.current {
                if offset >= *at && offset < at + bytes.len() as u64 {
                    break;
                }
                if offset < *at {
                    return Err(ConvertError::Usage(format!(
                        "cloud reader asked for {offset} after {at} (reads must go forward)"
                    )));
                }
            }
            match self.rx.blocking_recv() {
                Some(Ok(p)) => self.current = Some(p),
                Some(Err(e)) => return Err(ConvertError::Remote(e)),
                None => {
                    return Err(ConvertError::Remote(format!(
                        "{}: the block reader stopped before offset {offset}",
                        self.disk.image().name
                    )))
                }
            }
        }
        Ok(self.current.as_ref().expect("set above"))
    }
}

impl Drop for CloudReader {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl DiskReader for CloudReader {
    fn info(&self) -> &DiskInfo {
        &self.info
    }

    fn map(&mut self, offset: u64, max: u64) -> Result<Run> {
        let alloc = &self.disk.layout().allocated;
        let end = offset + max;
        // The first range that ends after `offset`.
        let i = alloc.partition_point(|&(s, l)| s + l <= offset);
        Ok(match alloc.get(i) {
            Some(&(s, l)) if s <= offset => Run {
                data: true,
                len: (s + l).min(end) - offset,
            },
            Some(&(s, _)) => Run {
                data: false,
                len: s.min(end) - offset,
            },
            None => Run {
                data: false,
                len: max,
            },
        })
    }

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<()> {
        let mut done = 0;
        while done < buf.len() {
            let pos = offset + done as u64;
            let (at, bytes) = self.piece_at(pos)?;
            let from = (pos - at) as usize;
            let n = (bytes.len() - from).min(buf.len() - done);
            buf[done..done + n].copy_from_slice(&bytes[from..from + n]);
            done += n;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_cut_ranges_at_block_boundaries() {
        assert_eq!(
            pieces(&[(0, 10), (12, 20)], 8),
            vec![(0, 8), (8, 2), (12, 4), (16, 8), (24, 8)]
        );
    }
}
