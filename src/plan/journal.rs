//! The plan journal: plans' statuses, every step's state, the coarse events, approvals
//! and the lease of whoever runs a plan, kept in the store (SQLite by default, PostgreSQL
//! for a team). The executor records intent before it acts and the outcome after, so a
//! crashed run can be resumed and reconciled; every event records its operator.
//!
//! Leases on running plans are in `lease.rs`; a process that lost its lease is fenced
//! here: its journal writes for that plan fail.

use chrono::{DateTime, Utc};
use drydock_store::{Claim, NewEvent, NewPlan, StepUpdate, Store};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::error::PlanError;
pub use super::lease::{ago, Fence, LeaseGuard, LEASE_TTL};

pub use super::rows::{PlanRow, PlanStatus, StepRow, StepState};

/// The journal over a store, for one operator.
pub struct Journal {
    pub(super) store: Arc<dyn Store>,
    pub(super) operator: String,
    pub(super) lease_ttl: Duration,
    /// Stamps steps and statuses (the executor sets its own clock).
    clock: std::sync::RwLock<super::Clock>,
    /// The leases this process holds, by plan.
    pub(super) fences: Arc<Mutex<HashMap<String, Arc<Fence>>>>,
}

type R<T> = super::error::Result<T>;

fn record_to_row(r: drydock_store::PlanRecord, lease: Option<drydock_store::Lease>) -> PlanRow {
    PlanRow {
        id: r.id,
        family: r.family,
        path: r.path,
        status: PlanStatus::parse(&r.status),
        message: r.message,
        approved: r.approved,
        control: r.control,
        holder: lease,
        operator: r.operator,
        contexts: r.contexts,
        updated: r.updated,
    }
}

impl Journal {
    /// The journal in `store`, acting as `operator`.
    pub fn new(store: Arc<dyn Store>, operator: impl Into<String>) -> Journal {
        Journal {
            store,
            operator: operator.into(),
            lease_ttl: LEASE_TTL,
            clock: std::sync::RwLock::new(Arc::new(Utc::now)),
            fences: Arc::default(),
        }
    }

    /// A journal in the SQLite store at `path` (tests and benches), acting as the
    /// environment's operator.
    pub fn open(path: &Path) -> R<Journal> {
        let store = drydock_store::open(&drydock_store::Location::Sqlite(path.to_path_buf()))?;
        Ok(Journal::new(
            Arc::from(store),
            crate::config::operator::resolve(None, &|k| std::env::var(k).ok()),
        ))
    }

