//! The audit log: every change the mutation gate lets through (and every one it refuses),
//! with when, who, where, what, on what, whether it was a dry run, the confirmation given,
//! the outcome and the error — kept in the store for the team. Nothing secret is recorded:
//! operations are described by their verb and target, confirmations by what was typed
//! (a context name). A change is recorded as `started` before its call reaches the cloud
//! and given its outcome after, so a process killed in between leaves its intent behind;
//! a resumed plan that finds such a change in the cloud records it as `adopted`.

use crate::gate::Confirmation;
use chrono::Utc;
use drydock_store::{AuditRecord, Store};
use std::sync::Arc;

/// Where the gate records, and as whom.
#[derive(Clone)]
pub struct AuditLog {
    store: Arc<dyn Store>,
    operator: String,
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "AuditLog({} as {})",
            self.store.describe(),
            self.operator
        )
    }
}

/// One entry, before it is stamped.
pub struct Entry<'a> {
    pub context: &'a str,
    pub operation: String,
    pub target: String,
    pub dry_run: bool,
    pub confirmation: &'a Confirmation,
    pub outcome: &'static str,
    pub error: Option<String>,
    pub plan: Option<&'a str>,
}

/// How a confirmation is recorded.
pub fn confirmation_text(c: &Confirmation) -> String {
    match c {
        Confirmation::None => "none".into(),
        Confirmation::Yes => "yes".into(),
        Confirmation::Typed(t) => format!("typed `{}`", t.trim()),
    }
}

impl AuditLog {
    pub fn new(store: Arc<dyn Store>, operator: impl Into<String>) -> AuditLog {
        AuditLog {
            store,
            operator: operator.into(),
        }
    }

    pub fn operator(&self) -> &str {
        &self.operator
    }

    /// Records `e` and returns its number (`None`: the store did not take it — logged,
    /// not fatal: the change it describes has already been decided).
    pub fn record(&self, e: Entry<'_>) -> Option<i64> {
        let rec = AuditRecord {
            seq: 0,
            at: Utc::now(),
            operator: self.operator.clone(),
            context: e.context.to_string(),
            operation: e.operation,
            target: e.target,
            dry_run: e.dry_run,
            confirmation: confirmation_text(e.confirmation),
            outcome: e.outcome.to_string(),
            error: e.error,
            plan: e.plan.map(String::from),
        };
        match self.store.append_audit(&rec) {
            Ok(seq) => Some(seq),
            Err(err) => {
                tracing::error!(
                    "audit record lost ({} {}): {err}",
                    rec.operation,
                    rec.target
                );
                None
            }
        }
    }

    /// Sets the outcome of intent `seq` once its call returned.
    pub fn finish(&self, seq: i64, outcome: &str, error: Option<String>) {
        if let Err(err) = self.store.finish_audit(seq, outcome, error.as_deref()) {
            tracing::error!("audit outcome lost (record {seq}: {outcome}): {err}");
        }
    }
}
