//! The rollout: reconciling the journal with the cloud, replacing a wave's VMs (launch →
//! health gate) under the concurrency and max-unavailable bounds, committing a wave
//! (terminating its old VMs) and rolling a wave back.

use super::error::PlanError;
use super::executor::Executor;
use super::journal::{PlanStatus, StepRow, StepState};
use super::spec::PlanVm;
use super::Event;
use crate::gate::GateError;
use drydock_api::{Operation, OperationOutcome, ProviderErrorKind, Tags, VmState};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Tag naming the plan that launched a replacement.
pub const TAG_PLAN: &str = "drydock:plan";
/// Tag naming the VM a replacement replaces.
pub const TAG_REPLACES: &str = "drydock:replaces";

fn key(vm: &PlanVm) -> String {
    format!("vm:{}", vm.id)
}

/// Waits for every task; the first error (a task's own, or its panic) if any failed.
async fn join_all(mut tasks: tokio::task::JoinSet<Result<(), PlanError>>) -> Result<(), PlanError> {
    let mut first_error = None;
    while let Some(r) = tasks.join_next().await {
        let r = r.unwrap_or_else(|e| Err(PlanError::Task(e)));
        if let Err(e) = r {
            first_error.get_or_insert(e);
        }
    }
    first_error.map_or(Ok(()), Err)
}

fn gate_err(e: GateError) -> String {
    e.to_string()
}

impl Executor {
    /// Brings the journal in line with the cloud after a crash: a launch whose answer was
    /// lost is adopted (found by its `drydock:plan` / `drydock:replaces` tags), a termination
    /// that happened is recorded, a replacement that vanished is redone.
    /// Every run starts here, so each provider has seen the cloud as it is now before the
    /// first call (the AWS provider finds a VM's region in its last scan).
    pub(crate) async fn reconcile(&self) -> Result<(), PlanError> {
        let steps = self.steps()?;
        let mut live: HashSet<String> = HashSet::new();
        let mut launched: HashMap<String, Vec<String>> = HashMap::new();
        let names: HashSet<&str> = self.plan.vms().map(|(_, v)| v.provider.as_str()).collect();
        for name in names {
            let scan = self
                .provider(name)?
                .scan(&|_| {})
                .await
                .map_err(|e| PlanError::provider("reconcile with the cloud", e))?;
            for vm in scan.vms {
                if vm.state == VmState::Terminated {
                    continue;
                }
                if vm.tags.get(TAG_PLAN) == Some(self.id()) {
                    if let Some(old) = vm.tags.get(TAG_REPLACES) {
                        launched
                            .entry(old.to_string())
                            .or_default()
                            .push(vm.id.to_string());
                    }
                }
                live.insert(vm.id.to_string());
            }
        }
        let (mut adopted, mut finished, mut reset) = (0, 0, 0);
        for (_, vm) in self.plan.vms() {
            let k = key(vm);
            let Some(s) = steps.get(&k) else { continue };
            let found = launched.get(&vm.id).and_then(|v| v.first());
            match s.state {
                StepState::Started => {
                    if let Some(new) = found {
                        self.record(&k, StepState::Launched, None, Some(new), None)?;
                        self.opts.gate.record(
                            &vm.provider,
                            "launch replacement",
                            &vm.id,
                            "adopted",
                        );
                        adopted += 1;
                    }
                }
                StepState::Launched | StepState::Healthy
                    if !s.result.as_ref().is_some_and(|r| live.contains(r)) =>
                {
                    self.record(
                        &k,
                        StepState::Pending,
                        None,
                        None,
                        Some("replacement vanished"),
                    )?;
                    reset += 1;
                }
                StepState::Terminating if !live.contains(&vm.id) => {
                    self.record(&k, StepState::Done, None, None, None)?;
                    self.opts
                        .gate
                        .record(&vm.provider, "terminate", &vm.id, "adopted");
                    finished += 1;
                }
                _ => {}
            }
        }
        self.emit(Event::Reconciled {
            plan: self.id().into(),
            adopted,
            finished,
            reset,
        });
        Ok(())
    }

