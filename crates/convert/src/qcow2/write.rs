//! qcow2 writing: version 3 with 64 KiB clusters. Data clusters first (compressed on all
//! cores with `compress`), then L2 tables, L1 and refcounts, and the header last.

use super::{COMPRESSED, COPIED, MAGIC};
use crate::deflate::{Codec, Pool};
use crate::disk::{Chunk, ChunkWriter, DiskWriter, Finished};
use crate::error::Result;
use crate::sink::Sink;

const W_BITS: u32 = 16;
const W_CLUSTER: u64 = 1 << W_BITS;
const W_PER_L2: u64 = W_CLUSTER / 8;
/// 16-bit refcounts: entries per refcount block.
const W_PER_RB: u64 = W_CLUSTER / 2;
/// Clusters per compression batch.
const BATCH: usize = 16;

pub struct Qcow2Writer {
    sink: Sink,
    size: u64,
    /// L2 tables by L1 index (only those with an allocated cluster).
    l2: Vec<Option<Box<[u64]>>>,
    /// Next free byte in the file (compressed data is byte-packed).
    next: u64,
    /// Host clusters referenced by more than one compressed cluster, or metadata: refcounts.
    refcounts: Vec<u16>,
    pool: Option<Pool>,
    batch: Vec<(u64, Vec<u8>)>,
}

/// QEMU's largest L1 table (32 MiB of entries).
const MAX_L1_ENTRIES: u64 = (32 << 20) / 8;

impl Qcow2Writer {
    /// A writer for a disk of `size` bytes; QEMU's limit on the L1 table (32 MiB: 2 PiB
    /// with 64 KiB clusters) bounds the size.
    pub fn new(
        sink: Sink,
        size: u64,
        compress: bool,
        threads: usize,
    ) -> crate::error::Result<Qcow2Writer> {
        let l1_len = size.div_ceil(W_CLUSTER).div_ceil(W_PER_L2);
        if l1_len > MAX_L1_ENTRIES {
            return Err(crate::error::unsupported(
                "qcow2",
                format!("a virtual size of {size} bytes"),
                "a qcow2 with 64 KiB clusters holds at most 2 PiB",
            ));
        }
        let l1_len = l1_len as usize;
        Ok(Qcow2Writer {
            sink,
            size,
            l2: vec![None; l1_len],
            next: W_CLUSTER,
            refcounts: vec![1],
            pool: compress.then(|| Pool::new(Codec::Deflate, threads)),
            batch: Vec::with_capacity(BATCH),
        })
    }

    fn set_l2(&mut self, guest_cluster: u64, entry: u64) {
        let table = self.l2[(guest_cluster / W_PER_L2) as usize]
            .get_or_insert_with(|| vec![0u64; W_PER_L2 as usize].into_boxed_slice());
        table[(guest_cluster % W_PER_L2) as usize] = entry;
    }

    fn count(&mut self, from: u64, to: u64) {
        let (a, b) = (from / W_CLUSTER, (to - 1) / W_CLUSTER);
        if self.refcounts.len() <= b as usize {
            self.refcounts.resize(b as usize + 1, 0);
        }
        for c in a..=b {
            self.refcounts[c as usize] += 1;
        }
    }

    fn align(&mut self) {
        self.next = self.next.div_ceil(W_CLUSTER) * W_CLUSTER;
    }

    fn write_normal(&mut self, guest_cluster: u64, bytes: &[u8]) -> Result<()> {
        self.align();
        let host = self.next;
        self.sink.write_at(host, bytes)?;
        self.count(host, host + W_CLUSTER);
        self.next = host + W_CLUSTER;
        self.set_l2(guest_cluster, host | COPIED);
        Ok(())
    }

    fn write_compressed(&mut self, guest_cluster: u64, bytes: &[u8]) -> Result<()> {
        let host = self.next;
        self.sink.write_at(host, bytes)?;
        let end = host + bytes.len() as u64;
        self.count(host, end);
        self.next = end;
        let x = 62 - (W_BITS - 8);
        let sectors = ((end - 1) >> 9) - (host >> 9);
        self.set_l2(guest_cluster, COMPRESSED | (sectors << x) | host);
        Ok(())
    }

    fn flush_batch(&mut self, last: bool) -> Result<()> {
        let Some(pool) = self.pool.as_mut() else {
            return Ok(());
        };
        let mut ready = if self.batch.is_empty() {
            Vec::new()
        } else {
            pool.submit(std::mem::take(&mut self.batch))
        };
        if last {
            ready.extend(pool.drain());
        }
        for packed in ready.into_iter().flatten() {
            if packed.stored {
                self.write_normal(packed.tag, &packed.data)?;
            } else {
                self.write_compressed(packed.tag, &packed.data)?;
            }
        }
        Ok(())
    }
}

impl ChunkWriter for Qcow2Writer {
    /// Zeros are unallocated clusters: nothing to write.
    fn skip(&mut self, _offset: u64, _len: u64) -> Result<bool> {
        Ok(true)
    }

