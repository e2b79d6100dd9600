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
    let mut accounts = std::collections::BTreeMap::new();
    for (p, r) in providers.iter().zip(results) {
        match r {
            Some(Ok(r)) => {
                Inventory::note_accounts(&mut accounts, p.name(), &r);
                merged.merge(r);
            }
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
    let mut inventory = Inventory::from_scan(scanned_at(), sources, merged);
    inventory.accounts = accounts;
    inventory
}

/// A provider that reads an inventory snapshot: lets the dashboard open a snapshot (and
/// re-read it on refresh). It cannot apply mutations.
pub struct SnapshotProvider {
    pub name: String,
    pub path: std::path::PathBuf,
}

#[async_trait::async_trait]
impl Provider for SnapshotProvider {
    fn name(&self) -> &str {
        &self.name
    }

    fn cloud(&self) -> drydock_api::Cloud {
        drydock_api::Cloud::Aws
    }

    async fn scan(
        &self,
        progress: drydock_api::ProgressSink<'_>,
    ) -> Result<ScanResult, drydock_api::ProviderError> {
        let path = self.path.clone();
        let inv = tokio::task::spawn_blocking(move || crate::model::snapshot::read(&path))
            .await
            .map_err(|e| snapshot_error(&self.path, e.to_string()))?
            .map_err(|e| snapshot_error(&self.path, e.to_string()))?;
        progress(ScanProgress {
            provider: self.name.clone(),
            scope: self.path.display().to_string(),
            done: 1,
            total: 1,
        });
        Ok(ScanResult {
            vms: inv.vms,
            images: inv.images,
            scale_groups: inv.scale_groups,
            launch_templates: inv.launch_templates,
            problems: inv.problems,
        })
    }

    async fn apply(
        &self,
        op: &drydock_api::Operation,
        _dry_run: bool,
    ) -> Result<drydock_api::OperationOutcome, drydock_api::ProviderError> {
        Err(drydock_api::ProviderError::new(
            drydock_api::ProviderErrorKind::Unsupported,
            op.verb(),
            op.target(),
            "a snapshot is read-only",
            "open the live clouds (or --demo) to make changes",
        ))
    }
}

fn snapshot_error(path: &std::path::Path, message: String) -> drydock_api::ProviderError {
    drydock_api::ProviderError::new(
        drydock_api::ProviderErrorKind::Other,
        "read snapshot",
        path.display().to_string(),
        message,
        "check the file, or write a new one with `drydock scan -o FILE`",
    )
}
