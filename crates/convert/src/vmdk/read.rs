//! VMDK reading: the sparse extent header and hosted sparse extents (monolithicSparse and
//! both streamOptimized layouts, grain directory up front or behind a footer).

use super::{
    F, FLAG_COMPRESSED, FLAG_MARKERS, FLAG_NEWLINE, GD_AT_END, MAGIC, MARKER_FOOTER,
    MAX_DESCRIPTOR, MAX_GRAIN_SECTORS,
};
use crate::bytes::{le16, le32, le64};
use crate::disk::{block_read, block_run, DiskInfo, DiskReader, Run};
use crate::error::{corrupt, unsupported, Result};
use crate::source::{Source, MAX_TABLE_BYTES};
use crate::Format;
use libdeflater::Decompressor;

/// A parsed sparse extent header.
#[derive(Clone, Debug)]
struct Header {
    flags: u32,
    capacity: u64,
    grain: u64,
    desc_offset: u64,
    desc_size: u64,
    gtes: u64,
    gd_offset: u64,
}

fn parse_header(b: &[u8; 512], at: u64) -> Result<Header> {
    if &b[..4] != MAGIC {
        return Err(corrupt(F, "sparse header", at, "magic is not KDMV"));
    }
    let version = le32(b, 4);
    if !(1..=3).contains(&version) {
        return Err(unsupported(
            F,
            format!("sparse extent version {version}"),
            "versions 1 to 3 are read",
        ));
    }
    let flags = le32(b, 8);
    if flags & FLAG_NEWLINE != 0 && &b[73..77] != b"\n \r\n" {
        return Err(corrupt(
            F,
            "sparse header",
            at + 73,
            "end-of-line check bytes are altered (was the file copied in text mode?)",
        ));
    }
    let h = Header {
        flags,
        capacity: le64(b, 12),
        grain: le64(b, 20),
        desc_offset: le64(b, 28),
        desc_size: le64(b, 36),
        gtes: le32(b, 44) as u64,
        gd_offset: le64(b, 56),
    };
    if h.grain == 0 || !h.grain.is_power_of_two() || h.grain > MAX_GRAIN_SECTORS {
        return Err(corrupt(
            F,
            "sparse header",
            at + 20,
            format!(
                "grain of {} sectors is not a power of two up to {MAX_GRAIN_SECTORS}",
                h.grain
            ),
        ));
    }
    // qemu refuses grain tables of more than 512 entries ("L2 table size too big").
    if h.gtes == 0 || h.gtes > 512 {
        return Err(corrupt(
            F,
            "sparse header",
            at + 44,
            format!("{} entries per grain table is outside 1..=512", h.gtes),
        ));
    }
    // Up to 2^54 sectors (8 EiB): the size in bytes always fits.
    if h.capacity > (1u64 << 54) {
        return Err(corrupt(
            F,
            "sparse header",
            at + 12,
            format!("capacity of {} sectors is absurd", h.capacity),
        ));
    }
    if flags & FLAG_COMPRESSED != 0 && le16(b, 77) != 1 {
        return Err(unsupported(
            F,
            format!("compression algorithm {}", le16(b, 77)),
            "only deflate (1) exists",
        ));
    }
    Ok(h)
}

/// Reads one hosted sparse extent.
pub struct SparseReader {
    src: Source,
    info: DiskInfo,
    grain: u64,
    gtes: u64,
    compressed: bool,
    markers: bool,
    gd: Vec<u32>,
    gt: Option<(u32, Vec<u32>)>,
    inflated: Option<(u64, Vec<u8>)>,
    packed: Vec<u8>,
    inflater: Decompressor,
}

impl SparseReader {
    pub fn open(src: Source) -> Result<SparseReader> {
        let mut b = [0u8; 512];
        src.read_at(F, "sparse header", 0, &mut b)?;
        let mut h = parse_header(&b, 0)?;
        let mut header_at = 0;
        let mut details = Vec::new();
        if h.gd_offset == GD_AT_END {
            // VMware's stream layout: footer marker, footer, end-of-stream marker.
            if src.len() < 1536 {
                return Err(corrupt(
                    F,
                    "footer",
                    0,
                    "grain directory is at the end but the file has no footer",
                ));
            }
            let at = src.len() - 1536;
            let mut m = [0u8; 512];
            src.read_at(F, "footer marker", at, &mut m)?;
            if le32(&m, 8) != 0 || le32(&m, 12) != MARKER_FOOTER {
                return Err(corrupt(
                    F,
                    "footer marker",
                    at,
                    "no footer marker 1536 bytes before the end",
                ));
            }
            src.read_at(F, "footer", at + 512, &mut b)?;
            let footer = parse_header(&b, at + 512)?;
            if footer.gd_offset == GD_AT_END {
                return Err(corrupt(
                    F,
                    "footer",
                    at + 512 + 56,
                    "footer does not say where the grain directory is",
                ));
            }
            h = footer;
            header_at = at + 512;
            details.push("grain directory at end".to_string());
        }
        if h.desc_size > 0 {
            let at = h
                .desc_offset
                .checked_mul(512)
                .filter(|&at| at < src.len())
                .ok_or_else(|| {
                    corrupt(
                        F,
                        "sparse header",
                        header_at + 28,
                        format!(
                            "embedded descriptor at sector {} is past the end of the file",
                            h.desc_offset
                        ),
                    )
                })?;
            check_descriptor_parent(&src, at, h.desc_size.saturating_mul(512))?;
        }
        let grains = h.capacity.div_ceil(h.grain);
        let tables = grains.div_ceil(h.gtes);
        if tables * 4 > MAX_TABLE_BYTES {
            return Err(corrupt(
                F,
                "grain directory",
                h.gd_offset.saturating_mul(512),
                "directory is too large",
            ));
        }
        let raw = src.read_table(
            F,
            "grain directory",
            h.gd_offset.saturating_mul(512),
            tables * 4,
        )?;
        let gd = raw.chunks_exact(4).map(|e| le32(e, 0)).collect();
        let compressed = h.flags & FLAG_COMPRESSED != 0;
        details.insert(
            0,
            if compressed {
                "streamOptimized".into()
            } else {
                "monolithicSparse".into()
            },
        );
        details.push(format!("grain {}", h.grain * 512));
        let format = if compressed {
            Format::Vmdk
        } else {
            Format::VmdkSparse
        };
        Ok(SparseReader {
            src,
            info: DiskInfo {
                format,
                virtual_size: h.capacity * 512,
                details,
            },
            grain: h.grain * 512,
            gtes: h.gtes,
            compressed,
            markers: h.flags & FLAG_MARKERS != 0,
            gd,
            gt: None,
            inflated: None,
            packed: Vec::new(),
            inflater: Decompressor::new(),
        })
    }

