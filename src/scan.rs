//! Runs provider scans concurrently and assembles one inventory. A provider that fails
//! becomes a scan problem in the inventory; the others' results are kept.

use crate::model::{Inventory, ScanProblem, ScanResult};
use chrono::{DateTime, Utc};
use drydock_api::{Provider, ProviderError, ProviderErrorKind, ScanProgress, ScopeOutcome};
use std::sync::Arc;
use std::time::Duration;

/// How long one context's scan may take before it is given up as unreachable (the others
/// go on): `[scan] context_timeout`.
pub const DEFAULT_CONTEXT_TIMEOUT: Duration = Duration::from_secs(600);

/// How a scan of many contexts runs.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Each context's own time limit.
    pub timeout: Duration,
    /// Contexts scanned at once (each assumes its role when its turn comes).
    pub at_once: usize,
    /// Outcomes of contexts not scanned (skipped by a rule, an organisation that could
    /// not be discovered), kept in the inventory.
    pub outcomes: Vec<ScopeOutcome>,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            timeout: DEFAULT_CONTEXT_TIMEOUT,
            at_once: 16,
            outcomes: Vec::new(),
        }
    }
}

/// Scans every provider, reporting progress through `progress`.
pub async fn scan_all(
    providers: &[Arc<dyn Provider>],
    progress: Arc<dyn Fn(ScanProgress) + Send + Sync>,
    scanned_at: impl FnOnce() -> DateTime<Utc>,
) -> Inventory {
    scan_all_within(providers, progress, scanned_at, &ScanOptions::default()).await
}

/// Scans the providers, `at_once` at a time, each within its `timeout`: a context that
/// fails or times out gets its outcome (denied, unreachable...) and never stops or slows
/// the others beyond its own limit.
pub async fn scan_all_within(
    providers: &[Arc<dyn Provider>],
    progress: Arc<dyn Fn(ScanProgress) + Send + Sync>,
    scanned_at: impl FnOnce() -> DateTime<Utc>,
    options: &ScanOptions,
) -> Inventory {
    let timeout = options.timeout;
    let turns = Arc::new(tokio::sync::Semaphore::new(options.at_once.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for (i, p) in providers.iter().enumerate() {
        let p = Arc::clone(p);
        let progress = Arc::clone(&progress);
        let turns = Arc::clone(&turns);
        tasks.spawn(async move {
            // The semaphore is never closed; a failed acquire only means "go ahead".
            let _turn = turns.acquire_owned().await.ok();
            let started = std::time::Instant::now();
            let r = match tokio::time::timeout(timeout, p.scan(&*progress)).await {
                Ok(r) => r,
                Err(_) => Err(ProviderError::new(
                    ProviderErrorKind::Unreachable,
                    "scan",
                    p.name(),
                    format!("no answer within {} s", timeout.as_secs()),
                    "the other contexts were scanned; raise [scan] context_timeout or check the endpoint",
                )),
            };
            (i, r, started.elapsed().as_millis() as u64)
        });
    }
    let mut results: Vec<Option<(Result<ScanResult, _>, u64)>> = vec![None; providers.len()];
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((i, r, ms)) => results[i] = Some((r, ms)),
            Err(e) => tracing::error!("a scan task failed: {e}"),
        }
    }
    let mut merged = ScanResult::default();
    let mut accounts = std::collections::BTreeMap::new();
    for (p, r) in providers.iter().zip(results) {
        let name = p.name();
        let (r, ms) = r.unwrap_or_else(|| {
            let e = ProviderError::new(
                ProviderErrorKind::Other,
                "scan",
                name,
                "the scan task stopped unexpectedly",
                "see the log",
            );
            (Err(e), 0)
        });
        match r {
            Ok(mut r) => {
                Inventory::note_accounts(&mut accounts, name, &r);
                if r.outcomes.is_empty() {
                    r.outcomes.push(outcome_of_problems(name, &r, ms));
                }
                merged.merge(r);
            }
            Err(e) => {
                tracing::warn!(provider = name, "scan failed: {e}");
                merged
                    .outcomes
                    .push(ScopeOutcome::failed(name, "*", &e, ms));
                merged.problems.push(ScanProblem::of(name, &e));
            }
        }
    }
    merged.outcomes.extend(options.outcomes.iter().cloned());
    let sources = providers.iter().map(|p| p.name().to_string()).collect();
    let mut inventory = Inventory::from_scan(scanned_at(), sources, merged);
    inventory.accounts = accounts;
    inventory
}

/// The outcome of a provider that reports none of its own (the simulated clouds, a
/// snapshot): ok, or partial with the scopes of its problems.
fn outcome_of_problems(name: &str, r: &ScanResult, ms: u64) -> ScopeOutcome {
    let mut o = ScopeOutcome::ok(name, "*", r.vms.len(), r.images.len(), ms);
    if !r.problems.is_empty() {
        o.state = drydock_api::ScopeState::Partial;
        o.failed_calls = r.problems.iter().map(|p| p.scope.clone()).collect();
        o.reason = Some(
            r.problems
                .iter()
                .map(|p| p.message.as_str())
                .collect::<Vec<_>>()
                .join("; "),
        );
    }
    o
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
            outcomes: inv.outcomes,
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
