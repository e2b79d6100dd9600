//! qcow2 (versions 2 and 3). The reader follows L1 → L2 tables, with zero and compressed
//! (raw DEFLATE) clusters, and refuses backing files, encryption, external data files, other
//! compression types and unknown incompatible features. The writer writes version 3 with
//! 64 KiB clusters: data first, then L2 tables, L1 and refcounts, then the header; with
//! `compress`, clusters go through the parallel compressor and those that do not shrink are
//! stored as ordinary clusters.

use super::deflate::{Codec, Pool};
use super::disk::{Chunk, DiskInfo, DiskReader, DiskWriter, Finished, Run};
use super::error::{corrupt, unsupported, Result};
use super::sink::Sink;
use super::source::{be32, be64, Source, MAX_TABLE_BYTES};
use super::Format;
use libdeflater::Decompressor;

const F: &str = "qcow2";
pub const MAGIC: &[u8; 4] = b"QFI\xfb";
const L2_OFFSET_MASK: u64 = 0x00ff_ffff_ffff_fe00;
const COPIED: u64 = 1 << 63;
const COMPRESSED: u64 = 1 << 62;
const ZERO_FLAG: u64 = 1;
const KNOWN_INCOMPAT: u64 = 0b11111;

/// What an L2 entry says about one guest cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cluster {
    Zero,
    Normal(u64),
    Compressed { host: u64, len: u64 },
}

pub struct Qcow2Reader {
    src: Source,
    info: DiskInfo,
    cluster_bits: u32,
    l1: Vec<u64>,
    /// The last L2 table read: (offset, entries).
    l2: Option<(u64, Vec<u64>)>,
    /// The last compressed cluster inflated: (host offset, bytes).
    inflated: Option<(u64, Vec<u8>)>,
    compressed_buf: Vec<u8>,
    inflater: Decompressor,
}

impl Qcow2Reader {
    pub fn open(src: Source) -> Result<Qcow2Reader> {
        let mut h = [0u8; 104];
        src.read_at(F, "header", 0, &mut h[..72])?;
        if &h[..4] != MAGIC {
            return Err(corrupt(F, "header", 0, "magic is not QFI\\xfb"));
        }
        let version = be32(&h, 4);
        if version != 2 && version != 3 {
            return Err(unsupported(
                F,
                format!("version {version}"),
                "only versions 2 and 3 exist",
            ));
        }
        let backing = be64(&h, 8);
        if backing != 0 {
            return Err(unsupported(
                F,
                "an image with a backing file",
                "flatten it first: qemu-img convert -O qcow2 IN FLAT.qcow2",
            ));
        }
        let cluster_bits = be32(&h, 20);
        if !(9..=21).contains(&cluster_bits) {
            return Err(corrupt(
                F,
                "header",
                20,
                format!("cluster_bits {cluster_bits} is outside 9..=21"),
            ));
        }
        let size = be64(&h, 24);
        if be32(&h, 32) != 0 {
            return Err(unsupported(
                F,
                "an encrypted image",
                "decrypt it with qemu-img convert --object secret,... first",
            ));
        }
        let mut details = vec![
            format!("version {version}"),
            format!("cluster {}", 1u64 << cluster_bits),
        ];
        if version == 3 {
            src.read_at(F, "header", 72, &mut h[72..104])?;
            let incompat = be64(&h, 72);
            let header_len = be32(&h, 100);
            if incompat & !KNOWN_INCOMPAT != 0 {
                return Err(unsupported(
                    F,
                    format!(
                        "incompatible feature bits {:#x}",
                        incompat & !KNOWN_INCOMPAT
                    ),
                    "written by a newer qemu",
                ));
            }
            if incompat & 2 != 0 {
                return Err(unsupported(
                    F,
                    "an image marked corrupt",
                    "repair it with qemu-img check -r all",
                ));
            }
            if incompat & 4 != 0 {
                return Err(unsupported(
                    F,
                    "an external data file",
                    "convert with qemu-img",
                ));
            }
            if incompat & 16 != 0 {
                return Err(unsupported(
                    F,
                    "extended L2 entries (subclusters)",
                    "convert with qemu-img",
                ));
            }
            if incompat & 8 != 0 {
                let mut t = [0u8; 1];
                if header_len > 104 {
                    src.read_at(F, "header", 104, &mut t)?;
                }
                if t[0] != 0 {
                    return Err(unsupported(
                        F,
                        format!("compression type {}", t[0]),
                        "only deflate (0) is read",
                    ));
                }
            }
            if incompat & 1 != 0 {
                details.push("dirty (refcounts may be stale; tables are read as they are)".into());
            }
            let refcount_order = be32(&h, 96);
            if refcount_order > 6 {
                return Err(corrupt(
                    F,
                    "header",
                    96,
                    format!("refcount_order {refcount_order} is above 6"),
                ));
            }
        }
        let cluster = 1u64 << cluster_bits;
        let per_l2 = cluster / 8;
        let needed = size.div_ceil(cluster).div_ceil(per_l2);
        let l1_size = be32(&h, 36) as u64;
        let l1_offset = be64(&h, 40);
        if l1_size < needed {
            return Err(corrupt(
                F,
                "L1 table",
                36,
                format!("l1_size {l1_size} is below the {needed} entries a {size}-byte disk needs"),
            ));
        }
        if needed * 8 > MAX_TABLE_BYTES {
            return Err(corrupt(
                F,
                "L1 table",
                l1_offset,
                format!("{needed} entries is more than drydock reads ({size}-byte disk)"),
            ));
        }
        if !l1_offset.is_multiple_of(cluster) && needed > 0 {
            return Err(corrupt(F, "L1 table", 40, "offset is not cluster-aligned"));
        }
        let raw = src.read_table(F, "L1 table", l1_offset, needed * 8)?;
        let l1 = raw.chunks_exact(8).map(|e| be64(e, 0)).collect();
        Ok(Qcow2Reader {
            src,
            info: DiskInfo {
                format: Format::Qcow2,
                virtual_size: size,
                details,
            },
            cluster_bits,
            l1,
            l2: None,
            inflated: None,
            compressed_buf: Vec::new(),
            inflater: Decompressor::new(),
        })
    }

