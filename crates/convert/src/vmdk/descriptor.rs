//! VMDK text descriptors: the extent list (FLAT, SPARSE and ZERO extents, found beside the
//! descriptor) read as one virtual disk.

use super::read::SparseReader;
use super::{F, MAX_DESCRIPTOR};
use crate::disk::{DiskInfo, DiskReader, Run};
use crate::error::{corrupt, unsupported, Result};
use crate::raw::RawReader;
use crate::source::Source;
use crate::Format;

/// The most extents a descriptor may list (VMware splits a 62 TiB disk into 31,744 2 GiB
/// extents at most).
const MAX_EXTENTS: usize = 32768;

/// One extent of a descriptor.
enum Extent {
    Zero,
    Reader(Box<dyn DiskReader>),
}

/// Reads a text descriptor and its extents (in the descriptor's directory).
pub struct DescriptorReader {
    info: DiskInfo,
    /// (start byte, length, extent).
    extents: Vec<(u64, u64, Extent)>,
}

impl DescriptorReader {
    pub fn open(src: Source) -> Result<DescriptorReader> {
        if src.len() > MAX_DESCRIPTOR {
            return Err(corrupt(
                F,
                "descriptor",
                0,
                format!("a {}-byte descriptor is too large", src.len()),
            ));
        }
        let mut bytes = vec![0u8; src.len() as usize];
        src.read_at(F, "descriptor", 0, &mut bytes)?;
        // Descriptors are often padded with NULs to a sector.
        if let Some(nul) = bytes.iter().position(|&b| b == 0) {
            bytes.truncate(nul);
        }
        let text = String::from_utf8(bytes).map_err(|e| {
            corrupt(
                F,
                "descriptor",
                e.utf8_error().valid_up_to() as u64,
                "not UTF-8 text",
            )
        })?;
        let dir = src
            .path()
            .parent()
            .map(|p| p.to_path_buf())
            .unwrap_or_default();
        let mut extents = Vec::new();
        let mut start = 0u64;
        let mut offset = 0u64;
        let mut create_type = String::new();
        // Sparse extent files already opened: each holds its own grain tables, so one named
        // twice would have them loaded twice (a thousand times by a hostile descriptor).
        let mut sparse_files = std::collections::BTreeSet::new();
        for (i, line) in text.split_inclusive('\n').enumerate() {
            let line_at = offset;
            offset += line.len() as u64;
            let line = line.trim();
            let n = i + 1;
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some((k, v)) = line.split_once('=') {
                let (k, v) = (k.trim(), v.trim().trim_matches('"'));
                if k == "parentCID" && !v.eq_ignore_ascii_case("ffffffff") {
                    return Err(unsupported(
                        F,
                        "a differencing disk (parentCID is set)",
                        "merge it into its parent first",
                    ));
                }
                if k == "createType" {
                    create_type = v.to_string();
                }
                continue;
            }
            let bad = |d: String| corrupt(F, "descriptor", line_at, format!("line {n}: {d}"));
            let mut words = line.split_whitespace();
            let access = words.next().unwrap_or_default();
            if !["RW", "RDONLY", "NOACCESS"].contains(&access) {
                let shown: String = line.chars().take(60).collect();
                return Err(bad(format!(
                    "{shown:?} is neither key = value nor an extent"
                )));
            }
            let sectors: u64 = words
                .next()
                .and_then(|w| w.parse().ok())
                .ok_or_else(|| bad("extent size is not a number".into()))?;
            let kind = words.next().unwrap_or_default();
            let len = sectors
                .checked_mul(512)
                .filter(|l| start.checked_add(*l).is_some())
                .ok_or_else(|| bad("extent size overflows".into()))?;
            let extent = if kind == "ZERO" {
                Extent::Zero
            } else {
                let rest: String = words.collect::<Vec<_>>().join(" ");
                let (name, tail) = parse_quoted(&rest)
                    .ok_or_else(|| bad("extent file name is not quoted".into()))?;
                if name.contains('/') || name.contains('\\') || name == ".." || name.is_empty() {
                    return Err(bad(format!("extent file {name:?} is not a plain file name in the descriptor's directory")));
                }
                let file = Source::open(&dir.join(&name))?;
                match kind {
                    "FLAT" | "VMFS" => {
                        let at: u64 = match tail.trim() {
                            "" => 0,
                            t => t
                                .parse()
                                .map_err(|_| bad(format!("extent offset {t:?} is not a number")))?,
                        };
                        let base = at
                            .checked_mul(512)
                            .ok_or_else(|| bad("extent offset overflows".into()))?;
                        if base.saturating_add(len) > file.len() {
                            return Err(bad(format!(
                                "flat extent {name:?} has {} bytes; {len} needed from {base}",
                                file.len()
                            )));
                        }
                        Extent::Reader(Box::new(RawReader::new(
                            file.window(base, len)?,
                            Format::Raw,
                        )))
                    }
                    "SPARSE" | "VMFSSPARSE" => {
                        if !sparse_files.insert(name.clone()) {
                            return Err(bad(format!(
                                "sparse extent {name:?} is named twice; each sparse extent is a disk of its own"
                            )));
                        }
                        let r = SparseReader::open(file)?;
                        if r.info().virtual_size < len {
                            return Err(bad(format!(
                                "sparse extent {name:?} holds {} bytes, fewer than {len}",
                                r.info().virtual_size
                            )));
                        }
                        Extent::Reader(Box::new(r))
                    }
                    other => {
                        return Err(unsupported(
                            F,
                            format!("{other} extents"),
                            "FLAT, VMFS, SPARSE and ZERO are read",
                        ))
                    }
                }
            };
            extents.push((start, len, extent));
            start += len;
            if extents.len() > MAX_EXTENTS {
                return Err(bad(format!("more than {MAX_EXTENTS} extents")));
            }
        }
        if extents.is_empty() {
            return Err(corrupt(F, "descriptor", 0, "no extent lines"));
        }
        Ok(DescriptorReader {
            info: DiskInfo {
                format: Format::VmdkDescriptor,
                virtual_size: start,
                details: vec![format!(
                    "{create_type} descriptor, {} extent(s)",
                    extents.len()
                )],
            },
            extents,
        })
    }

