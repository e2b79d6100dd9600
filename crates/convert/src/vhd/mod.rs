//! VHD (Virtual PC / Hyper-V): fixed (raw data then a 512-byte footer) and dynamic (footer
//! copy, dynamic header, block allocation table, 2 MiB blocks each behind a sector bitmap).
//! Differencing disks are refused. The virtual size is read the way qemu reads it (CHS
//! geometry unless the creator is one that uses the footer's current size); drydock writes
//! creator "win ", so readers take the exact current size. Azure mode rounds the size up to
//! a whole MiB.

use super::bytes::{be16, be32, be64};
use super::disk::{block_read, block_run, DiskInfo, DiskReader, Run};
use super::error::{corrupt, unsupported, Result};
use super::raw::RawReader;
use super::source::{Source, MAX_TABLE_BYTES};
use super::Format;

mod write;
pub use write::{geometry, make_footer, output_size, uuid_v4, DynamicWriter, FixedWriter};

const F: &str = "vhd";
pub const COOKIE: &[u8; 8] = b"conectix";
const SPARSE_COOKIE: &[u8; 8] = b"cxsparse";
const FIXED: u32 = 2;
const DYNAMIC: u32 = 3;
const DIFFERENCING: u32 = 4;
const UNALLOCATED: u32 = 0xFFFF_FFFF;
const BLOCK: u64 = 2 << 20;
/// The largest disk the format addresses (qemu's limit: 2040 GiB).
const MAX_SIZE: u64 = 2040 << 30;
const MIB: u64 = 1 << 20;
/// Seconds from the Unix epoch to 2000-01-01.
const EPOCH_2000: u64 = 946_684_800;

/// A parsed footer.
#[derive(Clone, Debug)]
pub struct Footer {
    pub disk_type: u32,
    pub data_offset: u64,
    pub size: u64,
}

/// Whether the checksum over a footer or header (ones' complement of the byte sum, with the
/// checksum field itself counted as zero) matches.
fn checksum(bytes: &[u8], field: usize) -> u32 {
    let sum: u32 = bytes
        .iter()
        .enumerate()
        .filter(|(i, _)| !(field..field + 4).contains(i))
        .fold(0u32, |s, (_, &b)| s.wrapping_add(b as u32));
    !sum
}

/// Parse a footer found at `offset`.
pub fn parse_footer(b: &[u8; 512], offset: u64) -> Result<Footer> {
    if &b[..8] != COOKIE {
        return Err(corrupt(F, "footer", offset, "cookie is not \"conectix\""));
    }
    let stored = be32(b, 64);
    let want = checksum(b, 64);
    if stored != want {
        return Err(corrupt(
            F,
            "footer",
            offset + 64,
            format!("checksum {stored:#010x}, computed {want:#010x}"),
        ));
    }
    let disk_type = be32(b, 60);
    let current = be64(b, 48);
    let (c, h, s) = (be16(b, 56) as u64, b[58] as u64, b[59] as u64);
    // qemu's rule: these creators store the exact size; others are sized by geometry,
    // except when the geometry is at its maximum.
    let exact = matches!(&b[28..32], b"win " | b"qem2" | b"d2v " | b"CTXS" | b"tap\0");
    let size = if exact || (c, h, s) == (65535, 16, 255) {
        current
    } else {
        c * h * s * 512
    };
    if size > MAX_SIZE {
        return Err(corrupt(
            F,
            "footer",
            offset + 48,
            format!("virtual size {size} is above the format's 2040 GiB"),
        ));
    }
    match disk_type {
        FIXED | DYNAMIC => {}
        DIFFERENCING => {
            return Err(unsupported(
                F,
                "a differencing disk",
                "merge it into its parent first",
            ))
        }
        other => {
            return Err(corrupt(
                F,
                "footer",
                offset + 60,
                format!("disk type {other} is not fixed (2), dynamic (3) or differencing (4)"),
            ))
        }
    }
    Ok(Footer {
        disk_type,
        data_offset: be64(b, 16),
        size,
    })
}

/// The footer at the end of a file, if any (fixed VHDs are found this way).
pub fn footer_at_end(src: &Source) -> Option<Footer> {
    if src.len() < 512 {
        return None;
    }
    let mut b = [0u8; 512];
    src.read_at(F, "footer", src.len() - 512, &mut b).ok()?;
    parse_footer(&b, src.len() - 512).ok()
}

