//! Runs provider scans concurrently and assembles one inventory. A provider that fails
//! becomes a scan problem in the inventory; the others' results are kept.

use crate::model::{Inventory, ScanProblem, ScanResult};
use chrono::{DateTime, Utc};
use drydock_api::{Provider, ScanProgress};
use std::sync::Arc;

/// Scans every provider at once, reporting progress through `progress`.
pub async fn scan_all(
    providers: &[Arc<dyn Provider>],
    progress: Arc<dyn Fn(ScanProgress) + Send + Sync>,
    scanned_at: impl FnOnce() -> DateTime<Utc>,
) -> Inventory {
    let mut tasks = tokio::task::JoinSet::new();
    for (i, p) in providers.iter().enumerate() {
        let p = Arc::clone(p);
        let progress = Arc::clone(&progress);
        tasks.spawn(async move { (i, p.scan(&*progress).await) });
    }
    let mut results: Vec<Option<Result<ScanResult, _>>> = vec![None; providers.len()];
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((i, r)) => results[i] = Some(r),
            Err(e) => tracing::error!("a scan task failed: {e}"),
        }
    }
    let mut merged = ScanResult::default();
    for (p, r) in providers.iter().zip(results) {
        match r {
            Some(Ok(r)) => merged.merge(r),
            Some(Err(e)) => {
                tracing::warn!(provider = p.name(), "scan failed: {e}");
                merged.problems.push(ScanProblem {
                    provider: p.name().to_string(),
                    scope: e.resource.clone(),
                    message: e.to_string(),
                });
            }
            None => merged.problems.push(ScanProblem {
                provider: p.name().to_string(),
                scope: "*".into(),
                message: "the scan task stopped unexpectedly; see the log".into(),
            }),
        }
    }
    let sources = providers.iter().map(|p| p.name().to_string()).collect();
    Inventory::from_scan(scanned_at(), sources, merged)
}