    /// Replaces the VMs of wave `w` that are not yet healthy.
    pub(crate) async fn run_wave(
        self: &Arc<Self>,
        w: usize,
        targets: &BTreeMap<String, String>,
    ) -> Result<(), PlanError> {
        let steps = self.steps()?;
        let wave = &self.plan.waves[w];
        // A resumed wave retries what failed or was rolled back.
        for vm in &wave.vms {
            if let Some(s) = steps.get(&key(vm)) {
                if matches!(s.state, StepState::Failed | StepState::RolledBack) {
                    self.record(&key(vm), StepState::Pending, None, None, s.error.as_deref())?;
                }
            }
        }
        let steps = self.steps()?;
        self.emit(Event::WaveStarted {
            plan: self.id().into(),
            wave: w,
            vms: wave.vms.len(),
        });
        let mut group_sizes: HashMap<&str, usize> = HashMap::new();
        for (_, vm) in self.plan.vms() {
            *group_sizes.entry(vm.group.as_str()).or_default() += 1;
        }
        let limit = self.plan.settings.max_unavailable;
        let groups: HashMap<String, Arc<Semaphore>> = group_sizes
            .iter()
            .map(|(g, n)| (g.to_string(), Arc::new(Semaphore::new(limit.of(*n)))))
            .collect();
        let all = Arc::new(Semaphore::new(self.plan.settings.concurrency.max(1)));
        let mut tasks = tokio::task::JoinSet::new();
        for vm in &wave.vms {
            let Some(step) = steps.get(&key(vm)).cloned() else {
                continue;
            };
            if !matches!(
                step.state,
                StepState::Pending | StepState::Started | StepState::Launched
            ) {
                continue;
            }
            let target = targets.get(&vm.scope()).cloned().ok_or_else(|| {
                PlanError::Step(format!("no target image for {} in {}", vm.id, vm.scope()))
            })?;
            let this = Arc::clone(self);
            let vm = vm.clone();
            let group = Arc::clone(&groups[&vm.group]);
            let all = Arc::clone(&all);
            tasks.spawn(async move {
                let _g = group.acquire_owned().await;
                let _a = all.acquire_owned().await;
                if this.control().is_some() {
                    return Ok(());
                }
                this.replace(w, &vm, step, &target).await
            });
        }
        join_all(tasks).await
    }

    fn step_event(
        &self,
        w: usize,
        vm: &PlanVm,
        state: StepState,
        new: Option<&str>,
        err: Option<&str>,
    ) {
        self.emit(Event::Step {
            plan: self.id().into(),
            wave: w,
            vm: vm.id.clone(),
            state: state.as_str(),
            replacement: new.map(String::from),
            error: err.map(String::from),
        });
    }

    /// One VM: launch the replacement (intent first), then its health gate. An unhealthy
    /// replacement is removed and the step marked failed; the old VM runs on.
    async fn replace(
        &self,
        w: usize,
        vm: &PlanVm,
        mut step: StepRow,
        target: &str,
    ) -> Result<(), PlanError> {
        let k = key(vm);
        if step.state == StepState::Pending {
            let token = format!(
                "drydock-{}-{}",
                super::digest(&[self.id(), &vm.id]),
                step.attempts + 1
            );
            self.record(&k, StepState::Started, Some(&token), None, None)?;
            step.token = Some(token);
            step.state = StepState::Started;
        }
        if step.state == StepState::Started {
            let token = step.token.clone().unwrap_or_default();
            let tags: Tags = [(TAG_PLAN.to_string(), self.id().to_string())].into();
            let op = Operation::LaunchReplacement {
                replaces: vm.id.clone(),
                image: target.to_string(),
                client_token: token,
                tags,
            };
            match self.call(&vm.provider, op, Default::default()).await {
                Ok(OperationOutcome::Done { created: Some(new) }) => {
                    self.record(&k, StepState::Launched, None, Some(&new), None)?;
                    self.step_event(w, vm, StepState::Launched, Some(&new), None);
                    step.result = Some(new);
                }
                Ok(other) => {
                    return Err(PlanError::Step(format!(
                        "launch replacement for {}: {other}",
                        vm.id
                    )))
                }
                Err(e) => {
                    let msg = gate_err(e);
                    self.record(&k, StepState::Failed, None, None, Some(&msg))?;
                    self.step_event(w, vm, StepState::Failed, None, Some(&msg));
                    return Ok(());
                }
            }
        }
        let new = step.result.clone().unwrap_or_default();
        match self.health_gate(vm, &new).await {
            Ok(()) => {
                self.record(&k, StepState::Healthy, None, None, None)?;
                self.step_event(w, vm, StepState::Healthy, Some(&new), None);
            }
            Err(why) => {
                let why = why.to_string();
                // Remove the failed replacement; keep the old VM. A VM upgraded in place
                // (a scale-set instance onto its new model) is its own replacement: it stays.
                if new == vm.id {
                    tracing::warn!("{} failed its health gate after an in-place upgrade", vm.id);
                } else if let Err(e) = self
                    .call(
                        &vm.provider,
                        Operation::Terminate { vm: new.clone() },
                        Default::default(),
                    )
                    .await
                {
                    tracing::warn!("cannot remove unhealthy replacement {new}: {e}");
                }
                self.record(&k, StepState::Failed, None, None, Some(&why))?;
                self.step_event(w, vm, StepState::Failed, Some(&new), Some(&why));
            }
        }
        Ok(())
    }

