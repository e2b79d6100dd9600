//! Package databases as they sit on disk: dpkg's `status` (with DEP-5 copyright licences),
//! the header blobs of rpm's SQLite database, and apk's `installed`. Pure parsers over bytes
//! (no filesystem), so the fuzz crate runs them on their own.

use serde::Serialize;
use std::collections::BTreeSet;

/// An installed package.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Package {
    pub name: String,
    pub version: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub architecture: String,
    /// Licence names as the package declares them; empty when none is declared.
    #[serde(default)]
    pub licenses: Vec<String>,
}

/// Installed packages from a dpkg `status` file (stanzas whose Status ends `installed`).
pub fn parse_dpkg_status(text: &str) -> Vec<Package> {
    let mut out = Vec::new();
    for stanza in text.split("\n\n") {
        let field = |k: &str| {
            stanza.lines().find_map(|l| {
                l.strip_prefix(k)
                    .and_then(|r| r.strip_prefix(':'))
                    .map(|v| v.trim().to_string())
            })
        };
        let (Some(name), Some(status)) = (field("Package"), field("Status")) else {
            continue;
        };
        if !status.ends_with(" installed") {
            continue;
        }
        out.push(Package {
            name,
            version: field("Version").unwrap_or_default(),
            architecture: field("Architecture").unwrap_or_default(),
            licenses: Vec::new(),
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// The licences a DEP-5 copyright file declares (`License:` fields), each once.
pub fn dep5_licenses(text: &str) -> Vec<String> {
    let set: BTreeSet<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("License:"))
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect();
    set.into_iter().collect()
}

/// Installed packages from apk's `installed` database (`P:` name, `V:` version, `A:` arch,
/// `L:` licence; a blank line ends a package).
pub fn parse_apk_installed(text: &str) -> Vec<Package> {
    let mut out = Vec::new();
    for stanza in text.split("\n\n") {
        let field = |k: &str| {
            stanza
                .lines()
                .find_map(|l| l.strip_prefix(k).map(|v| v.trim().to_string()))
        };
        let Some(name) = field("P:") else { continue };
        out.push(Package {
            name,
            version: field("V:").unwrap_or_default(),
            architecture: field("A:").unwrap_or_default(),
            licenses: field("L:").into_iter().filter(|l| !l.is_empty()).collect(),
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// rpm header tags drydock reads.
const TAG_NAME: u32 = 1000;
const TAG_VERSION: u32 = 1001;
const TAG_RELEASE: u32 = 1002;
const TAG_EPOCH: u32 = 1003;
const TAG_LICENSE: u32 = 1014;
const TAG_ARCH: u32 = 1022;
/// Header entry types: INT32, STRING, I18NSTRING.
const TYPE_INT32: u32 = 4;
const TYPE_STRING: u32 = 6;
const TYPE_I18N: u32 = 9;
/// At most this many index entries in one header (rpm's own limit is 0xffff).
const MAX_ENTRIES: usize = 0xffff;

/// Why an rpm header blob cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RpmHeaderError {
    #[error("header ends at {len} before offset {offset}")]
    Short { len: usize, offset: usize },
    #[error("{count} index entries (at most {MAX_ENTRIES})")]
    TooManyEntries { count: usize },
    #[error("data store of {data_len} bytes at {data_start} is past the header's {len} bytes")]
    DataPastEnd {
        data_len: usize,
        data_start: usize,
        len: usize,
    },
    #[error("tag {tag}: offset {offset} past the data store")]
    OffsetPastData { tag: u32, offset: usize },
    #[error("tag {tag}: string at {offset} has no terminator")]
    Unterminated { tag: u32, offset: usize },
    #[error("no name tag")]
    NoName,
}

/// One package from an rpm header blob as the SQLite database stores it (no lead or magic:
/// index count and data length, big-endian, then the 16-byte index entries and the data).
pub fn parse_rpm_header(blob: &[u8]) -> Result<Package, RpmHeaderError> {
    let be32 = |o: usize| -> Result<u32, RpmHeaderError> {
        drydock_convert::bytes::get_be32(blob, o).ok_or(RpmHeaderError::Short {
            len: blob.len(),
            offset: o,
        })
    };
    let count = be32(0)? as usize;
    let data_len = be32(4)? as usize;
    if count > MAX_ENTRIES {
        return Err(RpmHeaderError::TooManyEntries { count });
    }
    let data_start = 8 + count * 16;
    let data = blob
        .get(data_start..data_start.saturating_add(data_len))
        .ok_or(RpmHeaderError::DataPastEnd {
            data_len,
            data_start,
            len: blob.len(),
        })?;
    let mut p = Package {
        name: String::new(),
        version: String::new(),
        architecture: String::new(),
        licenses: Vec::new(),
    };
    let (mut release, mut epoch) = (String::new(), None);
    for i in 0..count {
        let e = 8 + i * 16;
        let (tag, kind, offset) = (be32(e)?, be32(e + 4)?, be32(e + 8)? as usize);
        let string = || -> Result<String, RpmHeaderError> {
            let rest = data
                .get(offset..)
                .ok_or(RpmHeaderError::OffsetPastData { tag, offset })?;
            let end = rest
                .iter()
                .position(|&b| b == 0)
                .ok_or(RpmHeaderError::Unterminated { tag, offset })?;
            Ok(String::from_utf8_lossy(&rest[..end]).into_owned())
        };
        match (tag, kind) {
            (TAG_NAME, TYPE_STRING) => p.name = string()?,
            (TAG_VERSION, TYPE_STRING) => p.version = string()?,
            (TAG_RELEASE, TYPE_STRING) => release = string()?,
            (TAG_ARCH, TYPE_STRING) => p.architecture = string()?,
            (TAG_LICENSE, TYPE_STRING | TYPE_I18N) => p.licenses = vec![string()?],
            (TAG_EPOCH, TYPE_INT32) => {
                let e = drydock_convert::bytes::get_be32(data, offset)
                    .ok_or(RpmHeaderError::OffsetPastData { tag, offset })?;
                epoch = Some(e);
            }
            _ => {}
        }
    }
    if p.name.is_empty() {
        return Err(RpmHeaderError::NoName);
    }
    if !release.is_empty() {
        p.version = format!("{}-{release}", p.version);
    }
    if let Some(e) = epoch.filter(|&e| e > 0) {
        p.version = format!("{e}:{}", p.version);
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dpkg_status_keeps_installed_packages_only() {
        let text =
            "Package: bash\nStatus: install ok installed\nVersion: 5.2-1\nArchitecture: amd64\n\n\
                    Package: gone\nStatus: deinstall ok config-files\nVersion: 1\n\n\
                    Package: zlib1g\nStatus: install ok installed\nVersion: 1:1.2.13\n";
        let p = parse_dpkg_status(text);
        assert_eq!(p.len(), 2);
        assert_eq!(
            (p[0].name.as_str(), p[0].version.as_str()),
            ("bash", "5.2-1")
        );
        assert_eq!(p[1].version, "1:1.2.13");
    }

    #[test]
    fn dep5_licences_are_listed_once() {
        let text = "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n\
                    Files: *\nLicense: GPL-3+\n\nFiles: lib/*\nLicense: MIT\n\nLicense: GPL-3+\n The text\n";
        assert_eq!(dep5_licenses(text), vec!["GPL-3+", "MIT"]);
    }

    #[test]
    fn apk_installed_lists_name_version_licence() {
        let text = "C:Q1abc=\nP:musl\nV:1.2.4-r2\nA:x86_64\nL:MIT\n\nP:busybox\nV:1.36.1-r5\nL:GPL-2.0-only\n";
        let p = parse_apk_installed(text);
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].name, "busybox");
        assert_eq!(p[1].licenses, vec!["MIT"]);
        assert_eq!(p[1].architecture, "x86_64");
    }

    fn header(entries: &[(u32, u32, &[u8])]) -> Vec<u8> {
        let mut data = Vec::new();
        let mut index = Vec::new();
        for (tag, kind, bytes) in entries {
            index.extend(tag.to_be_bytes());
            index.extend(kind.to_be_bytes());
            index.extend((data.len() as u32).to_be_bytes());
            index.extend(1u32.to_be_bytes());
            data.extend_from_slice(bytes);
        }
        let mut out = (entries.len() as u32).to_be_bytes().to_vec();
        out.extend((data.len() as u32).to_be_bytes());
        out.extend(index);
        out.extend(data);
        out
    }

    #[test]
    fn rpm_header_gives_epoch_version_release() {
        let blob = header(&[
            (TAG_NAME, TYPE_STRING, b"openssl\0"),
            (TAG_VERSION, TYPE_STRING, b"3.0.7\0"),
            (TAG_RELEASE, TYPE_STRING, b"27.el9\0"),
            (TAG_EPOCH, TYPE_INT32, &1u32.to_be_bytes()),
            (TAG_LICENSE, TYPE_STRING, b"ASL 2.0\0"),
            (TAG_ARCH, TYPE_STRING, b"x86_64\0"),
        ]);
        let p = parse_rpm_header(&blob).unwrap();
        assert_eq!(p.name, "openssl");
        assert_eq!(p.version, "1:3.0.7-27.el9");
        assert_eq!(p.licenses, vec!["ASL 2.0"]);
    }

    #[test]
    fn hostile_rpm_headers_are_refused() {
        assert!(parse_rpm_header(&[0, 0]).is_err());
        assert!(parse_rpm_header(&[0xff; 16]).is_err());
        let mut blob = header(&[(TAG_NAME, TYPE_STRING, b"x\0")]);
        let n = blob.len();
        blob[n - 1] = b'y'; // no terminator
        assert!(parse_rpm_header(&blob).is_err());
        let mut blob = header(&[(TAG_NAME, TYPE_STRING, b"x\0")]);
        blob[16..20].copy_from_slice(&1000u32.to_be_bytes()); // offset past data
        assert!(parse_rpm_header(&blob).is_err());
    }
}
