//! VMDK. Reads hosted sparse extents (monolithicSparse, streamOptimized in qemu's layout
//! with the grain directory up front and VMware's with it at the end behind a footer) and
//! text descriptors with FLAT, SPARSE and ZERO extents. Writes streamOptimized in VMware's
//! layout — compressed grains behind markers, each grain table after its grains, the grain
//! directory, a footer and an end-of-stream marker, all in one forward pass so it can go
//! straight into a tar — and monolithicSparse with redundant tables.

mod descriptor;
mod read;
mod write;

pub use descriptor::{is_descriptor, DescriptorReader};
pub use read::SparseReader;
pub use write::{SparseWriter, StreamWriter};

const F: &str = "vmdk";
pub const MAGIC: &[u8; 4] = b"KDMV";
pub const GD_AT_END: u64 = u64::MAX;
const FLAG_NEWLINE: u32 = 1;
const FLAG_RGD: u32 = 2;
pub(super) const FLAG_COMPRESSED: u32 = 1 << 16;
const FLAG_MARKERS: u32 = 1 << 17;
const MARKER_EOS: u32 = 0;
const MARKER_GT: u32 = 1;
const MARKER_GD: u32 = 2;
const MARKER_FOOTER: u32 = 3;
/// Largest grain read: 16 MiB (VMware uses 64 KiB).
const MAX_GRAIN_SECTORS: u64 = 32768;
/// Largest descriptor file read.
const MAX_DESCRIPTOR: u64 = 1 << 20;
