//! The qcow2 header's other tables, checked the way qemu checks them when it opens an
//! image, so `convert --check` refuses every header `qemu-img info` or `check` refuses:
//! the refcount table (present, within qemu's 8 MiB limit, cluster-aligned, inside the
//! file) and the snapshot table (at most 65,536 snapshots, aligned, inside the file).

use super::F;
use crate::bytes::{be32, be64};
use crate::error::{corrupt, Result};
use crate::source::Source;

/// qemu's limits: QCOW_MAX_REFTABLE_SIZE (8 MiB), QCOW_MAX_SNAPSHOTS, and the size of a
/// snapshot table entry's fixed part.
const MAX_REFTABLE_BYTES: u64 = 8 << 20;
const MAX_SNAPSHOTS: u64 = 65_536;
const SNAPSHOT_HEADER: u64 = 40;

/// A table at `offset` of `len` bytes: aligned to the cluster and inside the file.
fn placed(
    src: &Source,
    structure: &'static str,
    field: u64,
    offset: u64,
    len: u64,
    cluster: u64,
) -> Result<()> {
    if !offset.is_multiple_of(cluster) {
        return Err(corrupt(
            F,
            structure,
            field,
            format!("offset {offset:#x} is not cluster-aligned"),
        ));
    }
    if offset.checked_add(len).is_none_or(|end| end > src.len()) {
        return Err(corrupt(
            F,
            structure,
            field,
            format!(
                "{len} bytes at {offset:#x} run past the end of the file ({} bytes)",
                src.len()
            ),
        ));
    }
    Ok(())
}

/// Check the refcount and snapshot tables named by header `h`.
pub fn check(src: &Source, h: &[u8], cluster_bits: u32) -> Result<()> {
    let cluster = 1u64 << cluster_bits;
    let rc_offset = be64(h, 48);
    let rc_clusters = u64::from(be32(h, 56));
    if rc_clusters == 0 {
        return Err(corrupt(
            F,
            "refcount table",
            56,
            "refcount_table_clusters is 0",
        ));
    }
    if rc_clusters * cluster > MAX_REFTABLE_BYTES {
        return Err(corrupt(
            F,
            "refcount table",
            56,
            format!(
                "refcount_table_clusters {rc_clusters} ({} bytes) is above qemu's {MAX_REFTABLE_BYTES}-byte limit",
                rc_clusters * cluster
            ),
        ));
    }
    placed(
        src,
        "refcount table",
        48,
        rc_offset,
        rc_clusters * cluster,
        cluster,
    )?;
    let snapshots = u64::from(be32(h, 60));
    if snapshots > MAX_SNAPSHOTS {
        return Err(corrupt(
            F,
            "snapshot table",
            60,
            format!("nb_snapshots {snapshots} is above qcow2's limit of {MAX_SNAPSHOTS}"),
        ));
    }
    if snapshots > 0 {
        placed(
            src,
            "snapshot table",
            64,
            be64(h, 64),
            snapshots * SNAPSHOT_HEADER,
            cluster,
        )?;
    }
    Ok(())
}
