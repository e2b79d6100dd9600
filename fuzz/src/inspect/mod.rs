//! src/inspect's parsers, compiled here on their own, and the fuzz entry point.

#[path = "../../../src/inspect/error.rs"]
mod error;
#[path = "../../../src/inspect/fs.rs"]
pub mod fs;
#[path = "../../../src/inspect/partitions.rs"]
pub mod partitions;
pub use error::{InspectError, ReadAt};

/// Read `data` as a disk: its partition table, then each partition's filesystem.
/// Errors are fine; panics and unbounded allocations are what the fuzzer looks for.
pub fn fuzz_disk(data: &[u8]) {
    let size = data.len() as u64;
    let mut read = |offset: u64, buf: &mut [u8]| -> Result<(), InspectError> {
        let end = offset.checked_add(buf.len() as u64).filter(|&e| e <= size);
        match end {
            Some(e) => {
                buf.copy_from_slice(&data[offset as usize..e as usize]);
                Ok(())
            }
            None => Err(InspectError::corrupt("read", offset, "past the end".into())),
        }
    };
    if let Ok(table) = partitions::read(size, &mut read) {
        for p in &table.partitions {
            let _ = fs::identify(p.start, p.size, &mut read);
        }
    }
    let _ = fs::identify(0, size, &mut read);
}
