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
    let mut rows: BTreeMap<(String, String), MatrixRow> = BTreeMap::new();
    for i in 0..data.inv.vms.len() as u32 {
        let r = data.vm(i);
        let family = r.family().unwrap_or(match r.verdict() {
            Verdict::Unknown => "(unresolved image)",
            _ => "(no family)",
        });
        let vm = r.vm();
        let key = if by_region { &vm.region } else { &vm.account };
        let row = rows
            .entry((family.to_string(), key.to_string()))
            .or_insert_with(|| MatrixRow {
                family: family.to_string(),
                key: key.to_string(),
                counts: [0; Verdict::ALL.len()],
                total: 0,
            });
        row.counts[r.verdict() as usize] += 1;
        row.total += 1;
    }
    rows.into_values().collect()
}
