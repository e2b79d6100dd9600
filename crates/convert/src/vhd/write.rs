//! Writing VHDs: the footer (CHS geometry, creator "win ", a fresh UUID), the size rules
//! (Azure's whole MiB, the 2040 GiB limit), and the fixed and dynamic writers.

use super::{
    checksum, BLOCK, COOKIE, DYNAMIC, EPOCH_2000, F, FIXED, MAX_SIZE, MIB, SPARSE_COOKIE,
    UNALLOCATED,
};
use crate::disk::{whole_sectors, Chunk, ChunkWriter, DiskWriter, Finished};
use crate::error::{unsupported, Result};
use crate::raw::write_sparse;
use crate::sink::Sink;

/// CHS geometry for a size, by the VHD specification's algorithm.
pub fn geometry(size: u64) -> (u16, u8, u8) {
    let mut total = size / 512;
    if total > 65535 * 16 * 255 {
        total = 65535 * 16 * 255;
    }
    let (spt, heads, cth);
    if total >= 65535 * 16 * 63 {
        spt = 255;
        heads = 16;
        cth = total / spt;
    } else {
        let mut s = 17;
        let mut c = total / s;
        let mut h = c.div_ceil(1024).max(4);
        if c >= h * 1024 || h > 16 {
            s = 31;
            h = 16;
            c = total / s;
        }
        if c >= h * 1024 {
            s = 63;
            h = 16;
            c = total / s;
        }
        spt = s;
        heads = h;
        cth = c;
    }
    ((cth / heads) as u16, heads as u8, spt as u8)
}

/// A footer for a disk of `size` bytes.
pub fn make_footer(size: u64, disk_type: u32, data_offset: u64) -> [u8; 512] {
    let mut b = [0u8; 512];
    b[..8].copy_from_slice(COOKIE);
    b[8..12].copy_from_slice(&2u32.to_be_bytes());
    b[12..16].copy_from_slice(&0x0001_0000u32.to_be_bytes());
    b[16..24].copy_from_slice(&data_offset.to_be_bytes());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    b[24..28].copy_from_slice(&(now.saturating_sub(EPOCH_2000) as u32).to_be_bytes());
    // "win ": readers (qemu, Hyper-V, Azure) then take the current size, not the geometry.
    b[28..32].copy_from_slice(b"win ");
    b[32..36].copy_from_slice(&0x000a_0000u32.to_be_bytes());
    b[36..40].copy_from_slice(b"Wi2k");
    b[40..48].copy_from_slice(&size.to_be_bytes());
    b[48..56].copy_from_slice(&size.to_be_bytes());
    let (c, h, s) = geometry(size);
    b[56..58].copy_from_slice(&c.to_be_bytes());
    b[58] = h;
    b[59] = s;
    b[60..64].copy_from_slice(&disk_type.to_be_bytes());
    b[68..84].copy_from_slice(&uuid_v4());
    let sum = checksum(&b, 64);
    b[64..68].copy_from_slice(&sum.to_be_bytes());
    b
}

/// A random (version 4) UUID's bytes.
pub fn uuid_v4() -> [u8; 16] {
    let mut u = [0u8; 16];
    if std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut u))
        .is_err()
    {
        use sha2::Digest;
        let seed = format!("{:?} {}", std::time::SystemTime::now(), std::process::id());
        u.copy_from_slice(&sha2::Sha256::digest(seed.as_bytes())[..16]);
    }
    u[6] = (u[6] & 0x0f) | 0x40;
    u[8] = (u[8] & 0x3f) | 0x80;
    u
}

/// Check a size against the format's limit and, in Azure mode, round it up to a whole MiB.
pub fn output_size(size: u64, azure: bool) -> Result<(u64, Vec<String>)> {
    let mut warnings = Vec::new();
    let mut out = size.div_ceil(512) * 512;
    if azure && !out.is_multiple_of(MIB) {
        let rounded = out.div_ceil(MIB) * MIB;
        warnings.push(format!(
            "Azure needs a whole number of MiB: virtual size rounded up from {size} to {rounded} bytes (the guest sees {} more zero bytes at the end)",
            rounded - size
        ));
        out = rounded;
    } else {
        out = whole_sectors("VHD", size, &mut warnings);
    }
    if out > MAX_SIZE {
        return Err(unsupported(
            F,
            format!("a {out}-byte disk"),
            "VHD addresses at most 2040 GiB; use vhdx, qcow2 or vmdk",
        ));
    }
    Ok((out, warnings))
}

