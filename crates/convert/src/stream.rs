//! A disk written as one ordered byte stream (an HTTP upload's body), in raw or qcow2:
//! nothing is written twice and nothing is sought back to, so the bytes can go out as the
//! pump produces them. Raw is every byte in order. qcow2 (version 3, 64 KiB clusters) puts
//! every table first, laid out from the source's allocation map read before the data
//! ([`allocated_clusters`]): header, L1, refcount table and blocks, L2 tables, then one data
//! cluster per allocated guest cluster in guest order.

use crate::disk::{Chunk, ChunkWriter, DiskReader};
use crate::error::{ConvertError, Result};
use crate::qcow2::MAGIC;

const BITS: u32 = 16;
const CLUSTER: u64 = 1 << BITS;
const PER_L2: u64 = CLUSTER / 8;
/// 16-bit refcounts.
const PER_RB: u64 = CLUSTER / 2;
const COPIED: u64 = 1 << 63;
/// Zeros are sent this many bytes at a time.
const ZEROS: usize = 1 << 20;

/// Where the stream's bytes go, in order.
pub trait ByteSink: Send {
    fn send(&mut self, data: Vec<u8>) -> Result<()>;
}

/// The 64 KiB guest clusters of `reader` its map says hold data, in order.
pub fn allocated_clusters(reader: &mut dyn DiskReader) -> Result<Vec<u64>> {
    let size = reader.info().virtual_size;
    let mut out: Vec<u64> = Vec::new();
    let mut at = 0;
    while at < size {
        let run = reader.map(at, size - at)?;
        if run.len == 0 {
            return Err(ConvertError::Usage(format!(
                "the source's map returned an empty run at {at}"
            )));
        }
        if run.data {
            let first = at / CLUSTER;
            let last = (at + run.len - 1) / CLUSTER;
            let from = match out.last() {
                Some(&l) if l >= first => l + 1,
                _ => first,
            };
            out.extend(from..=last);
        }
        at += run.len;
    }
    Ok(out)
}

/// The qcow2 layout of a disk of `size` bytes with `clusters` allocated.
struct Layout {
    size: u64,
    l1_len: u64,
    l1_at: u64,
    rt_at: u64,
    rt_clusters: u64,
    rb_at: u64,
    rb_count: u64,
    /// L1 index → host offset of its L2 table (0: none).
    l2_at: Vec<u64>,
    data_at: u64,
    /// Allocated guest clusters, sorted.
    clusters: Vec<u64>,
    total_clusters: u64,
}

impl Layout {
    fn new(size: u64, clusters: Vec<u64>) -> Result<Layout> {
        let l1_len = size.div_ceil(CLUSTER).div_ceil(PER_L2);
        if l1_len > (32 << 20) / 8 {
            return Err(crate::error::unsupported(
                "qcow2",
                format!("a virtual size of {size} bytes"),
                "a qcow2 with 64 KiB clusters holds at most 2 PiB",
            ));
        }
        let l1_clusters = (l1_len * 8).div_ceil(CLUSTER).max(1);
        let mut tables: Vec<u64> = clusters.iter().map(|c| c / PER_L2).collect();
        tables.dedup();
        let fixed = 1 + l1_clusters + tables.len() as u64 + clusters.len() as u64;
        let (mut rt, mut rb) = (1u64, 1u64);
        loop {
            let total = fixed + rt + rb;
            let nrb = total.div_ceil(PER_RB);
            let nrt = (nrb * 8).div_ceil(CLUSTER).max(1);
            if nrb == rb && nrt == rt {
                break;
            }
            rb = nrb;
            rt = nrt;
        }
        let l1_at = CLUSTER;
        let rt_at = l1_at + l1_clusters * CLUSTER;
        let rb_at = rt_at + rt * CLUSTER;
        let l2_first = rb_at + rb * CLUSTER;
        let mut l2_at = vec![0u64; l1_len as usize];
        for (i, t) in tables.iter().enumerate() {
            l2_at[*t as usize] = l2_first + i as u64 * CLUSTER;
        }
        let data_at = l2_first + tables.len() as u64 * CLUSTER;
        Ok(Layout {
            size,
            l1_len,
            l1_at,
            rt_at,
            rt_clusters: rt,
            rb_at,
            rb_count: rb,
            l2_at,
            data_at,
            total_clusters: data_at / CLUSTER + clusters.len() as u64,
            clusters,
        })
    }

