//! Builds: the images of one family and version wherever they are, as one build. A golden
//! image transferred from AWS to Azure is one build with an artifact in each cloud; its
//! artifacts share one age (the first artifact's) and so one verdict, and their content
//! digests (the `sha256:` of `drydock:source`) say whether they hold the same bytes.

use super::Assessment;
use crate::model::Inventory;
use std::collections::BTreeMap;

/// One build and its artifacts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Build {
    pub family: String,
    pub version: String,
    /// Indexes into `Inventory::images`, by cloud, account, region.
    pub images: Vec<usize>,
    /// The distinct content digests its artifacts name (empty: none names one).
    pub digests: Vec<String>,
}

impl Build {
    /// Whether every artifact that names a digest names the same one.
    pub fn consistent(&self) -> bool {
        self.digests.len() <= 1
    }

    /// The clouds it is in, in order, each once.
    pub fn clouds<'a>(&self, inv: &'a Inventory) -> Vec<&'a str> {
        let mut c: Vec<&str> = self
            .images
            .iter()
            .map(|&i| inv.images[i].cloud.as_str())
            .collect();
        c.sort_unstable();
        c.dedup();
        c
    }

    /// The build with only the artifacts `keep` says yes to (their digests recounted);
    /// `None` when none is left.
    pub fn retain(mut self, inv: &Inventory, keep: impl Fn(usize) -> bool) -> Option<Build> {
        self.images.retain(|&i| keep(i));
        self.digests = digests_of(inv, &self.images);
        (!self.images.is_empty()).then_some(self)
    }

    /// `web-base 2026.12.1 in aws, azure (3 artifacts, same content)`.
    pub fn summary(&self, inv: &Inventory) -> String {
        let content = match (self.digests.len(), self.images.len()) {
            (_, 1) => String::new(),
            (0, _) => ", content not recorded".into(),
            (1, _) => ", same content".into(),
            (n, _) => format!(", {n} DIFFERENT contents"),
        };
        format!(
            "{} {} in {} ({} artifact{}{content})",
            self.family,
            self.version,
            self.clouds(inv).join(", "),
            self.images.len(),
            if self.images.len() == 1 { "" } else { "s" },
        )
    }
}

/// The content digest an image's `drydock:source` tag names.
pub fn digest(tags: &crate::model::Tags) -> Option<&str> {
    let v = tags.get("drydock:source")?;
    let (_, d) = v.rsplit_once(" sha256:")?;
    Some(d)
}

fn digests_of(inv: &Inventory, images: &[usize]) -> Vec<String> {
    let mut d: Vec<String> = images
        .iter()
        .filter_map(|&i| digest(&inv.images[i].tags).map(String::from))
        .collect();
    d.sort_unstable();
    d.dedup();
    d
}

/// Every build of the inventory (images with a family and a version), by family, version.
pub fn builds(inv: &Inventory, a: &Assessment) -> Vec<Build> {
    let mut by: BTreeMap<(&str, &str), Vec<usize>> = BTreeMap::new();
    for (i, ia) in a.images.iter().enumerate() {
        if let (Some(f), Some(v)) = (&ia.family, &ia.version) {
            by.entry((f, v)).or_default().push(i);
        }
    }
    by.into_iter()
        .map(|((family, version), mut images)| {
            images.sort_by(|&x, &y| {
                let (a, b) = (&inv.images[x], &inv.images[y]);
                (a.cloud.as_str(), &a.account, &a.region, &a.id).cmp(&(
                    b.cloud.as_str(),
                    &b.account,
                    &b.region,
                    &b.id,
                ))
            });
            Build {
                family: family.to_string(),
                version: version.to_string(),
                digests: digests_of(inv, &images),
                images,
            }
        })
        .collect()
}

/// The build image `i` belongs to, if it has a family and a version.
pub fn build_of(inv: &Inventory, a: &Assessment, i: usize) -> Option<Build> {
    let ia = &a.images[i];
    let (f, v) = (ia.family.as_deref()?, ia.version.as_deref()?);
    let images: Vec<usize> = a
        .images
        .iter()
        .enumerate()
        .filter(|(_, x)| x.family.as_deref() == Some(f) && x.version.as_deref() == Some(v))
        .map(|(k, _)| k)
        .collect();
    Some(Build {
        family: f.to_string(),
        version: v.to_string(),
        digests: digests_of(inv, &images),
        images,
    })
}
