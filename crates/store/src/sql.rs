//! What the generic store needs of a connection: run a statement, fetch rows of plain
//! values, run a batch, notify listeners. Statements are written once with `$N`
//! placeholders and portable SQL; each backend adapts them.

use crate::error::DbError;
use chrono::{DateTime, Utc};

/// A value bound to or read from a statement.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Int(i64),
    Text(String),
    Blob(Vec<u8>),
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Text(s.to_string())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Text(s)
    }
}
impl From<&String> for Value {
    fn from(s: &String) -> Value {
        Value::Text(s.clone())
    }
}
impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Int(i)
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Int(i64::from(b))
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(o: Option<T>) -> Value {
        o.map_or(Value::Null, Into::into)
    }
}
impl From<DateTime<Utc>> for Value {
    fn from(t: DateTime<Utc>) -> Value {
        Value::Text(ts(t))
    }
}

/// Times are stored as fixed-width RFC 3339 text, so they compare as text on both backends.
pub(crate) fn ts(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

pub(crate) type Row = Vec<Value>;

/// Reads a row's columns by position.
pub(crate) struct Cols<'a>(pub(crate) &'a [Value]);

impl Cols<'_> {
    pub(crate) fn text(&self, i: usize) -> String {
        self.opt_text(i).unwrap_or_default()
    }
    pub(crate) fn opt_text(&self, i: usize) -> Option<String> {
        match self.0.get(i) {
            Some(Value::Text(s)) => Some(s.clone()),
            Some(Value::Int(n)) => Some(n.to_string()),
            Some(Value::Blob(b)) => Some(String::from_utf8_lossy(b).into_owned()),
            _ => None,
        }
    }
    pub(crate) fn int(&self, i: usize) -> i64 {
        self.opt_int(i).unwrap_or(0)
    }
    pub(crate) fn opt_int(&self, i: usize) -> Option<i64> {
        match self.0.get(i) {
            Some(Value::Int(n)) => Some(*n),
            Some(Value::Text(s)) => s.parse().ok(),
            _ => None,
        }
    }
    pub(crate) fn blob(&self, i: usize) -> Vec<u8> {
        match self.0.get(i) {
            Some(Value::Blob(b)) => b.clone(),
            Some(Value::Text(s)) => s.as_bytes().to_vec(),
            _ => Vec::new(),
        }
    }
    pub(crate) fn time(&self, i: usize) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(&self.text(i))
            .map_or(DateTime::<Utc>::UNIX_EPOCH, |t| t.with_timezone(&Utc))
    }
}

/// One connection, as the generic store uses it.
pub(crate) trait Conn {
    /// Runs a statement; the rows it changed.
    fn exec(&mut self, sql: &str, args: &[Value]) -> Result<u64, DbError>;
    /// Runs a query; its rows.
    fn rows(&mut self, sql: &str, args: &[Value]) -> Result<Vec<Row>, DbError>;
    /// Runs statements without arguments.
    fn batch(&mut self, sql: &str) -> Result<(), DbError>;
    /// Starts a transaction that writes (SQLite takes its write lock at once).
    fn begin(&mut self) -> Result<(), DbError>;
    /// Tells listeners of other sessions that something changed (at commit).
    fn notify(&mut self) -> Result<(), DbError>;
}

/// Runs `f` in one transaction on `c`: committed if it succeeds, rolled back if not.
pub(crate) fn tx<T>(
    c: &mut dyn Conn,
    f: impl FnOnce(&mut dyn Conn) -> Result<T, DbError>,
) -> Result<T, DbError> {
    c.begin()?;
    match f(c) {
        Ok(v) => {
            c.batch("COMMIT")?;
            Ok(v)
        }
        Err(e) => {
            let _ = c.batch("ROLLBACK");
            Err(e)
        }
    }
}
