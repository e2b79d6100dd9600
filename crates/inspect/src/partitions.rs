//! Partition tables read from a virtual disk: MBR (four primary entries) and GPT (header at
//! LBA 1 with its CRC32, the entry array with its CRC32, the backup header when the primary
//! is damaged). Hostile tables are bounded: entry counts and sizes past the GPT's limits,
//! ranges past the end of the disk and overlapping partitions are errors that name the
//! structure and its offset, never panics or huge allocations.

use super::{InspectError, ReadAt};

const SECTOR: u64 = 512;
/// The most GPT entries drydock reads (the standard array holds 128).
const MAX_ENTRIES: u32 = 1024;

/// Which table the disk has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    Gpt,
    Mbr,
    /// No partition table: the whole disk is one filesystem (or nothing).
    None,
}

/// One partition.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Partition {
    /// 1-based, as the OS numbers them.
    pub number: u32,
    pub start: u64,
    pub size: u64,
    /// What the table says it is: a GPT type's name or an MBR type byte's.
    pub kind: String,
    /// The GPT type GUID, or the MBR type byte as `0x83`.
    pub type_id: String,
    /// GPT: the partition's name.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
}

/// A disk's partition table.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Table {
    pub scheme: Scheme,
    pub partitions: Vec<Partition>,
    /// Problems that did not stop the read (a damaged primary GPT header, say).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

use drydock_convert::bytes::{le16, le32, le64};

/// A GUID in its usual text form (mixed-endian, as GPT stores it).
pub fn guid(b: &[u8]) -> String {
    format!(
        "{:08X}-{:04X}-{:04X}-{:02X}{:02X}-{}",
        le32(b, 0),
        le16(b, 4),
        le16(b, 6),
        b[8],
        b[9],
        b[10..16]
            .iter()
            .map(|x| format!("{x:02X}"))
            .collect::<String>()
    )
}

/// The name of a GPT partition type.
pub fn gpt_kind(type_guid: &str) -> &'static str {
    match type_guid {
        "C12A7328-F81F-11D2-BA4B-00A0C93EC93B" => "EFI system",
        "21686148-6449-6E6F-744E-656564454649" => "BIOS boot",
        "0FC63DAF-8483-4772-8E79-3D69D8477DE4" => "Linux filesystem",
        "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709" => "Linux root (x86-64)",
        "B921B045-1DF0-41C3-AF44-4C6F280D3FAE" => "Linux root (ARM64)",
        "BC13C2FF-59E6-4262-A352-B275FD6F7172" => "Linux extended boot",
        "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F" => "Linux swap",
        "E6D6D379-F507-44C2-A23C-238F2A3DF928" => "Linux LVM",
        "A19D880F-05FC-4D3B-A006-743F0F84911E" => "Linux RAID",
        "CA7D7CCB-63ED-4C53-861C-1742536059CC" => "Linux LUKS",
        "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7" => "Microsoft basic data",
        "E3C9E316-0B5C-4DB8-817D-F92DF00215AE" => "Microsoft reserved",
        "DE94BBA4-06D1-4D40-A16A-BFD50179D6AC" => "Windows recovery",
        _ => "unknown type",
    }
}

/// The name of an MBR partition type byte.
pub fn mbr_kind(t: u8) -> &'static str {
    match t {
        0x83 => "Linux",
        0x82 => "Linux swap",
        0x8e => "Linux LVM",
        0xfd => "Linux RAID",
        0xef => "EFI system",
        0x07 => "NTFS/exFAT",
        0x0b | 0x0c => "FAT32",
        0x01 | 0x04 | 0x06 | 0x0e => "FAT",
        0x05 | 0x0f | 0x85 => "extended",
        _ => "unknown type",
    }
}

