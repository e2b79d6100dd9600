//! Bounds-checked access to an input file, or to a window of one (a disk inside an OVA).
//! Every read names the structure it is for, so a short file reports what was cut off.

use super::error::{corrupt, io_err, ConvertError, Result};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The most a reader may allocate for one metadata table; larger tables are hostile.
pub const MAX_TABLE_BYTES: u64 = 256 << 20;

/// A read-only view of `len` bytes of a file starting at `base`.
#[derive(Clone, Debug)]
pub struct Source {
    file: Arc<File>,
    path: PathBuf,
    base: u64,
    len: u64,
}

impl Source {
    /// Open a whole file: a regular file (a FIFO, a device or a directory is refused by
    /// what it is, without blocking), and not an empty one.
    pub fn open(path: &Path) -> Result<Source> {
        let file = crate::input::open_regular(path, "disk image").map_err(|e| match e {
            crate::input::InputError::Io { op, source, .. } => ConvertError::Io {
                op,
                path: path.to_path_buf(),
                source,
            },
            e => ConvertError::Usage(e.to_string()),
        })?;
        let len = file.metadata().map_err(io_err("stat", path))?.len();
        if len == 0 {
            return Err(ConvertError::Usage(format!(
                "{} is empty (0 bytes): not a disk image",
                path.display()
            )));
        }
        Ok(Source {
            file: Arc::new(file),
            path: path.to_path_buf(),
            base: 0,
            len,
        })
    }

    /// A window of this source (offsets relative to this source).
    pub fn window(&self, offset: u64, len: u64) -> Result<Source> {
        if offset.checked_add(len).is_none_or(|end| end > self.len) {
            return Err(ConvertError::Usage(format!(
                "{}: window {offset}+{len} runs past the end ({} bytes)",
                self.path.display(),
                self.len
            )));
        }
        Ok(Source {
            file: self.file.clone(),
            path: self.path.clone(),
            base: self.base + offset,
            len,
        })
    }

    /// The file's identity (device, inode, modification time, length), to remember a check.
    pub fn identity(&self) -> Option<(u64, u64, i64, u64)> {
        use std::os::unix::fs::MetadataExt;
        let m = self.file.metadata().ok()?;
        let mtime = m
            .mtime()
            .saturating_mul(1_000_000_000)
            .saturating_add(m.mtime_nsec());
        Some((m.dev(), m.ino(), mtime, m.len()))
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Read exactly `buf.len()` bytes at `offset`; past the end is a corrupt `structure`.
    pub fn read_at(
        &self,
        format: &'static str,
        structure: &'static str,
        offset: u64,
        buf: &mut [u8],
    ) -> Result<()> {
        let end = offset.checked_add(buf.len() as u64);
        if end.is_none_or(|end| end > self.len) {
            return Err(corrupt(
                format,
                structure,
                offset,
                format!(
                    "{} bytes needed but the file ends at {}",
                    buf.len(),
                    self.len
                ),
            ));
        }
        self.file
            .read_exact_at(buf, self.base + offset)
            .map_err(io_err("read", &self.path))
    }

    /// Read a table of `len` bytes, refusing sizes above [`MAX_TABLE_BYTES`].
    pub fn read_table(
        &self,
        format: &'static str,
        structure: &'static str,
        offset: u64,
        len: u64,
    ) -> Result<Vec<u8>> {
        if len > MAX_TABLE_BYTES {
            return Err(corrupt(
                format,
                structure,
                offset,
                format!("table of {len} bytes is larger than the {MAX_TABLE_BYTES}-byte limit"),
            ));
        }
        let mut buf = vec![0; len as usize];
        self.read_at(format, structure, offset, &mut buf)?;
        Ok(buf)
    }

    /// Read up to `buf.len()` bytes at `offset` (fewer at the end of the source).
    pub fn read_upto(&self, offset: u64, buf: &mut [u8]) -> Result<usize> {
        if offset >= self.len {
            return Ok(0);
        }
        let n = buf.len().min((self.len - offset) as usize);
        self.file
            .read_exact_at(&mut buf[..n], self.base + offset)
            .map_err(io_err("read", &self.path))?;
        Ok(n)
    }

    /// The next offset at or after `offset` holding data (SEEK_DATA), or `None` when the rest
    /// is a hole. Sources that cannot tell report data everywhere.
    pub fn next_data(&self, offset: u64) -> Option<u64> {
        if offset >= self.len {
            return None;
        }
        let at = (self.base + offset) as libc::off_t;
        // SAFETY: lseek on a file descriptor we own; it reads no memory.
        let r = unsafe { libc::lseek(self.file.as_raw_fd(), at, libc::SEEK_DATA) };
        if r < 0 {
            let e = std::io::Error::last_os_error();
            return if e.raw_os_error() == Some(libc::ENXIO) {
                None
            } else {
                Some(offset)
            };
        }
        let r = r as u64;
        (r < self.base + self.len).then(|| r.saturating_sub(self.base).max(offset))
    }

    /// The next hole at or after `offset` (SEEK_HOLE), capped at the end of the source.
    pub fn next_hole(&self, offset: u64) -> u64 {
        let at = (self.base + offset) as libc::off_t;
        // SAFETY: as in next_data.
        let r = unsafe { libc::lseek(self.file.as_raw_fd(), at, libc::SEEK_HOLE) };
        if r < 0 {
            return self.len;
        }
        (r as u64).saturating_sub(self.base).clamp(offset, self.len)
    }
}
