//! What filesystem a partition holds, by its on-disk signature, and how full it is where
//! the superblock says (ext2/3/4, FAT, swap). Filesystems drydock cannot read inside (XFS,
//! btrfs, LVM, LUKS, NTFS) are named as such, never reported as empty.

use super::{InspectError, ReadAt};
use serde::Serialize;

/// A partition's filesystem.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Filesystem {
    /// `ext4`, `ext3`, `ext2`, `vfat`, `swap`, `xfs`, `btrfs`, `LVM2 member`, `LUKS`,
    /// `ntfs`, or `unknown` (no signature drydock knows: maybe empty, maybe not).
    pub kind: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub label: String,
    /// Bytes in use and in all, where the filesystem says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub used: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capacity: Option<u64>,
    /// Whether drydock reads inside it (files, packages).
    pub readable: bool,
    /// Why a filesystem drydock reads could not be read (corrupt, or its reader failed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b)
        .trim_end_matches(['\0', ' '])
        .to_string()
}

/// Identify the filesystem at `start` of a partition `size` bytes long.
pub fn identify(start: u64, size: u64, read: &mut ReadAt<'_>) -> Result<Filesystem, InspectError> {
    let mut head = vec![0u8; (68 * 1024).min(size) as usize];
    read(start, &mut head)?;
    let unknown = Filesystem {
        kind: "unknown".into(),
        label: String::new(),
        used: None,
        capacity: None,
        readable: false,
        problem: None,
    };
    let at = |o: usize, n: usize| head.get(o..o + n);
    // ext2/3/4: the superblock at 1024, magic 0xEF53 at 56.
    if let Some(sb) = at(1024, 1024).filter(|sb| sb[56..58] == [0x53, 0xEF]) {
        let le32 = |o: usize| drydock_convert::bytes::le32(sb, o);
        let log = le32(24);
        if log > 6 {
            return Err(InspectError::corrupt(
                "ext superblock",
                start + 1024 + 24,
                format!("block size 2^(10+{log}) is not a size ext uses"),
            ));
        }
        let bs = 1024u64 << log;
        let incompat = le32(96);
        let hi = |o: usize| {
            if incompat & 0x80 != 0 {
                u64::from(le32(o)) << 32
            } else {
                0
            }
        };
        let blocks = u64::from(le32(4)) | hi(0x150);
        let free = u64::from(le32(12)) | hi(0x158);
        let compat = le32(92);
        let kind = if incompat & 0x2C0 != 0 {
            "ext4" // extents, 64bit or flex_bg
        } else if compat & 0x4 != 0 {
            "ext3" // has_journal
        } else {
            "ext2"
        };
        // Sizes the superblock declares are checked: a count of blocks no disk holds is a
        // corrupt superblock, not a wrapped-around capacity.
        let capacity = blocks.checked_mul(bs).ok_or_else(|| {
            InspectError::corrupt(
                "ext superblock",
                start + 1024 + 4,
                format!("{blocks} blocks of {bs} bytes is past any disk"),
            )
        })?;
        // A filesystem larger than its partition is cut off: its sizes are not reported as
        // if they were true, and its contents are not read.
        if capacity > size {
            return Ok(Filesystem {
                kind: kind.into(),
                label: text(&sb[120..136]),
                used: None,
                capacity: None,
                readable: false,
                problem: Some(format!(
                    "ext filesystem at offset {start}: its superblock claims {capacity} bytes; the partition holds {size}"
                )),
            });
        }
        return Ok(Filesystem {
            kind: kind.into(),
            label: text(&sb[120..136]),
            used: Some(blocks.saturating_sub(free).saturating_mul(bs)),
            capacity: Some(capacity),
            readable: true,
            problem: None,
        });
    }
    if at(0, 4) == Some(b"XFSB") {
        return Ok(Filesystem {
            kind: "xfs".into(),
            label: at(108, 12).map(text).unwrap_or_default(),
            ..unknown
        });
    }
    if at(0x10040, 8) == Some(b"_BHRfS_M") {
        return Ok(Filesystem {
            kind: "btrfs".into(),
            ..unknown
        });
    }
    if at(512, 8) == Some(b"LABELONE") && at(536, 8) == Some(b"LVM2 001") {
        return Ok(Filesystem {
            kind: "LVM2 member".into(),
            ..unknown
        });
    }
    if at(0, 6) == Some(b"LUKS\xba\xbe") {
        return Ok(Filesystem {
            kind: "LUKS".into(),
            ..unknown
        });
    }
    if at(3, 8) == Some(b"NTFS    ") {
        return Ok(Filesystem {
            kind: "ntfs".into(),
            ..unknown
        });
    }
    if at(4086, 10) == Some(b"SWAPSPACE2") {
        return Ok(Filesystem {
            kind: "swap".into(),
            label: text(&head[1024 + 28..1024 + 44]),
            capacity: Some(size),
            ..unknown
        });
    }
    let fat32 = at(82, 5) == Some(b"FAT32");
    if at(510, 2) == Some(&[0x55, 0xAA]) && (fat32 || at(54, 3) == Some(b"FAT")) {
        let label = if fat32 {
            text(&head[71..82])
        } else {
            text(&head[43..54])
        };
        return Ok(Filesystem {
            kind: "vfat".into(),
            label,
            capacity: Some(size),
            ..unknown
        });
    }
    Ok(unknown)
}