/// Read the partition table of a disk of `size` bytes through `read(offset, buf)`.
pub fn read(size: u64, read: &mut ReadAt<'_>) -> Result<Table, InspectError> {
    if size < SECTOR {
        return Ok(Table {
            scheme: Scheme::None,
            partitions: Vec::new(),
            warnings: vec![format!(
                "the disk is {size} bytes: no room for a partition table"
            )],
        });
    }
    let mut mbr = [0u8; 512];
    read(0, &mut mbr)?;
    if mbr[510..512] != [0x55, 0xAA] {
        return Ok(Table {
            scheme: Scheme::None,
            partitions: Vec::new(),
            warnings: Vec::new(),
        });
    }
    let entries: Vec<(u8, u64, u64)> = (0..4)
        .map(|i| {
            let e = &mbr[446 + i * 16..462 + i * 16];
            (e[4], u64::from(le32(e, 8)), u64::from(le32(e, 12)))
        })
        .collect();
    if entries.iter().any(|e| e.0 == 0xEE) {
        return read_gpt(size, read);
    }
    let mut partitions = Vec::new();
    for (i, &(t, lba, count)) in entries.iter().enumerate() {
        if t == 0 || count == 0 {
            continue;
        }
        let (start, len) = (lba * SECTOR, count * SECTOR);
        if start + len > size {
            return Err(InspectError::corrupt(
                "MBR partition entry",
                446 + i as u64 * 16,
                format!(
                    "partition {} ends at {} past the disk's {size} bytes",
                    i + 1,
                    start + len
                ),
            ));
        }
        partitions.push(Partition {
            number: i as u32 + 1,
            start,
            size: len,
            kind: mbr_kind(t).into(),
            type_id: format!("{t:#04x}"),
            name: String::new(),
        });
    }
    check_overlaps(&partitions, "MBR partition entry", 446)?;
    Ok(Table {
        scheme: Scheme::Mbr,
        partitions,
        warnings: Vec::new(),
    })
}

fn read_gpt(size: u64, read: &mut ReadAt<'_>) -> Result<Table, InspectError> {
    let mut warnings = Vec::new();
    let primary = header(SECTOR, size, read);
    let hdr = match primary {
        Ok(h) => h,
        Err(e) => {
            // The backup header is in the last sector.
            let Some(backup) = (size / SECTOR * SECTOR).checked_sub(SECTOR) else {
                return Err(e);
            };
            match header(backup, size, read) {
                Ok(h) => {
                    warnings.push(format!("primary GPT header damaged ({e}); read the backup"));
                    h
                }
                Err(_) => return Err(e),
            }
        }
    };
    let (entries_lba, count, entry_size) = hdr;
    let len = u64::from(count) * u64::from(entry_size);
    let mut array = vec![0u8; len as usize];
    read(entries_lba * SECTOR, &mut array)?;
    let mut partitions = Vec::new();
    for i in 0..count as usize {
        let e = &array[i * entry_size as usize..(i + 1) * entry_size as usize];
        if e[..16].iter().all(|&b| b == 0) {
            continue;
        }
        let (first, last) = (le64(e, 32), le64(e, 40));
        let at = entries_lba * SECTOR + (i as u64) * u64::from(entry_size);
        if last < first
            || last
                .checked_add(1)
                .and_then(|l| l.checked_mul(SECTOR))
                .is_none_or(|end| end > size)
        {
            return Err(InspectError::corrupt(
                "GPT partition entry",
                at,
                format!(
                    "partition {} spans LBA {first}..={last}, past the disk's end",
                    i + 1
                ),
            ));
        }
        let type_id = guid(&e[..16]);
        let name: Vec<u16> = e[56..128.min(e.len())]
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .take_while(|&c| c != 0)
            .collect();
        partitions.push(Partition {
            number: i as u32 + 1,
            start: first * SECTOR,
            size: (last - first + 1) * SECTOR,
            kind: gpt_kind(&type_id).into(),
            type_id,
            name: String::from_utf16_lossy(&name),
        });
    }
    check_overlaps(&partitions, "GPT partition entry", entries_lba * SECTOR)?;
    Ok(Table {
        scheme: Scheme::Gpt,
        partitions,
        warnings,
    })
}

