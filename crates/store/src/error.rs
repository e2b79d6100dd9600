//! What can go wrong with a store, said so an operator knows what to do.

/// A store error names the call, the store (never its password) and what to do.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the store {store}: {message}; {hint}")]
    Open {
        store: String,
        message: String,
        hint: String,
    },
    #[error("the store {store} has schema version {found}, newer than this drydock's {supported}; upgrade drydock (its store cannot be read by an older one)")]
    Newer {
        store: String,
        found: u32,
        supported: u32,
    },
    #[error("store call `{call}` on {store} failed: {message}; {hint}")]
    Call {
        call: &'static str,
        store: String,
        message: String,
        hint: &'static str,
    },
    #[error("{0}")]
    Refused(String),
    /// A record of that id already exists (and was not to be replaced).
    #[error("{0}")]
    Exists(String),
    #[error("store location: {0}")]
    Location(String),
}

/// A database error from either backend, before it is given its call and store.
#[derive(Debug)]
pub(crate) struct DbError {
    pub(crate) message: String,
    /// The connection is gone (server restarted or unreachable).
    pub(crate) lost: bool,
}

impl DbError {
    pub(crate) fn new(message: impl Into<String>) -> DbError {
        DbError {
            message: message.into(),
            lost: false,
        }
    }

    pub(crate) fn into_call(self, call: &'static str, store: &str) -> StoreError {
        StoreError::Call {
            call,
            store: store.to_string(),
            hint: if self.lost {
                "the database connection was lost; nothing was half-written (every call is one transaction): check the server, then run again"
            } else {
                "nothing was half-written (every call is one transaction)"
            },
            message: self.message,
        }
    }
}

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> DbError {
        DbError::new(e.to_string())
    }
}

impl From<postgres::Error> for DbError {
    fn from(e: postgres::Error) -> DbError {
        let lost = e.is_closed()
            || e.as_db_error().is_some_and(|d| {
                matches!(
                    d.code().code(),
                    "57P01" | "57P02" | "57P03" | "08006" | "08003"
                )
            });
        let message = match e.as_db_error() {
            Some(d) => format!("{} ({})", d.message(), d.code().code()),
            None => {
                let mut m = e.to_string();
                let mut src = std::error::Error::source(&e);
                while let Some(s) = src {
                    m.push_str(&format!(": {s}"));
                    src = s.source();
                }
                m
            }
        };
        DbError {
            message,
            lost: lost || e.as_db_error().is_none(),
        }
    }
}
