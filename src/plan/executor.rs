//! The executor: runs a plan as a state machine — rebuild → waves (launch, health gate,
//! commit) → repoint → retire ladder — recording intent in the journal before every cloud
//! call and the outcome after. Every call goes through the mutation gate. A run stops at
//! approvals, wave gates, pause/abort requests and retire waits; `run` again continues
//! from the journal after reconciling it with the cloud.

use super::journal::{Journal, PlanStatus, StepRow, StepState};
use super::{Event, Plan, PlanError};
use crate::gate::{Confirmation, Gate, GateError, MutationRequest};
use crate::model::usage::ImageUsage;
use chrono::{DateTime, Utc};
use drydock_api::{Operation, OperationOutcome, Provider, ProviderError, ProviderErrorKind};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// Asked at each approval gate: (wave index, or `waves` for the finish; a description).
pub type Approver = Arc<dyn Fn(usize, &str) -> bool + Send + Sync>;
/// Receives every event.
pub type EventSink = Arc<dyn Fn(&Event) + Send + Sync>;
pub use super::Clock;

/// How the executor talks to the world.
pub struct ExecutorOptions {
    /// Providers by name (context).
    pub providers: HashMap<String, Arc<dyn Provider>>,
    /// The mutation gate: it alone knows which contexts are production or read-only.
    pub gate: Gate,
    /// The confirmation given for this run, per context.
    pub confirmations: HashMap<String, Confirmation>,
    pub approve: Approver,
    pub events: EventSink,
    /// Between health polls of a starting VM.
    pub poll: Duration,
    /// First backoff after a transient error (doubles, capped at 5 s).
    pub retry_base: Duration,
    pub clock: Clock,
    /// The data directory: a rebuild that transfers a disk keeps its ledger and the
    /// published image's SBOM there (`None`: such a rebuild is refused).
    pub data: Option<crate::config::paths::DataDir>,
    /// Take the plan's lease over from a holder that stopped beating (`--take-over`).
    pub take_over: bool,
}

/// Runs one plan.
pub struct Executor {
    pub(crate) plan: Plan,
    pub(crate) journal: Arc<Journal>,
    pub(crate) opts: ExecutorOptions,
}

/// Why a run stopped.
pub type RunResult = Result<PlanStatus, PlanError>;

impl Executor {
    pub fn new(plan: Plan, journal: Arc<Journal>, mut opts: ExecutorOptions) -> Arc<Executor> {
        // Every change the run makes is audited as this plan's.
        opts.gate = opts.gate.for_plan(&plan.id);
        // The journal's stamps (from which grace periods count) follow the same clock.
        journal.set_clock(Arc::clone(&opts.clock));
        Arc::new(Executor {
            plan,
            journal,
            opts,
        })
    }

    /// Now, by the executor's clock.
    pub(crate) fn now(&self) -> DateTime<Utc> {
        (self.opts.clock)()
    }

    pub(crate) fn id(&self) -> &str {
        &self.plan.id
    }

    pub(crate) fn emit(&self, e: Event) {
        if e.is_coarse() {
            if let Err(err) = self.journal.event(self.id(), &e) {
                tracing::warn!("cannot journal event: {err}");
            }
        }
        (self.opts.events)(&e);
    }

    pub(crate) fn provider(&self, name: &str) -> Result<&Arc<dyn Provider>, PlanError> {
        self.opts
            .providers
            .get(name)
            .ok_or_else(|| PlanError::MissingContext {
                plan: self.id().to_string(),
                context: name.to_string(),
            })
    }

    /// One gated call with bounded retries on transient errors.
    pub(crate) async fn call(
        &self,
        provider: &str,
        op: Operation,
        usage: ImageUsage,
    ) -> Result<OperationOutcome, GateError> {
        // A process that lost its lease stops before its next cloud call.
        self.journal
            .fenced(self.id())
            .map_err(|e| GateError::Stopped(e.to_string()))?;
        let p = self.provider(provider).map_err(|m| {
            GateError::Provider(ProviderError::new(
                ProviderErrorKind::Other,
                op.verb(),
                op.target(),
                m.to_string(),
                "add the context to the config",
            ))
        })?;
        let req = MutationRequest {
            provider: provider.to_string(),
            op,
            usage,
        };
        let confirmation = self
            .opts
            .confirmations
            .get(provider)
            .cloned()
            .unwrap_or(Confirmation::None);
        let attempts = self.plan.settings.retries.max(1);
        let mut attempt = 1;
        loop {
            match self.opts.gate.apply(p.as_ref(), &req, &confirmation).await {
                Err(GateError::Provider(e)) if e.is_transient() && attempt < attempts => {
                    let backoff = self.opts.retry_base * 2u32.pow(attempt.min(10) - 1);
                    tokio::time::sleep(backoff.min(Duration::from_secs(5))).await;
                    attempt += 1;
                }
                r => return r,
            }
        }
    }

