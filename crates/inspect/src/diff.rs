//! What changed between two image versions: OS release, kernels, packages added, removed,
//! upgraded and downgraded, and licence changes. Either side is a disk image (inspected), a
//! saved `inspect --format json` document or an SPDX 2.3 document: the form an SBOM is kept in.

use super::{contents::Package, pkgver, InspectError, Inspection};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// The components of one image version, all volumes together.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Components {
    pub os: Option<String>,
    pub kernels: Vec<String>,
    pub packages: Vec<Package>,
}

impl Components {
    pub fn of(found: &Inspection) -> Components {
        Components::gather(found.volumes.iter().filter_map(|v| v.contents.as_ref()))
    }

    /// All volumes' contents together: the first OS, every kernel once, every package.
    fn gather<'a>(contents: impl Iterator<Item = &'a super::contents::Contents>) -> Components {
        let mut c = Components::default();
        for v in contents {
            if c.os.is_none() {
                c.os = v.os.clone();
            }
            c.kernels.extend(v.kernels.iter().cloned());
            c.packages.extend(v.packages.iter().cloned());
        }
        c.kernels.sort();
        c.kernels.dedup();
        c.packages.sort_by(|a, b| a.name.cmp(&b.name));
        c
    }

    /// From an SPDX 2.3 document's packages (name, versionInfo, licenseDeclared).
    fn from_spdx(doc: &serde_json::Value) -> Components {
        let mut c = Components::default();
        for p in doc["packages"].as_array().into_iter().flatten() {
            let licence = p["licenseDeclared"].as_str().unwrap_or("NOASSERTION");
            c.packages.push(Package {
                name: p["name"].as_str().unwrap_or_default().to_string(),
                version: p["versionInfo"].as_str().unwrap_or_default().to_string(),
                architecture: String::new(),
                licenses: if licence == "NOASSERTION" {
                    Vec::new()
                } else {
                    vec![licence.to_string()]
                },
            });
        }
        c.os = doc["annotations"]
            .as_array()
            .into_iter()
            .flatten()
            .find_map(|a| {
                a["comment"]
                    .as_str()?
                    .strip_prefix("os: ")
                    .map(str::to_string)
            });
        c.packages.sort_by(|a, b| a.name.cmp(&b.name));
        c
    }

    /// Parse a saved inspection or SPDX document.
    pub fn from_json(text: &str) -> Option<Components> {
        let v: serde_json::Value = serde_json::from_str(text).ok()?;
        if v.get("spdxVersion").is_some() {
            return Some(Components::from_spdx(&v));
        }
        let found: SavedInspection = serde_json::from_value(v).ok()?;
        Some(Components::gather(
            found.volumes.iter().filter_map(|v| v.contents.as_ref()),
        ))
    }

    /// A disk image, or a saved inspection / SPDX document, at `path`.
    pub fn load(path: &Path) -> Result<Components, InspectError> {
        // Only the first byte decides: a disk image is never read whole into memory.
        let mut first = [0u8; 1];
        let json = drydock_convert::input::open_regular(path, "disk image or SBOM")
            .map_err(|e| InspectError::Input(Box::new(e)))
            .map(|mut f| std::io::Read::read(&mut f, &mut first))?
            .is_ok_and(|n| n == 1 && first[0] == b'{');
        if json {
            let text = drydock_convert::input::read_regular_text(
                path,
                "SBOM",
                64 << 20,
                "an inspection or SPDX document is a few MiB",
            )
            .map_err(|e| InspectError::Input(Box::new(e)))?;
            return Components::from_json(&text).ok_or_else(|| InspectError::NotAnInspection {
                path: path.display().to_string(),
            });
        }
        Ok(Components::of(&super::inspect(path)?))
    }
}

#[derive(serde::Deserialize)]
struct SavedInspection {
    volumes: Vec<SavedVolume>,
}
#[derive(serde::Deserialize)]
struct SavedVolume {
    contents: Option<super::contents::Contents>,
}

/// A package whose version or licence changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Change {
    pub name: String,
    pub old: String,
    pub new: String,
}

/// What changed from OLD to NEW.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Diff {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os: Option<Change>,
    pub kernels_added: Vec<String>,
    pub kernels_removed: Vec<String>,
    pub added: Vec<Package>,
    pub removed: Vec<Package>,
    pub upgraded: Vec<Change>,
    pub downgraded: Vec<Change>,
    pub licence_changes: Vec<Change>,
}

impl Diff {
    pub fn is_empty(&self) -> bool {
        *self == Diff::default()
    }
}

