//! Inside a FAT partition (the EFI system partition), read with `fatfs` through the engine's
//! reader mapped onto the partition's byte range, never written: usage, the EFI boot loaders
//! (`/EFI/*/*.efi`) and unified kernel images (`/EFI/Linux/*.efi`).

use super::contents::Contents;
use super::error::ContentError;
use drydock_convert::DiskReader;
use std::io::{self, Read, Seek, SeekFrom, Write};

/// A partition's bytes as a seekable stream; writes are refused.
struct FatRead {
    reader: Box<dyn DiskReader>,
    start: u64,
    len: u64,
    pos: u64,
}

impl Read for FatRead {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = (self.len.saturating_sub(self.pos)).min(buf.len() as u64) as usize;
        if n == 0 {
            return Ok(0);
        }
        self.reader
            .read_at(self.start + self.pos, &mut buf[..n])
            .map_err(|e| io::Error::other(e.to_string()))?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Write for FatRead {
    fn write(&mut self, _: &[u8]) -> io::Result<usize> {
        Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            "drydock reads images, never writes them",
        ))
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Seek for FatRead {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let pos = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = pos.ok_or_else(|| io::Error::other("seek before the partition's start"))?;
        Ok(self.pos)
    }
}

/// What a FAT filesystem holds and how much of it is used: (contents, used bytes, capacity).
pub fn read(
    reader: Box<dyn DiskReader>,
    start: u64,
    len: u64,
) -> Result<(Contents, u64, u64), ContentError> {
    let stream = FatRead {
        reader,
        start,
        len,
        pos: 0,
    };
    let fat = |source| ContentError::Fat { start, source };
    let fs = fatfs::FileSystem::new(stream, fatfs::FsOptions::new()).map_err(fat)?;
    let stats = fs.stats().map_err(fat)?;
    let cluster = u64::from(stats.cluster_size());
    let capacity = u64::from(stats.total_clusters()) * cluster;
    let used = capacity.saturating_sub(u64::from(stats.free_clusters()) * cluster);
    let mut c = Contents::default();
    if let Ok(efi) = fs.root_dir().open_dir("EFI") {
        for vendor in efi.iter().flatten().filter(|e| e.is_dir()) {
            let vname = vendor.file_name();
            if vname == "." || vname == ".." {
                continue;
            }
            for f in vendor.to_dir().iter().flatten().filter(|e| e.is_file()) {
                let name = f.file_name();
                if !name.to_ascii_lowercase().ends_with(".efi") {
                    continue;
                }
                if vname.eq_ignore_ascii_case("Linux") {
                    c.kernels.push(name.trim_end_matches(".efi").to_string());
                } else {
                    c.boot_loaders.push(format!("/EFI/{vname}/{name}"));
                }
            }
        }
    }
    for f in fs.root_dir().iter().flatten().filter(|e| e.is_file()) {
        if let Some(v) = f.file_name().strip_prefix("vmlinuz-") {
            c.kernels.push(v.to_string());
        }
    }
    c.kernels.sort();
    c.boot_loaders.sort();
    Ok((c, used, capacity))
}
