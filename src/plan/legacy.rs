//! The plan journal before the store (`journal.sqlite` in the data directory): its plans,
//! steps and events are copied into a new store once, so upgrading loses no plan.

use drydock_store::{Dump, DumpPlan, EventRecord, PlanRecord, StepRecord, Store};
use std::path::Path;

fn time(s: String) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(&s)
        .map_or(chrono::DateTime::<chrono::Utc>::UNIX_EPOCH, |t| {
            t.with_timezone(&chrono::Utc)
        })
}

/// Reads the old journal at `path` (read-only).
pub fn read(path: &Path) -> rusqlite::Result<Dump> {
    let c =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let mut dump = Dump::default();
    let mut plans = c.prepare(
        "SELECT id, family, path, body, status, message, approved, control, created, updated FROM plans ORDER BY created",
    )?;
    let rows = plans.query_map([], |r| {
        Ok((
            PlanRecord {
                id: r.get(0)?,
                family: r.get(1)?,
                path: r.get(2)?,
                status: r.get(4)?,
                message: r.get(5)?,
                approved: r.get(6)?,
                control: r.get(7)?,
                contexts: Vec::new(),
                operator: String::new(),
                created: time(r.get(8)?),
                updated: time(r.get(9)?),
            },
            r.get::<_, String>(3)?,
        ))
    })?;
    for row in rows {
        let (mut record, body) = row?;
        if let Ok(plan) = serde_json::from_str::<super::Plan>(&body) {
            record.contexts = plan.contexts().into_iter().map(String::from).collect();
        }
        let mut st = c.prepare(
            "SELECT key, wave, state, token, result, error, attempts, updated FROM steps WHERE plan = ?1",
        )?;
        let steps = st
            .query_map([&record.id], |r| {
                Ok(StepRecord {
                    key: r.get(0)?,
                    wave: r.get(1)?,
                    state: r.get(2)?,
                    token: r.get(3)?,
                    result: r.get(4)?,
                    error: r.get(5)?,
                    attempts: r.get(6)?,
                    updated: time(r.get(7)?),
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut ev = c.prepare("SELECT seq, at, event FROM events WHERE plan = ?1 ORDER BY seq")?;
        let events = ev
            .query_map([&record.id], |r| {
                Ok(EventRecord {
                    seq: r.get(0)?,
                    plan: record.id.clone(),
                    at: time(r.get(1)?),
                    operator: String::new(),
                    event: r.get(2)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        dump.plans.push(DumpPlan {
            record,
            body,
            steps,
            events,
        });
    }
    Ok(dump)
}

/// Copies the old journal at `path` into `store` if the store holds no plan yet; says
/// how many plans came over.
pub fn adopt(path: &Path, store: &dyn Store) -> Result<usize, String> {
    if !path.is_file() || !store.plans().map_err(|e| e.to_string())?.is_empty() {
        return Ok(0);
    }
    let dump = read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let n = store.import(&dump).map_err(|e| e.to_string())?;
    Ok(n.plans)
}