    /// Everything before the data, cluster by cluster, into `sink`.
    fn send_metadata(&self, sink: &mut dyn ByteSink) -> Result<()> {
        let mut h = vec![0u8; CLUSTER as usize];
        h[..4].copy_from_slice(MAGIC);
        h[4..8].copy_from_slice(&3u32.to_be_bytes());
        h[20..24].copy_from_slice(&BITS.to_be_bytes());
        h[24..32].copy_from_slice(&self.size.to_be_bytes());
        h[36..40].copy_from_slice(&(self.l1_len as u32).to_be_bytes());
        h[40..48].copy_from_slice(&self.l1_at.to_be_bytes());
        h[48..56].copy_from_slice(&self.rt_at.to_be_bytes());
        h[56..60].copy_from_slice(&(self.rt_clusters as u32).to_be_bytes());
        h[96..100].copy_from_slice(&4u32.to_be_bytes());
        h[100..104].copy_from_slice(&104u32.to_be_bytes());
        sink.send(h)?;
        // L1.
        let mut l1: Vec<u8> = self
            .l2_at
            .iter()
            .flat_map(|&a| if a == 0 { 0u64 } else { a | COPIED }.to_be_bytes())
            .collect();
        l1.resize((self.rt_at - self.l1_at) as usize, 0);
        for part in l1.chunks(ZEROS) {
            sink.send(part.to_vec())?;
        }
        // Refcount table, then blocks: every cluster of the file counted once.
        let mut rt = vec![0u8; (self.rt_clusters * CLUSTER) as usize];
        for i in 0..self.rb_count {
            let at = self.rb_at + i * CLUSTER;
            rt[(i * 8) as usize..(i * 8 + 8) as usize].copy_from_slice(&at.to_be_bytes());
        }
        for part in rt.chunks(ZEROS) {
            sink.send(part.to_vec())?;
        }
        for i in 0..self.rb_count {
            let mut block = vec![0u8; CLUSTER as usize];
            let from = i * PER_RB;
            let n = self.total_clusters.saturating_sub(from).min(PER_RB);
            for j in 0..n {
                block[(j * 2) as usize..(j * 2 + 2) as usize].copy_from_slice(&1u16.to_be_bytes());
            }
            sink.send(block)?;
        }
        // L2 tables: the data clusters follow in guest order.
        let mut next_data = self.data_at;
        let mut k = 0;
        for (t, &at) in self.l2_at.iter().enumerate() {
            if at == 0 {
                continue;
            }
            let mut table = vec![0u8; CLUSTER as usize];
            let base = t as u64 * PER_L2;
            while k < self.clusters.len() && self.clusters[k] < base + PER_L2 {
                let e = (self.clusters[k] - base) as usize;
                table[e * 8..e * 8 + 8].copy_from_slice(&(next_data | COPIED).to_be_bytes());
                next_data += CLUSTER;
                k += 1;
            }
            sink.send(table)?;
        }
        Ok(())
    }
}

enum Kind {
    Raw,
    Qcow2 {
        layout: Layout,
        /// Index into `layout.clusters` of the next allocated cluster to send.
        next: usize,
    },
}

/// Writes the pump's chunks as a raw or qcow2 byte stream.
pub struct StreamWriter<S: ByteSink> {
    sink: S,
    kind: Kind,
    zeros: Vec<u8>,
    /// Bytes sent.
    pub sent: u64,
}

/// Counts what passes to the sink.
struct Counting<'a, S: ByteSink> {
    sink: &'a mut S,
    sent: &'a mut u64,
}

impl<S: ByteSink> ByteSink for Counting<'_, S> {
    fn send(&mut self, data: Vec<u8>) -> Result<()> {
        *self.sent += data.len() as u64;
        self.sink.send(data)
    }
}

impl<S: ByteSink> StreamWriter<S> {
    /// A raw stream of `size` bytes.
    pub fn raw(sink: S) -> StreamWriter<S> {
        StreamWriter {
            sink,
            kind: Kind::Raw,
            zeros: vec![0; ZEROS],
            sent: 0,
        }
    }

    /// A qcow2 stream of a disk of `size` bytes whose data lies in `clusters` (from
    /// [`allocated_clusters`]); its tables are sent at once.
    pub fn qcow2(mut sink: S, size: u64, clusters: Vec<u64>) -> Result<StreamWriter<S>> {
        let layout = Layout::new(size, clusters)?;
        let mut sent = 0;
        layout.send_metadata(&mut Counting {
            sink: &mut sink,
            sent: &mut sent,
        })?;
        Ok(StreamWriter {
            sink,
            kind: Kind::Qcow2 { layout, next: 0 },
            zeros: vec![0; ZEROS],
            sent,
        })
    }

    /// The bytes the whole stream will be (of a disk of `size` bytes): what a Content-Length
    /// says.
    pub fn total_len(&self, size: u64) -> u64 {
        match &self.kind {
            Kind::Raw => size,
            Kind::Qcow2 { layout, .. } => layout.total_clusters * CLUSTER,
        }
    }

