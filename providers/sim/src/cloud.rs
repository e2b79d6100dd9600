//! `SimCloud`: an in-memory cloud implementing `Provider`. Scans return its state per
//! account × region; mutations change it after a configurable latency and may fail at a
//! configurable rate (deterministic for a given seed). With a state file the cloud outlives
//! the process: every change is written to it atomically before the call returns, so a
//! killed drydock and a fresh one see the same cloud.

use crate::ops::apply_to;
use crate::state::Persisted;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use drydock_api::{
    Cloud, Operation, OperationOutcome, ProgressSink, Provider, ProviderError, ProviderErrorKind,
    ScanProgress, ScanResult, VmHealth, VmState,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How the simulated cloud behaves.
#[derive(Debug, Clone)]
pub struct SimSettings {
    /// Delay before each scan scope and each call (mutation, health check) completes.
    pub latency: Duration,
    /// Probability in [0, 1] that a mutation fails with a transient (throttling) error.
    /// Half of those failures happen after the change was made (the answer was lost), as
    /// on a real cloud: callers must retry idempotently.
    pub fault_rate: f64,
    /// Seed for the fault generator.
    pub seed: u64,
}

impl Default for SimSettings {
    fn default() -> Self {
        SimSettings {
            latency: Duration::ZERO,
            fault_rate: 0.0,
            seed: 7,
        }
    }
}

pub(crate) struct State {
    pub(crate) inventory: ScanResult,
    rng: ChaCha8Rng,
    /// client token → resource created with it, for idempotent retries.
    pub(crate) tokens: BTreeMap<String, String>,
    /// Clock used for new resources.
    pub(crate) now: DateTime<Utc>,
}

/// A simulated cloud holding one provider's inventory.
pub struct SimCloud {
    name: String,
    cloud: Cloud,
    settings: SimSettings,
    /// Shared with the uploads in flight, which register their image when they complete.
    pub(crate) state: Arc<Mutex<State>>,
    /// Where the cloud's state lives between processes, if anywhere.
    pub(crate) state_file: Option<PathBuf>,
}

impl SimCloud {
    /// A sim named `name` over the records of `cloud` in `inventory`.
    pub fn new(
        name: impl Into<String>,
        cloud: Cloud,
        mut inventory: ScanResult,
        now: DateTime<Utc>,
        settings: SimSettings,
    ) -> SimCloud {
        inventory.vms.retain(|v| v.cloud == cloud);
        inventory.images.retain(|i| i.cloud == cloud);
        inventory.scale_groups.retain(|s| s.cloud == cloud);
        inventory.launch_templates.retain(|l| l.cloud == cloud);
        let rng = ChaCha8Rng::seed_from_u64(settings.seed);
        SimCloud {
            name: name.into(),
            cloud,
            settings,
            state: Arc::new(Mutex::new(State {
                inventory,
                rng,
                tokens: BTreeMap::new(),
                now,
            })),
            state_file: None,
        }
    }

    /// Keeps the cloud's state in `path`: loads it if the file exists (the inventory given
    /// to `new` is then only the starting point of a fresh file), and writes every change
    /// to it atomically.
    pub fn with_state_file(mut self, path: PathBuf) -> Result<SimCloud, crate::state::StateError> {
        if let Some(saved) = Persisted::load(&path)? {
            let mut st = self.lock();
            st.inventory = saved.inventory;
            st.tokens = saved.tokens;
        }
        self.state_file = Some(path);
        Ok(self)
    }

    /// A copy of the current state, for tests.
    pub fn inventory(&self) -> ScanResult {
        self.lock().inventory.clone()
    }

    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        lock(&self.state)
    }

    fn scopes(&self) -> Vec<(String, String)> {
        let st = self.lock();
        let inv = &st.inventory;
        let set: BTreeSet<(String, String)> = inv
            .vms
            .iter()
            .map(|v| (v.account.clone(), v.region.clone()))
            .chain(
                inv.images
                    .iter()
                    .map(|i| (i.account.clone(), i.region.clone())),
            )
            .collect();
        set.into_iter().collect()
    }

    pub(crate) async fn pause(&self) {
        if !self.settings.latency.is_zero() {
            tokio::time::sleep(self.settings.latency).await;
        }
    }

    fn save(&self, st: &State) -> Result<(), ProviderError> {
        save(self.state_file.as_deref(), st)
    }
}

