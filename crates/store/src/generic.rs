//! The store written once over a [`Conn`]: every call of [`Store`] as portable SQL in one
//! transaction. Backends supply the connection (and, on PostgreSQL, change notification).

use crate::error::{DbError, StoreError};
use crate::rows::*;
use crate::sql::{ts, tx, Cols, Conn, Value};
use crate::types::*;
use crate::Store;
use chrono::{DateTime, Utc};
use std::time::Duration;

/// Work for a backend's connection.
pub(crate) type Work<T> = Box<dyn FnOnce(&mut dyn Conn) -> Result<T, DbError> + Send>;

/// A backend: runs closures on its connection.
pub(crate) trait Backend: Send + Sync + 'static {
    fn describe(&self) -> String;
    fn with<T: Send + 'static>(&self, f: Work<T>) -> Result<T, DbError>;
    /// Waits for a change notification (PostgreSQL); `None`: poll the change mark.
    fn wait_notified(&self, _timeout: Duration) -> Option<Result<bool, DbError>> {
        None
    }
}

/// The store over backend `B`.
pub(crate) struct SqlStore<B: Backend> {
    pub(crate) backend: B,
}

/// Rows per multi-row INSERT.
const CHUNK: usize = 200;

pub(crate) fn bump(c: &mut dyn Conn) -> Result<(), DbError> {
    c.exec("UPDATE changes SET n = n + 1 WHERE id = 1", &[])?;
    c.notify()
}

/// Inserts `rows` (each `width` values) into `head` (`INSERT INTO t (a, b) VALUES`) in
/// chunks, with `tail` (e.g. `ON CONFLICT DO NOTHING`) after each.
pub(crate) fn insert_many(
    c: &mut dyn Conn,
    head: &str,
    tail: &str,
    width: usize,
    rows: Vec<Vec<Value>>,
) -> Result<(), DbError> {
    for chunk in rows.chunks(CHUNK) {
        let mut sql = String::from(head);
        let mut args = Vec::with_capacity(chunk.len() * width);
        for (i, row) in chunk.iter().enumerate() {
            sql.push_str(if i == 0 { " (" } else { ", (" });
            for j in 0..width {
                if j > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!("${}", i * width + j + 1));
            }
            sql.push(')');
            args.extend(row.iter().cloned());
        }
        sql.push(' ');
        sql.push_str(tail);
        c.exec(&sql, &args)?;
    }
    Ok(())
}

/// The claims of other plans among `claims`.
fn conflicts_with(
    c: &mut dyn Conn,
    plan: &str,
    claims: &[Claim],
) -> Result<Vec<ClaimConflict>, DbError> {
    if claims.is_empty() {
        return Ok(Vec::new());
    }
    let held: std::collections::HashMap<String, ClaimConflict> = c
        .rows(
            "SELECT resource, context, kind, plan FROM claims WHERE plan <> $1",
            &[plan.into()],
        )?
        .iter()
        .map(claim_row)
        .map(|h| (h.claim.resource.clone(), h))
        .collect();
    let mut conflicts: Vec<ClaimConflict> = claims
        .iter()
        .filter_map(|cl| held.get(&cl.resource).cloned())
        .collect();
    conflicts.sort_by(|a, b| a.claim.cmp(&b.claim));
    conflicts.dedup();
    Ok(conflicts)
}

fn insert_claims(c: &mut dyn Conn, plan: &str, claims: &[Claim]) -> Result<(), DbError> {
    let rows = claims
        .iter()
        .map(|cl| {
            vec![
                (&cl.resource).into(),
                plan.into(),
                (&cl.context).into(),
                (&cl.kind).into(),
            ]
        })
        .collect();
    insert_many(
        c,
        "INSERT INTO claims (resource, plan, context, kind) VALUES",
        "ON CONFLICT (resource) DO NOTHING",
        4,
        rows,
    )
}

pub(crate) fn insert_audit(c: &mut dyn Conn, a: &AuditRecord) -> Result<i64, DbError> {
    c.rows(
        "INSERT INTO audit (at, operator, context, operation, target, dry_run, confirmation, outcome, error, plan)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING seq",
        &[
            a.at.into(),
            (&a.operator).into(),
            (&a.context).into(),
            (&a.operation).into(),
            (&a.target).into(),
            a.dry_run.into(),
            (&a.confirmation).into(),
            (&a.outcome).into(),
            a.error.clone().into(),
            a.plan.clone().into(),
        ],
    )
    .map(|rows| rows.first().map_or(0, |r| Cols(r).int(0)))
}