/// Open a VHD of either kind.
pub fn open(src: Source) -> Result<Box<dyn DiskReader>> {
    if src.len() < 512 {
        return Err(corrupt(F, "footer", 0, "the file is shorter than a footer"));
    }
    let at = src.len() - 512;
    let mut b = [0u8; 512];
    src.read_at(F, "footer", at, &mut b)?;
    let footer = match parse_footer(&b, at) {
        Ok(f) => f,
        // A dynamic disk keeps a copy at the start.
        Err(e) => {
            src.read_at(F, "footer copy", 0, &mut b)?;
            parse_footer(&b, 0).map_err(|_| e)?
        }
    };
    if footer.disk_type == FIXED {
        if footer.size > at {
            return Err(corrupt(
                F,
                "footer",
                at + 48,
                format!(
                    "fixed disk of {} bytes but only {at} bytes of data",
                    footer.size
                ),
            ));
        }
        let mut r = RawReader::with_size(src, Format::Vhd, footer.size)?;
        r.info_mut().details.push("fixed".into());
        return Ok(Box::new(r));
    }
    Ok(Box::new(DynamicReader::open(src, footer)?))
}

/// Reads a dynamic VHD.
pub struct DynamicReader {
    src: Source,
    info: DiskInfo,
    block: u64,
    bitmap: u64,
    bat: Vec<u32>,
}

impl DynamicReader {
    fn open(src: Source, footer: Footer) -> Result<DynamicReader> {
        let at = footer.data_offset;
        let mut h = [0u8; 1024];
        src.read_at(F, "dynamic header", at, &mut h)?;
        if &h[..8] != SPARSE_COOKIE {
            return Err(corrupt(
                F,
                "dynamic header",
                at,
                "cookie is not \"cxsparse\"",
            ));
        }
        let stored = be32(&h, 36);
        let want = checksum(&h, 36);
        if stored != want {
            return Err(corrupt(
                F,
                "dynamic header",
                at + 36,
                format!("checksum {stored:#010x}, computed {want:#010x}"),
            ));
        }
        let table = be64(&h, 16);
        let entries = be32(&h, 28) as u64;
        let block = be32(&h, 32) as u64;
        if !block.is_power_of_two() || !(512..=(256 << 20)).contains(&block) {
            return Err(corrupt(
                F,
                "dynamic header",
                at + 32,
                format!("block size {block} is not a power of two from 512 B to 256 MiB"),
            ));
        }
        let needed = footer.size.div_ceil(block);
        if entries < needed {
            return Err(corrupt(
                F,
                "dynamic header",
                at + 28,
                format!("{entries} table entries for a disk that needs {needed}"),
            ));
        }
        // The whole table the header declares must be in the file (qemu refuses it too).
        if table >= src.len() {
            return Err(corrupt(
                F,
                "dynamic header",
                at + 16,
                format!(
                    "table offset {table:#x} is past the end of the file ({} bytes)",
                    src.len()
                ),
            ));
        }
        if table
            .checked_add(entries * 4)
            .is_none_or(|end| end > src.len())
        {
            return Err(corrupt(
                F,
                "dynamic header",
                at + 28,
                format!(
                    "{entries} table entries ({} bytes at {table:#x}) run past the end of the file ({} bytes)",
                    entries * 4,
                    src.len()
                ),
            ));
        }
        if needed * 4 > MAX_TABLE_BYTES {
            return Err(corrupt(
                F,
                "block allocation table",
                table,
                "table is too large",
            ));
        }
        let raw = src.read_table(F, "block allocation table", table, needed * 4)?;
        let bat = raw.chunks_exact(4).map(|e| be32(e, 0)).collect();
        let bitmap = (block / 512 / 8).div_ceil(512) * 512;
        Ok(DynamicReader {
            src,
            info: DiskInfo {
                format: Format::VhdDynamic,
                virtual_size: footer.size,
                details: vec!["dynamic".into(), format!("block {block}")],
            },
            block,
            bitmap,
            bat,
        })
    }

    /// Where block `i`'s data starts in the file, if allocated.
    fn block_data(&self, i: u64) -> Result<Option<u64>> {
        let e = self.bat[i as usize];
        if e == UNALLOCATED {
            return Ok(None);
        }
        let at = e as u64 * 512 + self.bitmap;
        if at + self.block > self.src.len() + self.block {
            return Err(corrupt(
                F,
                "block allocation table",
                i * 4,
                format!("block {i} at sector {e} is past the end of the file"),
            ));
        }
        Ok(Some(at))
    }
}

impl DiskReader for DynamicReader {
    fn info(&self) -> &DiskInfo {
        &self.info
    }

    fn map(&mut self, offset: u64, max: u64) -> Result<Run> {
        let block = self.block;
        block_run(offset, max, block, |i| Ok(self.block_data(i)?.is_some()))
    }

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<()> {
        block_read(offset, buf, self.block, |b, within, part| {
            match self.block_data(b)? {
                None => part.fill(0),
                Some(at) => {
                    // The last block may be cut short by the footer: the rest reads as zeros.
                    let got = self.src.read_upto(at + within, part)?;
                    part[got..].fill(0);
                }
            }
            Ok(())
        })
    }
}
