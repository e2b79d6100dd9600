//! Moving a team between stores: everything a store holds read out in one transaction,
//! and added to another in one transaction (a plan both hold must be the same plan, or
//! nothing is written).

use crate::error::DbError;
use crate::generic::{bump, insert_audit, insert_many};
use crate::rows::*;
use crate::sql::{Cols, Conn, Value};
use crate::types::*;

/// Everything the store holds.
pub(crate) fn export(c: &mut dyn Conn) -> Result<Dump, DbError> {
    let mut dump = Dump::default();
    // The body rides with the record's columns (one query for every plan).
    let sql = format!("SELECT {PLAN_COLS}, body FROM plans ORDER BY created, id");
    let plans: Vec<(PlanRecord, String)> = c
        .rows(&sql, &[])?
        .iter()
        .map(|r| (plan_row(r), Cols(r).text(PLAN_COLS.split(',').count())))
        .collect();
    for (record, body) in plans {
        let steps = steps_of(c, &record.id)?;
        let events = events_of(c, &record.id)?;
        dump.plans.push(DumpPlan {
            record,
            body,
            steps,
            events,
        });
    }
    dump.claims = c
        .rows(
            "SELECT resource, context, kind, plan FROM claims ORDER BY resource",
            &[],
        )?
        .iter()
        .map(claim_row)
        .collect();
    dump.audit = c
        .rows(&format!("SELECT {AUDIT_COLS} FROM audit ORDER BY seq"), &[])?
        .iter()
        .map(audit_row)
        .collect();
    dump.documents = c
        .rows(
            "SELECT kind, key, rev, body, updated FROM documents ORDER BY kind, key",
            &[],
        )?
        .iter()
        .map(|r| {
            let c = Cols(r);
            (
                c.text(0),
                c.text(1),
                Document {
                    rev: c.int(2),
                    body: c.blob(3),
                    updated: c.time(4),
                },
            )
        })
        .collect();
    Ok(dump)
}

/// Adds what `dump` holds that the store lacks. `Ok(Err(why))` when a plan both hold
/// differs: every plan is compared before the first write, so nothing was written then.
pub(crate) fn import(
    c: &mut dyn Conn,
    dump: &Dump,
) -> Result<Result<ImportCounts, String>, DbError> {
    let mut counts = ImportCounts::default();
    let mut present = std::collections::HashSet::new();
    for p in &dump.plans {
        let there = c.rows(
            "SELECT body FROM plans WHERE id = $1",
            &[(&p.record.id).into()],
        )?;
        if let Some(r) = there.first() {
            if Cols(r).text(0) != p.body {
                return Ok(Err(format!(
                            "plan {} is in both stores with different content; nothing was copied (rename or remove one)",
                            p.record.id
                        )));
            }
            present.insert(p.record.id.clone());
        }
    }
    for p in &dump.plans {
        if present.contains(&p.record.id) {
            counts.plans_present += 1;
            continue;
        }
        let r = &p.record;
        c.exec(
                    "INSERT INTO plans (id, family, path, body, status, message, approved, control, contexts, operator, created, updated)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                    &[
                        (&r.id).into(),
                        (&r.family).into(),
                        (&r.path).into(),
                        (&p.body).into(),
                        (&r.status).into(),
                        (&r.message).into(),
                        r.approved.into(),
                        r.control.clone().into(),
                        r.contexts.join("\n").into(),
                        (&r.operator).into(),
                        r.created.into(),
                        r.updated.into(),
                    ],
                )?;
        add_steps(c, &r.id, &p.steps)?;
        for e in &p.events {
            c.exec(
                "INSERT INTO events (plan, at, operator, event) VALUES ($1, $2, $3, $4)",
                &[
                    (&e.plan).into(),
                    e.at.into(),
                    (&e.operator).into(),
                    (&e.event).into(),
                ],
            )?;
        }
        counts.plans += 1;
    }
    for cl in &dump.claims {
        counts.claims += c.exec(
            "INSERT INTO claims (resource, plan, context, kind) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (resource) DO NOTHING",
            &[
                (&cl.claim.resource).into(),
                (&cl.plan).into(),
                (&cl.claim.context).into(),
                (&cl.claim.kind).into(),
            ],
        )? as usize;
    }
    for a in &dump.audit {
        let dup = c.rows(
                    "SELECT seq FROM audit WHERE at = $1 AND operator = $2 AND operation = $3 AND target = $4 AND outcome = $5",
                    &[
                        a.at.into(),
                        (&a.operator).into(),
                        (&a.operation).into(),
                        (&a.target).into(),
                        (&a.outcome).into(),
                    ],
                )?;
        if dup.is_empty() {
            insert_audit(c, a)?;
            counts.audit += 1;
        }
    }
    for (kind, key, d) in &dump.documents {
        counts.documents += c.exec(
            "INSERT INTO documents (kind, key, rev, body, updated) VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (kind, key) DO NOTHING",
            &[
                kind.into(),
                key.into(),
                d.rev.into(),
                Value::Blob(d.body.clone()),
                d.updated.into(),
            ],
        )? as usize;
    }
    bump(c)?;
    Ok(Ok(counts))
}

fn add_steps(c: &mut dyn Conn, plan: &str, steps: &[StepRecord]) -> Result<(), DbError> {
    let rows = steps
        .iter()
        .map(|s| {
            vec![
                plan.into(),
                s.key.clone().into(),
                s.wave.into(),
                s.state.clone().into(),
                s.token.clone().into(),
                s.result.clone().into(),
                s.error.clone().into(),
                s.attempts.into(),
                s.updated.into(),
            ]
        })
        .collect();
    insert_many(
        c,
        "INSERT INTO steps (plan, key, wave, state, token, result, error, attempts, updated) VALUES",
        "",
        9,
        rows,
    )
}
