//! Inside an ext2/3/4 filesystem, read with `ext4-view` through the engine's reader mapped
//! onto the partition's byte range: the OS release (`/etc/os-release`), the kernels in
//! `/boot`, and the Debian packages (`/var/lib/dpkg/status`) with their licences from the
//! machine-readable `/usr/share/doc/PKG/copyright` files.

use crate::convert::DiskReader;
use ext4_view::{Ext4, Ext4Read};
use serde::Serialize;
use std::collections::BTreeSet;

/// A partition's bytes as ext4-view reads them.
struct PartitionRead {
    reader: Box<dyn DiskReader>,
    start: u64,
    len: u64,
}

impl Ext4Read for PartitionRead {
    fn read(
        &mut self,
        start_byte: u64,
        dst: &mut [u8],
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync + 'static>> {
        let end = start_byte.checked_add(dst.len() as u64);
        if end.is_none_or(|e| e > self.len) {
            return Err(format!(
                "read of {} bytes at {start_byte} past the partition's {} bytes",
                dst.len(),
                self.len
            )
            .into());
        }
        self.reader
            .read_at(self.start + start_byte, dst)
            .map_err(|e| e.to_string().into())
    }
}

/// An installed package.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Package {
    pub name: String,
    pub version: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub architecture: String,
    /// SPDX-style licence names from the copyright file; empty when none is declared.
    pub licenses: Vec<String>,
}

/// What a filesystem holds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Contents {
    /// `PRETTY_NAME` of `/etc/os-release` (else `ID VERSION_ID`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os_version: Option<String>,
    /// Kernel versions (`/boot/vmlinuz-VERSION`).
    pub kernels: Vec<String>,
    /// `dpkg`, when its database is there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package_manager: Option<String>,
    pub packages: Vec<Package>,
}

/// One field of an os-release file, unquoted.
fn os_field(text: &str, key: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let v = l.strip_prefix(key)?.strip_prefix('=')?;
        Some(v.trim().trim_matches('"').trim_matches('\'').to_string())
    })
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

/// Read the contents of the ext filesystem at `start` (`len` bytes) of `reader`'s disk.
pub fn read(reader: Box<dyn DiskReader>, start: u64, len: u64) -> Result<Contents, String> {
    let fs = Ext4::load(Box::new(PartitionRead { reader, start, len }))
        .map_err(|e| format!("ext filesystem at offset {start}: {e}"))?;
    let mut c = Contents::default();
    if let Ok(text) = fs.read_to_string("/etc/os-release") {
        c.os_id = os_field(&text, "ID");
        c.os_version = os_field(&text, "VERSION_ID");
        c.os = os_field(&text, "PRETTY_NAME").or_else(|| {
            c.os_id
                .as_ref()
                .map(|id| format!("{id} {}", c.os_version.clone().unwrap_or_default()))
        });
    }
    if let Ok(dir) = fs.read_dir("/boot") {
        for entry in dir.flatten() {
            let name = entry.file_name();
            if let Some(v) = name.as_str().ok().and_then(|n| n.strip_prefix("vmlinuz-")) {
                c.kernels.push(v.to_string());
            }
        }
        c.kernels.sort();
    }
    if let Ok(status) = fs.read_to_string("/var/lib/dpkg/status") {
        c.package_manager = Some("dpkg".into());
        c.packages = parse_dpkg_status(&status);
        for p in &mut c.packages {
            let copyright = format!("/usr/share/doc/{}/copyright", p.name);
            if let Ok(text) = fs.read_to_string(copyright.as_str()) {
                p.licenses = dep5_licenses(&text);
            }
        }
    }
    Ok(c)
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
}
