//! VMDK writing: streamOptimized in VMware's one-pass layout (compressed grains behind
//! markers, each grain table after its grains, then the grain directory, a footer and an
//! end-of-stream marker) and monolithicSparse with redundant tables.

use super::{
    F, FLAG_COMPRESSED, FLAG_MARKERS, FLAG_NEWLINE, FLAG_RGD, GD_AT_END, MAGIC, MARKER_EOS,
    MARKER_FOOTER, MARKER_GD, MARKER_GT,
};
use crate::deflate::{Codec, Pool};
use crate::disk::{whole_sectors, Chunk, ChunkWriter, DiskWriter, Finished};
use crate::error::{unsupported, Result};
use crate::sink::Sink;
use crate::vhd::uuid_v4;
use sha2::{Digest, Sha256};

const GRAIN: u64 = 64 << 10;
const GRAIN_SECTORS: u64 = GRAIN / 512;
const GTES: u64 = 512;

fn descriptor(create_type: &str, capacity: u64, name: &str) -> String {
    let cid: u32 = u32::from_le_bytes(uuid_v4()[..4].try_into().expect("4 bytes"));
    let cylinders = (capacity / (16 * 63)).min(16383);
    format!(
        "# Disk DescriptorFile\nversion=1\nencoding=\"UTF-8\"\nCID={cid:08x}\nparentCID=ffffffff\ncreateType=\"{create_type}\"\n\n# Extent description\nRW {capacity} SPARSE \"{name}\"\n\n# The Disk Data Base\n#DDB\n\nddb.virtualHWVersion = \"4\"\nddb.geometry.cylinders = \"{cylinders}\"\nddb.geometry.heads = \"16\"\nddb.geometry.sectors = \"63\"\nddb.adapterType = \"lsilogic\"\n"
    )
}

fn header(
    version: u32,
    flags: u32,
    capacity: u64,
    desc_sectors: u64,
    rgd: u64,
    gd: u64,
    overhead: u64,
) -> [u8; 512] {
    let mut h = [0u8; 512];
    h[..4].copy_from_slice(MAGIC);
    h[4..8].copy_from_slice(&version.to_le_bytes());
    h[8..12].copy_from_slice(&flags.to_le_bytes());
    h[12..20].copy_from_slice(&capacity.to_le_bytes());
    h[20..28].copy_from_slice(&GRAIN_SECTORS.to_le_bytes());
    h[28..36].copy_from_slice(&1u64.to_le_bytes());
    h[36..44].copy_from_slice(&desc_sectors.to_le_bytes());
    h[44..48].copy_from_slice(&(GTES as u32).to_le_bytes());
    h[48..56].copy_from_slice(&rgd.to_le_bytes());
    h[56..64].copy_from_slice(&gd.to_le_bytes());
    h[64..72].copy_from_slice(&overhead.to_le_bytes());
    h[73..77].copy_from_slice(b"\n \r\n");
    if flags & FLAG_COMPRESSED != 0 {
        h[77..79].copy_from_slice(&1u16.to_le_bytes());
    }
    h
}

fn marker(sectors: u64, kind: u32) -> [u8; 512] {
    let mut m = [0u8; 512];
    m[..8].copy_from_slice(&sectors.to_le_bytes());
    m[12..16].copy_from_slice(&kind.to_le_bytes());
    m
}

/// The largest streamOptimized disk written (VMware's limit is 62 TiB).
const MAX_STREAM: u64 = 64 << 40;

/// Writes streamOptimized in one forward pass.
pub struct StreamWriter {
    sink: Sink,
    capacity: u64,
    /// Where the VMDK starts in the sink (inside an OVA, after the tar headers).
    base: u64,
    pos: u64,
    /// SHA-256 of the VMDK's own bytes (for an OVA's manifest).
    digest: Sha256,
    gd: Vec<u32>,
    /// The grain table being filled: (index, entries).
    gt: Option<(u64, Vec<u32>)>,
    /// The header's descriptor size and overhead, repeated in the footer.
    desc_sectors: u64,
    overhead: u64,
    pool: Pool,
    batch: Vec<(u64, Vec<u8>)>,
    warnings: Vec<String>,
}

const BATCH: usize = 16;

impl StreamWriter {
    pub fn new(sink: Sink, size: u64, name: &str, threads: usize) -> Result<StreamWriter> {
        StreamWriter::at(sink, 0, size, name, threads)
    }

