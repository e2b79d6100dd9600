//! Recorded scans: one line of verdict counts per scan in `history.jsonl` under the data
//! directory, for trend lines. Unreadable lines are skipped, never fatal.

use crate::drift::Verdict;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

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

/// Appends one point (one line; a crash can at worst leave a torn last line, which `load`
/// skips).
pub fn append(path: &Path, point: &HistoryPoint) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut line = serde_json::to_string(point).map_err(std::io::Error::other)?;
    line.push('\n');
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    f.write_all(line.as_bytes())
}

/// Reads every readable point, oldest first. A missing file is an empty history.
pub fn load(path: &Path) -> Vec<HistoryPoint> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    let mut points: Vec<HistoryPoint> = text
        .lines()
        .enumerate()
        .filter_map(|(n, l)| match serde_json::from_str(l) {
            Ok(p) => Some(p),
            Err(e) => {
                tracing::warn!(
                    "{}:{}: skipping unreadable history line: {e}",
                    path.display(),
                    n + 1
                );
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
        let path = dir.path().join("h/history.jsonl");
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
        append(&path, &p).unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"{\"torn")
            .unwrap();
        let back = load(&path);
        assert_eq!(back, vec![p.clone()]);
        assert_eq!(p.at_or_above(Verdict::Outdated), 3);
        assert!(load(&dir.path().join("none")).is_empty());
    }
}
