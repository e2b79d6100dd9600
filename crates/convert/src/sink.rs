//! The output file: written under a temporary name beside the destination, optionally hashed
//! (SHA-256) by a follower thread as its bytes become final, written back to disk while the conversion
//! runs, then fsync'd and renamed into place. Dropped without `commit`, it leaves nothing;
//! a temporary file left by a killed process is swept by the next conversion to that name.

use super::error::{io_err, ConvertError, Result};
use sha2::{Digest, Sha256};
use std::fs::{File, OpenOptions};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;

/// Start writing back every this many bytes, so the final fsync has little left to do.
const WRITEBACK_EVERY: u64 = 32 << 20;
const HASH_BLOCK: usize = 1 << 20;

/// The follower thread: watermarks in, the digest out.
type Hasher = (mpsc::Sender<u64>, JoinHandle<Result<[u8; 32]>>);

/// An output file being written.
pub struct Sink {
    file: File,
    tmp: PathBuf,
    dest: PathBuf,
    hasher: Option<Hasher>,
    final_upto: u64,
    /// A write landed below `final_upto` after the hasher may have read it (a writer that
    /// fills in a header at the end): the digest is taken again from the finished file.
    rewrote_final: bool,
    unsynced_from: u64,
    unsynced: u64,
    len: u64,
    committed: bool,
}

/// A committed output.
#[derive(Clone, Debug)]
pub struct Committed {
    pub path: PathBuf,
    pub size: u64,
    /// The file's SHA-256, when asked for.
    pub sha256: Option<String>,
}

