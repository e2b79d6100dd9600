//! What is inside a disk image, read offline through the conversion engine's readers (any
//! format, no mounting, no root): the partition table and each partition's filesystem and
//! usage; inside ext2/3/4, the OS release, kernels and packages with their licences; inside
//! the EFI system partition, its boot loaders and kernels.

pub mod contain;
pub mod contents;
pub mod diff;
mod efi;
mod error;
pub mod ext_free;
pub mod fs;
pub mod lint;
pub mod packages;
pub mod partitions;
pub mod pkgver;
pub mod spdx;
pub mod walk;

pub use error::{ContentError, InspectError, ReadAt};

use drydock_convert::{self as convert, DiskReader};
use serde::Serialize;
use std::path::Path;

/// One partition (or the whole disk, without a table) and its filesystem.
#[derive(Clone, Debug, Serialize)]
pub struct Volume {
    #[serde(flatten)]
    pub partition: partitions::Partition,
    pub filesystem: fs::Filesystem,
    /// What an ext filesystem holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contents: Option<contents::Contents>,
}

/// What `drydock inspect` found.
#[derive(Clone, Debug, Serialize)]
pub struct Inspection {
    pub format: String,
    pub virtual_size: u64,
    pub scheme: partitions::Scheme,
    pub volumes: Vec<Volume>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// Inspect the image at `path` (its format probed), looking inside ext filesystems.
pub fn inspect(path: &Path) -> Result<Inspection, InspectError> {
    let mut reader = convert::open_reader(path, None)?;
    let mut found = inspect_reader(reader.as_mut())?;
    // Each filesystem read gets a reader of its own (the crates that read them own it);
    // volumes that are not read open nothing.
    for v in &mut found.volumes {
        let (start, size) = (v.partition.start, v.partition.size);
        if v.filesystem.readable {
            let own = convert::open_reader(path, None)?;
            let mut warnings = Vec::new();
            let read = contain::reading(start, || contents::read(own, start, size, &mut warnings));
            found.warnings.append(&mut warnings);
            match read {
                Ok(c) => v.contents = Some(c),
                Err(e) => {
                    // Unreadable is never clean: the volume says so, and why.
                    v.filesystem.readable = false;
                    v.filesystem.problem = Some(e.to_string());
                    found.warnings.push(e.to_string());
                }
            }
        } else if v.filesystem.kind == "vfat" {
            let own = convert::open_reader(path, None)?;
            let read = contain::reading(start, || efi::read(own, start, size));
            match read {
                Ok((c, used, capacity)) => {
                    v.filesystem.used = Some(used);
                    v.filesystem.capacity = Some(capacity);
                    v.filesystem.readable = true;
                    v.contents = Some(c);
                }
                Err(e) => {
                    v.filesystem.problem = Some(e.to_string());
                    found.warnings.push(e.to_string());
                }
            }
        }
    }
    Ok(found)
}

/// Positional reads of `reader`'s disk where a read past the end is a corrupt structure.
pub(crate) fn bounded(
    reader: &mut dyn DiskReader,
) -> impl FnMut(u64, &mut [u8]) -> Result<(), InspectError> + '_ {
    let size = reader.info().virtual_size;
    move |offset: u64, buf: &mut [u8]| {
        if offset
            .checked_add(buf.len() as u64)
            .is_none_or(|end| end > size)
        {
            return Err(InspectError::corrupt(
                "read",
                offset,
                format!("{} bytes past the disk's end ({size})", buf.len()),
            ));
        }
        reader.read_at(offset, buf).map_err(InspectError::from)
    }
}

/// Inspect a disk through an engine reader; reads past the end are corrupt structures.
pub fn inspect_reader(reader: &mut dyn DiskReader) -> Result<Inspection, InspectError> {
    let size = reader.info().virtual_size;
    let format = reader.info().format.to_string();
    let mut read = bounded(reader);
    let table = partitions::read(size, &mut read)?;
    let whole = [partitions::Partition {
        number: 0,
        start: 0,
        size,
        kind: "whole disk".into(),
        type_id: String::new(),
        name: String::new(),
    }];
    let parts: &[partitions::Partition] = if table.scheme == partitions::Scheme::None {
        &whole
    } else {
        &table.partitions
    };
    let mut volumes = Vec::new();
    for p in parts {
        let filesystem = fs::identify(p.start, p.size, &mut read)?;
        volumes.push(Volume {
            partition: p.clone(),
            filesystem,
            contents: None,
        });
    }
    Ok(Inspection {
        format,
        virtual_size: size,
        scheme: table.scheme,
        volumes,
        warnings: table.warnings,
    })
}