    /// Leases taken from now on last `ttl` without a heartbeat.
    pub fn with_lease_ttl(mut self, ttl: Duration) -> Journal {
        self.lease_ttl = ttl.max(Duration::from_millis(200));
        self
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn operator(&self) -> &str {
        &self.operator
    }

    pub fn lease_ttl(&self) -> Duration {
        self.lease_ttl
    }

    /// Stamps from now on come from `clock`.
    pub fn set_clock(&self, clock: super::Clock) {
        *self.clock.write().unwrap_or_else(|e| e.into_inner()) = clock;
    }

    fn now(&self) -> DateTime<Utc> {
        (self.clock.read().unwrap_or_else(|e| e.into_inner()))()
    }

    /// Records a new plan (or, while it has never run, replaces an edited one) and its steps.
    pub fn register(&self, plan: &super::Plan, path: &Path) -> R<()> {
        self.put(plan, path, true)
    }

    /// Records a plan made just now under a fresh id: `-2`, `-3`… is appended while its
    /// id is taken (two plans made in the same second), and `path_of` names its file.
    /// Returns the plan as recorded.
    pub fn register_new(
        &self,
        plan: &super::Plan,
        path_of: &dyn Fn(&str) -> std::path::PathBuf,
    ) -> R<(super::Plan, std::path::PathBuf)> {
        let base = plan.id.clone();
        let mut plan = plan.clone();
        for n in 2..1000 {
            let path = path_of(&plan.id);
            match self.put(&plan, &path, false) {
                Err(PlanError::Store(drydock_store::StoreError::Exists(_))) => {
                    plan.id = format!("{base}-{n}");
                }
                Err(e) => return Err(e),
                Ok(()) => return Ok((plan, path)),
            }
        }
        Err(PlanError::State(format!(
            "no free plan id after {base}-999"
        )))
    }

    fn put(&self, plan: &super::Plan, path: &Path, replace: bool) -> R<()> {
        let body = serde_json::to_string(plan).map_err(|e| PlanError::Journal(e.to_string()))?;
        let mut steps: Vec<(String, Option<i64>)> = Vec::new();
        if plan.rebuild.is_some() {
            steps.push(("rebuild".into(), None));
        }
        for (w, vm) in plan.vms() {
            steps.push((format!("vm:{}", vm.id), Some(w as i64)));
        }
        for r in &plan.repoint {
            steps.push((format!("repoint:{}", r.resource), None));
        }
        for r in &plan.retire {
            for rung in ["deprecate", "disable", "deregister"] {
                steps.push((format!("{rung}:{}", r.image), None));
            }
        }
        let mut claims: Vec<Claim> = plan
            .vms()
            .map(|(_, vm)| Claim {
                resource: vm.id.clone(),
                context: vm.provider.clone(),
                kind: "VM".into(),
            })
            .collect();
        claims.extend(plan.repoint.iter().map(|r| Claim {
            resource: r.resource.clone(),
            context: r.provider.clone(),
            kind: "scale group/template".into(),
        }));
        claims.extend(plan.retire.iter().map(|r| Claim {
            resource: r.image.clone(),
            context: r.provider.clone(),
            kind: "image".into(),
        }));
        let conflicts = self
            .store
            .put_plan(&NewPlan {
                id: plan.id.clone(),
                family: plan.family.clone(),
                path: path.display().to_string(),
                body,
                contexts: plan.contexts().into_iter().map(String::from).collect(),
                operator: self.operator.clone(),
                steps,
                claims,
                replace,
                at: self.now(),
            })
            .map_err(|e| match e {
                drydock_store::StoreError::Refused(m) => PlanError::State(m),
                e => PlanError::Store(e),
            })?;
        if conflicts.is_empty() {
            Ok(())
        } else {
            Err(PlanError::Claimed {
                plan: plan.id.clone(),
                conflicts,
            })
        }
    }

    /// Every claimed resource and the unfinished plan that holds it.
    pub fn claimed(&self) -> R<HashMap<String, String>> {
        Ok(self
            .store
            .claims()?
            .into_iter()
            .map(|c| (c.claim.resource, c.plan))
            .collect())
    }

    /// Ends plan `id`'s claims (it finished or was aborted).
    pub fn release_claims(&self, id: &str) -> R<()> {
        Ok(self.store.release_claims(id)?)
    }

    fn missing(id: &str) -> PlanError {
        PlanError::State(format!(
            "no plan `{id}` in the journal (see `drydock plan list`)"
        ))
    }

    /// The plan as registered (the file's content when it started).
    pub fn plan(&self, id: &str) -> R<super::Plan> {
        let body = self.store.plan_body(id)?.ok_or_else(|| Self::missing(id))?;
        serde_json::from_str(&body)
            .map_err(|e| PlanError::Journal(format!("plan {id} cannot be read back: {e}")))
    }

    pub fn status(&self, id: &str) -> R<PlanRow> {
        let record = self.store.plan(id)?.ok_or_else(|| Self::missing(id))?;
        let lease = self.store.lease(id)?;
        Ok(record_to_row(record, lease))
    }

    /// A pause or abort asked of the running executor (one read: polled before every VM
    /// the executor starts, so it reads the plan's record only, not its lease).
    pub fn control(&self, id: &str) -> Option<String> {
        self.store.plan(id).ok().flatten().and_then(|r| r.control)
    }

    /// Every plan, newest first, with its holder.
    pub fn list(&self) -> R<Vec<PlanRow>> {
        let mut leases: HashMap<String, drydock_store::Lease> = self
            .store
            .leases()?
            .into_iter()
            .map(|l| (l.plan.clone(), l))
            .collect();
        Ok(self
            .store
            .plans()?
            .into_iter()
            .map(|r| {
                let lease = leases.remove(&r.id);
                record_to_row(r, lease)
            })
            .collect())
    }

    pub fn set_status(&self, id: &str, status: PlanStatus, message: &str) -> R<()> {
        self.fenced(id)?;
        Ok(self
            .store
            .set_status(id, status.as_str(), message, self.now())?)
    }

    /// Approves waves up to `wave` (the finish is `waves.len()`).
    pub fn approve(&self, id: &str, wave: usize) -> R<()> {
        self.fenced(id)?;
        Ok(self.store.approve(id, wave as i64)?)
    }

    /// Asks a running executor to `pause` or `abort` (or clears the request with `None`).
    pub fn set_control(&self, id: &str, control: Option<&str>) -> R<()> {
        Ok(self.store.set_control(id, control)?)
    }

    /// Pauses (or aborts) plan `id`: a running executor (any operator's) is asked to stop
    /// after its in-flight steps; a stopped plan changes status at once. Says what happened.
    pub fn halt(&self, id: &str, abort: bool) -> R<String> {
        let row = self.status(id)?;
        if row.status.is_final() {
            return Err(PlanError::State(format!(
                "plan {id} is already {}",
                row.status.as_str()
            )));
        }
        let what = if abort { "abort" } else { "pause" };
        // Pausing twice is the same as pausing once: the brake never errors or re-logs.
        if !abort && row.status == PlanStatus::Paused && row.live_holder().is_none() {
            return Ok(format!("plan {id} is already paused"));
        }
        if let Some(l) = row.live_holder() {
            let who = format!("{} ({})", l.operator, l.holder);
            if row.control.as_deref() == Some(what) {
                return Ok(format!("{who} was already asked to {what} plan {id}"));
            }
            self.set_control(id, Some(what))?;
            return Ok(format!(
                "asked {who} to {what} plan {id} after its in-flight steps"
            ));
        }
        let plan = id.to_string();
        let (status, event) = if abort {
            (PlanStatus::Aborted, super::Event::Aborted { plan })
        } else {
            let message = format!(
                "paused by {}; `drydock plan resume` continues",
                self.operator
            );
            (PlanStatus::Paused, super::Event::Paused { plan, message })
        };
        self.set_status(id, status, &event.describe())?;
        self.event(id, &event)?;
        if abort {
            self.store.release_claims(id)?;
        }
        Ok(format!("plan {id}: {}", status.as_str()))
    }

    pub fn steps(&self, id: &str) -> R<Vec<StepRow>> {
        Ok(self
            .store
            .steps(id)?
            .into_iter()
            .map(|s| StepRow {
                key: s.key,
                wave: s.wave.and_then(|w| usize::try_from(w).ok()),
                state: StepState::parse(&s.state),
                token: s.token,
                result: s.result,
                error: s.error,
                attempts: u32::try_from(s.attempts).unwrap_or(u32::MAX),
                updated: s.updated,
            })
            .collect())
    }

    /// Records a step's new state. `token` and `result` overwrite when given; `error` always.
    pub fn update(
        &self,
        id: &str,
        key: &str,
        state: StepState,
        token: Option<&str>,
        result: Option<&str>,
        error: Option<&str>,
    ) -> R<()> {
        self.fenced(id)?;
        Ok(self.store.update_step(&StepUpdate {
            plan: id.into(),
            key: key.into(),
            state: state.as_str().into(),
            token: token.map(String::from),
            result: result.map(String::from),
            error: error.map(String::from),
            attempt: state == StepState::Started,
            at: self.now(),
        })?)
    }

    /// Appends a plan event (coarse ones: waves, gates, rungs — not every step), signed
    /// with the operator.
    pub fn event(&self, id: &str, event: &super::Event) -> R<()> {
        self.fenced(id)?;
        let text = serde_json::to_string(event).map_err(|e| PlanError::Journal(e.to_string()))?;
        Ok(self.store.append_event(&NewEvent {
            plan: id.into(),
            at: self.now(),
            operator: self.operator.clone(),
            event: text,
        })?)
    }

    /// The plan's events, oldest first, as (time, JSON).
    pub fn events(&self, id: &str) -> R<Vec<(DateTime<Utc>, String)>> {
        Ok(self
            .store
            .events(id)?
            .into_iter()
            .map(|e| (e.at, e.event))
            .collect())
    }

    /// The plan's events with who caused each.
    pub fn signed_events(&self, id: &str) -> R<Vec<drydock_store::EventRecord>> {
        Ok(self.store.events(id)?)
    }
}
