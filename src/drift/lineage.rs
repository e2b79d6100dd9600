//! Lineage: an image's ancestors through `drydock:parent`, with cycles and missing parents
//! reported as issues instead of looping or failing.

use super::provenance::Provenance;
use crate::model::Inventory;

/// Lineage chains longer than this are cut (and reported) to bound the work per image.
pub const MAX_DEPTH: usize = 32;

/// The ancestors of image `i` (parent first) and any problems met walking them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lineage {
    pub ancestors: Vec<usize>,
    pub issues: Vec<String>,
}

/// Walks `drydock:parent` links from image `i`.
pub fn ancestors(
    inv: &Inventory,
    index: &crate::model::ImageIndex<'_>,
    provs: &[Provenance],
    i: usize,
) -> Lineage {
    let mut out = Lineage::default();
    let mut current = i;
    let mut chain = vec![i];
    while let Some(parent_id) = provs[current].parent.as_deref() {
        let Some(&parent) = index.get(parent_id) else {
            out.issues.push(format!(
                "parent {parent_id} of {} is not in the inventory; lineage stops there",
                inv.images[current].id
            ));
            break;
        };
        if chain.contains(&parent) {
            let names: Vec<&str> = chain
                .iter()
                .chain(std::iter::once(&parent))
                .map(|&k| inv.images[k].id.as_str())
                .collect();
            out.issues
                .push(format!("lineage cycle: {}", names.join(" → ")));
            break;
        }
        if chain.len() > MAX_DEPTH {
            out.issues
                .push(format!("lineage deeper than {MAX_DEPTH} images; cut there"));
            break;
        }
        out.ancestors.push(parent);
        chain.push(parent);
        current = parent;
    }
    out
}
