//! The records the store keeps, as callers see them.

use chrono::{DateTime, Utc};
use serde::Serialize;

/// A plan to record, with its steps (key, wave).
#[derive(Debug, Clone)]
pub struct NewPlan {
    pub id: String,
    pub family: String,
    /// The plan file it came from.
    pub path: String,
    /// The plan as JSON.
    pub body: String,
    /// The contexts (providers) the plan acts in.
    pub contexts: Vec<String>,
    /// Who made it.
    pub operator: String,
    pub steps: Vec<(String, Option<i64>)>,
    /// Every resource the plan will touch, claimed with the plan (all or nothing).
    pub claims: Vec<Claim>,
    /// Replace a plan of the same id that has not started (an edited plan file);
    /// otherwise an existing id is refused ([`crate::StoreError::Exists`]).
    pub replace: bool,
    pub at: DateTime<Utc>,
}

/// A plan's status row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanRecord {
    pub id: String,
    pub family: String,
    pub path: String,
    pub status: String,
    pub message: String,
    /// The highest approved wave (-1: none).
    pub approved: i64,
    /// A pause or abort asked of the running executor.
    pub control: Option<String>,
    pub contexts: Vec<String>,
    pub operator: String,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
}

/// One step of a plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepRecord {
    pub key: String,
    pub wave: Option<i64>,
    pub state: String,
    pub token: Option<String>,
    pub result: Option<String>,
    pub error: Option<String>,
    pub attempts: i64,
    pub updated: DateTime<Utc>,
}

/// A step's new state: `token` and `result` overwrite when given; `error` always.
#[derive(Debug, Clone)]
pub struct StepUpdate {
    pub plan: String,
    pub key: String,
    pub state: String,
    pub token: Option<String>,
    pub result: Option<String>,
    pub error: Option<String>,
    /// Counts an attempt.
    pub attempt: bool,
    pub at: DateTime<Utc>,
}

/// A journal event to append.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub plan: String,
    pub at: DateTime<Utc>,
    pub operator: String,
    /// The event as JSON.
    pub event: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventRecord {
    pub seq: i64,
    pub plan: String,
    pub at: DateTime<Utc>,
    pub operator: String,
    pub event: String,
}

/// Who asks for a lease.
#[derive(Debug, Clone)]
pub struct Holder {
    /// Unique per running executor (operator, host, process and a random part).
    pub id: String,
    pub operator: String,
    /// Take the lease from a holder whose heartbeat is older than the TTL.
    pub take_over: bool,
    /// Take the lease from this holder whatever its heartbeat (it is known to be dead:
    /// a process of this host that no longer exists).
    pub replaces: Option<String>,
}

/// A lease on a running plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lease {
    pub plan: String,
    pub holder: String,
    pub operator: String,
    pub since: DateTime<Utc>,
    /// The last heartbeat.
    pub beat: DateTime<Utc>,
    pub expires: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LeaseOutcome {
    /// The lease is the caller's; `taken_from` names the dead holder it replaced.
    Acquired { taken_from: Option<Lease> },
    /// Someone else holds it.
    Held(Lease),
}

/// A resource a plan will touch.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Claim {
    /// The resource's id (VM, scale set, image), unique across clouds.
    pub resource: String,
    pub context: String,
    /// `vm`, `scale set`, `image`...
    pub kind: String,
}

/// A claimed resource and the plan that holds it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClaimConflict {
    pub claim: Claim,
    pub plan: String,
}

/// One gated change (or refusal).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditRecord {
    /// Assigned by the store (0 when appending).
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub operator: String,
    pub context: String,
    pub operation: String,
    pub target: String,
    pub dry_run: bool,
    /// The confirmation given (`none`, `yes`, `typed NAME`...).
    pub confirmation: String,
    /// `applied`, `refused`, `failed`, `validated`.
    pub outcome: String,
    pub error: Option<String>,
    pub plan: Option<String>,
}

/// Which audit records to list (every field narrows).
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub since: Option<DateTime<Utc>>,
    pub operator: Option<String>,
    pub context: Option<String>,
    pub plan: Option<String>,
}

/// A versioned document.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub rev: i64,
    pub body: Vec<u8>,
    pub updated: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DocumentInfo {
    pub key: String,
    pub rev: i64,
    pub updated: DateTime<Utc>,
}

/// One plan with everything journalled about it.
#[derive(Debug, Clone, PartialEq)]
pub struct DumpPlan {
    pub record: PlanRecord,
    pub body: String,
    pub steps: Vec<StepRecord>,
    pub events: Vec<EventRecord>,
}

/// Everything a store holds (leases are not: they belong to running processes).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dump {
    pub plans: Vec<DumpPlan>,
    pub claims: Vec<ClaimConflict>,
    pub audit: Vec<AuditRecord>,
    /// (kind, key, document)
    pub documents: Vec<(String, String, Document)>,
}

/// What an import added (and found already there).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportCounts {
    pub plans: usize,
    pub plans_present: usize,
    pub claims: usize,
    pub audit: usize,
    pub documents: usize,
}