impl Sink {
    /// Create the temporary file for `dest` (same directory, so the rename is atomic).
    /// With `hash`, a follower thread computes the file's SHA-256 as its bytes become final.
    pub fn create(dest: &Path, hash: bool) -> Result<Sink> {
        let dir = parent_dir(dest);
        let name = dest
            .file_name()
            .ok_or_else(|| ConvertError::Usage(format!("{} names no file", dest.display())))?;
        // Only a regular file is ever replaced: never a device, a FIFO, a socket, a
        // directory or a symbolic link (--force included).
        if let Ok(meta) = std::fs::symlink_metadata(dest) {
            if !meta.file_type().is_file() {
                return Err(ConvertError::Usage(format!(
                    "{} is {}; drydock replaces only regular files",
                    dest.display(),
                    crate::input::kind_of(meta.file_type())
                )));
            }
        }
        sweep_stale(&dir, &name.to_string_lossy());
        let tmp = dir.join(format!(
            ".{}.drydock-{}.tmp",
            name.to_string_lossy(),
            std::process::id()
        ));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o644)
            .open(&tmp)
            .map_err(io_err("create", &tmp))?;
        let hasher = if hash {
            let reader = file.try_clone().map_err(io_err("open", &tmp))?;
            let (tx, rx) = mpsc::channel::<u64>();
            let hash_path = tmp.clone();
            let handle = std::thread::Builder::new()
                .name("drydock-sha256".into())
                .spawn(move || follow_and_hash(&reader, &hash_path, rx))
                .map_err(io_err("spawn hasher for", &tmp))?;
            Some((tx, handle))
        } else {
            None
        };
        Ok(Sink {
            file,
            tmp,
            dest: dest.to_path_buf(),
            hasher,
            final_upto: 0,
            rewrote_final: false,
            unsynced_from: 0,
            unsynced: 0,
            len: 0,
            committed: false,
        })
    }

    pub fn path(&self) -> &Path {
        &self.tmp
    }

    /// Write `buf` at `offset`.
    pub fn write_at(&mut self, offset: u64, buf: &[u8]) -> Result<()> {
        if offset < self.final_upto && self.hasher.is_some() {
            self.rewrote_final = true;
        }
        self.file
            .write_all_at(buf, offset)
            .map_err(io_err("write", &self.tmp))?;
        let end = offset + buf.len() as u64;
        self.len = self.len.max(end);
        if self.unsynced == 0 {
            self.unsynced_from = offset;
        }
        self.unsynced_from = self.unsynced_from.min(offset);
        self.unsynced += buf.len() as u64;
        if self.unsynced >= WRITEBACK_EVERY {
            self.start_writeback(end);
        }
        Ok(())
    }

    /// Ask the kernel to start writing the recent range back now (no wait).
    fn start_writeback(&mut self, end: u64) {
        let from = self.unsynced_from;
        // SAFETY: sync_file_range on our own descriptor; it reads no memory.
        unsafe {
            libc::sync_file_range(
                self.file.as_raw_fd(),
                from as libc::off64_t,
                (end.max(from) - from) as libc::off64_t,
                libc::SYNC_FILE_RANGE_WRITE,
            );
        }
        self.unsynced = 0;
    }

    /// The file's length so far (highest byte written or set).
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Extend (or cut) the file to `len`; the new tail is a hole.
    pub fn set_len(&mut self, len: u64) -> Result<()> {
        self.file
            .set_len(len)
            .map_err(io_err("resize", &self.tmp))?;
        self.len = len;
        Ok(())
    }

    /// Bytes below `offset` will not change again: the hasher may read them.
    pub fn final_upto(&mut self, offset: u64) {
        if offset > self.final_upto {
            self.final_upto = offset;
            if let Some((tx, _)) = &self.hasher {
                let _ = tx.send(offset);
            }
        }
    }

    /// Hash the rest, fsync, rename into place and fsync the directory.
    pub fn commit(mut self) -> Result<Committed> {
        let len = self.len;
        self.final_upto(len);
        let hasher = self.hasher.take();
        // fsync on this thread while the hasher finishes on its own.
        let hasher = hasher.map(|(tx, handle)| {
            drop(tx);
            handle
        });
        self.file.sync_all().map_err(io_err("fsync", &self.tmp))?;
        let mut digest = match hasher {
            Some(handle) => Some(
                handle
                    .join()
                    .map_err(|_| ConvertError::Usage("the SHA-256 thread panicked".into()))??,
            ),
            None => None,
        };
        // The digest printed is of the final bytes: hash the file again where a writer
        // changed bytes the hasher had already read.
        if digest.is_some() && self.rewrote_final {
            let (tx, rx) = mpsc::channel::<u64>();
            let _ = tx.send(len);
            drop(tx);
            digest = Some(follow_and_hash(&self.file, &self.tmp, rx)?);
        }
        std::fs::rename(&self.tmp, &self.dest).map_err(io_err("rename into place", &self.dest))?;
        self.committed = true;
        if let Ok(dir) = File::open(parent_dir(&self.dest)) {
            let _ = dir.sync_all();
        }
        Ok(Committed {
            path: self.dest.clone(),
            size: len,
            sha256: digest.map(|d| hex(&d)),
        })
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        if !self.committed {
            if let Some((tx, handle)) = self.hasher.take() {
                drop(tx);
                let _ = handle.join();
            }
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Remove temporary outputs for the same destination left by conversions that were killed
/// outright (SIGKILL, power loss): `.NAME.drydock-PID.tmp` whose process no longer exists.
fn sweep_stale(dir: &Path, name: &str) {
    let prefix = format!(".{name}.drydock-");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(pid) = file_name
            .to_str()
            .and_then(|n| n.strip_prefix(&prefix))
            .and_then(|rest| rest.strip_suffix(".tmp"))
            .and_then(|pid| pid.parse::<i32>().ok())
            .filter(|&pid| pid > 0)
        else {
            continue;
        };
        // SAFETY: signal 0 only asks whether the process exists.
        let gone = unsafe { libc::kill(pid, 0) } != 0
            && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
        if gone {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Hash the file in order up to each watermark received; the channel closing means the last
/// watermark is the file's length. Holes are hashed from a zero block without reading them;
/// bytes past the current end of file read as zeros (a later resize makes them so).
fn follow_and_hash(file: &File, path: &Path, rx: mpsc::Receiver<u64>) -> Result<[u8; 32]> {
    let mut sha = Sha256::new();
    let mut done = 0u64;
    let zeros = vec![0u8; HASH_BLOCK];
    let mut buf = vec![0u8; HASH_BLOCK];
    let mut upto = 0u64;
    loop {
        match rx.recv() {
            Ok(w) => upto = upto.max(w),
            Err(_) => {
                hash_range(file, path, &mut sha, &mut done, upto, &zeros, &mut buf)?;
                return Ok(sha.finalize().into());
            }
        }
        while let Ok(w) = rx.try_recv() {
            upto = upto.max(w);
        }
        hash_range(file, path, &mut sha, &mut done, upto, &zeros, &mut buf)?;
    }
}

fn hash_range(
    file: &File,
    path: &Path,
    sha: &mut Sha256,
    done: &mut u64,
    upto: u64,
    zeros: &[u8],
    buf: &mut [u8],
) -> Result<()> {
    let fd = file.as_raw_fd();
    while *done < upto {
        // SAFETY: lseek on our own descriptor.
        let data = unsafe { libc::lseek(fd, *done as libc::off_t, libc::SEEK_DATA) };
        let hole_end = if data < 0 {
            upto
        } else {
            (data as u64).min(upto)
        };
        while *done < hole_end {
            let n = ((hole_end - *done) as usize).min(zeros.len());
            sha.update(&zeros[..n]);
            *done += n as u64;
        }
        if *done >= upto {
            break;
        }
        // SAFETY: as above.
        let hole = unsafe { libc::lseek(fd, *done as libc::off_t, libc::SEEK_HOLE) };
        let data_end = if hole < 0 {
            upto
        } else {
            (hole as u64).clamp(*done + 1, upto)
        };
        while *done < data_end {
            let want = ((data_end - *done) as usize).min(buf.len());
            let got = file
                .read_at(&mut buf[..want], *done)
                .map_err(io_err("read back for SHA-256", path))?;
            if got == 0 {
                // Past the current end of file: zeros once the writer sets the length.
                buf[..want].fill(0);
                sha.update(&buf[..want]);
                *done += want as u64;
            } else {
                sha.update(&buf[..got]);
                *done += got as u64;
            }
        }
    }
    Ok(())
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
