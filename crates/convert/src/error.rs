//! The conversion engine's error: every failure names the format, the structure and the
//! file offset it was found at, or the file and the operation that failed.

use std::io;
use std::path::{Path, PathBuf};

/// What went wrong while reading, writing or checking a disk image.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    /// A structure of the image is inconsistent, truncated or hostile.
    #[error("{format}: corrupt {structure} at offset {offset} ({offset:#x}): {detail}")]
    Corrupt {
        format: &'static str,
        structure: &'static str,
        offset: u64,
        detail: String,
    },
    /// A well-formed image that uses a feature drydock will not handle.
    #[error("{format}: {what} is not supported ({hint})")]
    Unsupported {
        format: &'static str,
        what: String,
        hint: String,
    },
    /// A file system call failed.
    #[error("{op} {path}: {source}")]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The command line asked for something impossible.
    #[error("{0}")]
    Usage(String),
    /// A cloud call of a transfer failed (the message names the call, the resource and
    /// what to do).
    #[error("{0}")]
    Remote(String),
    /// The conversion was cancelled; nothing was written at the destination.
    #[error("cancelled; nothing was written at the destination")]
    Cancelled,
}

pub type Result<T, E = ConvertError> = std::result::Result<T, E>;

/// A corrupt-structure error.
pub fn corrupt(
    format: &'static str,
    structure: &'static str,
    offset: u64,
    detail: impl Into<String>,
) -> ConvertError {
    ConvertError::Corrupt {
        format,
        structure,
        offset,
        detail: detail.into(),
    }
}

/// An unsupported-feature error.
pub fn unsupported(
    format: &'static str,
    what: impl Into<String>,
    hint: impl Into<String>,
) -> ConvertError {
    ConvertError::Unsupported {
        format,
        what: what.into(),
        hint: hint.into(),
    }
}

/// Wrap an I/O error with the operation and the file.
pub fn io_err<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> ConvertError + 'a {
    move |source| ConvertError::Io {
        op,
        path: path.to_path_buf(),
        source,
    }
}
