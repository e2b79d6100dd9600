//! drydock's durable store: plans and their journal (steps, events, approvals), leases on
//! running plans, claims on the resources unfinished plans will touch, the audit log of
//! every gated change, and versioned documents (scan snapshots and history, the transfer
//! ledger, SBOMs, image-list caches, the demo clouds' state).
//!
//! One interface ([`Store`]), two backends that pass one conformance suite: embedded SQLite
//! in the data directory (the default) and PostgreSQL for a team. The store knows nothing
//! of plans' meaning: bodies are JSON, statuses and step states are the caller's words.
//! Every call is one transaction; times are UTC.

mod copy;
mod error;
mod generic;
mod migrate;
mod pg;
mod rows;
mod sql;
mod sqlite;
mod types;
mod url;

pub use error::StoreError;
pub use migrate::SCHEMA_VERSION;
pub use types::*;
pub use url::{redact, Location};

use chrono::{DateTime, Utc};
use std::time::Duration;

/// What every backend provides. Calls block the calling thread for one round trip (a
/// PostgreSQL store runs its connection on a thread of its own, so calling from async code
/// is safe).
pub trait Store: Send + Sync {
    /// Where the store is, password removed (`sqlite:/path`, `postgres://user@host/db`).
    fn describe(&self) -> String;
    /// The schema version the store is at.
    fn schema_version(&self) -> Result<u32, StoreError>;

    // --- plans and their journal ---
    /// Records a new plan with its steps and claims, or replaces one that has not started
    /// (status `new`); refuses one that has. If another plan holds one of its claims,
    /// nothing is written and the conflicts are returned.
    fn put_plan(&self, plan: &NewPlan) -> Result<Vec<ClaimConflict>, StoreError>;
    fn plan(&self, id: &str) -> Result<Option<PlanRecord>, StoreError>;
    /// Every plan, newest first.
    fn plans(&self) -> Result<Vec<PlanRecord>, StoreError>;
    /// The plan's body (JSON), as registered.
    fn plan_body(&self, id: &str) -> Result<Option<String>, StoreError>;
    fn set_status(
        &self,
        id: &str,
        status: &str,
        message: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Raises the approved wave to at least `wave`.
    fn approve(&self, id: &str, wave: i64) -> Result<(), StoreError>;
    fn set_control(&self, id: &str, control: Option<&str>) -> Result<(), StoreError>;
    fn steps(&self, plan: &str) -> Result<Vec<StepRecord>, StoreError>;
    fn update_step(&self, update: &StepUpdate) -> Result<(), StoreError>;
    fn append_event(&self, event: &NewEvent) -> Result<(), StoreError>;
    fn events(&self, plan: &str) -> Result<Vec<EventRecord>, StoreError>;

    // --- leases ---
    /// Takes the lease on `plan` for `holder` if it is free, already `holder`'s, expired,
    /// or (with `take_over`) held by anyone whose heartbeat is older than `ttl`. One
    /// conditional write: two callers cannot both win.
    fn acquire_lease(
        &self,
        plan: &str,
        holder: &Holder,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> Result<LeaseOutcome, StoreError>;
    /// Renews `holder`'s lease; `false` when it is no longer theirs.
    fn heartbeat(
        &self,
        plan: &str,
        holder: &str,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> Result<bool, StoreError>;
    fn release_lease(&self, plan: &str, holder: &str) -> Result<(), StoreError>;
    fn lease(&self, plan: &str) -> Result<Option<Lease>, StoreError>;
    fn leases(&self) -> Result<Vec<Lease>, StoreError>;

    // --- claims ---
    /// Claims every resource for `plan`, all or nothing: the conflicts (held by other
    /// plans) are returned and nothing is claimed if there is one.
    fn claim(&self, plan: &str, claims: &[Claim]) -> Result<Vec<ClaimConflict>, StoreError>;
    fn release_claims(&self, plan: &str) -> Result<(), StoreError>;
    fn claims(&self) -> Result<Vec<ClaimConflict>, StoreError>;

    // --- audit ---
    /// Appends a record; its sequence number.
    fn append_audit(&self, record: &AuditRecord) -> Result<i64, StoreError>;
    /// Sets the outcome (and error) of record `seq` (an intent recorded before its call).
    fn finish_audit(&self, seq: i64, outcome: &str, error: Option<&str>) -> Result<(), StoreError>;
    fn audit(&self, filter: &AuditFilter) -> Result<Vec<AuditRecord>, StoreError>;

    // --- documents ---
    fn document(&self, kind: &str, key: &str) -> Result<Option<Document>, StoreError>;
    /// Writes a document. With `expect`, only if its revision is still that (`Some(0)`:
    /// only if absent); a mismatch is `Ok(None)`. Returns the new revision.
    fn put_document(
        &self,
        kind: &str,
        key: &str,
        body: &[u8],
        expect: Option<i64>,
    ) -> Result<Option<i64>, StoreError>;
    fn delete_document(&self, kind: &str, key: &str) -> Result<bool, StoreError>;
    /// Keys, revisions and update times of one kind's documents.
    fn documents(&self, kind: &str) -> Result<Vec<DocumentInfo>, StoreError>;

    // --- the team's live view ---
    /// A number that changes whenever a plan, step, lease or claim changes.
    fn change_mark(&self) -> Result<i64, StoreError>;
    /// Waits up to `timeout` for a change; `true` if one came. PostgreSQL answers within
    /// milliseconds (LISTEN/NOTIFY); SQLite polls the change mark.
    fn wait_change(&self, since: i64, timeout: Duration) -> Result<bool, StoreError>;

    // --- moving a team ---
    /// Everything the store holds.
    fn export(&self) -> Result<Dump, StoreError>;
    /// Adds what `dump` holds that this store lacks; a plan both hold must be the same
    /// plan (same body) or the copy stops before writing anything.
    fn import(&self, dump: &Dump) -> Result<ImportCounts, StoreError>;
}

/// Opens the store at `location`, creating and migrating its schema.
pub fn open(location: &Location) -> Result<Box<dyn Store>, StoreError> {
    match location {
        Location::Sqlite(path) => Ok(Box::new(sqlite::open(path)?)),
        Location::Postgres { url, ca_file } => Ok(Box::new(pg::open(url, ca_file.as_deref())?)),
    }
}