impl<B: Backend> SqlStore<B> {
    fn run<T: Send + 'static>(
        &self,
        call: &'static str,
        f: impl FnOnce(&mut dyn Conn) -> Result<T, DbError> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.backend
            .with(Box::new(f))
            .map_err(|e| e.into_call(call, &self.backend.describe()))
    }

    fn run_tx<T: Send + 'static>(
        &self,
        call: &'static str,
        f: impl FnOnce(&mut dyn Conn) -> Result<T, DbError> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.run(call, move |c| tx(c, f))
    }
}

impl<B: Backend> Store for SqlStore<B> {
    fn describe(&self) -> String {
        self.backend.describe()
    }

    fn schema_version(&self) -> Result<u32, StoreError> {
        self.run("schema version", crate::migrate::version)
    }

    fn put_plan(&self, p: &NewPlan) -> Result<Vec<ClaimConflict>, StoreError> {
        let id = p.id.clone();
        let p = p.clone();
        let refused = self.run_tx("record plan", move |c| {
            let rows = c.rows("SELECT status FROM plans WHERE id = $1", &[(&p.id).into()])?;
            if let Some(r) = rows.first() {
                let status = Cols(r).text(0);
                if !p.replace {
                    return Ok(Err(format!("exists ({status})")));
                }
                if status != "new" {
                    return Ok(Err(status));
                }
            }
            let conflicts = conflicts_with(c, &p.id, &p.claims)?;
            if !conflicts.is_empty() {
                return Ok(Ok(conflicts));
            }
            c.exec("DELETE FROM claims WHERE plan = $1", &[(&p.id).into()])?;
            insert_claims(c, &p.id, &p.claims)?;
            c.exec("DELETE FROM steps WHERE plan = $1", &[(&p.id).into()])?;
            c.exec(
                "INSERT INTO plans (id, family, path, body, status, contexts, operator, created, updated)
                 VALUES ($1, $2, $3, $4, 'new', $5, $6, $7, $7)
                 ON CONFLICT (id) DO UPDATE SET family = excluded.family, path = excluded.path,
                   body = excluded.body, contexts = excluded.contexts, updated = excluded.updated",
                &[
                    (&p.id).into(),
                    (&p.family).into(),
                    (&p.path).into(),
                    (&p.body).into(),
                    p.contexts.join("\n").into(),
                    (&p.operator).into(),
                    p.at.into(),
                ],
            )?;
            let at = ts(p.at);
            let rows = p
                .steps
                .iter()
                .map(|(key, wave)| {
                    vec![
                        (&p.id).into(),
                        key.into(),
                        (*wave).into(),
                        "pending".into(),
                        (&at).into(),
                    ]
                })
                .collect();
            insert_many(
                c,
                "INSERT INTO steps (plan, key, wave, state, updated) VALUES",
                "",
                5,
                rows,
            )?;
            bump(c)?;
            Ok(Ok(Vec::new()))
        })?;
        refused.map_err(|status| {
            if status.starts_with("exists") {
                return StoreError::Exists(format!("a plan {id} already exists, {status}"));
            }
            StoreError::Refused(format!(
                "plan {id} has already started ({status}); its file can no longer change (abort it and make a new plan)"
            ))
        })
    }

    fn plan(&self, id: &str) -> Result<Option<PlanRecord>, StoreError> {
        let id = id.to_string();
        self.run("read plan", move |c| {
            let sql = format!("SELECT {PLAN_COLS} FROM plans WHERE id = $1");
            Ok(c.rows(&sql, &[id.into()])?.first().map(plan_row))
        })
    }

    fn plans(&self) -> Result<Vec<PlanRecord>, StoreError> {
        self.run("list plans", |c| {
            let sql = format!("SELECT {PLAN_COLS} FROM plans ORDER BY created DESC, id");
            Ok(c.rows(&sql, &[])?.iter().map(plan_row).collect())
        })
    }

