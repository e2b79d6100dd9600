//! Versioned schema migrations, run on open in one transaction. A store whose schema is
//! newer than this build's is refused, naming both versions.

use crate::error::DbError;
use crate::sql::{Conn, Value};

/// The schema version this build writes.
pub const SCHEMA_VERSION: u32 = 1;

/// The SQL dialect of a backend, where portable SQL cannot say it once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    fn serial(self) -> &'static str {
        match self {
            Dialect::Sqlite => "INTEGER PRIMARY KEY AUTOINCREMENT",
            Dialect::Postgres => "BIGSERIAL PRIMARY KEY",
        }
    }
    fn blob(self) -> &'static str {
        match self {
            Dialect::Sqlite => "BLOB",
            Dialect::Postgres => "BYTEA",
        }
    }
}

/// Migration `n` (1-based) brings the schema from version n-1 to n.
fn migration(n: u32, d: Dialect) -> String {
    match n {
        1 => format!(
            "CREATE TABLE plans (
               id TEXT PRIMARY KEY, family TEXT NOT NULL, path TEXT NOT NULL, body TEXT NOT NULL,
               status TEXT NOT NULL, message TEXT NOT NULL DEFAULT '',
               approved BIGINT NOT NULL DEFAULT -1, control TEXT,
               contexts TEXT NOT NULL DEFAULT '', operator TEXT NOT NULL DEFAULT '',
               created TEXT NOT NULL, updated TEXT NOT NULL);
             CREATE TABLE steps (
               plan TEXT NOT NULL, key TEXT NOT NULL, wave BIGINT, state TEXT NOT NULL,
               token TEXT, result TEXT, error TEXT, attempts BIGINT NOT NULL DEFAULT 0,
               updated TEXT NOT NULL, PRIMARY KEY (plan, key));
             CREATE TABLE events (
               seq {serial}, plan TEXT NOT NULL, at TEXT NOT NULL, operator TEXT NOT NULL,
               event TEXT NOT NULL);
             CREATE INDEX events_plan ON events (plan, seq);
             CREATE TABLE leases (
               plan TEXT PRIMARY KEY, holder TEXT NOT NULL, operator TEXT NOT NULL,
               since TEXT NOT NULL, beat TEXT NOT NULL, expires TEXT NOT NULL);
             CREATE TABLE claims (
               resource TEXT PRIMARY KEY, plan TEXT NOT NULL, context TEXT NOT NULL,
               kind TEXT NOT NULL);
             CREATE INDEX claims_plan ON claims (plan);
             CREATE TABLE audit (
               seq {serial}, at TEXT NOT NULL, operator TEXT NOT NULL, context TEXT NOT NULL,
               operation TEXT NOT NULL, target TEXT NOT NULL, dry_run BIGINT NOT NULL,
               confirmation TEXT NOT NULL, outcome TEXT NOT NULL, error TEXT, plan TEXT);
             CREATE INDEX audit_at ON audit (at);
             CREATE TABLE documents (
               kind TEXT NOT NULL, key TEXT NOT NULL, rev BIGINT NOT NULL,
               body {blob} NOT NULL, updated TEXT NOT NULL, PRIMARY KEY (kind, key));
             CREATE TABLE changes (id BIGINT PRIMARY KEY, n BIGINT NOT NULL);
             INSERT INTO changes (id, n) VALUES (1, 0);",
            serial = d.serial(),
            blob = d.blob()
        ),
        _ => String::new(),
    }
}

/// The schema version recorded in the store (0: a new store).
pub(crate) fn version(c: &mut dyn Conn) -> Result<u32, DbError> {
    c.batch("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")?;
    let rows = c.rows(
        "SELECT value FROM meta WHERE key = $1",
        &[Value::from("schema")],
    )?;
    Ok(rows
        .first()
        .and_then(|r| crate::sql::Cols(r).opt_text(0))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0))
}

/// What `up` found: the version before, after, or a newer one it refused.
pub(crate) enum Migrated {
    Done,
    Newer(u32),
}

/// Brings the schema up to [`SCHEMA_VERSION`] inside the caller's transaction.
pub(crate) fn up(c: &mut dyn Conn, d: Dialect) -> Result<Migrated, DbError> {
    if d == Dialect::Postgres {
        // Two processes opening a new store at once: one migrates, the other waits.
        c.batch("SELECT pg_advisory_xact_lock(7403310)")?;
    }
    let from = version(c)?;
    if from > SCHEMA_VERSION {
        return Ok(Migrated::Newer(from));
    }
    for n in from + 1..=SCHEMA_VERSION {
        c.batch(&migration(n, d))?;
    }
    if from < SCHEMA_VERSION {
        c.exec(
            "INSERT INTO meta (key, value) VALUES ('schema', $1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            &[Value::from(SCHEMA_VERSION.to_string())],
        )?;
    }
    Ok(Migrated::Done)
}