    fn cluster_size(&self) -> u64 {
        1 << self.cluster_bits
    }

    fn lookup(&mut self, guest_cluster: u64) -> Result<Cluster> {
        let per_l2 = self.cluster_size() / 8;
        let l1_index = (guest_cluster / per_l2) as usize;
        let l1e = self.l1[l1_index];
        let l2_offset = l1e & L2_OFFSET_MASK;
        if l2_offset == 0 {
            return Ok(Cluster::Zero);
        }
        if !l2_offset.is_multiple_of(self.cluster_size()) {
            return Err(corrupt(
                F,
                "L1 entry",
                l2_offset,
                format!("L1[{l1_index}] points at an unaligned L2 table"),
            ));
        }
        if self.l2.as_ref().map(|(o, _)| *o) != Some(l2_offset) {
            let raw = self
                .src
                .read_table(F, "L2 table", l2_offset, self.cluster_size())?;
            let entries = raw.chunks_exact(8).map(|e| be64(e, 0)).collect();
            self.l2 = Some((l2_offset, entries));
        }
        let entry = self.l2.as_ref().expect("loaded").1[(guest_cluster % per_l2) as usize];
        self.decode(entry, l2_offset)
    }

    fn decode(&self, entry: u64, l2_offset: u64) -> Result<Cluster> {
        if entry & COMPRESSED != 0 {
            let x = 62 - (self.cluster_bits - 8);
            let host = entry & ((1u64 << x) - 1);
            let sectors = (entry & !COPIED & !COMPRESSED) >> x;
            let len = (sectors + 1) * 512 - (host & 511);
            if host == 0 || host >= self.src.len() {
                return Err(corrupt(
                    F,
                    "L2 entry",
                    l2_offset,
                    format!("compressed cluster at {host} is outside the file"),
                ));
            }
            return Ok(Cluster::Compressed { host, len });
        }
        let host = entry & L2_OFFSET_MASK;
        if entry & ZERO_FLAG != 0 || host == 0 {
            return Ok(Cluster::Zero);
        }
        if !host.is_multiple_of(self.cluster_size()) {
            return Err(corrupt(
                F,
                "L2 entry",
                l2_offset,
                format!("data cluster offset {host} is not cluster-aligned"),
            ));
        }
        Ok(Cluster::Normal(host))
    }

