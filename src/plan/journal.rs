//! The plan journal: an embedded SQLite database (WAL) holding every plan's status, every
//! step's state and the plan events. The executor records intent before it acts and the
//! outcome after, so a crashed run can be resumed and reconciled.
//!
//! Durability: WAL with `synchronous = NORMAL` survives a killed process (the test kills
//! the executor with SIGKILL); a power cut may lose the last few steps, which resume
//! reconciles from the cloud's own records (client tokens and `drydock:*` tags).

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use std::path::Path;
use std::sync::Mutex;

use super::error::PlanError;

pub use super::rows::{PlanRow, PlanStatus, StepRow, StepState};

/// The journal; one connection, shared by the executor's tasks.
pub struct Journal {
    conn: Mutex<Connection>,
    /// Stamps steps and statuses (the executor sets its own clock).
    clock: std::sync::RwLock<super::Clock>,
}

type R<T> = super::error::Result<T>;

fn db(e: rusqlite::Error) -> PlanError {
    PlanError::Db(e)
}

fn time(s: String) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(&s).map_or_else(|_| Utc::now(), |t| t.with_timezone(&Utc))
}

impl Journal {
    /// Opens (creating if needed) the journal at `path`.
    pub fn open(path: &Path) -> R<Journal> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| PlanError::Journal(format!("cannot create {}: {e}", dir.display())))?;
        }
        let conn = Connection::open(path)
            .map_err(|e| PlanError::Journal(format!("cannot open {}: {e}", path.display())))?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(db)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
             CREATE TABLE IF NOT EXISTS plans (
               id TEXT PRIMARY KEY, family TEXT NOT NULL, path TEXT NOT NULL,
               body TEXT NOT NULL, status TEXT NOT NULL, message TEXT NOT NULL DEFAULT '',
               approved INTEGER NOT NULL DEFAULT -1, control TEXT, runner INTEGER,
               created TEXT NOT NULL, updated TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS steps (
               plan TEXT NOT NULL, key TEXT NOT NULL, wave INTEGER, state TEXT NOT NULL,
               token TEXT, result TEXT, error TEXT, attempts INTEGER NOT NULL DEFAULT 0,
               updated TEXT NOT NULL, PRIMARY KEY (plan, key));
             CREATE TABLE IF NOT EXISTS events (
               seq INTEGER PRIMARY KEY AUTOINCREMENT, plan TEXT NOT NULL, at TEXT NOT NULL,
               event TEXT NOT NULL);",
        )
        .map_err(|e| PlanError::Journal(format!("cannot set up {}: {e}", path.display())))?;
        Ok(Journal {
            conn: Mutex::new(conn),
            clock: std::sync::RwLock::new(std::sync::Arc::new(Utc::now)),
        })
    }

    /// Stamps from now on come from `clock`.
    pub fn set_clock(&self, clock: super::Clock) {
        *self.clock.write().unwrap_or_else(|e| e.into_inner()) = clock;
    }

    fn now(&self) -> DateTime<Utc> {
        (self.clock.read().unwrap_or_else(|e| e.into_inner()))()
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records a new plan (or, while it has never run, replaces an edited one) and its steps.
    pub fn register(&self, plan: &super::Plan, path: &Path) -> R<()> {
        let body = serde_json::to_string(plan).map_err(|e| PlanError::Journal(e.to_string()))?;
        let now = self.now().to_rfc3339();
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(db)?;
        let status: Option<String> = tx
            .query_row("SELECT status FROM plans WHERE id = ?1", [&plan.id], |r| {
                r.get(0)
            })
            .optional()
            .map_err(db)?;
        if status.as_deref().is_some_and(|s| s != "new") {
            return Err(PlanError::State(format!(
                "plan {} has already started; its file can no longer change (abort it and make a new plan)",
                plan.id
            )));
        }
        tx.execute("DELETE FROM steps WHERE plan = ?1", [&plan.id])
            .map_err(db)?;
        tx.execute(
            "INSERT OR REPLACE INTO plans (id, family, path, body, status, created, updated)
             VALUES (?1, ?2, ?3, ?4, 'new', ?5, ?5)",
            params![plan.id, plan.family, path.display().to_string(), body, now],
        )
        .map_err(db)?;
        {
            let mut ins = tx
                .prepare(
                    "INSERT INTO steps (plan, key, wave, state, updated) VALUES (?1, ?2, ?3, 'pending', ?4)",
                )
                .map_err(db)?;
            let mut add = |key: String, wave: Option<usize>| {
                ins.execute(params![plan.id, key, wave.map(|w| w as i64), now])
                    .map(|_| ())
            };
            if plan.rebuild.is_some() {
                add("rebuild".into(), None).map_err(db)?;
            }
            for (w, vm) in plan.vms() {
                add(format!("vm:{}", vm.id), Some(w)).map_err(db)?;
            }
            for r in &plan.repoint {
                add(format!("repoint:{}", r.resource), None).map_err(db)?;
            }
            for r in &plan.retire {
                for rung in ["deprecate", "disable", "deregister"] {
                    add(format!("{rung}:{}", r.image), None).map_err(db)?;
                }
            }
        }
        tx.commit().map_err(db)
    }

    /// The plan as registered (the file's content when it started).
    pub fn plan(&self, id: &str) -> R<super::Plan> {
        let body: String = self
            .conn()
            .query_row("SELECT body FROM plans WHERE id = ?1", [id], |r| r.get(0))
            .optional()
            .map_err(db)?
            .ok_or_else(|| {
                PlanError::State(format!(
                    "no plan `{id}` in the journal (see `drydock plan list`)"
                ))
            })?;
        serde_json::from_str(&body)
            .map_err(|e| PlanError::Journal(format!("plan {id} cannot be read back: {e}")))
    }

    fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PlanRow> {
        Ok(PlanRow {
            id: r.get(0)?,
            family: r.get(1)?,
            path: r.get(2)?,
            status: PlanStatus::parse(&r.get::<_, String>(3)?),
            message: r.get(4)?,
            approved: r.get(5)?,
            control: r.get(6)?,
            runner: r.get::<_, Option<i64>>(7)?.map(|p| p as u32),
            updated: time(r.get(8)?),
        })
    }

    const PLAN_COLS: &'static str =
        "id, family, path, status, message, approved, control, runner, updated";

    pub fn status(&self, id: &str) -> R<PlanRow> {
        let sql = format!("SELECT {} FROM plans WHERE id = ?1", Self::PLAN_COLS);
        self.conn()
            .query_row(&sql, [id], Self::row)
            .optional()
            .map_err(db)?
            .ok_or_else(|| {
                PlanError::State(format!(
                    "no plan `{id}` in the journal (see `drydock plan list`)"
                ))
            })
    }

    /// Every plan, newest first.
    pub fn list(&self) -> R<Vec<PlanRow>> {
        let sql = format!(
            "SELECT {} FROM plans ORDER BY created DESC, id",
            Self::PLAN_COLS
        );
        let conn = self.conn();
        let mut st = conn.prepare(&sql).map_err(db)?;
        let rows = st.query_map([], Self::row).map_err(db)?;
        rows.collect::<Result<_, _>>().map_err(db)
    }

    pub fn set_status(&self, id: &str, status: PlanStatus, message: &str) -> R<()> {
        self.conn()
            .execute(
                "UPDATE plans SET status = ?2, message = ?3, updated = ?4 WHERE id = ?1",
                params![id, status.as_str(), message, self.now().to_rfc3339()],
            )
            .map(|_| ())
            .map_err(db)
    }

    /// Approves waves up to `wave` (the finish is `waves.len()`).
    pub fn approve(&self, id: &str, wave: usize) -> R<()> {
        self.conn()
            .execute(
                "UPDATE plans SET approved = MAX(approved, ?2) WHERE id = ?1",
                params![id, wave as i64],
            )
            .map(|_| ())
            .map_err(db)
    }

    /// Asks a running executor to `pause` or `abort` (or clears the request with `None`).
    pub fn set_control(&self, id: &str, control: Option<&str>) -> R<()> {
        self.conn()
            .execute(
                "UPDATE plans SET control = ?2 WHERE id = ?1",
                params![id, control],
            )
            .map(|_| ())
            .map_err(db)
    }

    /// Pauses (or aborts) plan `id`: a running executor is asked to stop after its in-flight
    /// steps; a stopped plan changes status at once. Says what happened.
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
        if !abort && row.status == PlanStatus::Paused {
            return Ok(format!("plan {id} is already paused"));
        }
        if let Some(pid) = row.live_runner() {
            if row.control.as_deref() == Some(what) {
                return Ok(format!(
                    "process {pid} was already asked to {what} plan {id}"
                ));
            }
            self.set_control(id, Some(what))?;
            return Ok(format!(
                "asked process {pid} to {what} plan {id} after its in-flight steps"
            ));
        }
        let plan = id.to_string();
        let (status, event) = if abort {
            (PlanStatus::Aborted, super::Event::Aborted { plan })
        } else {
            let message = "paused; `drydock plan resume` continues".to_string();
            (PlanStatus::Paused, super::Event::Paused { plan, message })
        };
        self.set_status(id, status, &event.describe())?;
        self.event(id, &event)?;
        Ok(format!("plan {id}: {}", status.as_str()))
    }

    /// Claims the plan for process `pid` (`None` releases it). Fails if another live
    /// process holds it.
    pub fn claim(&self, id: &str, pid: Option<u32>) -> R<()> {
        let row = self.status(id)?;
        if let (Some(me), Some(other)) = (pid, row.live_runner()) {
            if other != me {
                return Err(PlanError::State(format!(
                    "plan {id} is being run by process {other}; pause it with `drydock plan pause {id}`"
                )));
            }
        }
        self.conn()
            .execute(
                "UPDATE plans SET runner = ?2 WHERE id = ?1",
                params![id, pid.map(i64::from)],
            )
            .map(|_| ())
            .map_err(db)
    }

    pub fn steps(&self, id: &str) -> R<Vec<StepRow>> {
        let conn = self.conn();
        let mut st = conn
            .prepare_cached(
                "SELECT key, wave, state, token, result, error, attempts, updated
                 FROM steps WHERE plan = ?1",
            )
            .map_err(db)?;
        let rows = st
            .query_map([id], |r| {
                Ok(StepRow {
                    key: r.get(0)?,
                    wave: r.get::<_, Option<i64>>(1)?.map(|w| w as usize),
                    state: StepState::parse(&r.get::<_, String>(2)?),
                    token: r.get(3)?,
                    result: r.get(4)?,
                    error: r.get(5)?,
                    attempts: r.get(6)?,
                    updated: time(r.get(7)?),
                })
            })
            .map_err(db)?;
        rows.collect::<Result<_, _>>().map_err(db)
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
        let bump = i64::from(state == StepState::Started);
        self.conn()
            .prepare_cached(
                "UPDATE steps SET state = ?3, token = COALESCE(?4, token),
                   result = COALESCE(?5, result), error = ?6, attempts = attempts + ?7,
                   updated = ?8
                 WHERE plan = ?1 AND key = ?2",
            )
            .and_then(|mut st| {
                st.execute(params![
                    id,
                    key,
                    state.as_str(),
                    token,
                    result,
                    error,
                    bump,
                    self.now().to_rfc3339()
                ])
            })
            .map(|_| ())
            .map_err(db)
    }

    /// Appends a plan event (coarse ones: waves, gates, rungs — not every step).
    pub fn event(&self, id: &str, event: &super::Event) -> R<()> {
        let text = serde_json::to_string(event).map_err(|e| PlanError::Journal(e.to_string()))?;
        self.conn()
            .prepare_cached("INSERT INTO events (plan, at, event) VALUES (?1, ?2, ?3)")
            .and_then(|mut st| st.execute(params![id, self.now().to_rfc3339(), text]))
            .map(|_| ())
            .map_err(db)
    }

    /// The plan's events, oldest first, as (time, JSON).
    pub fn events(&self, id: &str) -> R<Vec<(DateTime<Utc>, String)>> {
        let conn = self.conn();
        let mut st = conn
            .prepare("SELECT at, event FROM events WHERE plan = ?1 ORDER BY seq")
            .map_err(db)?;
        let rows = st
            .query_map([id], |r| Ok((time(r.get(0)?), r.get(1)?)))
            .map_err(db)?;
        rows.collect::<Result<_, _>>().map_err(db)
    }
}
