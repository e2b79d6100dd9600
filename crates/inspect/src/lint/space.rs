//! Lint checks on the disk as a whole: its layout (more than one data partition, swap,
//! LVM), free space that is not zero-filled and what it costs compressed, large data
//! directories, and the virtual size against the data it holds.

use super::{Evidence, Findings, Severity};
use crate::walk::walk;
use crate::{ext_free, InspectError, Inspection, Volume};
use drydock_convert::{human_bytes, DiskReader};
use ext4_view::Ext4;
use libdeflater::{CompressionLvl, Compressor};
use std::collections::BTreeMap;

/// The most entries the large-directory walk visits.
const DIR_WALK: usize = 2_000_000;
/// Read free space in pieces of this size.
const PIECE: u64 = 1 << 20;

/// Partition kinds that are part of booting, not data.
fn boot_part(v: &Volume) -> bool {
    matches!(v.partition.kind.as_str(), "BIOS boot" | "EFI system")
        || v.filesystem.kind == "vfat" && v.partition.size <= 1 << 30
}

pub fn layout(found: &Inspection, out: &mut Findings) {
    let data: Vec<&Volume> = found
        .volumes
        .iter()
        .filter(|v| !boot_part(v) && v.filesystem.kind != "swap")
        .collect();
    if data.len() > 1 {
        for v in &data {
            out.add(
                "layout.partitions",
                Severity::Warning,
                "more than one data partition: the root filesystem cannot simply grow to the VM's disk",
                "build the image with one root partition (plus the EFI/BIOS boot partition)",
                part_ev(v, &v.filesystem.kind),
            );
        }
    }
    for v in &found.volumes {
        if v.filesystem.kind == "swap" {
            out.add(
                "layout.swap",
                Severity::Warning,
                "a swap partition on the image: it costs disk on every VM and cannot be resized",
                "drop it; add swap at boot (a swap file or the cloud's ephemeral disk) where needed",
                part_ev(v, &human_bytes(v.partition.size)),
            );
        }
        if v.filesystem.kind == "LVM2 member" {
            out.add(
                "layout.lvm",
                Severity::Warning,
                "LVM on the root disk: harder to grow and to read offline",
                "use a plain root partition",
                part_ev(v, ""),
            );
        }
    }
    let used: u64 = found.volumes.iter().filter_map(|v| v.filesystem.used).sum();
    let empty = found.virtual_size.saturating_sub(used);
    if used > 0 && empty > 1 << 30 && empty > found.virtual_size / 2 {
        out.add(
            "size.virtual-vs-data",
            Severity::Info,
            "the virtual size is far above the data: every VM's disk starts at this size",
            "build the image at the smallest size that holds it; VMs grow the root at boot",
            Evidence {
                detail: format!(
                    "virtual size {}, data {} ({:.0} %)",
                    human_bytes(found.virtual_size),
                    human_bytes(used),
                    used as f64 * 100.0 / found.virtual_size as f64
                ),
                ..Evidence::default()
            },
        );
    }
}

fn part_ev(v: &Volume, detail: &str) -> Evidence {
    Evidence {
        partition: v.partition.number,
        path: None,
        offset: Some(v.partition.start),
        detail: detail.to_string(),
    }
}

/// Directories that belong to the system, not data.
const SYSTEM: &[&str] = &[
    "/usr",
    "/boot",
    "/lib",
    "/lib64",
    "/lib32",
    "/bin",
    "/sbin",
    "/etc",
    "/var/lib/dpkg",
    "/var/lib/rpm",
    "/var/lib/apt",
    "/var/cache",
    "/var/log",
    "/snap",
    "/var/lib/snapd",
];

/// Directories of at least `limit` bytes outside the system's own: the top-level ones and
/// those one level under `/home`, `/srv`, `/opt`, `/var/lib`, `/var/www` and `/data`.
pub fn large_dirs(fs: &Ext4, n: u32, limit: u64, out: &mut Findings) {
    let mut sizes: BTreeMap<String, u64> = BTreeMap::new();
    for (path, len) in walk(fs, "/", DIR_WALK) {
        if SYSTEM.iter().any(|s| path.starts_with(&format!("{s}/"))) {
            continue;
        }
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        if parts.len() < 2 {
            continue; // a file at the root
        }
        let depth = match (parts[0], parts.get(1)) {
            ("home" | "srv" | "opt" | "data", _) if parts.len() > 2 => 2,
            ("var", Some(&("lib" | "www"))) if parts.len() > 3 => 3,
            _ => 1,
        };
        let key = format!("/{}", parts[..depth].join("/"));
        *sizes.entry(key).or_default() += len;
    }
    for (dir, size) in sizes {
        if size >= limit && dir != "/var" {
            out.add(
                "data.large-directory",
                Severity::Warning,
                "a large data directory ships in the image",
                "keep data off the image: attach a data disk or fetch it at boot",
                Evidence {
                    partition: n,
                    path: Some(dir),
                    offset: None,
                    detail: human_bytes(size),
                },
            );
        }
    }
}

/// The share of the ext filesystem's unallocated blocks that are not zero, and the
/// compressed size those blocks add to every copy of the image.
pub fn free_space(
    reader: &mut dyn DiskReader,
    v: &Volume,
    out: &mut Findings,
) -> Result<(), InspectError> {
    let (start, len) = (v.partition.start, v.partition.size);
    let free = ext_free::free_space(start, len, &mut crate::bounded(reader))?;
    let bs = free.block_size;
    let mut compressor = Compressor::new(CompressionLvl::default());
    let mut buf = vec![0u8; PIECE as usize];
    let mut dirty = Vec::with_capacity(PIECE as usize);
    let mut packed = vec![0u8; compressor.deflate_compress_bound(PIECE as usize)];
    let (mut nonzero, mut compressed, mut first) = (0u64, 0u64, None);
    for &(run_at, run_len) in &free.runs {
        let mut at = run_at;
        while at < run_at + run_len {
            let want = (run_at + run_len - at).min(PIECE);
            let run = reader.map(at, want)?;
            let n = run.len.clamp(1, want);
            if run.data {
                let piece = &mut buf[..n as usize];
                reader.read_at(at, piece)?;
                dirty.clear();
                for (i, block) in piece.chunks(bs as usize).enumerate() {
                    if block.iter().any(|&b| b != 0) {
                        nonzero += 1;
                        first.get_or_insert(at + i as u64 * bs);
                        dirty.extend_from_slice(block);
                    }
                }
                if !dirty.is_empty() {
                    compressed += compressor
                        .deflate_compress(&dirty, &mut packed)
                        .map_err(|e| InspectError::Deflate(format!("{e:?}")))?
                        as u64;
                }
            }
            at += n;
        }
    }
    if nonzero > 0 {
        out.add(
            "free-space.not-zeroed",
            Severity::Warning,
            "free space is not zero-filled: deleted data ships in the image and every copy costs more",
            "zero the free space before capture (fstrim, or virt-sparsify --in-place)",
            Evidence {
                partition: v.partition.number,
                path: None,
                offset: first,
                detail: format!(
                    "{nonzero} of {} free blocks ({:.1} %) are not zero; {} compressed",
                    free.free_blocks,
                    nonzero as f64 * 100.0 / free.free_blocks.max(1) as f64,
                    human_bytes(compressed)
                ),
            },
        );
    }
    Ok(())
}