    pub(crate) fn record(
        &self,
        key: &str,
        state: StepState,
        token: Option<&str>,
        result: Option<&str>,
        error: Option<&str>,
    ) -> Result<(), PlanError> {
        self.journal
            .update(self.id(), key, state, token, result, error)
    }

    pub(crate) fn steps(&self) -> Result<HashMap<String, StepRow>, PlanError> {
        Ok(self
            .journal
            .steps(self.id())?
            .into_iter()
            .map(|s| (s.key.clone(), s))
            .collect())
    }

    /// A pause or abort asked for while running.
    pub(crate) fn control(&self) -> Option<String> {
        self.journal.control(self.id())
    }

    pub(crate) fn steps_vec(&self) -> Result<Vec<StepRow>, PlanError> {
        self.journal.steps(self.id())
    }

    /// Stops at the approval of wave `wave` (`waves`: the finish).
    fn stop_at_gate(&self, wave: usize, message: String) -> RunResult {
        self.journal
            .set_status(self.id(), PlanStatus::AwaitingApproval, &message)?;
        self.emit(Event::AwaitingApproval {
            plan: self.id().to_string(),
            wave,
            message,
        });
        Ok(PlanStatus::AwaitingApproval)
    }

    fn stop(&self, status: PlanStatus, message: String) -> RunResult {
        self.journal.set_status(self.id(), status, &message)?;
        // A finished or aborted plan touches nothing more: its claims end.
        if status.is_final() {
            self.journal.release_claims(self.id())?;
        }
        let plan = self.id().to_string();
        self.emit(match status {
            PlanStatus::AwaitingApproval => Event::AwaitingApproval {
                plan,
                wave: 0,
                message,
            },
            PlanStatus::Waiting => Event::Waiting { plan, message },
            PlanStatus::Blocked => Event::Blocked { plan, message },
            PlanStatus::Aborted => Event::Aborted { plan },
            PlanStatus::Complete => Event::Complete { plan },
            _ => Event::Paused { plan, message },
        });
        Ok(status)
    }

    /// Runs until the plan completes or something stops it; returns where it stands.
    pub async fn run(self: &Arc<Self>) -> RunResult {
        let row = self.journal.status(self.id())?;
        if row.status.is_final() {
            return Err(PlanError::State(format!(
                "plan {} is {}",
                self.id(),
                row.status.as_str()
            )));
        }
        let lease = self.journal.take_lease(self.id(), self.opts.take_over)?;
        let result = self.run_claimed(row.approved).await;
        if let Err(e) = &result {
            let _ = self
                .journal
                .set_status(self.id(), PlanStatus::Paused, &e.to_string());
        }
        drop(lease);
        result
    }

    async fn run_claimed(self: &Arc<Self>, approved: i64) -> RunResult {
        self.journal.set_control(self.id(), None)?;
        self.journal
            .set_status(self.id(), PlanStatus::Running, "")?;
        if approved < 0 {
            self.journal.approve(self.id(), 0)?;
        }
        self.emit(Event::Started {
            plan: self.id().into(),
            vms: self.plan.vm_count(),
            waves: self.plan.waves.len(),
        });
        self.reconcile().await?;
        let targets = match self.rebuild().await? {
            Some(t) => t,
            None => {
                let why = self.steps()?.remove("rebuild").and_then(|s| s.error);
                return self.stop(
                    PlanStatus::Paused,
                    format!(
                        "rebuild failed: {}; fix it, then `drydock plan resume`",
                        why.unwrap_or_default()
                    ),
                );
            }
        };
        let waves = self.plan.waves.len();
        for w in 0..waves {
            let approved = self.journal.status(self.id())?.approved;
            if approved > w as i64 {
                self.commit(w).await?;
                continue;
            }
            if approved < w as i64 {
                let what = super::gates::describe(&self.plan, &self.steps_vec()?, w).join("; ");
                if !(self.opts.approve)(w, &what) {
                    return self.stop_at_gate(
                        w,
                        format!("awaiting approval of {what}; `drydock plan run --execute` to approve, `drydock plan rollback` to undo wave {w}"),
                    );
                }
                self.journal.approve(self.id(), w)?;
                self.emit(Event::Approved {
                    plan: self.id().into(),
                    wave: w,
                });
                self.commit(w - 1).await?;
            }
            self.run_wave(w, &targets).await?;
            if let Some(stop) = self.check_control()? {
                return Ok(stop);
            }
            let steps = self.steps()?;
            let (healthy, failed) = self.wave_counts(w, &steps);
            self.emit(Event::WaveFinished {
                plan: self.id().into(),
                wave: w,
                healthy,
                failed,
            });
            if failed > self.plan.settings.wave_failure_limit {
                return self.stop(
                    PlanStatus::Paused,
                    format!(
                        "wave gate: {failed} of {} VMs in wave {} failed (limit {}); their old VMs still run. `drydock plan resume` retries them, `drydock plan rollback` undoes the wave",
                        self.plan.waves[w].vms.len(),
                        w + 1,
                        self.plan.settings.wave_failure_limit
                    ),
                );
            }
        }
        if waves > 0 {
            let approved = self.journal.status(self.id())?.approved;
            if approved < waves as i64 {
                let what = super::gates::describe(&self.plan, &self.steps_vec()?, waves).join("; ");
                if !(self.opts.approve)(waves, &what) {
                    return self.stop_at_gate(
                        waves,
                        format!(
                            "awaiting approval to {what}; `drydock plan run --execute` to approve"
                        ),
                    );
                }
                self.journal.approve(self.id(), waves)?;
            }
            self.commit(waves - 1).await?;
        }
        self.repoint(&targets).await?;
        if let Some((status, message)) = self.retire().await? {
            return self.stop(status, message);
        }
        self.stop(PlanStatus::Complete, "complete".into())
    }

