//! `SimCloud`: an in-memory cloud implementing `Provider`. Scans return its state per
//! account × region; mutations change it after a configurable latency and may fail at a
//! configurable rate (deterministic for a given seed).

use crate::ids;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use drydock_api::{
    Cloud, Image, ImageState, Operation, OperationOutcome, ProgressSink, Provider, ProviderError,
    ProviderErrorKind, ScanProgress, ScanResult, Vm, VmState,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::Duration;

/// How the simulated cloud behaves.
#[derive(Debug, Clone)]
pub struct SimSettings {
    /// Delay before each scan scope and each mutation completes.
    pub latency: Duration,
    /// Probability in [0, 1] that a mutation fails with a transient (throttling) error.
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

struct State {
    inventory: ScanResult,
    rng: ChaCha8Rng,
    /// client token → resource created with it, for idempotent retries.
    tokens: HashMap<String, String>,
    /// Clock used for new resources.
    now: DateTime<Utc>,
}

/// A simulated cloud holding one provider's inventory.
pub struct SimCloud {
    name: String,
    cloud: Cloud,
    settings: SimSettings,
    state: Mutex<State>,
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
            state: Mutex::new(State {
                inventory,
                rng,
                tokens: HashMap::new(),
                now,
            }),
        }
    }

    /// A copy of the current state, for tests.
    pub fn inventory(&self) -> ScanResult {
        self.lock().inventory.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain data behind; keep serving it.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
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

    async fn pause(&self) {
        if !self.settings.latency.is_zero() {
            tokio::time::sleep(self.settings.latency).await;
        }
    }
}

fn not_found(call: &str, id: &str) -> ProviderError {
    ProviderError::new(
        ProviderErrorKind::NotFound,
        call,
        id,
        "no such resource in the simulated cloud",
        "rescan (`r`) and pick a resource that exists",
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
        if self.settings.fault_rate > 0.0 && st.rng.gen_bool(self.settings.fault_rate.min(1.0)) {
            return Err(ProviderError::new(
                ProviderErrorKind::Transient,
                op.verb(),
                op.target(),
                "simulated throttling (RequestLimitExceeded)",
                "retry with backoff",
            ));
        }
        apply_to(&mut st, op, dry_run)
    }
}

fn apply_to(
    st: &mut State,
    op: &Operation,
    dry_run: bool,
) -> Result<OperationOutcome, ProviderError> {
    let now = st.now;
    let call = op.verb();
    let find_image = |inv: &ScanResult, id: &str| inv.images.iter().position(|i| i.id == id);
    let find_vm = |inv: &ScanResult, id: &str| inv.vms.iter().position(|v| v.id == id);
    let done = |created: Option<String>| Ok(OperationOutcome::Done { created });
    match op {
        Operation::CreateImage {
            source_vm,
            name,
            tags,
            client_token,
        } => {
            let vm = find_vm(&st.inventory, source_vm).ok_or_else(|| not_found(call, source_vm))?;
            if dry_run {
                return Ok(OperationOutcome::WouldSucceed);
            }
            if let Some(id) = st.tokens.get(client_token) {
                return done(Some(id.clone()));
            }
            let vm = st.inventory.vms[vm].clone();
            let id = ids::aws("ami", &[&vm.account, &vm.region, name, client_token]);
            st.inventory.images.push(Image {
                id: id.clone(),
                name: name.clone(),
                cloud: vm.cloud,
                account: vm.account.clone(),
                region: vm.region.clone(),
                created: now,
                state: ImageState::Available,
                deprecation_time: None,
                end_of_life: None,
                newer_base: None,
                owner: vm.account.clone(),
                vendor: false,
                tags: tags.clone(),
            });
            st.tokens.insert(client_token.clone(), id.clone());
            done(Some(id))
        }
        Operation::Tag { resource, tags } => {
            let inv = &mut st.inventory;
            let target = if let Some(i) = find_image(inv, resource) {
                &mut inv.images[i].tags
            } else if let Some(v) = find_vm(inv, resource) {
                &mut inv.vms[v].tags
            } else {
                return Err(not_found(call, resource));
            };
            if !dry_run {
                target.extend(tags.clone());
            }
            Ok(if dry_run {
                OperationOutcome::WouldSucceed
            } else {
                OperationOutcome::Done { created: None }
            })
        }
        Operation::Deprecate { image, at } => set_image(st, call, image, dry_run, |img| {
            img.deprecation_time = Some(*at);
            if *at <= now {
                img.state = ImageState::Deprecated;
            }
        }),
        Operation::Disable { image } => set_image(st, call, image, dry_run, |img| {
            img.state = ImageState::Disabled;
        }),
        Operation::Deregister { image } => {
            let in_use = st
                .inventory
                .vms
                .iter()
                .any(|v| v.image_id == *image && v.state != VmState::Terminated);
            if in_use {
                return Err(ProviderError::new(
                    ProviderErrorKind::Rejected,
                    call,
                    image.as_str(),
                    "image is still in use by VMs",
                    "replace or terminate those VMs first",
                ));
            }
            set_image(st, call, image, dry_run, |img| {
                img.state = ImageState::Deregistered;
            })
        }
        Operation::LaunchReplacement {
            replaces,
            image,
            client_token,
        } => {
            let old = find_vm(&st.inventory, replaces).ok_or_else(|| not_found(call, replaces))?;
            let img = find_image(&st.inventory, image).ok_or_else(|| not_found(call, image))?;
            if st.inventory.images[img].state != ImageState::Available {
                return Err(ProviderError::new(
                    ProviderErrorKind::Rejected,
                    call,
                    image.as_str(),
                    format!("image is {}", st.inventory.images[img].state.as_str()),
                    "launch from an available image",
                ));
            }
            if dry_run {
                return Ok(OperationOutcome::WouldSucceed);
            }
            if let Some(id) = st.tokens.get(client_token) {
                return done(Some(id.clone()));
            }
            let old = st.inventory.vms[old].clone();
            let id = ids::aws("i", &[&old.id, image, client_token]);
            let mut tags = old.tags.clone();
            tags.insert("drydock:replaces".into(), old.id.clone());
            st.inventory.vms.push(Vm {
                id: id.clone(),
                launched_at: now,
                image_id: image.clone(),
                state: VmState::Running,
                tags,
                ..old
            });
            st.tokens.insert(client_token.clone(), id.clone());
            done(Some(id))
        }
        Operation::Terminate { vm } => {
            let v = find_vm(&st.inventory, vm).ok_or_else(|| not_found(call, vm))?;
            if dry_run {
                return Ok(OperationOutcome::WouldSucceed);
            }
            st.inventory.vms[v].state = VmState::Terminated;
            for sg in &mut st.inventory.scale_groups {
                sg.members.retain(|m| m != vm);
            }
            done(None)
        }
        Operation::StartRollingUpgrade { scale_group, image } => {
            let sg = st
                .inventory
                .scale_groups
                .iter()
                .position(|s| s.id == *scale_group || s.name == *scale_group)
                .ok_or_else(|| not_found(call, scale_group))?;
            find_image(&st.inventory, image).ok_or_else(|| not_found(call, image))?;
            if dry_run {
                return Ok(OperationOutcome::WouldSucceed);
            }
            let members = st.inventory.scale_groups[sg].members.clone();
            st.inventory.scale_groups[sg].model_image_id = image.clone();
            for vm in &mut st.inventory.vms {
                if members.contains(&vm.id) {
                    vm.image_id = image.clone();
                    vm.launched_at = now;
                }
            }
            done(None)
        }
    }
}

fn set_image(
    st: &mut State,
    call: &str,
    image: &str,
    dry_run: bool,
    f: impl FnOnce(&mut Image),
) -> Result<OperationOutcome, ProviderError> {
    let img = st
        .inventory
        .images
        .iter_mut()
        .find(|i| i.id == image)
        .ok_or_else(|| not_found(call, image))?;
    if dry_run {
        return Ok(OperationOutcome::WouldSucceed);
    }
    f(img);
    Ok(OperationOutcome::Done { created: None })
}