    fn granularity(&self) -> usize {
        W_CLUSTER as usize
    }

    fn write(&mut self, chunk: &Chunk) -> Result<()> {
        let cs = W_CLUSTER as usize;
        for (rel, n) in chunk.data_blocks(cs) {
            let guest = (chunk.offset + rel as u64) / W_CLUSTER;
            let bytes = chunk.bytes(rel, n);
            if self.pool.is_some() {
                let mut owned = bytes.to_vec();
                owned.resize(cs, 0);
                self.batch.push((guest, owned));
                if self.batch.len() >= BATCH {
                    self.flush_batch(false)?;
                }
            } else if n == cs {
                self.write_normal(guest, bytes)?;
            } else {
                let mut padded = bytes.to_vec();
                padded.resize(cs, 0);
                self.write_normal(guest, &padded)?;
            }
        }
        Ok(())
    }
}

impl DiskWriter for Qcow2Writer {
    fn finish(mut self: Box<Self>) -> Result<Finished> {
        self.flush_batch(true)?;
        self.pool = None;
        self.align();
        // L2 tables.
        let mut l1 = vec![0u64; self.l2.len()];
        let tables: Vec<(usize, Box<[u64]>)> = self
            .l2
            .iter_mut()
            .enumerate()
            .filter_map(|(i, t)| t.take().map(|t| (i, t)))
            .collect();
        for (i, table) in tables {
            let at = self.next;
            let bytes: Vec<u8> = table.iter().flat_map(|e| e.to_be_bytes()).collect();
            self.sink.write_at(at, &bytes)?;
            self.count(at, at + W_CLUSTER);
            self.next += W_CLUSTER;
            l1[i] = at | COPIED;
        }
        // L1 table.
        let l1_offset = self.next;
        let l1_bytes: Vec<u8> = l1.iter().flat_map(|e| e.to_be_bytes()).collect();
        let l1_clusters = (l1_bytes.len() as u64).div_ceil(W_CLUSTER).max(1);
        self.sink.write_at(l1_offset, &l1_bytes)?;
        self.count(l1_offset, l1_offset + l1_clusters * W_CLUSTER);
        self.next += l1_clusters * W_CLUSTER;
        // Refcount table and blocks cover every cluster including themselves.
        let rt_offset = self.next;
        let used = rt_offset / W_CLUSTER;
        let (mut rt_clusters, mut rb_count) = (1u64, 1u64);
        loop {
            let total = used + rt_clusters + rb_count;
            let rb = total.div_ceil(W_PER_RB);
            let rt = (rb * 8).div_ceil(W_CLUSTER).max(1);
            if rb == rb_count && rt == rt_clusters {
                break;
            }
            rb_count = rb;
            rt_clusters = rt;
        }
        let rb_offset = rt_offset + rt_clusters * W_CLUSTER;
        self.count(rt_offset, rb_offset + rb_count * W_CLUSTER);
        let mut rt = vec![0u8; (rt_clusters * W_CLUSTER) as usize];
        for i in 0..rb_count {
            let at = rb_offset + i * W_CLUSTER;
            rt[(i * 8) as usize..(i * 8 + 8) as usize].copy_from_slice(&at.to_be_bytes());
        }
        self.sink.write_at(rt_offset, &rt)?;
        for i in 0..rb_count {
            let mut block = vec![0u8; W_CLUSTER as usize];
            for j in 0..W_PER_RB {
                let c = (i * W_PER_RB + j) as usize;
                let Some(&rc) = self.refcounts.get(c) else {
                    break;
                };
                block[(j * 2) as usize..(j * 2 + 2) as usize].copy_from_slice(&rc.to_be_bytes());
            }
            self.sink.write_at(rb_offset + i * W_CLUSTER, &block)?;
        }
        let end = rb_offset + rb_count * W_CLUSTER;
        // Header last: until here the file is not a valid image.
        let mut h = vec![0u8; W_CLUSTER as usize];
        h[..4].copy_from_slice(MAGIC);
        h[4..8].copy_from_slice(&3u32.to_be_bytes());
        h[20..24].copy_from_slice(&W_BITS.to_be_bytes());
        h[24..32].copy_from_slice(&self.size.to_be_bytes());
        h[36..40].copy_from_slice(&(l1.len() as u32).to_be_bytes());
        h[40..48].copy_from_slice(&l1_offset.to_be_bytes());
        h[48..56].copy_from_slice(&rt_offset.to_be_bytes());
        h[56..60].copy_from_slice(&(rt_clusters as u32).to_be_bytes());
        h[96..100].copy_from_slice(&4u32.to_be_bytes());
        h[100..104].copy_from_slice(&104u32.to_be_bytes());
        self.sink.write_at(0, &h)?;
        self.sink.set_len(end)?;
        Ok(Finished {
            sink: self.sink,
            warnings: Vec::new(),
        })
    }
}