    /// A VMDK written into `sink` from byte `base` on.
    pub fn at(
        sink: Sink,
        base: u64,
        size: u64,
        name: &str,
        threads: usize,
    ) -> Result<StreamWriter> {
        let mut warnings = Vec::new();
        if size > MAX_STREAM {
            return Err(unsupported(
                F,
                format!("a streamOptimized disk of {size} bytes"),
                "VMware's disks hold at most 62 TiB",
            ));
        }
        let capacity = whole_sectors("VMDK", size, &mut warnings) / 512;
        let desc = descriptor("streamOptimized", capacity, name);
        let desc_sectors = (desc.len() as u64).div_ceil(512).max(1);
        let overhead = (1 + desc_sectors).div_ceil(GRAIN_SECTORS) * GRAIN_SECTORS;
        let h = header(
            3,
            FLAG_NEWLINE | FLAG_COMPRESSED | FLAG_MARKERS,
            capacity,
            desc_sectors,
            0,
            GD_AT_END,
            overhead,
        );
        let mut head = h.to_vec();
        head.extend_from_slice(desc.as_bytes());
        head.resize((overhead * 512) as usize, 0);
        let tables = capacity.div_ceil(GRAIN_SECTORS).div_ceil(GTES);
        let mut w = StreamWriter {
            sink,
            capacity,
            base,
            pos: 0,
            digest: Sha256::new(),
            gd: vec![0; tables as usize],
            gt: None,
            desc_sectors,
            overhead,
            pool: Pool::new(Codec::Zlib, threads),
            batch: Vec::with_capacity(BATCH),
            warnings,
        };
        w.put(&head)?;
        Ok(w)
    }

    fn put(&mut self, bytes: &[u8]) -> Result<()> {
        self.sink.write_at(self.base + self.pos, bytes)?;
        self.digest.update(bytes);
        self.pos += bytes.len() as u64;
        self.sink.final_upto(self.base + self.pos);
        Ok(())
    }

    /// Write the trailing tables and markers; hand back the sink, the VMDK's length and its
    /// SHA-256.
    pub fn finish_member(mut self) -> Result<(Sink, u64, [u8; 32], Vec<String>)> {
        self.flush_batch(true)?;
        self.flush_gt()?;
        let gd_bytes: Vec<u8> = self.gd.iter().flat_map(|e| e.to_le_bytes()).collect();
        let gd_sectors = (gd_bytes.len() as u64).div_ceil(512).max(1);
        self.put(&marker(gd_sectors, MARKER_GD))?;
        let gd_at = self.pos / 512;
        let mut padded = gd_bytes;
        padded.resize((gd_sectors * 512) as usize, 0);
        self.put(&padded)?;
        self.put(&marker(1, MARKER_FOOTER))?;
        let footer = header(
            3,
            FLAG_NEWLINE | FLAG_COMPRESSED | FLAG_MARKERS,
            self.capacity,
            self.desc_sectors,
            0,
            gd_at,
            self.overhead,
        );
        self.put(&footer)?;
        self.put(&marker(0, MARKER_EOS))?;
        let digest = self.digest.finalize().into();
        Ok((self.sink, self.pos, digest, self.warnings))
    }

    fn flush_gt(&mut self) -> Result<()> {
        if let Some((index, entries)) = self.gt.take() {
            self.put(&marker(GTES * 4 / 512, MARKER_GT))?;
            self.gd[index as usize] = (self.pos / 512) as u32;
            let bytes: Vec<u8> = entries.iter().flat_map(|e| e.to_le_bytes()).collect();
            self.put(&bytes)?;
        }
        Ok(())
    }

    fn write_grain(&mut self, grain: u64, packed: &[u8]) -> Result<()> {
        let table = grain / GTES;
        if self.gt.as_ref().is_some_and(|(i, _)| *i != table) {
            self.flush_gt()?;
        }
        let sector = self.pos / 512;
        if sector > u32::MAX as u64 {
            return Err(unsupported(
                F,
                "a streamOptimized file over 2 TiB",
                "its tables hold 32-bit sectors",
            ));
        }
        let gt = self
            .gt
            .get_or_insert_with(|| (table, vec![0; GTES as usize]));
        gt.1[(grain % GTES) as usize] = sector as u32;
        let total = 12 + packed.len();
        let mut out = Vec::with_capacity(total.div_ceil(512) * 512);
        out.extend_from_slice(&(grain * GRAIN_SECTORS).to_le_bytes());
        out.extend_from_slice(&(packed.len() as u32).to_le_bytes());
        out.extend_from_slice(packed);
        out.resize(total.div_ceil(512) * 512, 0);
        self.put(&out)
    }

    fn flush_batch(&mut self, last: bool) -> Result<()> {
        let mut ready = if self.batch.is_empty() {
            Vec::new()
        } else {
            self.pool.submit(std::mem::take(&mut self.batch))
        };
        if last {
            ready.extend(self.pool.drain());
        }
        for p in ready.into_iter().flatten() {
            self.write_grain(p.tag, &p.data)?;
        }
        Ok(())
    }
}

impl ChunkWriter for StreamWriter {
    /// Zero grains are left out of the stream: nothing to write.
    fn skip(&mut self, _offset: u64, _len: u64) -> Result<bool> {
        Ok(true)
    }

    fn granularity(&self) -> usize {
        GRAIN as usize
    }

