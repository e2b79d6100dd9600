//! The inspection error (a corrupt structure names itself and its offset) and the
//! positional read the parsers take. No dependency on the rest of drydock, so the fuzz
//! crate compiles the parsers on their own.

/// Positional reads of the virtual disk: fill the buffer from the offset.
pub type ReadAt<'a> = dyn FnMut(u64, &mut [u8]) -> Result<(), InspectError> + 'a;

/// Why an image cannot be inspected: the structure and the offset for a corrupt one.
#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    #[error("corrupt {structure} at offset {offset} ({offset:#x}): {detail}")]
    Corrupt {
        structure: &'static str,
        offset: u64,
        detail: String,
    },
    /// The engine could not open or read the disk.
    #[error(transparent)]
    Engine(#[from] drydock_convert::ConvertError),
    /// A file given for a diff could not be read (not a regular file, too large, an OS
    /// error).
    #[error(transparent)]
    Input(Box<drydock_convert::input::InputError>),
    /// A JSON file given for a diff that is neither an inspection nor an SPDX document.
    #[error("{path}: a JSON file that is neither `inspect --format json` nor SPDX 2.3")]
    NotAnInspection { path: String },
    /// The compressor measuring free space failed (its buffer was too small).
    #[error("deflate: {0}")]
    Deflate(String),
}

/// Why something inside a volume could not be read. The inspection goes on: this becomes
/// one of its warnings, naming the filesystem or file.
#[derive(Debug, thiserror::Error)]
pub enum ContentError {
    #[error("ext filesystem at offset {start}: {source}")]
    Ext {
        start: u64,
        #[source]
        source: ext4_view::Ext4Error,
    },
    /// The superblock claims what the partition cannot hold.
    #[error("ext filesystem at offset {start}: corrupt superblock: {detail}")]
    Superblock { start: u64, detail: String },
    /// The filesystem's reader (a dependency) failed on it instead of returning an error.
    #[error("filesystem at offset {start}: its reader failed ({panic}); the filesystem is corrupt or hostile")]
    Reader { start: u64, panic: String },
    /// The root directory cannot be listed: nothing inside can be trusted as absent.
    #[error("ext filesystem at offset {start}: the root directory cannot be read: {source}")]
    Root {
        start: u64,
        #[source]
        source: ext4_view::Ext4Error,
    },
    #[error("FAT filesystem at offset {start}: {source}")]
    Fat {
        start: u64,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    File {
        path: String,
        #[source]
        source: ext4_view::Ext4Error,
    },
    #[error("{path}: not a regular file within {max} bytes (drydock's limit)")]
    TooLarge { path: String, max: u64 },
    #[error("{path}: {source}")]
    Local {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Sqlite {
        path: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error("{path}: `Packages` is {kind}, not a table; the database is not rpm's")]
    NotAPackageTable { path: String, kind: String },
    #[error("{path}: more than {max} packages; the database is not read")]
    TooMany { path: String, max: usize },
    #[error("{path}: package header {hnum}: {source}")]
    RpmHeader {
        path: String,
        hnum: i64,
        #[source]
        source: crate::packages::RpmHeaderError,
    },
}

impl InspectError {
    pub fn corrupt(structure: &'static str, offset: u64, detail: String) -> InspectError {
        InspectError::Corrupt {
            structure,
            offset,
            detail,
        }
    }
}