    fn plan_body(&self, id: &str) -> Result<Option<String>, StoreError> {
        let id = id.to_string();
        self.run("read plan body", move |c| {
            Ok(
                c.rows("SELECT body FROM plans WHERE id = $1", &[id.into()])?
                    .first()
                    .map(|r| Cols(r).text(0)),
            )
        })
    }

    fn set_status(
        &self,
        id: &str,
        status: &str,
        message: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let args = vec![id.into(), status.into(), message.into(), at.into()];
        self.run_tx("set plan status", move |c| {
            c.exec(
                "UPDATE plans SET status = $2, message = $3, updated = $4 WHERE id = $1",
                &args,
            )?;
            bump(c)
        })
    }

    fn approve(&self, id: &str, wave: i64) -> Result<(), StoreError> {
        let args = vec![id.into(), wave.into()];
        self.run_tx("approve wave", move |c| {
            c.exec(
                "UPDATE plans SET approved = CASE WHEN approved < $2 THEN $2 ELSE approved END WHERE id = $1",
                &args,
            )?;
            bump(c)
        })
    }

    fn set_control(&self, id: &str, control: Option<&str>) -> Result<(), StoreError> {
        let args = vec![id.into(), control.into()];
        self.run_tx("set plan control", move |c| {
            c.exec("UPDATE plans SET control = $2 WHERE id = $1", &args)?;
            bump(c)
        })
    }

    fn steps(&self, plan: &str) -> Result<Vec<StepRecord>, StoreError> {
        let plan = plan.to_string();
        self.run("read steps", move |c| steps_of(c, &plan))
    }

    fn update_step(&self, u: &StepUpdate) -> Result<(), StoreError> {
        let args = vec![
            (&u.plan).into(),
            (&u.key).into(),
            (&u.state).into(),
            u.token.clone().into(),
            u.result.clone().into(),
            u.error.clone().into(),
            i64::from(u.attempt).into(),
            u.at.into(),
        ];
        self.run_tx("record step", move |c| {
            c.exec(
                "UPDATE steps SET state = $3, token = COALESCE($4, token),
                   result = COALESCE($5, result), error = $6, attempts = attempts + $7,
                   updated = $8
                 WHERE plan = $1 AND key = $2",
                &args,
            )?;
            bump(c)
        })
    }

    fn append_event(&self, e: &NewEvent) -> Result<(), StoreError> {
        let args = vec![
            (&e.plan).into(),
            e.at.into(),
            (&e.operator).into(),
            (&e.event).into(),
        ];
        self.run_tx("append event", move |c| {
            c.exec(
                "INSERT INTO events (plan, at, operator, event) VALUES ($1, $2, $3, $4)",
                &args,
            )?;
            bump(c)
        })
    }

    fn events(&self, plan: &str) -> Result<Vec<EventRecord>, StoreError> {
        let plan = plan.to_string();
        self.run("read events", move |c| events_of(c, &plan))
    }

    fn acquire_lease(
        &self,
        plan: &str,
        holder: &Holder,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> Result<LeaseOutcome, StoreError> {
        let plan = plan.to_string();
        let holder = holder.clone();
        let expires = now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::MAX);
        self.run_tx("take lease", move |c| {
            let sql = format!("SELECT {LEASE_COLS} FROM leases WHERE plan = $1");
            let before = c.rows(&sql, &[(&plan).into()])?.first().map(lease_row);
            let n = c.exec(
                "INSERT INTO leases (plan, holder, operator, since, beat, expires)
                 VALUES ($1, $2, $3, $4, $4, $5)
                 ON CONFLICT (plan) DO UPDATE SET holder = excluded.holder,
                   operator = excluded.operator,
                   since = CASE WHEN leases.holder = excluded.holder THEN leases.since ELSE excluded.since END,
                   beat = excluded.beat, expires = excluded.expires
                 WHERE leases.holder = excluded.holder
                    OR (CAST($6 AS BIGINT) = 1 AND leases.expires < excluded.since)
                    OR leases.holder = CAST($7 AS TEXT)",
                &[
                    (&plan).into(),
                    (&holder.id).into(),
                    (&holder.operator).into(),
                    now.into(),
                    expires.into(),
                    holder.take_over.into(),
                    holder.replaces.clone().into(),
                ],
            )?;
            if n == 0 {
                let now_held = c.rows(&sql, &[(&plan).into()])?.first().map(lease_row);
                return Ok(LeaseOutcome::Held(
                    now_held.or(before).unwrap_or_else(|| Lease {
                        plan: plan.clone(),
                        holder: String::new(),
                        operator: String::new(),
                        since: now,
                        beat: now,
                        expires: now,
                    }),
                ));
            }
            bump(c)?;
            Ok(LeaseOutcome::Acquired {
                taken_from: before.filter(|l| l.holder != holder.id),
            })
        })
    }

