//! The unallocated blocks of an ext2/3/4 filesystem, from its group descriptors and block
//! bitmaps, as byte ranges of the disk. Groups whose bitmap was never initialised
//! (`BLOCK_UNINIT`) count as free apart from their superblock backup, descriptor table and
//! any bitmap or inode table they hold. Every structure is bounds-checked against the
//! partition: a corrupt one is an error naming it and its offset, never a panic.

use super::{InspectError, ReadAt};

/// The most block groups drydock walks (a 64 TiB filesystem of 4 KiB blocks has 2^19).
const MAX_GROUPS: u64 = 1 << 22;

/// The filesystem's block size and the free byte ranges `(offset, len)` on the disk, merged.
pub struct FreeSpace {
    pub block_size: u64,
    pub runs: Vec<(u64, u64)>,
    pub free_blocks: u64,
}

fn le16(b: &[u8], o: usize) -> u64 {
    u64::from(drydock_convert::bytes::le16(b, o))
}
fn le32(b: &[u8], o: usize) -> u64 {
    u64::from(drydock_convert::bytes::le32(b, o))
}

/// Whether group `g` holds a superblock backup under `sparse_super`.
fn has_super(g: u64, sparse: bool) -> bool {
    if !sparse || g <= 1 {
        return true;
    }
    [3u64, 5, 7].iter().any(|&base| {
        let mut p = base;
        while p < g {
            p *= base;
        }
        p == g
    })
}

/// Walk the free blocks of the ext filesystem at `start` (`size` bytes).
pub fn free_space(start: u64, size: u64, read: &mut ReadAt<'_>) -> Result<FreeSpace, InspectError> {
    let mut sb = [0u8; 1024];
    read(start + 1024, &mut sb)?;
    let sb_at = start + 1024;
    let incompat = le32(&sb, 96);
    let is64 = incompat & 0x80 != 0;
    let hi = |o: usize| if is64 { le32(&sb, o) << 32 } else { 0 };
    let blocks = le32(&sb, 4) | hi(0x150);
    let first = le32(&sb, 20);
    let log = le32(&sb, 24);
    let per_group = le32(&sb, 32);
    let inodes_per_group = le32(&sb, 40);
    let inode_size = if le32(&sb, 76) == 0 {
        128
    } else {
        le16(&sb, 88)
    };
    let sparse = le32(&sb, 100) & 1 != 0;
    let reserved_gdt = le16(&sb, 0xCE);
    let desc_size = if is64 { le16(&sb, 0xFE) } else { 32 };
    if log > 6 {
        return Err(InspectError::corrupt(
            "ext superblock",
            sb_at + 24,
            format!("log block size {log}"),
        ));
    }
    let bs = 1024u64 << log;
    if per_group == 0 || per_group > bs * 8 {
        return Err(InspectError::corrupt(
            "ext superblock",
            sb_at + 32,
            format!("{per_group} blocks per group with {bs}-byte blocks"),
        ));
    }
    if blocks.checked_mul(bs).is_none_or(|b| b > size) || first >= blocks {
        return Err(InspectError::corrupt(
            "ext superblock",
            sb_at + 4,
            format!("{blocks} blocks of {bs} bytes do not fit the partition's {size} bytes"),
        ));
    }
    if !(32..=1024).contains(&desc_size) || (is64 && desc_size < 64) {
        return Err(InspectError::corrupt(
            "ext superblock",
            sb_at + 0xFE,
            format!("group descriptor size {desc_size}"),
        ));
    }
    let groups = (blocks - first).div_ceil(per_group);
    if groups > MAX_GROUPS {
        return Err(InspectError::corrupt(
            "ext superblock",
            sb_at,
            format!("{groups} block groups"),
        ));
    }
    let gdt_blocks = (groups * desc_size).div_ceil(bs);
    let gdt_at = start + (first + 1) * bs;
    let table_blocks = (inodes_per_group * inode_size).div_ceil(bs);
    let mut out = FreeSpace {
        block_size: bs,
        runs: Vec::new(),
        free_blocks: 0,
    };
    let push = |block: u64, n: u64, out: &mut FreeSpace| {
        out.free_blocks += n;
        let (off, len) = (start + block * bs, n * bs);
        match out.runs.last_mut() {
            Some((o, l)) if *o + *l == off => *l += len,
            _ => out.runs.push((off, len)),
        }
    };
    let mut desc = vec![0u8; desc_size as usize];
    let mut bitmap = vec![0u8; bs as usize];
    for g in 0..groups {
        let d_at = gdt_at + g * desc_size;
        if d_at + desc_size > start + size {
            return Err(InspectError::corrupt(
                "ext group descriptor",
                d_at,
                "past the partition's end".into(),
            ));
        }
        read(d_at, &mut desc)?;
        let dhi = |o: usize| if is64 { le32(&desc, o) << 32 } else { 0 };
        let bitmap_block = le32(&desc, 0) | dhi(0x20);
        let flags = le16(&desc, 0x12);
        let g_first = first + g * per_group;
        let g_len = per_group.min(blocks - g_first);
        if flags & 0x2 != 0 {
            // BLOCK_UNINIT: free but for what the group itself holds.
            let mut used = vec![false; g_len as usize];
            let mut mark = |b: u64, n: u64| {
                for i in b..b.saturating_add(n) {
                    if let Some(u) = i
                        .checked_sub(g_first)
                        .and_then(|r| used.get_mut(r as usize))
                    {
                        *u = true;
                    }
                }
            };
            if has_super(g, sparse) {
                mark(g_first, 1 + gdt_blocks + reserved_gdt);
            }
            mark(bitmap_block, 1);
            mark(le32(&desc, 4) | dhi(0x24), 1);
            mark(le32(&desc, 8) | dhi(0x28), table_blocks);
            let mut i = 0;
            while i < g_len {
                if used[i as usize] {
                    i += 1;
                    continue;
                }
                let s = i;
                while i < g_len && !used[i as usize] {
                    i += 1;
                }
                push(g_first + s, i - s, &mut out);
            }
            continue;
        }
        if bitmap_block >= blocks {
            return Err(InspectError::corrupt(
                "ext group descriptor",
                d_at,
                format!("group {g}'s block bitmap at block {bitmap_block} is past the filesystem's {blocks} blocks"),
            ));
        }
        read(start + bitmap_block * bs, &mut bitmap)?;
        let mut i = 0;
        while i < g_len {
            let bit = |i: u64| bitmap[(i / 8) as usize] & (1 << (i % 8)) != 0;
            if bit(i) {
                i += 1;
                continue;
            }
            let s = i;
            while i < g_len && !bit(i) {
                i += 1;
            }
            push(g_first + s, i - s, &mut out);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::has_super;

    #[test]
    fn sparse_super_backups_are_in_groups_0_1_and_powers_of_3_5_7() {
        let with: Vec<u64> = (0..60).filter(|&g| has_super(g, true)).collect();
        assert_eq!(with, vec![0, 1, 3, 5, 7, 9, 25, 27, 49]);
        assert!(has_super(10, false));
    }
}