    fn inflate(&mut self, host: u64, len: u64) -> Result<()> {
        if self.inflated.as_ref().map(|(h, _)| *h) == Some(host) {
            return Ok(());
        }
        let cluster = self.cluster_size() as usize;
        let len = len.min(self.src.len() - host) as usize;
        self.compressed_buf.resize(len, 0);
        self.src
            .read_at(F, "compressed cluster", host, &mut self.compressed_buf)?;
        let mut out = self
            .inflated
            .take()
            .map(|(_, b)| b)
            .unwrap_or_else(|| vec![0; cluster]);
        out.resize(cluster, 0);
        match self
            .inflater
            .deflate_decompress(&self.compressed_buf, &mut out)
        {
            Ok(n) if n == cluster => {}
            Ok(n) => {
                return Err(corrupt(
                    F,
                    "compressed cluster",
                    host,
                    format!("inflates to {n} bytes, not {cluster}"),
                ))
            }
            Err(e) => {
                return Err(corrupt(
                    F,
                    "compressed cluster",
                    host,
                    format!("deflate data is invalid ({e:?})"),
                ))
            }
        }
        self.inflated = Some((host, out));
        Ok(())
    }
}

impl DiskReader for Qcow2Reader {
    fn info(&self) -> &DiskInfo {
        &self.info
    }

    fn map(&mut self, offset: u64, max: u64) -> Result<Run> {
        let cs = self.cluster_size();
        let first = offset / cs;
        let data = !matches!(self.lookup(first)?, Cluster::Zero);
        let mut end = ((first + 1) * cs).min(offset + max);
        let per_l2 = cs / 8;
        // Extend over clusters of the same kind within the same L2 table.
        while end < offset + max {
            let c = end / cs;
            if c / per_l2 != first / per_l2 {
                break;
            }
            if !matches!(self.lookup(c)?, Cluster::Zero) != data {
                break;
            }
            end = ((c + 1) * cs).min(offset + max);
        }
        Ok(Run {
            data,
            len: end - offset,
        })
    }

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<()> {
        let cs = self.cluster_size();
        let mut done = 0usize;
        while done < buf.len() {
            let pos = offset + done as u64;
            let in_cluster = pos % cs;
            let mut n = ((cs - in_cluster) as usize).min(buf.len() - done);
            match self.lookup(pos / cs)? {
                Cluster::Zero => buf[done..done + n].fill(0),
                Cluster::Normal(host) => {
                    // Coalesce following clusters stored contiguously.
                    while done + n < buf.len() {
                        let next = (pos + n as u64) / cs;
                        if self.lookup(next)? != Cluster::Normal(host + (next - pos / cs) * cs) {
                            break;
                        }
                        n = (n + cs as usize).min(buf.len() - done);
                    }
                    self.src.read_at(
                        F,
                        "data cluster",
                        host + in_cluster,
                        &mut buf[done..done + n],
                    )?;
                }
                Cluster::Compressed { host, len } => {
                    self.inflate(host, len)?;
                    let bytes = &self.inflated.as_ref().expect("inflated").1;
                    buf[done..done + n]
                        .copy_from_slice(&bytes[in_cluster as usize..in_cluster as usize + n]);
                }
            }
            done += n;
        }
        Ok(())
    }
}

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

impl Qcow2Writer {
    pub fn new(sink: Sink, size: u64, compress: bool, threads: usize) -> Qcow2Writer {
        let l1_len = size.div_ceil(W_CLUSTER).div_ceil(W_PER_L2) as usize;
        Qcow2Writer {
            sink,
            size,
            l2: vec![None; l1_len],
            next: W_CLUSTER,
            refcounts: vec![1],
            pool: compress.then(|| Pool::new(Codec::Deflate, threads)),
            batch: Vec::with_capacity(BATCH),
        }
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

impl DiskWriter for Qcow2Writer {
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