    fn heartbeat(
        &self,
        plan: &str,
        holder: &str,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let expires = now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::MAX);
        let args = vec![plan.into(), holder.into(), now.into(), expires.into()];
        self.run("renew lease", move |c| {
            Ok(c.exec(
                "UPDATE leases SET beat = $3, expires = $4 WHERE plan = $1 AND holder = $2",
                &args,
            )? == 1)
        })
    }

    fn release_lease(&self, plan: &str, holder: &str) -> Result<(), StoreError> {
        let args = vec![plan.into(), holder.into()];
        self.run_tx("release lease", move |c| {
            c.exec("DELETE FROM leases WHERE plan = $1 AND holder = $2", &args)?;
            bump(c)
        })
    }

    fn lease(&self, plan: &str) -> Result<Option<Lease>, StoreError> {
        let plan = plan.to_string();
        self.run("read lease", move |c| {
            let sql = format!("SELECT {LEASE_COLS} FROM leases WHERE plan = $1");
            Ok(c.rows(&sql, &[plan.into()])?.first().map(lease_row))
        })
    }

    fn leases(&self) -> Result<Vec<Lease>, StoreError> {
        self.run("list leases", |c| {
            let sql = format!("SELECT {LEASE_COLS} FROM leases ORDER BY plan");
            Ok(c.rows(&sql, &[])?.iter().map(lease_row).collect())
        })
    }

    fn claim(&self, plan: &str, claims: &[Claim]) -> Result<Vec<ClaimConflict>, StoreError> {
        let plan = plan.to_string();
        let claims = claims.to_vec();
        self.run_tx("claim resources", move |c| {
            let conflicts = conflicts_with(c, &plan, &claims)?;
            if conflicts.is_empty() {
                insert_claims(c, &plan, &claims)?;
                bump(c)?;
            }
            Ok(conflicts)
        })
    }

    fn release_claims(&self, plan: &str) -> Result<(), StoreError> {
        let plan = plan.to_string();
        self.run_tx("release claims", move |c| {
            c.exec("DELETE FROM claims WHERE plan = $1", &[plan.into()])?;
            bump(c)
        })
    }

    fn claims(&self) -> Result<Vec<ClaimConflict>, StoreError> {
        self.run("list claims", |c| {
            Ok(c.rows(
                "SELECT resource, context, kind, plan FROM claims ORDER BY plan, resource",
                &[],
            )?
            .iter()
            .map(claim_row)
            .collect())
        })
    }

    fn append_audit(&self, a: &AuditRecord) -> Result<i64, StoreError> {
        let a = a.clone();
        self.run("append audit", move |c| insert_audit(c, &a))
    }

    fn finish_audit(&self, seq: i64, outcome: &str, error: Option<&str>) -> Result<(), StoreError> {
        let args = vec![seq.into(), outcome.into(), error.into()];
        self.run("finish audit", move |c| {
            c.exec(
                "UPDATE audit SET outcome = $2, error = $3 WHERE seq = $1",
                &args,
            )
            .map(|_| ())
        })
    }

    fn audit(&self, f: &AuditFilter) -> Result<Vec<AuditRecord>, StoreError> {
        let f = f.clone();
        self.run("read audit", move |c| {
            let sql = format!(
                "SELECT {AUDIT_COLS} FROM audit
                 WHERE (CAST($1 AS TEXT) IS NULL OR at >= $1)
                   AND (CAST($2 AS TEXT) IS NULL OR operator = $2)
                   AND (CAST($3 AS TEXT) IS NULL OR context = $3)
                   AND (CAST($4 AS TEXT) IS NULL OR plan = $4)
                 ORDER BY seq"
            );
            Ok(c.rows(
                &sql,
                &[
                    f.since.map(ts).into(),
                    f.operator.into(),
                    f.context.into(),
                    f.plan.into(),
                ],
            )?
            .iter()
            .map(audit_row)
            .collect())
        })
    }

    fn document(&self, kind: &str, key: &str) -> Result<Option<Document>, StoreError> {
        let args = vec![kind.into(), key.into()];
        self.run("read document", move |c| {
            Ok(c.rows(
                "SELECT rev, body, updated FROM documents WHERE kind = $1 AND key = $2",
                &args,
            )?
            .first()
            .map(|r| {
                let c = Cols(r);
                Document {
                    rev: c.int(0),
                    body: c.blob(1),
                    updated: c.time(2),
                }
            }))
        })
    }

    fn put_document(
        &self,
        kind: &str,
        key: &str,
        body: &[u8],
        expect: Option<i64>,
    ) -> Result<Option<i64>, StoreError> {
        let mut args = vec![
            kind.into(),
            key.into(),
            Value::Blob(body.to_vec()),
            Utc::now().into(),
        ];
        self.run("write document", move |c| {
            let rows = match expect {
                None => c.rows(
                    "INSERT INTO documents (kind, key, rev, body, updated) VALUES ($1, $2, 1, $3, $4)
                     ON CONFLICT (kind, key) DO UPDATE SET rev = documents.rev + 1,
                       body = excluded.body, updated = excluded.updated
                     RETURNING rev",
                    &args,
                )?,
                Some(0) => c.rows(
                    "INSERT INTO documents (kind, key, rev, body, updated) VALUES ($1, $2, 1, $3, $4)
                     ON CONFLICT (kind, key) DO NOTHING RETURNING rev",
                    &args,
                )?,
                Some(rev) => {
                    args.push(rev.into());
                    c.rows(
                        "UPDATE documents SET rev = rev + 1, body = $3, updated = $4
                         WHERE kind = $1 AND key = $2 AND rev = $5 RETURNING rev",
                        &args,
                    )?
                }
            };
            Ok(rows.first().map(|r| Cols(r).int(0)))
        })
    }

    fn delete_document(&self, kind: &str, key: &str) -> Result<bool, StoreError> {
        let args = vec![kind.into(), key.into()];
        self.run("delete document", move |c| {
            Ok(c.exec("DELETE FROM documents WHERE kind = $1 AND key = $2", &args)? > 0)
        })
    }

    fn documents(&self, kind: &str) -> Result<Vec<DocumentInfo>, StoreError> {
        let kind = kind.to_string();
        self.run("list documents", move |c| {
            Ok(c.rows(
                "SELECT key, rev, updated FROM documents WHERE kind = $1 ORDER BY key",
                &[kind.into()],
            )?
            .iter()
            .map(|r| {
                let c = Cols(r);
                DocumentInfo {
                    key: c.text(0),
                    rev: c.int(1),
                    updated: c.time(2),
                }
            })
            .collect())
        })
    }

    fn change_mark(&self) -> Result<i64, StoreError> {
        self.run("read change mark", |c| {
            Ok(c.rows("SELECT n FROM changes WHERE id = 1", &[])?
                .first()
                .map_or(0, |r| Cols(r).int(0)))
        })
    }

    fn wait_change(&self, since: i64, timeout: Duration) -> Result<bool, StoreError> {
        if self.change_mark()? != since {
            return Ok(true);
        }
        match self.backend.wait_notified(timeout) {
            Some(Ok(true)) => Ok(self.change_mark()? != since),
            Some(Ok(false)) => Ok(false),
            Some(Err(e)) => Err(e.into_call("wait for changes", &self.backend.describe())),
            None => {
                let end = std::time::Instant::now() + timeout;
                loop {
                    std::thread::sleep(Duration::from_millis(100).min(timeout));
                    if self.change_mark()? != since {
                        return Ok(true);
                    }
                    if std::time::Instant::now() >= end {
                        return Ok(false);
                    }
                }
            }
        }
    }

    fn export(&self) -> Result<Dump, StoreError> {
        self.run_tx("export", crate::copy::export)
    }

    fn import(&self, dump: &Dump) -> Result<ImportCounts, StoreError> {
        let dump = dump.clone();
        self.run_tx("import", move |c| crate::copy::import(c, &dump))?
            .map_err(StoreError::Refused)
    }
}
