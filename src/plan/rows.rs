//! The journal's records: where a plan stands (`PlanStatus`, its `PlanRow`) and where each
//! of its steps stands (`StepState`, its `StepRow`), with their names as stored.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where a plan stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanStatus {
    /// Written, never run.
    New,
    Running,
    /// The next wave (or the finish) waits for a person's approval.
    AwaitingApproval,
    /// Stopped by a person or by a wave gate; `resume` continues.
    Paused,
    /// A retire rung waits for its grace period or undo window.
    Waiting,
    /// A retire rung refused: the image is still in use.
    Blocked,
    Aborted,
    Complete,
}

impl PlanStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PlanStatus::New => "new",
            PlanStatus::Running => "running",
            PlanStatus::AwaitingApproval => "awaiting_approval",
            PlanStatus::Paused => "paused",
            PlanStatus::Waiting => "waiting",
            PlanStatus::Blocked => "blocked",
            PlanStatus::Aborted => "aborted",
            PlanStatus::Complete => "complete",
        }
    }

    pub fn parse(s: &str) -> PlanStatus {
        match s {
            "running" => PlanStatus::Running,
            "awaiting_approval" => PlanStatus::AwaitingApproval,
            "paused" => PlanStatus::Paused,
            "waiting" => PlanStatus::Waiting,
            "blocked" => PlanStatus::Blocked,
            "aborted" => PlanStatus::Aborted,
            "complete" => PlanStatus::Complete,
            _ => PlanStatus::New,
        }
    }

    /// Finished for good.
    pub fn is_final(self) -> bool {
        matches!(self, PlanStatus::Aborted | PlanStatus::Complete)
    }
}

/// Where one step stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepState {
    Pending,
    /// Intent recorded; the call may or may not have reached the cloud.
    Started,
    /// The replacement exists (`result` names it); its health is not yet known.
    Launched,
    /// The replacement passed its health gate; the old VM still runs until the wave commits.
    Healthy,
    /// Intent to terminate the old VM recorded.
    Terminating,
    Done,
    /// The replacement failed its health gate and was removed; the old VM runs on.
    Failed,
    /// The replacement was removed by a rollback; the old VM runs on.
    RolledBack,
}

impl StepState {
    pub const ALL: [StepState; 8] = [
        StepState::Pending,
        StepState::Started,
        StepState::Launched,
        StepState::Healthy,
        StepState::Terminating,
        StepState::Done,
        StepState::Failed,
        StepState::RolledBack,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StepState::Pending => "pending",
            StepState::Started => "started",
            StepState::Launched => "launched",
            StepState::Healthy => "healthy",
            StepState::Terminating => "terminating",
            StepState::Done => "done",
            StepState::Failed => "failed",
            StepState::RolledBack => "rolled_back",
        }
    }

    pub fn parse(s: &str) -> StepState {
        StepState::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .unwrap_or(StepState::Pending)
    }
}

/// A plan's row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanRow {
    pub id: String,
    pub family: String,
    /// The plan file.
    pub path: String,
    pub status: PlanStatus,
    pub message: String,
    /// The highest wave approved to start (`waves` = the finish).
    pub approved: i64,
    /// A pause or abort asked for by another process, not yet acted on.
    pub control: Option<String>,
    /// The lease of the executor running the plan, if any (it may have died: see
    /// [`PlanRow::live_holder`]).
    pub holder: Option<drydock_store::Lease>,
    /// Who made the plan.
    pub operator: String,
    /// The contexts the plan acts in.
    pub contexts: Vec<String>,
    pub updated: DateTime<Utc>,
}

impl PlanRow {
    /// The executor running the plan, if its lease has not expired.
    pub fn live_holder(&self) -> Option<&drydock_store::Lease> {
        self.holder.as_ref().filter(|l| l.expires > Utc::now())
    }
}

/// A step's row. Keys: `rebuild`, `vm:<id>`, `repoint:<resource>`, `deprecate:<image>`,
/// `disable:<image>`, `deregister:<image>`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepRow {
    pub key: String,
    pub wave: Option<usize>,
    pub state: StepState,
    /// The idempotency key of the current attempt.
    pub token: Option<String>,
    /// What the step made: the replacement VM, the new image.
    pub result: Option<String>,
    pub error: Option<String>,
    pub attempts: u32,
    pub updated: DateTime<Utc>,
}