    /// Acts on a pause or abort request.
    pub(crate) fn check_control(&self) -> Result<Option<PlanStatus>, PlanError> {
        match self.control().as_deref() {
            Some("abort") => self.stop(PlanStatus::Aborted, "aborted".into()).map(Some),
            Some("pause") => self
                .stop(
                    PlanStatus::Paused,
                    "paused; `drydock plan resume` continues".into(),
                )
                .map(Some),
            _ => Ok(None),
        }
    }

    fn wave_counts(&self, w: usize, steps: &HashMap<String, StepRow>) -> (usize, usize) {
        let mut healthy = 0;
        let mut failed = 0;
        for vm in &self.plan.waves[w].vms {
            match steps.get(&format!("vm:{}", vm.id)).map(|s| s.state) {
                Some(StepState::Healthy | StepState::Terminating | StepState::Done) => healthy += 1,
                Some(StepState::Failed) => failed += 1,
                _ => {}
            }
        }
        (healthy, failed)
    }
}

impl Executor {
    /// Dry run: validates the next steps with the cloud (through the gate, which must be in
    /// dry-run mode) and reports each as an event; changes nothing, records nothing.
    /// Returns how many calls would succeed, of how many. At an approval gate it
    /// validates the wave the approval would start.
    pub async fn preview(self: &Arc<Self>) -> Result<(usize, usize), PlanError> {
        if !self.opts.gate.dry_run() {
            return Err(PlanError::State("preview needs a dry-run gate".into()));
        }
        let steps = self.steps()?;
        let approved = self.journal.status(self.id())?.approved.max(0) as usize;
        let mut ops: Vec<(String, Operation)> = Vec::new();
        if let Some(r) = &self.plan.rebuild {
            if steps
                .get("rebuild")
                .is_some_and(|s| s.state != StepState::Done)
            {
                if let Some(from) = &r.from {
                    let outcome = match self.preview_transfer(r, from).await {
                        Ok(lines) => format!("would succeed: {}", lines.join("; ")),
                        Err(e) => format!("would fail: {e}"),
                    };
                    self.emit(Event::WouldApply {
                        plan: self.id().into(),
                        operation: format!("transfer {from} into {}/{}", r.provider, r.region),
                        outcome,
                    });
                }
                if let Some(vm) = &r.builder_vm {
                    ops.push((
                        r.provider.clone(),
                        Operation::CreateImage {
                            source_vm: vm.clone(),
                            name: r.name.clone(),
                            tags: Default::default(),
                            client_token: "dry-run".into(),
                        },
                    ));
                }
            }
        }
        let row = self.journal.status(self.id())?;
        let w = match super::gates::standing_at(&self.plan, row.approved, &self.steps_vec()?) {
            Some(next) => next,
            None => approved.min(self.plan.waves.len().saturating_sub(1)),
        };
        if let Some(wave) = self.plan.waves.get(w) {
            for vm in wave.vms.iter().take(50) {
                let pending = steps
                    .get(&format!("vm:{}", vm.id))
                    .is_some_and(|s| s.state == StepState::Pending);
                if let (true, Some(target)) = (pending, self.plan.targets.get(&vm.scope())) {
                    ops.push((
                        vm.provider.clone(),
                        Operation::LaunchReplacement {
                            replaces: vm.id.clone(),
                            image: target.clone(),
                            client_token: "dry-run".into(),
                            tags: Default::default(),
                        },
                    ));
                }
            }
        }
        let mut ok = 0;
        let tried = ops.len();
        for (provider, op) in ops {
            let what = op.to_string();
            let outcome = match self.call(&provider, op, ImageUsage::default()).await {
                Ok(_) => {
                    ok += 1;
                    "would succeed".to_string()
                }
                Err(e) => format!("would fail: {e}"),
            };
            self.emit(Event::WouldApply {
                plan: self.id().into(),
                operation: what,
                outcome,
            });
        }
        Ok((ok, tried))
    }
}
