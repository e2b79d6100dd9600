//! qcow2 reading: the header and its feature checks, L1 → L2 lookups with a one-table cache,
//! zero and compressed clusters, reads coalesced over contiguous clusters.

use super::{COMPRESSED, COPIED, F, KNOWN_INCOMPAT, L2_OFFSET_MASK, MAGIC, ZERO_FLAG};
use crate::bytes::{be32, be64};
use crate::disk::{DiskInfo, DiskReader, Run};
use crate::error::{corrupt, unsupported, Result};
use crate::source::{Source, MAX_TABLE_BYTES};
use crate::Format;
use libdeflater::Decompressor;

/// qemu's QCOW_MAX_L1_SIZE (32 MiB) in entries.
const MAX_L1_ENTRIES: u64 = (32 << 20) / 8;

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
            if header_len < 104 || u64::from(header_len) > 1u64 << cluster_bits {
                return Err(corrupt(
                    F,
                    "header",
                    100,
                    format!(
                        "header_length {header_len} is outside 104..={} (the cluster size)",
                        1u64 << cluster_bits
                    ),
                ));
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
        if l1_size > MAX_L1_ENTRIES {
            return Err(corrupt(
                F,
                "L1 table",
                36,
                format!("l1_size {l1_size} is above qcow2's limit of {MAX_L1_ENTRIES} entries"),
            ));
        }
        if !l1_offset.is_multiple_of(cluster) && needed > 0 {
            return Err(corrupt(F, "L1 table", 40, "offset is not cluster-aligned"));
        }
        super::tables::check(&src, &h, cluster_bits)?;
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
        let per_l2 = cs / 8;
        // Guest bytes behind one L1 entry: a missing L2 table is that many zeros, skipped
        // without looking at its clusters (cost follows the tables, not the virtual size).
        let span = cs.saturating_mul(per_l2);
        let limit = offset.saturating_add(max);
        let l2_missing = |r: &Self, c: u64| {
            r.l1.get((c / per_l2) as usize)
                .is_none_or(|e| e & L2_OFFSET_MASK == 0)
        };
        let first = offset / cs;
        let data = !matches!(self.lookup(first)?, Cluster::Zero);
        let mut end = ((first + 1) * cs).min(limit);
        while end < limit {
            let c = end / cs;
            if !data && l2_missing(self, c) {
                end = (c / per_l2 + 1).saturating_mul(span).min(limit);
                continue;
            }
            if !matches!(self.lookup(c)?, Cluster::Zero) != data {
                break;
            }
            end = ((c + 1) * cs).min(limit);
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
