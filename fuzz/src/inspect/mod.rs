//! src/inspect's parsers, compiled here on their own, and the fuzz entry point.

#[path = "../../../src/inspect/error.rs"]
mod error;
#[path = "../../../src/inspect/ext_free.rs"]
pub mod ext_free;
#[path = "../../../src/inspect/fs.rs"]
pub mod fs;
#[path = "../../../src/inspect/packages.rs"]
pub mod packages;
#[path = "../../../src/inspect/partitions.rs"]
pub mod partitions;
#[path = "../../../src/inspect/walk.rs"]
pub mod walk;
pub use error::{InspectError, ReadAt};

/// Positional reads of `data`; a read past its end is an error, as on a disk.
fn slice_reader(data: &[u8]) -> impl FnMut(u64, &mut [u8]) -> Result<(), InspectError> + '_ {
    move |offset: u64, buf: &mut [u8]| {
        let end = offset
            .checked_add(buf.len() as u64)
            .filter(|&e| e <= data.len() as u64);
        match end {
            Some(e) => {
                buf.copy_from_slice(&data[offset as usize..e as usize]);
                Ok(())
            }
            None => Err(InspectError::corrupt("read", offset, "past the end".into())),
        }
    }
}

/// Read `data` as a disk: its partition table, then each partition's filesystem.
/// Errors are fine; panics and unbounded allocations are what the fuzzer looks for.
pub fn fuzz_disk(data: &[u8]) {
    let size = data.len() as u64;
    let mut read = slice_reader(data);
    if let Ok(table) = partitions::read(size, &mut read) {
        for p in &table.partitions {
            let _ = fs::identify(p.start, p.size, &mut read);
        }
    }
    let _ = fs::identify(0, size, &mut read);
}

/// Read `data` as an ext filesystem: the free-space walk over its group descriptors and
/// bitmaps, then ext4-view's load and drydock's bounded walk over its directories; and as
/// package databases (dpkg status, apk installed, an rpm header blob).
pub fn fuzz_filesystem(data: &[u8]) {
    let size = data.len() as u64;
    let mut read = slice_reader(data);
    let _ = ext_free::free_space(0, size, &mut read);
    if let Ok(fs) = ext4_view::Ext4::load(Box::new(data.to_vec())) {
        let _ = walk::walk(&fs, "/", 10_000);
        let _ = fs.read_to_string("/etc/os-release");
    }
    let text = String::from_utf8_lossy(data);
    let _ = packages::parse_dpkg_status(&text);
    let _ = packages::parse_apk_installed(&text);
    let _ = packages::dep5_licenses(&text);
    let _ = packages::parse_rpm_header(data);
}