/// A GPT header at `at`: checked signature, size, CRC32 and entry array; returns the
/// array's LBA, entry count and entry size, the array's CRC32 checked too.
fn header(at: u64, size: u64, read: &mut ReadAt<'_>) -> Result<(u64, u32, u32), InspectError> {
    let mut h = [0u8; 512];
    read(at, &mut h)?;
    let bad = |detail: String| InspectError::corrupt("GPT header", at, detail);
    if &h[..8] != b"EFI PART" {
        return Err(bad("no EFI PART signature".into()));
    }
    let hsize = le32(&h, 12) as usize;
    if !(92..=512).contains(&hsize) {
        return Err(bad(format!("header size {hsize} is not 92..512")));
    }
    let mut copy = h[..hsize].to_vec();
    copy[16..20].fill(0);
    if crc32fast::hash(&copy) != le32(&h, 16) {
        return Err(bad("header CRC32 mismatch".into()));
    }
    let (lba, count, esize) = (le64(&h, 72), le32(&h, 80), le32(&h, 84));
    if count > MAX_ENTRIES || !(128..=4096).contains(&esize) || esize % 128 != 0 {
        return Err(bad(format!(
            "{count} entries of {esize} bytes (at most {MAX_ENTRIES} entries of 128..4096 bytes)"
        )));
    }
    let len = u64::from(count) * u64::from(esize);
    if lba
        .checked_mul(SECTOR)
        .and_then(|o| o.checked_add(len))
        .is_none_or(|end| end > size)
    {
        return Err(bad(format!(
            "the entry array at LBA {lba} runs past the disk's end"
        )));
    }
    let mut array = vec![0u8; len as usize];
    read(lba * SECTOR, &mut array)?;
    if crc32fast::hash(&array) != le32(&h, 88) {
        return Err(InspectError::corrupt(
            "GPT partition entry array",
            lba * SECTOR,
            "CRC32 mismatch".into(),
        ));
    }
    Ok((lba, count, esize))
}

fn check_overlaps(
    parts: &[Partition],
    structure: &'static str,
    at: u64,
) -> Result<(), InspectError> {
    let mut sorted: Vec<&Partition> = parts.iter().collect();
    sorted.sort_by_key(|p| p.start);
    for w in sorted.windows(2) {
        if w[0].start + w[0].size > w[1].start {
            return Err(InspectError::corrupt(
                structure,
                at,
                format!("partitions {} and {} overlap", w[0].number, w[1].number),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Random GPT and MBR tables, with valid CRCs so the entry checks run too: every one
    /// gives a table or an error, never a panic.
    #[test]
    fn random_tables_never_panic() {
        let mut x = 0x1234_5678_9abc_def0u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let size = 64 * 1024;
        for round in 0..3000 {
            let mut disk = vec![0u8; size];
            for b in disk.iter_mut().take(8192) {
                *b = next() as u8;
            }
            disk[510] = 0x55;
            disk[511] = 0xAA;
            if round % 3 != 0 {
                disk[446 + 4] = 0xEE;
                disk[512..520].copy_from_slice(b"EFI PART");
                disk[524..528].copy_from_slice(&92u32.to_le_bytes());
                disk[584..592].copy_from_slice(&2u64.to_le_bytes());
                let count = (next() % 64) as u32;
                disk[592..596].copy_from_slice(&count.to_le_bytes());
                disk[596..600].copy_from_slice(&128u32.to_le_bytes());
                let array = crc32fast::hash(&disk[1024..1024 + count as usize * 128]);
                disk[600..604].copy_from_slice(&array.to_le_bytes());
                disk[528..532].fill(0);
                let crc = crc32fast::hash(&disk[512..604]);
                disk[528..532].copy_from_slice(&crc.to_le_bytes());
            }
            let mut read_at = |o: u64, buf: &mut [u8]| -> Result<(), InspectError> {
                let end = o as usize + buf.len();
                if end > size {
                    return Err(InspectError::corrupt("read", o, "past the end".into()));
                }
                buf.copy_from_slice(&disk[o as usize..end]);
                Ok(())
            };
            if let Ok(t) = read(size as u64, &mut read_at) {
                assert!(t.partitions.iter().all(|p| p.start + p.size <= size as u64));
            }
        }
    }
}
