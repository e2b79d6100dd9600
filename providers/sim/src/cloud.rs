//! `SimCloud`: an in-memory cloud implementing `Provider`. Scans return its state per
//! account × region; mutations change it after a configurable latency and may fail at a
//! configurable rate (deterministic for a given seed). With a state store the cloud
//! outlives the process and is shared by every process: each call catches up with the
//! stored state first and writes its change (compare-and-swap) before it returns, so a
//! killed drydock, a fresh one and one running beside it all see the same cloud.

use crate::ops::apply_to;
use crate::state::{Persisted, StateStore};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use drydock_api::{
    Cloud, Operation, OperationOutcome, ProgressSink, Provider, ProviderError, ProviderErrorKind,
    ScanProgress, ScanResult, VmHealth, VmState,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, BTreeSet};
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
    /// The stored revision this state is at (0: none stored).
    pub(crate) rev: i64,
}

/// A simulated cloud holding one provider's inventory.
pub struct SimCloud {
    name: String,
    cloud: Cloud,
    settings: SimSettings,
    /// Shared with the uploads in flight, which register their image when they complete.
    pub(crate) state: Arc<Mutex<State>>,
    /// Where the cloud's state lives between processes, if anywhere.
    pub(crate) backing: Option<Arc<dyn StateStore>>,
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
                rev: 0,
            })),
            backing: None,
        }
    }

    /// Keeps the cloud's state in `store`: loads it if stored (the inventory given to
    /// `new` is then only the starting point), and writes every change there.
    pub fn with_state_store(
        mut self,
        store: Arc<dyn StateStore>,
    ) -> Result<SimCloud, crate::state::StateError> {
        {
            let mut st = self.lock();
            if let Some((rev, saved)) = Persisted::load_newer(store.as_ref(), 0)? {
                st.inventory = saved.inventory;
                st.tokens = saved.tokens;
                st.rev = rev;
            }
        }
        self.backing = Some(store);
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
            .map(|v| (v.account.to_string(), v.region.to_string()))
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

    /// The state, caught up with what other processes stored.
    pub(crate) fn current(&self) -> Result<std::sync::MutexGuard<'_, State>, ProviderError> {
        let mut st = self.lock();
        refresh(self.backing.as_deref(), &mut st)?;
        Ok(st)
    }

    /// Applies `change` to the current state and stores it; when another process stored
    /// first, catches up and applies it again (a few times), so no change is lost.
    pub(crate) fn change<T>(
        &self,
        mut change: impl FnMut(&mut State) -> Result<T, ProviderError>,
    ) -> Result<T, ProviderError> {
        change_state(&self.state, self.backing.as_deref(), &mut change)
    }
}

/// The state could not be read or written: the store may be restarting, and whether a
/// write whose answer was lost took effect is unknown — transient, as a cloud's lost
/// answer is: a retry with the same client token finds what was made.
fn state_error(e: crate::state::StateError) -> ProviderError {
    ProviderError::new(
        ProviderErrorKind::Transient,
        "simulated cloud state",
        "demo",
        e.to_string(),
        "check the store is reachable, or `drydock demo reset`",
    )
}

/// Catches `st` up with the stored state.
pub(crate) fn refresh(
    backing: Option<&dyn StateStore>,
    st: &mut State,
) -> Result<(), ProviderError> {
    let Some(store) = backing else { return Ok(()) };
    if let Some((rev, saved)) = Persisted::load_newer(store, st.rev).map_err(state_error)? {
        st.inventory = saved.inventory;
        st.tokens = saved.tokens;
        st.rev = rev;
    }
    Ok(())
}

/// See [`SimCloud::change`]; also used by uploads, which hold the state but not the cloud.
pub(crate) fn change_state<T>(
    state: &Mutex<State>,
    backing: Option<&dyn StateStore>,
    change: &mut dyn FnMut(&mut State) -> Result<T, ProviderError>,
) -> Result<T, ProviderError> {
    let mut st = lock(state);
    for _ in 0..20 {
        refresh(backing, &mut st)?;
        let Some(store) = backing else {
            return change(&mut st);
        };
        let before = (st.inventory.clone(), st.tokens.clone());
        let out = change(&mut st)?;
        match Persisted::save(store, st.rev, &st.inventory, &st.tokens).map_err(state_error)? {
            Some(rev) => {
                st.rev = rev;
                return Ok(out);
            }
            None => {
                // Another process stored first: undo, catch up, redo.
                (st.inventory, st.tokens) = before;
            }
        }
    }
    Err(ProviderError::new(
        ProviderErrorKind::Transient,
        "simulated cloud state",
        "demo",
        "other processes kept changing the simulated cloud",
        "retry",
    ))
}

/// The state behind `state`; a panic while holding the lock leaves plain data behind, which
/// is still served.
pub(crate) fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
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
        let mut inv = self.current()?.inventory.clone();
        inv.vms.retain(|v| v.state != VmState::Terminated);
        Ok(inv)
    }

    async fn apply(
        &self,
        op: &Operation,
        dry_run: bool,
    ) -> Result<OperationOutcome, ProviderError> {
        self.pause().await;
        // (fault before the change, fault after it: the answer is lost)
        let (before, after) = {
            let mut st = self.lock();
            if self.settings.fault_rate > 0.0 && st.rng.gen_bool(self.settings.fault_rate.min(1.0))
            {
                let lost_answer = st.rng.gen_bool(0.5);
                (!lost_answer, lost_answer)
            } else {
                (false, false)
            }
        };
        if before {
            return Err(throttled(op));
        }
        let outcome = if dry_run {
            apply_to(&mut *self.current()?, op, true)?
        } else {
            self.change(|st| apply_to(st, op, false))?
        };
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
        let st = self.current()?;
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
