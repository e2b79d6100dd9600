//! The store's records as rows: the columns each is read with and how a row becomes one,
//! and the reads more than one call makes (a plan's steps and events).

use crate::error::DbError;
use crate::sql::{Cols, Conn, Row};
use crate::types::*;

pub(crate) const PLAN_COLS: &str =
    "id, family, path, status, message, approved, control, contexts, operator, created, updated";

pub(crate) fn plan_row(r: &Row) -> PlanRecord {
    let c = Cols(r);
    PlanRecord {
        id: c.text(0),
        family: c.text(1),
        path: c.text(2),
        status: c.text(3),
        message: c.text(4),
        approved: c.int(5),
        control: c.opt_text(6),
        contexts: c
            .text(7)
            .split('\n')
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect(),
        operator: c.text(8),
        created: c.time(9),
        updated: c.time(10),
    }
}

pub(crate) fn step_row(r: &Row) -> StepRecord {
    let c = Cols(r);
    StepRecord {
        key: c.text(0),
        wave: c.opt_int(1),
        state: c.text(2),
        token: c.opt_text(3),
        result: c.opt_text(4),
        error: c.opt_text(5),
        attempts: c.int(6),
        updated: c.time(7),
    }
}

pub(crate) fn event_row(r: &Row) -> EventRecord {
    let c = Cols(r);
    EventRecord {
        seq: c.int(0),
        plan: c.text(1),
        at: c.time(2),
        operator: c.text(3),
        event: c.text(4),
    }
}

pub(crate) fn lease_row(r: &Row) -> Lease {
    let c = Cols(r);
    Lease {
        plan: c.text(0),
        holder: c.text(1),
        operator: c.text(2),
        since: c.time(3),
        beat: c.time(4),
        expires: c.time(5),
    }
}

pub(crate) fn claim_row(r: &Row) -> ClaimConflict {
    let c = Cols(r);
    ClaimConflict {
        claim: Claim {
            resource: c.text(0),
            context: c.text(1),
            kind: c.text(2),
        },
        plan: c.text(3),
    }
}

pub(crate) fn audit_row(r: &Row) -> AuditRecord {
    let c = Cols(r);
    AuditRecord {
        seq: c.int(0),
        at: c.time(1),
        operator: c.text(2),
        context: c.text(3),
        operation: c.text(4),
        target: c.text(5),
        dry_run: c.int(6) != 0,
        confirmation: c.text(7),
        outcome: c.text(8),
        error: c.opt_text(9),
        plan: c.opt_text(10),
    }
}

pub(crate) const LEASE_COLS: &str = "plan, holder, operator, since, beat, expires";
pub(crate) const AUDIT_COLS: &str =
    "seq, at, operator, context, operation, target, dry_run, confirmation, outcome, error, plan";

/// Plan `plan`'s steps, by key.
pub(crate) fn steps_of(c: &mut dyn Conn, plan: &str) -> Result<Vec<StepRecord>, DbError> {
    Ok(c.rows(
        "SELECT key, wave, state, token, result, error, attempts, updated
         FROM steps WHERE plan = $1 ORDER BY key",
        &[plan.into()],
    )?
    .iter()
    .map(step_row)
    .collect())
}

/// Plan `plan`'s events, oldest first.
pub(crate) fn events_of(c: &mut dyn Conn, plan: &str) -> Result<Vec<EventRecord>, DbError> {
    Ok(c.rows(
        "SELECT seq, plan, at, operator, event FROM events WHERE plan = $1 ORDER BY seq",
        &[plan.into()],
    )?
    .iter()
    .map(event_row)
    .collect())
}
