//! A plan action started from the dashboard, run as a task: approve (record the approval,
//! then run the plan until its next gate), pause, abort or roll back — through the same
//! executor and mutation gate as `drydock plan`.

use super::plans::PlanAction;
use crate::config::paths::DataDir;
use crate::gate::{Confirmation, Gate};
use crate::plan::executor::Clock;
use crate::plan::{Event, Executor, ExecutorOptions, Journal, PlanError};
use drydock_api::Provider;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

/// What a plan action needs from the runtime.
pub struct PlanJob {
    /// The data directory (journal, transfer ledger, SBOMs); `None`: no plans.
    pub data: Option<DataDir>,
    /// The plan journal in the store.
    pub journal: Result<Arc<Journal>, String>,
    pub providers: Vec<Arc<dyn Provider>>,
    /// The mutation gate (it knows which contexts are production).
    pub gate: Gate,
    /// The dashboard's clock (fixed in tests).
    pub clock: Clock,
}

impl PlanJob {
    /// Performs `action` on plan `id`; the result says what happened, for the status line.
    pub async fn run(
        self,
        id: &str,
        action: PlanAction,
        confirmation: Confirmation,
    ) -> Result<String, PlanError> {
        let journal = self.journal.clone().map_err(PlanError::Journal)?;
        match action {
            PlanAction::Pause => return journal.halt(id, false),
            PlanAction::Abort => return journal.halt(id, true),
            _ => {}
        }
        let row = journal.status(id)?;
        let plan = journal.plan(id)?;
        let names: HashSet<String> = plan.contexts().into_iter().map(String::from).collect();
        let confirmations = names
            .iter()
            .map(|n| (n.clone(), confirmation.clone()))
            .collect();
        let waves = plan.waves.len();
        let opts = ExecutorOptions {
            providers: self
                .providers
                .iter()
                .map(|p| (p.name().to_string(), Arc::clone(p)))
                .collect::<HashMap<_, _>>(),
            gate: self.gate.clone(),
            confirmations,
            // One approval per key press: the next gate stops the run.
            approve: Arc::new(|_, _| false),
            events: Arc::new(|e: &Event| tracing::info!("{}", e.describe())),
            poll: Duration::from_millis(500),
            retry_base: Duration::from_millis(100),
            clock: self.clock,
            data: self.data.clone(),
            take_over: action == PlanAction::TakeOver,
        };
        let plan_copy = plan.clone();
        let exec = Executor::new(plan, Arc::clone(&journal), opts);
        match action {
            PlanAction::Rollback => {
                let n = exec.rollback().await?;
                Ok(format!("plan {id}: rolled back, {n} replacements removed"))
            }
            _ => {
                // One approval resumes a plan standing at a gate, paused there or not.
                let steps = journal.steps(id)?;
                if let Some(next) =
                    crate::plan::gates::standing_at(&plan_copy, row.approved, &steps)
                {
                    journal.approve(id, next.min(waves))?;
                    journal.event(
                        id,
                        &Event::Approved {
                            plan: id.to_string(),
                            wave: next,
                        },
                    )?;
                }
                let status = exec.run().await?;
                let row = journal.status(id)?;
                Ok(format!("plan {id}: {} {}", status.as_str(), row.message))
            }
        }
    }
}