/// Compare two image versions' components.
pub fn diff(old: &Components, new: &Components) -> Diff {
    let mut d = Diff::default();
    if old.os != new.os {
        d.os = Some(Change {
            name: "os".into(),
            old: old.os.clone().unwrap_or_default(),
            new: new.os.clone().unwrap_or_default(),
        });
    }
    d.kernels_added = new
        .kernels
        .iter()
        .filter(|k| !old.kernels.contains(k))
        .cloned()
        .collect();
    d.kernels_removed = old
        .kernels
        .iter()
        .filter(|k| !new.kernels.contains(k))
        .cloned()
        .collect();
    let index = |c: &Components| -> BTreeMap<String, Package> {
        c.packages
            .iter()
            .map(|p| (p.name.clone(), p.clone()))
            .collect()
    };
    let (o, n) = (index(old), index(new));
    for (name, p) in &n {
        let Some(was) = o.get(name) else {
            d.added.push(p.clone());
            continue;
        };
        let change = Change {
            name: name.clone(),
            old: was.version.clone(),
            new: p.version.clone(),
        };
        match pkgver::compare(&was.version, &p.version) {
            std::cmp::Ordering::Less => d.upgraded.push(change),
            std::cmp::Ordering::Greater => d.downgraded.push(change),
            std::cmp::Ordering::Equal => {}
        }
        if was.licenses != p.licenses {
            d.licence_changes.push(Change {
                name: name.clone(),
                old: was.licenses.join(", "),
                new: p.licenses.join(", "),
            });
        }
    }
    d.removed = o
        .iter()
        .filter(|(k, _)| !n.contains_key(*k))
        .map(|(_, p)| p.clone())
        .collect();
    d
}

/// The diff as Markdown: a summary line and one table per kind of change.
pub fn markdown(d: &Diff, old: &str, new: &str) -> String {
    let mut s = format!("## Changes from `{old}` to `{new}`\n\n");
    s.push_str(&format!(
        "{} added, {} removed, {} upgraded, {} downgraded, {} licence changes\n",
        d.added.len(),
        d.removed.len(),
        d.upgraded.len(),
        d.downgraded.len(),
        d.licence_changes.len()
    ));
    if let Some(os) = &d.os {
        s.push_str(&format!("\n**OS:** {} → {}\n", os.old, os.new));
    }
    if !d.kernels_added.is_empty() || !d.kernels_removed.is_empty() {
        s.push_str(&format!(
            "\n**Kernels:** added {}; removed {}\n",
            list_or_none(&d.kernels_added),
            list_or_none(&d.kernels_removed)
        ));
    }
    let table = |s: &mut String, title: &str, head: &str, rows: Vec<String>| {
        if rows.is_empty() {
            return;
        }
        s.push_str(&format!("\n### {title}\n\n{head}\n"));
        let cols = head.matches('|').count() - 1;
        s.push_str(&format!("|{}\n", "---|".repeat(cols)));
        for r in rows {
            s.push_str(&r);
            s.push('\n');
        }
    };
    let pkg_rows = |ps: &[Package]| -> Vec<String> {
        ps.iter()
            .map(|p| format!("| {} | {} | {} |", p.name, p.version, p.licenses.join(", ")))
            .collect()
    };
    let change_rows = |cs: &[Change]| -> Vec<String> {
        cs.iter()
            .map(|c| format!("| {} | {} | {} |", c.name, c.old, c.new))
            .collect()
    };
    table(
        &mut s,
        "Added",
        "| package | version | licence |",
        pkg_rows(&d.added),
    );
    table(
        &mut s,
        "Removed",
        "| package | version | licence |",
        pkg_rows(&d.removed),
    );
    table(
        &mut s,
        "Upgraded",
        "| package | old | new |",
        change_rows(&d.upgraded),
    );
    table(
        &mut s,
        "Downgraded",
        "| package | old | new |",
        change_rows(&d.downgraded),
    );
    table(
        &mut s,
        "Licence changes",
        "| package | old | new |",
        change_rows(&d.licence_changes),
    );
    s
}

fn list_or_none(v: &[String]) -> String {
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkg(name: &str, version: &str, licence: &str) -> Package {
        Package {
            name: name.into(),
            version: version.into(),
            architecture: String::new(),
            licenses: vec![licence.into()],
        }
    }

    #[test]
    fn each_kind_of_change_is_sorted_out() {
        let old = Components {
            os: Some("Debian 12.7".into()),
            kernels: vec!["6.1.0-26".into()],
            packages: vec![
                pkg("bash", "5.2.15-2", "GPL-3+"),
                pkg("gone", "1.0", "MIT"),
                pkg("libfoo", "2.0", "MIT"),
                pkg("zlib", "1:1.2.13", "Zlib"),
            ],
        };
        let new = Components {
            os: Some("Debian 12.8".into()),
            kernels: vec!["6.1.0-28".into()],
            packages: vec![
                pkg("bash", "5.2.15-2+b7", "GPL-3+"),
                pkg("libfoo", "1.9", "Apache-2.0"),
                pkg("new", "0.1", "MIT"),
                pkg("zlib", "1:1.2.13", "Zlib"),
            ],
        };
        let d = diff(&old, &new);
        assert_eq!(d.os.as_ref().unwrap().new, "Debian 12.8");
        assert_eq!(d.kernels_added, vec!["6.1.0-28"]);
        assert_eq!(d.kernels_removed, vec!["6.1.0-26"]);
        assert_eq!(d.added[0].name, "new");
        assert_eq!(d.removed[0].name, "gone");
        assert_eq!(d.upgraded[0].name, "bash");
        assert_eq!(d.downgraded[0].name, "libfoo");
        assert_eq!(d.licence_changes[0].new, "Apache-2.0");
        let md = markdown(&d, "a", "b");
        assert!(md.contains("1 added, 1 removed, 1 upgraded, 1 downgraded, 1 licence changes"));
        assert!(md.contains("| libfoo | 2.0 | 1.9 |"), "{md}");
        assert!(diff(&new, &new).is_empty());
    }
}
