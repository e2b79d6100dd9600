//! The Drift view's matrix: VM counts per verdict for each family × account (or region).

use super::data::Data;
use crate::drift::Verdict;
use std::collections::BTreeMap;

/// One row of the matrix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatrixRow {
    pub family: String,
    /// Account or region.
    pub key: String,
    pub counts: [usize; Verdict::ALL.len()],
    pub total: usize,
}

impl MatrixRow {
    /// VMs outdated or worse (`outdated`, `eol`, `revoked`).
    pub fn failing(&self) -> usize {
        self.counts[Verdict::Outdated as usize..].iter().sum()
    }
}

/// Builds the matrix, sorted by family then key.
pub fn build(data: &Data, by_region: bool) -> Vec<MatrixRow> {
    // Counted under borrowed keys (a million VMs, a few thousand rows); owned at the end.
    let mut rows: BTreeMap<(&str, &str), [usize; Verdict::ALL.len()]> = BTreeMap::new();
    for i in 0..data.inv.vms.len() as u32 {
        let r = data.vm(i);
        let family = r.family().unwrap_or(match r.verdict() {
            Verdict::Unknown => "(unresolved image)",
            _ => "(no family)",
        });
        let vm = r.vm();
        let key = if by_region { &vm.region } else { &vm.account };
        rows.entry((family, key.as_str())).or_default()[r.verdict() as usize] += 1;
    }
    rows.into_iter()
        .map(|((family, key), counts)| MatrixRow {
            family: family.to_string(),
            key: key.to_string(),
            counts,
            total: counts.iter().sum(),
        })
        .collect()
}
