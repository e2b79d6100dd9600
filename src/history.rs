//! Recorded scans: one line of verdict counts per scan, for trend lines, kept in the store
//! (one document of kind `history`, appended with compare-and-swap so two processes never
//! drop each other's points; the newest 10,000 are kept). Unreadable lines are skipped,
//! never fatal.

use crate::drift::Verdict;
use chrono::{DateTime, Utc};
use drydock_store::{Store, StoreError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// VM counts per verdict at one scan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryPoint {
    pub scanned_at: DateTime<Utc>,
    pub counts: BTreeMap<Verdict, usize>,
    /// The context the counts are of (`None`: every context, as `drydock scan` records).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
}

impl HistoryPoint {
    /// Whether the point counts the VMs of `context` (`None`: every context): a trend only
    /// joins points of the same scope.
    pub fn is_of(&self, context: Option<&str>) -> bool {
        self.context.as_deref() == context
    }

    /// VMs at or above `level`.
    pub fn at_or_above(&self, level: Verdict) -> usize {
        self.counts.range(level..).map(|(_, n)| n).sum()
    }
}

/// The kind and key of the history document.
pub const KIND: &str = "history";
const KEY: &str = "scans";
/// Points kept (a scan an hour for over a year).
const KEEP: usize = 10_000;

/// Appends one point.
pub fn append(store: &dyn Store, point: &HistoryPoint) -> Result<(), StoreError> {
    let mut line = serde_json::to_string(point).unwrap_or_default();
    line.push('\n');
    for _ in 0..20 {
        let (rev, mut body) = match store.document(KIND, KEY)? {
            Some(d) => (d.rev, d.body),
            None => (0, Vec::new()),
        };
        body.extend_from_slice(line.as_bytes());
        let lines = body.iter().filter(|b| **b == b'\n').count();
        if lines > KEEP {
            let mut cut = 0;
            for _ in 0..lines - KEEP {
                cut += body[cut..]
                    .iter()
                    .position(|b| *b == b'\n')
                    .map_or(0, |p| p + 1);
            }
            body.drain(..cut);
        }
        if store.put_document(KIND, KEY, &body, Some(rev))?.is_some() {
            return Ok(());
        }
    }
    Err(StoreError::Refused(
        "history: other processes kept appending; the point was not recorded".into(),
    ))
}

/// Reads every readable point, oldest first. No history is an empty one.
pub fn load(store: &dyn Store) -> Vec<HistoryPoint> {
    let Ok(Some(doc)) = store.document(KIND, KEY) else {
        return Vec::new();
    };
    let text = String::from_utf8_lossy(&doc.body);
    let mut points: Vec<HistoryPoint> = text
        .lines()
        .enumerate()
        .filter_map(|(n, l)| match serde_json::from_str(l) {
            Ok(p) => Some(p),
            Err(e) => {
                tracing::warn!("history line {}: skipping an unreadable point: {e}", n + 1);
                None
            }
        })
        .collect();
    points.sort_by_key(|p| p.scanned_at);
    points
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_torn_lines() {
        let dir = tempfile::tempdir().unwrap();
        let store =
            drydock_store::open(&drydock_store::Location::Sqlite(dir.path().join("s"))).unwrap();
        let store = store.as_ref();
        let p = HistoryPoint {
            context: None,
            scanned_at: Utc::now(),
            counts: [
                (Verdict::Current, 3),
                (Verdict::Outdated, 2),
                (Verdict::Revoked, 1),
            ]
            .into(),
        };
        assert!(load(store).is_empty());
        append(store, &p).unwrap();
        let mut body = store.document(KIND, KEY).unwrap().unwrap().body;
        body.extend_from_slice(b"{\"torn\n");
        store.put_document(KIND, KEY, &body, None).unwrap();
        append(store, &p).unwrap();
        let back = load(store);
        assert_eq!(back, vec![p.clone(), p.clone()]);
        assert_eq!(p.at_or_above(Verdict::Outdated), 3);
    }
}
