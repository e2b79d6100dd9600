//! Opening what a user points drydock at: disks, configs, snapshots, plans, SBOMs and image
//! lists must be regular files. Opening never blocks (a FIFO would wait for a writer with
//! signals unanswered), a device or directory is refused by what it is, and a whole-file
//! read stops at its limit while reading (a file that reports its length as 0, as those of
//! `/proc` do, cannot slip past a length check).

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// Why an input cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// Not a regular file: what it is instead.
    #[error("{}: {what} is {kind}, not a regular file", path.display())]
    NotRegular {
        what: String,
        path: PathBuf,
        kind: &'static str,
    },
    /// Larger than drydock reads for this kind of input.
    #[error("{}: {what} is larger than {limit} (at least {seen} bytes); {hint}", path.display(), limit = human(*limit))]
    TooLarge {
        what: String,
        path: PathBuf,
        limit: u64,
        seen: u64,
        hint: &'static str,
    },
    #[error("{}: cannot {op} the {what}: {source}", path.display())]
    Io {
        op: &'static str,
        what: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl InputError {
    /// What is wrong, without the path (for messages that name it already).
    pub fn reason(&self) -> String {
        match self {
            InputError::NotRegular { what, kind, .. } => {
                format!("the {what} is {kind}, not a regular file")
            }
            InputError::TooLarge {
                what,
                limit,
                seen,
                hint,
                ..
            } => format!(
                "the {what} is larger than {} (at least {seen} bytes); {hint}",
                human(*limit)
            ),
            InputError::Io { op, source, .. } => format!("cannot {op} it: {source}"),
        }
    }

    /// The OS error behind an I/O failure, if that is what it was.
    pub fn io_kind(&self) -> Option<std::io::ErrorKind> {
        match self {
            InputError::Io { source, .. } => Some(source.kind()),
            _ => None,
        }
    }
}

fn human(n: u64) -> String {
    match n {
        n if n >= 1 << 30 && n % (1 << 30) == 0 => format!("{} GiB", n >> 30),
        n if n >= 1 << 20 && n % (1 << 20) == 0 => format!("{} MiB", n >> 20),
        n if n >= 1 << 10 && n % (1 << 10) == 0 => format!("{} KiB", n >> 10),
        n => format!("{n} bytes"),
    }
}

/// What a file type is, in words.
pub(crate) fn kind_of(t: std::fs::FileType) -> &'static str {
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_symlink() {
        "a symbolic link"
    } else {
        "not a file"
    }
}

/// Opens `path` for reading if it is a regular file (`what` names it in errors: "disk
/// image", "config"). The open itself never blocks: it is non-blocking until the file is
/// known to be regular.
pub fn open_regular(path: &Path, what: &str) -> Result<File, InputError> {
    let io = |op: &'static str| {
        let what = what.to_string();
        move |source| InputError::Io {
            op,
            what,
            path: path.to_path_buf(),
            source,
        }
    };
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(io("open"))?;
    let meta = file.metadata().map_err(io("stat"))?;
    if !meta.file_type().is_file() {
        return Err(InputError::NotRegular {
            what: what.to_string(),
            path: path.to_path_buf(),
            kind: kind_of(meta.file_type()),
        });
    }
    // Back to blocking reads (a regular file never waits, but its reader may expect it).
    // SAFETY: fcntl on a descriptor this function owns, with integer arguments only.
    unsafe {
        let fd = std::os::unix::io::AsRawFd::as_raw_fd(&file);
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags >= 0 {
            libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK);
        }
    }
    Ok(file)
}

/// Reads all of the regular file `path`, refusing it once more than `limit` bytes have
/// been read (whatever its length claims); `hint` says what to do about a large one.
pub fn read_regular(
    path: &Path,
    what: &str,
    limit: u64,
    hint: &'static str,
) -> Result<Vec<u8>, InputError> {
    let file = open_regular(path, what)?;
    let claimed = file.metadata().map(|m| m.len()).unwrap_or(0);
    let too_large = |seen| InputError::TooLarge {
        what: what.to_string(),
        path: path.to_path_buf(),
        limit,
        seen,
        hint,
    };
    if claimed > limit {
        return Err(too_large(claimed));
    }
    let mut body = Vec::with_capacity(claimed as usize);
    file.take(limit.saturating_add(1))
        .read_to_end(&mut body)
        .map_err(|source| InputError::Io {
            op: "read",
            what: what.to_string(),
            path: path.to_path_buf(),
            source,
        })?;
    if body.len() as u64 > limit {
        return Err(too_large(body.len() as u64));
    }
    Ok(body)
}

/// [`read_regular`] as UTF-8 text.
pub fn read_regular_text(
    path: &Path,
    what: &str,
    limit: u64,
    hint: &'static str,
) -> Result<String, InputError> {
    let body = read_regular(path, what, limit, hint)?;
    String::from_utf8(body).map_err(|e| InputError::Io {
        op: "read",
        what: what.to_string(),
        path: path.to_path_buf(),
        source: std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_are_read_and_reads_stop_at_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a path string this test owns.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let e = open_regular(&fifo, "disk image").unwrap_err().to_string();
        assert!(
            e.contains("is a FIFO (named pipe), not a regular file"),
            "{e}"
        );
        let e = read_regular(Path::new("/dev/zero"), "config", 1 << 20, "")
            .unwrap_err()
            .to_string();
        assert!(e.contains("character device"), "{e}");
        let e = open_regular(dir.path(), "plan").unwrap_err().to_string();
        assert!(e.contains("a directory"), "{e}");
        let f = dir.path().join("f");
        std::fs::write(&f, vec![b'x'; 2048]).unwrap();
        assert_eq!(read_regular(&f, "x", 2048, "").unwrap().len(), 2048);
        let e = read_regular(&f, "snapshot", 1024, "split it")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("larger than 1 KiB") && e.contains("split it"),
            "{e}"
        );
        // A file whose length reads as 0 is still bounded while reading.
        if let Ok(e) = read_regular(Path::new("/proc/self/maps"), "list", 16, "") {
            panic!(
                "read {} bytes of /proc/self/maps past a 16-byte limit",
                e.len()
            );
        }
    }
}