    /// The sink, once every chunk was written.
    pub fn into_sink(self) -> S {
        self.sink
    }

    fn send(&mut self, data: Vec<u8>) -> Result<()> {
        self.sent += data.len() as u64;
        self.sink.send(data)
    }

    fn send_zeros(&mut self, mut n: u64) -> Result<()> {
        while n > 0 {
            let k = n.min(ZEROS as u64) as usize;
            let z = self.zeros[..k].to_vec();
            self.send(z)?;
            n -= k as u64;
        }
        Ok(())
    }

    /// The allocated clusters inside `[offset, offset + len)`, sent from `data` (zeros where
    /// `None`); a cluster the map called empty must read as zeros.
    fn qcow2_span(&mut self, offset: u64, len: u64, data: Option<&Chunk>) -> Result<()> {
        let Kind::Qcow2 { layout, next } = &mut self.kind else {
            return Ok(());
        };
        let first = offset / CLUSTER;
        let end = (offset + len).div_ceil(CLUSTER);
        // The span's allocated clusters, one after another, in one piece.
        let mut out: Vec<u8> = Vec::new();
        for c in first..end {
            let allocated = layout.clusters.get(*next) == Some(&c);
            let rel = (c * CLUSTER - offset) as usize;
            let n = (CLUSTER as usize).min(len as usize - rel);
            let bytes = data.and_then(|ch| (!ch.is_zero(rel, n)).then(|| ch.bytes(rel, n)));
            if allocated {
                *next += 1;
                if out.is_empty() {
                    out.reserve(((end - c) * CLUSTER) as usize);
                }
                let at = out.len();
                match bytes {
                    Some(b) => out.extend_from_slice(b),
                    None => out.resize(at + n, 0),
                }
                out.resize(at + CLUSTER as usize, 0);
            } else if bytes.is_some() {
                return Err(ConvertError::Usage(format!(
                    "the source's map called cluster {c} (offset {}) empty, but it holds data",
                    c * CLUSTER
                )));
            }
        }
        if !out.is_empty() {
            self.send(out)?;
        }
        Ok(())
    }
}

impl<S: ByteSink> ChunkWriter for StreamWriter<S> {
    fn granularity(&self) -> usize {
        match self.kind {
            Kind::Raw => crate::disk::PAGE,
            Kind::Qcow2 { .. } => CLUSTER as usize,
        }
    }

    fn write(&mut self, chunk: &Chunk) -> Result<()> {
        match (&self.kind, chunk.data) {
            (Kind::Raw, Some(d)) => self.send(d.to_vec()),
            (Kind::Raw, None) => self.send_zeros(chunk.len as u64),
            (Kind::Qcow2 { .. }, _) => self.qcow2_span(chunk.offset, chunk.len as u64, Some(chunk)),
        }
    }

    fn skip(&mut self, offset: u64, len: u64) -> Result<bool> {
        match self.kind {
            Kind::Raw => self.send_zeros(len)?,
            Kind::Qcow2 { .. } => self.qcow2_span(offset, len, None)?,
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Collect(Vec<u8>);

    impl ByteSink for Collect {
        fn send(&mut self, data: Vec<u8>) -> Result<()> {
            self.0.extend_from_slice(&data);
            Ok(())
        }
    }

    #[test]
    fn a_streamed_qcow2_reads_back_as_the_disk() {
        let size = 3 * CLUSTER + 4096;
        let mut disk = vec![0u8; size as usize];
        disk[10..20].copy_from_slice(b"0123456789");
        disk[(2 * CLUSTER + 5) as usize] = 7;
        disk[(3 * CLUSTER + 100) as usize] = 9;
        let clusters = vec![0, 2, 3];
        let mut w = StreamWriter::qcow2(Collect(Vec::new()), size, clusters).unwrap();
        let nonzero: Vec<bool> = disk
            .chunks(crate::disk::PAGE)
            .map(|p| p.iter().any(|&b| b != 0))
            .collect();
        w.write(&Chunk {
            offset: 0,
            len: disk.len(),
            data: Some(&disk),
            nonzero: &nonzero,
        })
        .unwrap();
        let sent = w.sent;
        let total = w.total_len(size);
        let bytes = w.into_sink().0;
        assert_eq!(sent, bytes.len() as u64);
        assert_eq!(total, sent);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.qcow2");
        std::fs::write(&path, &bytes).unwrap();
        let mut r = crate::open_reader(&path, None).unwrap();
        assert_eq!(r.info().virtual_size, size);
        let mut back = vec![0u8; size as usize];
        r.read_at(0, &mut back).unwrap();
        assert!(back == disk);
    }
}