    fn find(&self, offset: u64) -> usize {
        self.extents.partition_point(|(s, l, _)| s + l <= offset)
    }
}

/// `"name" rest` → (name, rest).
fn parse_quoted(s: &str) -> Option<(String, &str)> {
    let s = s.trim_start().strip_prefix('"')?;
    let end = s.find('"')?;
    Some((s[..end].to_string(), &s[end + 1..]))
}

impl DiskReader for DescriptorReader {
    fn info(&self) -> &DiskInfo {
        &self.info
    }

    fn map(&mut self, offset: u64, max: u64) -> Result<Run> {
        let i = self.find(offset);
        let (start, len, extent) = &mut self.extents[i];
        let room = (*start + *len - offset).min(max);
        match extent {
            Extent::Zero => Ok(Run {
                data: false,
                len: room,
            }),
            Extent::Reader(r) => r.map(offset - *start, room),
        }
    }

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<()> {
        let mut done = 0;
        while done < buf.len() {
            let pos = offset + done as u64;
            let i = self.find(pos);
            let (start, len, extent) = &mut self.extents[i];
            let n = ((*start + *len - pos) as usize).min(buf.len() - done);
            match extent {
                Extent::Zero => buf[done..done + n].fill(0),
                Extent::Reader(r) => r.read_at(pos - *start, &mut buf[done..done + n])?,
            }
            done += n;
        }
        Ok(())
    }
}

/// Whether a file's first bytes look like a VMDK text descriptor.
pub fn is_descriptor(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(head);
    text.starts_with("# Disk DescriptorFile")
        || (text.contains("createType") && text.contains("# Extent description"))
}