/// Writes a fixed VHD: sparse raw data, then the footer.
pub struct FixedWriter {
    sink: Sink,
    size: u64,
    warnings: Vec<String>,
}

impl FixedWriter {
    pub fn new(sink: Sink, size: u64, azure: bool) -> Result<FixedWriter> {
        let (size, warnings) = output_size(size, azure)?;
        Ok(FixedWriter {
            sink,
            size,
            warnings,
        })
    }
}

impl ChunkWriter for FixedWriter {
    fn write(&mut self, chunk: &Chunk) -> Result<()> {
        write_sparse(&mut self.sink, 0, chunk)
    }

    /// Zeros are a hole in the data area.
    fn skip(&mut self, offset: u64, len: u64) -> Result<bool> {
        self.sink.final_upto(offset + len);
        Ok(true)
    }
}

impl DiskWriter for FixedWriter {
    fn finish(mut self: Box<Self>) -> Result<Finished> {
        let footer = make_footer(self.size, FIXED, u64::MAX);
        self.sink.write_at(self.size, &footer)?;
        Ok(Finished {
            sink: self.sink,
            warnings: self.warnings,
        })
    }
}

/// Writes a dynamic VHD: blocks are allocated in order for every 2 MiB with data; zero
/// pages inside an allocated block stay holes in the file.
pub struct DynamicWriter {
    sink: Sink,
    bat: Vec<u32>,
    table: u64,
    next: u64,
    footer: [u8; 512],
    warnings: Vec<String>,
}

const BITMAP: u64 = 512;

impl DynamicWriter {
    pub fn new(mut sink: Sink, size: u64) -> Result<DynamicWriter> {
        let (size, warnings) = output_size(size, false)?;
        let entries = size.div_ceil(BLOCK);
        let table: u64 = 512 + 1024;
        let table_len = (entries * 4).div_ceil(512) * 512;
        let footer = make_footer(size, DYNAMIC, 512);
        sink.write_at(0, &footer)?;
        let mut h = [0u8; 1024];
        h[..8].copy_from_slice(SPARSE_COOKIE);
        h[8..16].copy_from_slice(&u64::MAX.to_be_bytes());
        h[16..24].copy_from_slice(&table.to_be_bytes());
        h[24..28].copy_from_slice(&0x0001_0000u32.to_be_bytes());
        h[28..32].copy_from_slice(&(entries as u32).to_be_bytes());
        h[32..36].copy_from_slice(&(BLOCK as u32).to_be_bytes());
        let sum = checksum(&h, 36);
        h[36..40].copy_from_slice(&sum.to_be_bytes());
        sink.write_at(512, &h)?;
        sink.final_upto(table);
        Ok(DynamicWriter {
            sink,
            bat: vec![UNALLOCATED; entries as usize],
            table,
            next: table + table_len,
            footer,
            warnings,
        })
    }
}

impl ChunkWriter for DynamicWriter {
    /// Zeros are unallocated clusters: nothing to write.
    fn skip(&mut self, _offset: u64, _len: u64) -> Result<bool> {
        Ok(true)
    }

    fn granularity(&self) -> usize {
        BLOCK as usize
    }

    fn write(&mut self, chunk: &Chunk) -> Result<()> {
        for (rel, n) in chunk.data_blocks(BLOCK as usize) {
            let index = (chunk.offset + rel as u64) / BLOCK;
            let at = self.next;
            self.bat[index as usize] = (at / 512) as u32;
            self.sink.write_at(at, &[0xff; BITMAP as usize])?;
            for (start, len) in chunk.data_runs(rel, n) {
                self.sink
                    .write_at(at + BITMAP + (start - rel) as u64, chunk.bytes(start, len))?;
            }
            self.next = at + BITMAP + BLOCK;
        }
        Ok(())
    }
}

impl DiskWriter for DynamicWriter {
    fn finish(mut self: Box<Self>) -> Result<Finished> {
        let bat: Vec<u8> = self.bat.iter().flat_map(|e| e.to_be_bytes()).collect();
        let mut padded = bat;
        padded.resize(padded.len().div_ceil(512) * 512, 0xff);
        self.sink.write_at(self.table, &padded)?;
        // The same footer (and unique id) at both ends.
        let footer = self.footer;
        self.sink.write_at(self.next, &footer)?;
        Ok(Finished {
            sink: self.sink,
            warnings: self.warnings,
        })
    }
}
