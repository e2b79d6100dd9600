//! What a transferred image carries: the source's provenance tags (`drydock:family`,
//! `drydock:version`, `drydock:parent`, `cm-source`; from flags or a local file's sidecar
//! where the source is a file) and `drydock:source`, naming the source and the SHA-256 of
//! its virtual disk. A download writes the same tags to `FILE.provenance.json`, so the
//! provenance survives a hop through a local disk.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub const FAMILY: &str = "drydock:family";
pub const VERSION: &str = "drydock:version";
pub const PARENT: &str = "drydock:parent";
pub const CM_SOURCE: &str = "cm-source";
pub const SOURCE: &str = "drydock:source";
/// The tags a transfer carries over.
pub const CARRIED: [&str; 4] = [FAMILY, VERSION, PARENT, CM_SOURCE];

/// Provenance given on the command line; each overrides the source's.
#[derive(Clone, Debug, Default)]
pub struct Flags {
    pub family: Option<String>,
    pub version: Option<String>,
    pub parent: Option<String>,
    pub cm_source: Option<String>,
}

/// The carried tags of `source_tags`, overridden by `flags`.
pub fn carried(source_tags: &BTreeMap<String, String>, flags: &Flags) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = source_tags
        .iter()
        .filter(|(k, _)| CARRIED.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (key, v) in [
        (FAMILY, &flags.family),
        (VERSION, &flags.version),
        (PARENT, &flags.parent),
        (CM_SOURCE, &flags.cm_source),
    ] {
        if let Some(v) = v {
            out.insert(key.to_string(), v.clone());
        }
    }
    out
}

/// The `drydock:source` value: the source's name and its content digest.
pub fn source_value(name: &str, sha256: &str) -> String {
    // Cloud tag values hold 256 characters: a long file path keeps its end.
    let digest = format!(" sha256:{sha256}");
    let room = 256 - digest.len();
    let name = if name.chars().count() > room {
        let skip = name.chars().count() - room;
        name.chars().skip(skip).collect()
    } else {
        name.to_string()
    };
    format!("{name}{digest}")
}

/// The name and digest in a `drydock:source` value.
pub fn parse_source(value: &str) -> Option<(&str, &str)> {
    let (name, digest) = value.rsplit_once(" sha256:")?;
    Some((name, digest))
}

/// Where a local disk's provenance is kept.
pub fn sidecar(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".provenance.json");
    path.with_file_name(name)
}

/// The tags in a local disk's sidecar, if it has one.
pub fn read_sidecar(path: &Path) -> Result<BTreeMap<String, String>, SidecarError> {
    let side = sidecar(path);
    match std::fs::read_to_string(&side) {
        Ok(text) => serde_json::from_str(&text)
            .map_err(|source| SidecarError::NotProvenance { path: side, source }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
        Err(source) => Err(SidecarError::Read { path: side, source }),
    }
}

/// Why a local disk's provenance sidecar cannot be read (a missing one is no error).
#[derive(Debug, thiserror::Error)]
pub enum SidecarError {
    #[error("{}: {source}", path.display())]
    Read {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("{}: not a provenance file: {source}", path.display())]
    NotProvenance {
        path: std::path::PathBuf,
        source: serde_json::Error,
    },
}

/// Write a local disk's sidecar atomically (temporary file, then rename).
pub fn write_sidecar(path: &Path, tags: &BTreeMap<String, String>) -> std::io::Result<()> {
    let side = sidecar(path);
    let tmp = side.with_extension("json.tmp");
    let text = serde_json::to_string_pretty(tags).map_err(std::io::Error::other)?;
    std::fs::write(&tmp, text + "\n")?;
    std::fs::rename(&tmp, &side)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_and_only_provenance_is_carried() {
        let src: BTreeMap<String, String> = [
            (FAMILY, "web"),
            (VERSION, "1"),
            ("Name", "x"),
            (CM_SOURCE, "[]"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let out = carried(
            &src,
            &Flags {
                version: Some("2".into()),
                ..Flags::default()
            },
        );
        assert_eq!(out.get(VERSION).unwrap(), "2");
        assert_eq!(out.get(FAMILY).unwrap(), "web");
        assert!(!out.contains_key("Name"));
    }

    #[test]
    fn source_values_fit_a_tag_and_parse_back() {
        let v = source_value(&"d/".repeat(200), &"a".repeat(64));
        assert_eq!(v.chars().count(), 256);
        let (name, digest) = parse_source(&v).unwrap();
        assert!(name.ends_with("d/"));
        assert_eq!(digest, "a".repeat(64));
    }
}
