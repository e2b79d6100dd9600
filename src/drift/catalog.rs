//! The family catalog: for each family, its usable versions in order, so the engine can
//! tell how many versions an image is behind and when each newer one appeared.

use super::version;
use chrono::{DateTime, Utc};
use std::cmp::Ordering;
use std::collections::HashMap;

/// One usable version of a family (the earliest-created copy if several regions hold it).
#[derive(Debug, Clone)]
pub struct CatalogEntry {
    pub version: String,
    pub created: DateTime<Utc>,
}

/// Usable versions per family, oldest first.
#[derive(Debug, Default)]
pub struct Catalog {
    families: HashMap<String, Vec<CatalogEntry>>,
}

fn order(a: &str, ac: DateTime<Utc>, b: &str, bc: DateTime<Utc>) -> Ordering {
    version::compare(a, b).then(ac.cmp(&bc))
}

impl Catalog {
    /// Adds a usable version.
    pub fn add(&mut self, family: &str, version: &str, created: DateTime<Utc>) {
        self.families
            .entry(family.to_string())
            .or_default()
            .push(CatalogEntry {
                version: version.to_string(),
                created,
            });
    }

    /// Sorts every family and keeps one entry per version.
    pub fn finish(&mut self) {
        for entries in self.families.values_mut() {
            entries.sort_by(|a, b| order(&a.version, a.created, &b.version, b.created));
            entries.dedup_by(|later, first| later.version == first.version);
        }
    }

    /// The versions of `family` newer than `version`, oldest first.
    pub fn newer(&self, family: &str, version: &str) -> &[CatalogEntry] {
        let Some(entries) = self.families.get(family) else {
            return &[];
        };
        let first_newer =
            entries.partition_point(|e| version::compare(&e.version, version) != Ordering::Greater);
        &entries[first_newer..]
    }

    /// When `version` of `family` first appeared anywhere (its earliest copy: one build
    /// transferred to other clouds is as old as its first artifact).
    pub fn first_created(&self, family: &str, version: &str) -> Option<DateTime<Utc>> {
        let entries = self.families.get(family)?;
        let i =
            entries.partition_point(|e| version::compare(&e.version, version) == Ordering::Less);
        entries
            .get(i)
            .filter(|e| e.version == version)
            .map(|e| e.created)
    }

    /// The newest usable version of `family`.
    pub fn latest(&self, family: &str) -> Option<&CatalogEntry> {
        self.families.get(family).and_then(|e| e.last())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn newer_versions_in_natural_order() {
        let t = |d| Utc.with_ymd_and_hms(2026, 11, d, 0, 0, 0).unwrap();
        let mut c = Catalog::default();
        c.add("web", "2026.10.1", t(2));
        c.add("web", "2026.9.1", t(1));
        c.add("web", "2026.11.2", t(4));
        c.add("web", "2026.11.2", t(5));
        c.finish();
        let newer: Vec<_> = c
            .newer("web", "2026.9.1")
            .iter()
            .map(|e| &e.version)
            .collect();
        assert_eq!(newer, ["2026.10.1", "2026.11.2"]);
        assert_eq!(c.newer("web", "2026.11.2").len(), 0);
        assert_eq!(c.latest("web").unwrap().created, t(4));
        assert!(c.newer("other", "1").is_empty());
    }
}
