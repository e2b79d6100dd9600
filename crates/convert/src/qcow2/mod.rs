//! qcow2 (versions 2 and 3). The reader follows L1 → L2 tables, with zero and compressed
//! (raw DEFLATE) clusters, and refuses backing files, encryption, external data files, other
//! compression types and unknown incompatible features. The writer writes version 3 with
//! 64 KiB clusters: data first, then L2 tables, L1 and refcounts, then the header; with
//! `compress`, clusters go through the parallel compressor and those that do not shrink are
//! stored as ordinary clusters.

mod read;
mod tables;
mod write;

pub use read::Qcow2Reader;
pub use write::Qcow2Writer;

const F: &str = "qcow2";
pub const MAGIC: &[u8; 4] = b"QFI\xfb";
const L2_OFFSET_MASK: u64 = 0x00ff_ffff_ffff_fe00;
const COPIED: u64 = 1 << 63;
const COMPRESSED: u64 = 1 << 62;
const ZERO_FLAG: u64 = 1;
const KNOWN_INCOMPAT: u64 = 0b11111;
