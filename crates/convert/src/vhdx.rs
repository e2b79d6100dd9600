//! VHDX (read only): the file identifier, the two headers (the valid one with the higher
//! sequence number wins, CRC-32C checked), the region table, the metadata items and the
//! block allocation table with its interleaved sector-bitmap entries. A header naming a log
//! (a dirty image that needs its log replayed) and differencing disks are refused.

use super::bytes::{le16, le32, le64};
use super::disk::{block_read, block_run, DiskInfo, DiskReader, Run};
use super::error::{corrupt, unsupported, Result};
use super::source::{Source, MAX_TABLE_BYTES};
use super::Format;

const F: &str = "vhdx";
pub const SIGNATURE: &[u8; 8] = b"vhdxfile";
const KIB64: u64 = 64 << 10;
const BAT_GUID: [u8; 16] = guid(
    0x2DC27766,
    0xF623,
    0x4200,
    [0x9D, 0x64, 0x11, 0x5E, 0x9B, 0xFD, 0x4A, 0x08],
);
const METADATA_GUID: [u8; 16] = guid(
    0x8B7CA206,
    0x4790,
    0x4B9A,
    [0xB8, 0xFE, 0x57, 0x5F, 0x05, 0x0F, 0x88, 0x6E],
);
const FILE_PARAMETERS: [u8; 16] = guid(
    0xCAA16737,
    0xFA36,
    0x4D43,
    [0xB3, 0xB6, 0x33, 0xF0, 0xAA, 0x44, 0xE7, 0x6B],
);
const VIRTUAL_DISK_SIZE: [u8; 16] = guid(
    0x2FA54224,
    0xCD1B,
    0x4876,
    [0xB2, 0x11, 0x5D, 0xBE, 0xD8, 0x3B, 0xF4, 0xB8],
);
const LOGICAL_SECTOR: [u8; 16] = guid(
    0x8141BF1D,
    0xA96F,
    0x4709,
    [0xBA, 0x47, 0xF2, 0x33, 0xA8, 0xFA, 0xAB, 0x5F],
);
const PHYSICAL_SECTOR: [u8; 16] = guid(
    0xCDA348C7,
    0x445D,
    0x4471,
    [0x9C, 0xC9, 0xE9, 0x88, 0x52, 0x51, 0xC5, 0x56],
);
const PAGE83: [u8; 16] = guid(
    0xBECA12AB,
    0xB2E6,
    0x4523,
    [0x93, 0xEF, 0xC3, 0x09, 0xE0, 0x00, 0xC7, 0x46],
);
const PARENT_LOCATOR: [u8; 16] = guid(
    0xA8D35F2D,
    0xB30B,
    0x454D,
    [0xAB, 0xF7, 0xD3, 0xD8, 0x48, 0x34, 0xAB, 0x0C],
);
const FULLY_PRESENT: u64 = 6;
const PARTIALLY_PRESENT: u64 = 7;

/// A GUID in its on-disk (mixed-endian) byte order.
const fn guid(a: u32, b: u16, c: u16, d: [u8; 8]) -> [u8; 16] {
    let a = a.to_le_bytes();
    let b = b.to_le_bytes();
    let c = c.to_le_bytes();
    [
        a[0], a[1], a[2], a[3], b[0], b[1], c[0], c[1], d[0], d[1], d[2], d[3], d[4], d[5], d[6],
        d[7],
    ]
}

/// CRC-32C of `bytes` with the 4-byte checksum at `field` taken as zero.
fn crc(bytes: &[u8], field: usize) -> u32 {
    let mut copy = bytes.to_vec();
    copy[field..field + 4].fill(0);
    crc32c::crc32c(&copy)
}

pub struct VhdxReader {
    src: Source,
    info: DiskInfo,
    block: u64,
    chunk_ratio: u64,
    bat_offset: u64,
    bat_entries: u64,
    /// A cached page of BAT entries: (first entry index, entries).
    page: Option<(u64, Vec<u64>)>,
}

const BAT_PAGE: u64 = 4096;