/// The state behind `state`; a panic while holding the lock leaves plain data behind, which
/// is still served.
pub(crate) fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

/// Writes `st` to the state file, if the cloud has one.
pub(crate) fn save(path: Option<&std::path::Path>, st: &State) -> Result<(), ProviderError> {
    let Some(path) = path else {
        return Ok(());
    };
    Persisted::save(path, &st.inventory, &st.tokens).map_err(|e| {
        ProviderError::new(
            ProviderErrorKind::Other,
            "save simulated cloud",
            path.display().to_string(),
            e.to_string(),
            "check that the state directory is writable",
        )
    })
}

pub(crate) fn not_found(call: &str, id: &str) -> ProviderError {
    ProviderError::new(
        ProviderErrorKind::NotFound,
        call,
        id,
        "no such resource in the simulated cloud",
        "rescan (`r`) and pick a resource that exists",
    )
}

fn throttled(op: &Operation) -> ProviderError {
    ProviderError::new(
        ProviderErrorKind::Transient,
        op.verb(),
        op.target(),
        "simulated throttling (RequestLimitExceeded)",
        "retry with backoff",
    )
}

#[async_trait]
impl Provider for SimCloud {
    fn name(&self) -> &str {
        &self.name
    }

    fn cloud(&self) -> Cloud {
        self.cloud
    }

    async fn scan(&self, progress: ProgressSink<'_>) -> Result<ScanResult, ProviderError> {
        let scopes = self.scopes();
        let total = scopes.len();
        for (done, (account, region)) in scopes.iter().enumerate() {
            self.pause().await;
            progress(ScanProgress {
                provider: self.name.clone(),
                scope: format!("{account}/{region}"),
                done: done + 1,
                total,
            });
        }
        let mut inv = self.lock().inventory.clone();
        inv.vms.retain(|v| v.state != VmState::Terminated);
        Ok(inv)
    }

    async fn apply(
        &self,
        op: &Operation,
        dry_run: bool,
    ) -> Result<OperationOutcome, ProviderError> {
        self.pause().await;
        let mut st = self.lock();
        // (fault before the change, fault after it: the answer is lost)
        let (before, after) = if self.settings.fault_rate > 0.0
            && st.rng.gen_bool(self.settings.fault_rate.min(1.0))
        {
            let lost_answer = st.rng.gen_bool(0.5);
            (!lost_answer, lost_answer)
        } else {
            (false, false)
        };
        if before {
            return Err(throttled(op));
        }
        let outcome = apply_to(&mut st, op, dry_run)?;
        if !dry_run {
            self.save(&st)?;
        }
        if after {
            return Err(throttled(op));
        }
        Ok(outcome)
    }

    fn transfer(&self) -> Option<&dyn drydock_api::transfer::ImageTransfer> {
        Some(self)
    }

    async fn vm_health(&self, vm: &str) -> Result<VmHealth, ProviderError> {
        self.pause().await;
        let st = self.lock();
        let inv = &st.inventory;
        let Some(v) = inv.vms.iter().find(|v| v.id == vm) else {
            return Ok(VmHealth::Gone);
        };
        // An image tagged `sim:health = fail` boots VMs that fail their status checks.
        let failing = inv
            .images
            .iter()
            .any(|i| i.id == v.image_id && i.tags.get("sim:health").is_some_and(|h| h == "fail"));
        Ok(match v.state {
            VmState::Terminated => VmHealth::Gone,
            VmState::Running if failing => {
                VmHealth::Unhealthy("instance status check failed (simulated)".into())
            }
            VmState::Running => VmHealth::Healthy,
            VmState::Pending => VmHealth::Starting,
            s => VmHealth::Unhealthy(format!("VM is {}", s.as_str())),
        })
    }
}