    fn write(&mut self, chunk: &Chunk) -> Result<()> {
        for (rel, n) in chunk.data_blocks(GRAIN as usize) {
            let mut owned = chunk.bytes(rel, n).to_vec();
            owned.resize(GRAIN as usize, 0);
            self.batch
                .push(((chunk.offset + rel as u64) / GRAIN, owned));
            if self.batch.len() >= BATCH {
                self.flush_batch(false)?;
            }
        }
        Ok(())
    }
}

impl DiskWriter for StreamWriter {
    fn finish(self: Box<Self>) -> Result<Finished> {
        let (sink, _, _, warnings) = self.finish_member()?;
        Ok(Finished { sink, warnings })
    }
}

/// Writes monolithicSparse: header, descriptor, redundant and primary grain directories and
/// tables up front (filled in at the end), then uncompressed grains; zero grains are left
/// unallocated and zero pages inside a grain stay holes.
pub struct SparseWriter {
    sink: Sink,
    rgd: u64,
    gd: u64,
    tables: u64,
    gts: Vec<Option<Box<[u32]>>>,
    next: u64,
    warnings: Vec<String>,
}

impl SparseWriter {
    pub fn new(mut sink: Sink, size: u64, name: &str) -> Result<SparseWriter> {
        let mut warnings = Vec::new();
        let capacity = whole_sectors("VMDK", size, &mut warnings) / 512;
        let desc = descriptor("monolithicSparse", capacity, name);
        let desc_sectors = (desc.len() as u64).div_ceil(512).max(1);
        let tables = capacity.div_ceil(GRAIN_SECTORS).div_ceil(GTES);
        let gd_sectors = (tables * 4).div_ceil(512).max(1);
        let gts_sectors = tables * GTES * 4 / 512;
        let rgd = 1 + desc_sectors;
        let gd = rgd + gd_sectors + gts_sectors;
        let overhead = (gd + gd_sectors + gts_sectors).div_ceil(GRAIN_SECTORS) * GRAIN_SECTORS;
        if overhead + capacity.div_ceil(GRAIN_SECTORS) * GRAIN_SECTORS > u32::MAX as u64 {
            return Err(unsupported(
                F,
                "a monolithicSparse disk over 2 TiB",
                "its tables hold 32-bit sectors",
            ));
        }
        let h = header(
            1,
            FLAG_NEWLINE | FLAG_RGD,
            capacity,
            desc_sectors,
            rgd,
            gd,
            overhead,
        );
        sink.write_at(0, &h)?;
        let mut d = desc.into_bytes();
        d.resize((desc_sectors * 512) as usize, 0);
        sink.write_at(512, &d)?;
        Ok(SparseWriter {
            sink,
            rgd,
            gd,
            tables,
            gts: vec![None; tables as usize],
            next: overhead * 512,
            warnings,
        })
    }
}

impl ChunkWriter for SparseWriter {
    /// Zeros are unallocated clusters: nothing to write.
    fn skip(&mut self, _offset: u64, _len: u64) -> Result<bool> {
        Ok(true)
    }

    fn granularity(&self) -> usize {
        GRAIN as usize
    }

    fn write(&mut self, chunk: &Chunk) -> Result<()> {
        for (rel, n) in chunk.data_blocks(GRAIN as usize) {
            let grain = (chunk.offset + rel as u64) / GRAIN;
            let at = self.next;
            for (start, len) in chunk.data_runs(rel, n) {
                self.sink
                    .write_at(at + (start - rel) as u64, chunk.bytes(start, len))?;
            }
            self.next += GRAIN;
            let gt = self.gts[(grain / GTES) as usize]
                .get_or_insert_with(|| vec![0u32; GTES as usize].into_boxed_slice());
            gt[(grain % GTES) as usize] = (at / 512) as u32;
        }
        Ok(())
    }
}

impl DiskWriter for SparseWriter {
    fn finish(mut self: Box<Self>) -> Result<Finished> {
        let gd_sectors = (self.tables * 4).div_ceil(512).max(1);
        for dir in [self.rgd, self.gd] {
            let first_gt = dir + gd_sectors;
            let entries: Vec<u8> = (0..self.tables)
                .flat_map(|t| ((first_gt + t * GTES * 4 / 512) as u32).to_le_bytes())
                .collect();
            self.sink.write_at(dir * 512, &entries)?;
            for (t, gt) in self.gts.iter().enumerate() {
                if let Some(gt) = gt {
                    let bytes: Vec<u8> = gt.iter().flat_map(|e| e.to_le_bytes()).collect();
                    self.sink
                        .write_at((first_gt + t as u64 * GTES * 4 / 512) * 512, &bytes)?;
                }
            }
        }
        let end = self.next;
        self.sink.set_len(end)?;
        Ok(Finished {
            sink: self.sink,
            warnings: self.warnings,
        })
    }
}