    /// Terminates the old VMs of wave `w` whose replacements are healthy.
    pub(crate) async fn commit(self: &Arc<Self>, w: usize) -> Result<(), PlanError> {
        let steps = self.steps()?;
        let todo: Vec<PlanVm> = self.plan.waves[w]
            .vms
            .iter()
            .filter(|vm| {
                steps
                    .get(&key(vm))
                    .is_some_and(|s| matches!(s.state, StepState::Healthy | StepState::Terminating))
            })
            .cloned()
            .collect();
        if todo.is_empty() {
            return Ok(());
        }
        // Upgraded in place (its replacement is itself): nothing to terminate.
        let in_place: HashSet<String> = todo
            .iter()
            .filter(|vm| {
                steps.get(&key(vm)).and_then(|s| s.result.as_deref()) == Some(vm.id.as_str())
            })
            .map(|vm| vm.id.clone())
            .collect();
        let all = Arc::new(Semaphore::new(self.plan.settings.concurrency.max(1)));
        let mut tasks = tokio::task::JoinSet::new();
        for vm in todo.iter().cloned() {
            let this = Arc::clone(self);
            let all = Arc::clone(&all);
            let upgraded = in_place.contains(&vm.id);
            tasks.spawn(async move {
                let _a = all.acquire_owned().await;
                let k = key(&vm);
                if upgraded {
                    this.record(&k, StepState::Done, None, None, None)?;
                    this.step_event(w, &vm, StepState::Done, None, None);
                    return Ok::<(), PlanError>(());
                }
                this.record(&k, StepState::Terminating, None, None, None)?;
                match this
                    .call(
                        &vm.provider,
                        Operation::Terminate { vm: vm.id.clone() },
                        Default::default(),
                    )
                    .await
                {
                    Ok(_) => {}
                    Err(GateError::Provider(e)) if e.kind == ProviderErrorKind::NotFound => {}
                    Err(e) => {
                        return Err(PlanError::call(format!("terminate old VM {}", vm.id), e))
                    }
                }
                this.record(&k, StepState::Done, None, None, None)?;
                this.step_event(w, &vm, StepState::Done, None, None);
                Ok::<(), PlanError>(())
            });
        }
        join_all(tasks).await?;
        self.emit(Event::Committed {
            plan: self.id().into(),
            wave: w,
            terminated: todo.len() - in_place.len(),
        });
        Ok(())
    }

    /// Rolls back the current (uncommitted) wave: removes its replacements, keeps the old
    /// VMs, and pauses the plan. `resume` runs the wave again.
    pub async fn rollback(self: &Arc<Self>) -> Result<usize, PlanError> {
        let row = self.journal.status(self.id())?;
        if row.status.is_final() {
            return Err(PlanError::State(format!(
                "plan {} is {}",
                self.id(),
                row.status.as_str()
            )));
        }
        let lease = self.journal.take_lease(self.id(), self.opts.take_over)?;
        let result = self.rollback_claimed(row.approved).await;
        drop(lease);
        result
    }

    async fn rollback_claimed(self: &Arc<Self>, approved: i64) -> Result<usize, PlanError> {
        let waves = self.plan.waves.len();
        if waves == 0 || approved < 0 {
            return Err(PlanError::State(format!(
                "plan {} has no wave to roll back",
                self.id()
            )));
        }
        let w = (approved as usize).min(waves - 1);
        let steps = self.steps()?;
        let wave = &self.plan.waves[w];
        if wave.vms.iter().any(|vm| {
            steps
                .get(&key(vm))
                .is_some_and(|s| matches!(s.state, StepState::Terminating | StepState::Done))
        }) {
            return Err(PlanError::State(format!(
                "wave {} is already committed (its old VMs are being terminated); it cannot be rolled back",
                w + 1
            )));
        }
        self.reconcile().await?;
        let steps = self.steps()?;
        let mut removed = 0;
        for vm in &wave.vms {
            let Some(s) = steps.get(&key(vm)) else {
                continue;
            };
            let replacement = match s.state {
                StepState::Launched | StepState::Healthy => s.result.clone(),
                _ => None,
            };
            // An in-place upgrade has nothing to remove.
            if let Some(new) = replacement.filter(|n| *n != vm.id) {
                match self
                    .call(
                        &vm.provider,
                        Operation::Terminate { vm: new.clone() },
                        Default::default(),
                    )
                    .await
                {
                    Ok(_) => {}
                    Err(GateError::Provider(e)) if e.kind == ProviderErrorKind::NotFound => {}
                    Err(e) => return Err(PlanError::call(format!("remove replacement {new}"), e)),
                }
                removed += 1;
            }
            if s.state != StepState::Pending && s.state != StepState::Started {
                self.record(&key(vm), StepState::RolledBack, None, None, None)?;
            }
        }
        self.emit(Event::RolledBack {
            plan: self.id().into(),
            wave: w,
            removed,
        });
        self.journal.set_status(
            self.id(),
            PlanStatus::Paused,
            &format!(
                "wave {} rolled back: {removed} replacements removed, old VMs kept; `drydock plan resume` runs it again",
                w + 1
            ),
        )?;
        Ok(removed)
    }
}