impl VhdxReader {
    pub fn open(src: Source) -> Result<VhdxReader> {
        let mut sig = [0u8; 8];
        src.read_at(F, "file identifier", 0, &mut sig)?;
        if &sig != SIGNATURE {
            return Err(corrupt(
                F,
                "file identifier",
                0,
                "signature is not \"vhdxfile\"",
            ));
        }
        // The current header: valid, with the higher sequence number.
        let mut best: Option<(u64, Vec<u8>, u64)> = None;
        let mut first_err = None;
        for at in [KIB64, 2 * KIB64] {
            let mut h = vec![0u8; 4096];
            src.read_at(F, "header", at, &mut h)?;
            if &h[..4] != b"head" {
                first_err.get_or_insert(corrupt(F, "header", at, "signature is not \"head\""));
                continue;
            }
            if le32(&h, 4) != crc(&h, 4) {
                first_err.get_or_insert(corrupt(F, "header", at + 4, "CRC-32C does not match"));
                continue;
            }
            let seq = le64(&h, 8);
            if best.as_ref().is_none_or(|(s, _, _)| seq > *s) {
                best = Some((seq, h, at));
            }
        }
        let Some((_, h, h_at)) = best else {
            return Err(first_err.expect("both headers failed"));
        };
        if h[48..64].iter().any(|&b| b != 0) {
            return Err(unsupported(
                F,
                "an image with a log to replay (it was not closed cleanly)",
                "open it once in Hyper-V, or repair it with qemu-img check -r all, then convert",
            ));
        }
        let version = le16(&h, 66);
        if version != 1 {
            return Err(unsupported(
                F,
                format!("header version {version}"),
                "version 1 is read",
            ));
        }
        let _ = h_at;
        // Region table (the copy at 256 KiB if the first is damaged).
        let mut regions = None;
        let mut region_err = None;
        for at in [3 * KIB64, 4 * KIB64] {
            let mut r = vec![0u8; KIB64 as usize];
            src.read_at(F, "region table", at, &mut r)?;
            if &r[..4] != b"regi" {
                region_err.get_or_insert(corrupt(
                    F,
                    "region table",
                    at,
                    "signature is not \"regi\"",
                ));
            } else if le32(&r, 4) != crc(&r, 4) {
                region_err.get_or_insert(corrupt(
                    F,
                    "region table",
                    at + 4,
                    "CRC-32C does not match",
                ));
            } else {
                regions = Some((at, r));
                break;
            }
        }
        let Some((r_at, r)) = regions else {
            return Err(region_err.expect("both region tables failed"));
        };
        let count = le32(&r, 8) as usize;
        if count > 2047 {
            return Err(corrupt(
                F,
                "region table",
                r_at + 8,
                format!("{count} entries (at most 2047)"),
            ));
        }
        let (mut bat, mut meta) = (None, None);
        for i in 0..count {
            let e = &r[16 + i * 32..48 + i * 32];
            let (offset, len, required) = (le64(e, 16), le32(e, 24) as u64, le32(e, 28) & 1 != 0);
            let id: [u8; 16] = e[..16].try_into().expect("16 bytes");
            if offset % (1 << 20) != 0
                || offset < 1 << 20
                || offset.checked_add(len).is_none_or(|end| end > src.len())
            {
                return Err(corrupt(F, "region table", r_at + 16 + i as u64 * 32, format!("region {i} at {offset}+{len} is misaligned or past the end of the file ({} bytes)", src.len())));
            }
            if id == BAT_GUID {
                bat = Some((offset, len));
            } else if id == METADATA_GUID {
                meta = Some((offset, len));
            } else if required {
                return Err(unsupported(
                    F,
                    "an unknown required region",
                    "written by a newer Hyper-V",
                ));
            }
        }
        let (bat_offset, bat_len) = bat
            .ok_or_else(|| corrupt(F, "region table", r_at, "no block allocation table region"))?;
        let (meta_offset, meta_len) =
            meta.ok_or_else(|| corrupt(F, "region table", r_at, "no metadata region"))?;
        // Metadata.
        let mut mh = [0u8; 32];
        src.read_at(F, "metadata table", meta_offset, &mut mh)?;
        if &mh[..8] != b"metadata" {
            return Err(corrupt(
                F,
                "metadata table",
                meta_offset,
                "signature is not \"metadata\"",
            ));
        }
        let items = le16(&mh, 10) as u64;
        if items > 2047 || 32 + items * 32 > meta_len {
            return Err(corrupt(
                F,
                "metadata table",
                meta_offset + 10,
                format!("{items} entries do not fit the region"),
            ));
        }
        let table = src.read_table(F, "metadata table", meta_offset + 32, items * 32)?;
        let (mut block, mut size, mut sector, mut params_flags) = (None, None, None, 0u32);
        for i in 0..items as usize {
            let e = &table[i * 32..i * 32 + 32];
            let id: [u8; 16] = e[..16].try_into().expect("16 bytes");
            let (off, len, flags) = (le32(e, 16) as u64, le32(e, 20) as u64, le32(e, 24));
            let at = meta_offset + 32 + i as u64 * 32;
            if len > 0 && (off < KIB64 || off + len > meta_len) {
                return Err(corrupt(
                    F,
                    "metadata entry",
                    at,
                    format!("item at {off}+{len} is outside the metadata region"),
                ));
            }
            let read = |n: usize| -> Result<Vec<u8>> {
                if len < n as u64 {
                    return Err(corrupt(
                        F,
                        "metadata entry",
                        at,
                        format!("item is {len} bytes, {n} expected"),
                    ));
                }
                let mut b = vec![0u8; n];
                src.read_at(F, "metadata item", meta_offset + off, &mut b)?;
                Ok(b)
            };
            if id == FILE_PARAMETERS {
                let b = read(8)?;
                block = Some((le32(&b, 0) as u64, meta_offset + off));
                params_flags = le32(&b, 4);
            } else if id == VIRTUAL_DISK_SIZE {
                size = Some((le64(&read(8)?, 0), meta_offset + off));
            } else if id == LOGICAL_SECTOR {
                sector = Some((le32(&read(4)?, 0) as u64, meta_offset + off));
            } else if id == PARENT_LOCATOR {
                return Err(unsupported(
                    F,
                    "a differencing disk",
                    "merge it into its parent first",
                ));
            } else if id != PHYSICAL_SECTOR && id != PAGE83 && flags & 4 != 0 {
                return Err(unsupported(
                    F,
                    "an unknown required metadata item",
                    "written by a newer Hyper-V",
                ));
            }
        }
        if params_flags & 2 != 0 {
            return Err(unsupported(
                F,
                "a differencing disk",
                "merge it into its parent first",
            ));
        }
        let (block, block_at) = block
            .ok_or_else(|| corrupt(F, "metadata table", meta_offset, "no file parameters item"))?;
        let (size, size_at) = size.ok_or_else(|| {
            corrupt(
                F,
                "metadata table",
                meta_offset,
                "no virtual disk size item",
            )
        })?;
        let (sector, sector_at) = sector.ok_or_else(|| {
            corrupt(
                F,
                "metadata table",
                meta_offset,
                "no logical sector size item",
            )
        })?;
        if !block.is_power_of_two() || !((1 << 20)..=(256 << 20)).contains(&block) {
            return Err(corrupt(
                F,
                "file parameters",
                block_at,
                format!("block size {block} is not a power of two from 1 to 256 MiB"),
            ));
        }
        if sector != 512 && sector != 4096 {
            return Err(corrupt(
                F,
                "logical sector size",
                sector_at,
                format!("{sector} is neither 512 nor 4096"),
            ));
        }
        if size == 0 || size > 64 << 40 || size % sector != 0 {
            return Err(corrupt(
                F,
                "virtual disk size",
                size_at,
                format!("{size} bytes is not a non-zero multiple of the sector up to 64 TiB"),
            ));
        }
        let chunk_ratio = ((1u64 << 23) * sector) / block;
        let blocks = size.div_ceil(block);
        let bat_entries = if blocks == 0 {
            0
        } else {
            blocks + (blocks - 1) / chunk_ratio
        };
        if bat_entries * 8 > bat_len {
            return Err(corrupt(
                F,
                "block allocation table",
                bat_offset,
                format!("{bat_entries} entries do not fit a {bat_len}-byte region"),
            ));
        }
        if bat_entries * 8 > MAX_TABLE_BYTES * 8 {
            return Err(corrupt(
                F,
                "block allocation table",
                bat_offset,
                "table is too large",
            ));
        }
        Ok(VhdxReader {
            src,
            info: DiskInfo {
                format: Format::Vhdx,
                virtual_size: size,
                details: vec![format!("block {block}"), format!("sector {sector}")],
            },
            block,
            chunk_ratio,
            bat_offset,
            bat_entries,
            page: None,
        })
    }