    /// The grain table entry for grain `g`: 0 unallocated, 1 zeroed, else a sector.
    fn entry(&mut self, g: u64) -> Result<u32> {
        let t = (g / self.gtes) as usize;
        let gde = self.gd[t];
        if gde == 0 || gde == 1 {
            return Ok(0);
        }
        if self.gt.as_ref().map(|(o, _)| *o) != Some(gde) {
            let raw = self
                .src
                .read_table(F, "grain table", gde as u64 * 512, self.gtes * 4)?;
            self.gt = Some((gde, raw.chunks_exact(4).map(|e| le32(e, 0)).collect()));
        }
        Ok(self.gt.as_ref().expect("loaded").1[(g % self.gtes) as usize])
    }

    fn inflate(&mut self, g: u64, sector: u64) -> Result<()> {
        if self.inflated.as_ref().map(|(s, _)| *s) == Some(sector) {
            return Ok(());
        }
        let at = sector * 512;
        let grain = self.grain as usize;
        let (data_at, len) = if self.markers {
            let mut m = [0u8; 12];
            self.src.read_at(F, "grain marker", at, &mut m)?;
            let lba = le64(&m, 0);
            let len = le32(&m, 8) as u64;
            if lba != g * (self.grain / 512) {
                return Err(corrupt(
                    F,
                    "grain marker",
                    at,
                    format!("marker says sector {lba}, grain table says grain {g}"),
                ));
            }
            if len == 0 || len > 2 * self.grain + 1024 {
                return Err(corrupt(
                    F,
                    "grain marker",
                    at + 8,
                    format!("compressed size {len} for a {grain}-byte grain"),
                ));
            }
            (at + 12, len)
        } else {
            (at, (2 * self.grain).min(self.src.len().saturating_sub(at)))
        };
        self.packed.resize(len as usize, 0);
        self.src
            .read_at(F, "compressed grain", data_at, &mut self.packed)?;
        let mut out = self.inflated.take().map(|(_, b)| b).unwrap_or_default();
        out.resize(grain, 0);
        match self.inflater.zlib_decompress(&self.packed, &mut out) {
            Ok(n) => out[n..].fill(0),
            Err(e) => {
                return Err(corrupt(
                    F,
                    "compressed grain",
                    at,
                    format!("zlib data is invalid ({e:?})"),
                ))
            }
        }
        self.inflated = Some((sector, out));
        Ok(())
    }
}

/// Refuse descriptors with a parent (differencing disks).
fn check_descriptor_parent(src: &Source, at: u64, len: u64) -> Result<()> {
    let len = len.min(MAX_DESCRIPTOR).min(src.len().saturating_sub(at));
    let mut text = vec![0u8; len as usize];
    src.read_at(F, "embedded descriptor", at, &mut text)?;
    let text = String::from_utf8_lossy(&text);
    for line in text.lines() {
        if let Some(v) = line.trim().strip_prefix("parentCID") {
            let v = v.trim_start_matches([' ', '=']).trim();
            if !v.eq_ignore_ascii_case("ffffffff") {
                return Err(unsupported(
                    F,
                    "a differencing disk (parentCID is set)",
                    "merge it into its parent first",
                ));
            }
        }
    }
    Ok(())
}

impl DiskReader for SparseReader {
    fn info(&self) -> &DiskInfo {
        &self.info
    }

    fn map(&mut self, offset: u64, max: u64) -> Result<Run> {
        let grain = self.grain;
        block_run(offset, max, grain, |g| Ok(self.entry(g)? > 1))
    }

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<()> {
        block_read(offset, buf, self.grain, |g, within, part| {
            let e = self.entry(g)? as u64;
            if e <= 1 {
                part.fill(0);
            } else if self.compressed {
                self.inflate(g, e)?;
                let bytes = &self.inflated.as_ref().expect("inflated").1;
                part.copy_from_slice(&bytes[within as usize..within as usize + part.len()]);
            } else {
                self.src.read_at(F, "grain", e * 512 + within, part)?;
            }
            Ok(())
        })
    }
}
