//! The embedded backend: one SQLite file (WAL) in the data directory, no set-up. Several
//! processes share it safely (writes take the file's lock; a busy file is waited for).

use crate::error::{DbError, StoreError};
use crate::generic::{Backend, SqlStore, Work};
use crate::migrate::{up, Dialect, Migrated, SCHEMA_VERSION};
use crate::sql::{tx, Conn, Row, Value};
use rusqlite::types::{ToSqlOutput, ValueRef};
use std::path::Path;
use std::sync::Mutex;

pub(crate) struct Sqlite {
    conn: Mutex<rusqlite::Connection>,
    path: String,
}

/// `$N` placeholders as SQLite's `?N`.
fn adapt(sql: &str) -> String {
    sql.replace('$', "?")
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Int(i) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
            Value::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Value::Blob(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
        })
    }
}

struct SqliteConn<'a>(&'a rusqlite::Connection);

impl Conn for SqliteConn<'_> {
    fn exec(&mut self, sql: &str, args: &[Value]) -> Result<u64, DbError> {
        let mut st = self.0.prepare_cached(&adapt(sql))?;
        Ok(st.execute(rusqlite::params_from_iter(args.iter()))? as u64)
    }

    fn rows(&mut self, sql: &str, args: &[Value]) -> Result<Vec<Row>, DbError> {
        let mut st = self.0.prepare_cached(&adapt(sql))?;
        let width = st.column_count();
        let mut rows = st.query(rusqlite::params_from_iter(args.iter()))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let mut row = Vec::with_capacity(width);
            for i in 0..width {
                row.push(match r.get_ref(i)? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(n) => Value::Int(n),
                    ValueRef::Real(f) => Value::Int(f as i64),
                    ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Blob(b) => Value::Blob(b.to_vec()),
                });
            }
            out.push(row);
        }
        Ok(out)
    }

    fn batch(&mut self, sql: &str) -> Result<(), DbError> {
        Ok(self.0.execute_batch(sql)?)
    }

    fn begin(&mut self) -> Result<(), DbError> {
        self.batch("BEGIN IMMEDIATE")
    }

    fn notify(&mut self) -> Result<(), DbError> {
        Ok(())
    }
}

impl Backend for Sqlite {
    fn describe(&self) -> String {
        format!("sqlite:{}", self.path)
    }

    fn with<T: Send + 'static>(&self, f: Work<T>) -> Result<T, DbError> {
        let conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut SqliteConn(&conn))
    }
}

/// Opens (creating if needed) the SQLite store at `path` and migrates it.
pub(crate) fn open(path: &Path) -> Result<SqlStore<Sqlite>, StoreError> {
    let store = format!("sqlite:{}", path.display());
    let fail = |message: String, hint: &str| StoreError::Open {
        store: store.clone(),
        message,
        hint: hint.to_string(),
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| {
            fail(
                format!("cannot create {}: {e}", dir.display()),
                "check the data directory is writable",
            )
        })?;
    }
    let conn = rusqlite::Connection::open(path).map_err(|e| {
        fail(
            e.to_string(),
            "check the file is a drydock store and writable",
        )
    })?;
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .and_then(|_| conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"))
        .map_err(|e| {
            fail(
                e.to_string(),
                "check the file is a drydock store and writable",
            )
        })?;
    let migrated = tx(&mut SqliteConn(&conn), |c| up(c, Dialect::Sqlite))
        .map_err(|e| fail(e.message, "check the file is a drydock store and writable"))?;
    if let Migrated::Newer(found) = migrated {
        return Err(StoreError::Newer {
            store,
            found,
            supported: SCHEMA_VERSION,
        });
    }
    Ok(SqlStore {
        backend: Sqlite {
            conn: Mutex::new(conn),
            path: path.display().to_string(),
        },
    })
}