    /// Where payload block `i` lives: `None` for zero or unallocated.
    fn block_at(&mut self, i: u64) -> Result<Option<u64>> {
        let index = i + i / self.chunk_ratio;
        if index >= self.bat_entries {
            return Ok(None);
        }
        let first = index / BAT_PAGE * BAT_PAGE;
        if self.page.as_ref().map(|(f, _)| *f) != Some(first) {
            let n = BAT_PAGE.min(self.bat_entries - first);
            let raw = self.src.read_table(
                F,
                "block allocation table",
                self.bat_offset + first * 8,
                n * 8,
            )?;
            self.page = Some((first, raw.chunks_exact(8).map(|e| le64(e, 0)).collect()));
        }
        let e = self.page.as_ref().expect("loaded").1[(index - first) as usize];
        let at = self.bat_offset + index * 8;
        match e & 7 {
            0..=3 => Ok(None),
            FULLY_PRESENT => {
                let offset = (e >> 20) << 20;
                if offset < 1 << 20
                    || offset
                        .checked_add(self.block)
                        .is_none_or(|end| end > self.src.len())
                {
                    return Err(corrupt(
                        F,
                        "block allocation table",
                        at,
                        format!(
                            "block {i} at {offset} is outside the file ({} bytes)",
                            self.src.len()
                        ),
                    ));
                }
                Ok(Some(offset))
            }
            PARTIALLY_PRESENT => Err(unsupported(
                F,
                "a partially present block (differencing disk)",
                "merge it into its parent first",
            )),
            s => Err(corrupt(
                F,
                "block allocation table",
                at,
                format!("block {i} has undefined state {s}"),
            )),
        }
    }
}

impl DiskReader for VhdxReader {
    fn info(&self) -> &DiskInfo {
        &self.info
    }

    fn map(&mut self, offset: u64, max: u64) -> Result<Run> {
        let block = self.block;
        block_run(offset, max, block, |i| Ok(self.block_at(i)?.is_some()))
    }

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<()> {
        block_read(offset, buf, self.block, |b, within, part| {
            match self.block_at(b)? {
                None => part.fill(0),
                Some(at) => self.src.read_at(F, "payload block", at + within, part)?,
            }
            Ok(())
        })
    }
}
