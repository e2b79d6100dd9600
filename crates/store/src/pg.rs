//! The team backend: PostgreSQL. The connection lives on a thread of its own (so calls
//! from async code never block a runtime inside a runtime) and is remade after the server
//! restarts; a second connection LISTENs for other operators' changes. TLS when the URL's
//! `sslmode` asks for it (`require`: verified against `[store] ca_file` or the web roots).

use crate::error::{DbError, StoreError};
use crate::generic::{Backend, SqlStore, Work};
use crate::migrate::{up, Dialect, Migrated, SCHEMA_VERSION};
use crate::sql::{tx, Conn, Row, Value};
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::{IsNull, ToSql, Type};
use std::path::Path;
use std::sync::mpsc;
use std::sync::Mutex;
use std::time::Duration;

/// The notification channel every change is announced on.
const CHANNEL: &str = "drydock_changes";

type Job = Box<dyn FnOnce(&mut Session) + Send>;

pub(crate) struct Postgres {
    jobs: Mutex<mpsc::Sender<Job>>,
    shown: String,
    listener: Mutex<Option<Listener>>,
    connector: Connector,
}

/// How to (re)connect.
#[derive(Clone)]
struct Connector {
    config: postgres::Config,
    tls: Option<tokio_postgres_rustls::MakeRustlsConnect>,
}

impl Connector {
    fn connect(&self) -> Result<postgres::Client, DbError> {
        let r = match &self.tls {
            Some(tls) => self.config.connect(tls.clone()),
            None => self.config.connect(postgres::NoTls),
        };
        r.map_err(|e| {
            let mut d = DbError::from(e);
            d.lost = true;
            d
        })
    }
}

/// The worker thread's side: a client, remade when the server dropped it.
struct Session {
    client: Option<postgres::Client>,
    connector: Connector,
}

impl Session {
    fn client(&mut self) -> Result<&mut postgres::Client, DbError> {
        if self.client.as_ref().is_none_or(|c| c.is_closed()) {
            self.client = Some(self.connector.connect()?);
        }
        Ok(self.client.as_mut().expect("connected above"))
    }
}

/// A NULL of whatever type the statement wants.
#[derive(Debug)]
struct Null;

impl ToSql for Null {
    fn to_sql(
        &self,
        _: &Type,
        _: &mut postgres::types::private::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        Ok(IsNull::Yes)
    }
    fn accepts(_: &Type) -> bool {
        true
    }
    postgres::types::to_sql_checked!();
}

fn params(args: &[Value]) -> Vec<Box<dyn ToSql + Sync>> {
    args.iter()
        .map(|v| -> Box<dyn ToSql + Sync> {
            match v {
                Value::Null => Box::new(Null),
                Value::Int(i) => Box::new(*i),
                Value::Text(s) => Box::new(s.clone()),
                Value::Blob(b) => Box::new(b.clone()),
            }
        })
        .collect()
}

fn column(row: &postgres::Row, i: usize) -> Result<Value, DbError> {
    let ty = row.columns()[i].type_().clone();
    let v = if ty == Type::INT8 {
        row.try_get::<_, Option<i64>>(i)?.map(Value::Int)
    } else if ty == Type::INT4 {
        row.try_get::<_, Option<i32>>(i)?
            .map(|n| Value::Int(i64::from(n)))
    } else if ty == Type::BOOL {
        row.try_get::<_, Option<bool>>(i)?
            .map(|b| Value::Int(i64::from(b)))
    } else if ty == Type::BYTEA {
        row.try_get::<_, Option<Vec<u8>>>(i)?.map(Value::Blob)
    } else {
        row.try_get::<_, Option<String>>(i)?.map(Value::Text)
    };
    Ok(v.unwrap_or(Value::Null))
}

impl Conn for Session {
    fn exec(&mut self, sql: &str, args: &[Value]) -> Result<u64, DbError> {
        let p = params(args);
        let refs: Vec<&(dyn ToSql + Sync)> = p.iter().map(|b| b.as_ref()).collect();
        Ok(self.client()?.execute(sql, &refs)?)
    }

    fn rows(&mut self, sql: &str, args: &[Value]) -> Result<Vec<Row>, DbError> {
        let p = params(args);
        let refs: Vec<&(dyn ToSql + Sync)> = p.iter().map(|b| b.as_ref()).collect();
        let rows = self.client()?.query(sql, &refs)?;
        rows.iter()
            .map(|r| (0..r.len()).map(|i| column(r, i)).collect())
            .collect()
    }

    fn batch(&mut self, sql: &str) -> Result<(), DbError> {
        Ok(self.client()?.batch_execute(sql)?)
    }

    fn begin(&mut self) -> Result<(), DbError> {
        self.batch("BEGIN")
    }

    fn notify(&mut self) -> Result<(), DbError> {
        self.batch(&format!("NOTIFY {CHANNEL}"))
    }
}

/// A new listening connection, after a pause (`None` while the server is away).
fn relisten(connector: &Connector) -> Option<postgres::Client> {
    std::thread::sleep(Duration::from_millis(500));
    let mut c = connector.connect().ok()?;
    c.batch_execute(&format!("LISTEN {CHANNEL}")).ok()?;
    Some(c)
}

/// A connection that LISTENs, on a thread of its own; it counts notifications.
struct Listener {
    seen: std::sync::Arc<(Mutex<u64>, std::sync::Condvar)>,
}

impl Listener {
    fn start(connector: Connector) -> Result<Listener, DbError> {
        let mut client = connector.connect()?;
        client.batch_execute(&format!("LISTEN {CHANNEL}"))?;
        let seen = std::sync::Arc::new((Mutex::new(0u64), std::sync::Condvar::new()));
        let mine = std::sync::Arc::clone(&seen);
        std::thread::Builder::new()
            .name("store-listen".into())
            .spawn(move || loop {
                let got = client
                    .notifications()
                    .timeout_iter(Duration::from_secs(5))
                    .next();
                match got {
                    Ok(Some(_)) => {
                        let (n, cv) = &*mine;
                        *n.lock().unwrap_or_else(|e| e.into_inner()) += 1;
                        cv.notify_all();
                    }
                    Ok(None) => {
                        if std::sync::Arc::strong_count(&mine) == 1 {
                            return;
                        }
                        if client.is_closed() {
                            if let Some(c) = relisten(&connector) {
                                client = c;
                            }
                        }
                    }
                    Err(_) => {
                        // The server went away: waiters fall back to their timeout
                        // while this reconnects.
                        if let Some(c) = relisten(&connector) {
                            client = c;
                        }
                        let (_, cv) = &*mine;
                        cv.notify_all();
                    }
                }
            })
            .map_err(|e| DbError::new(format!("cannot start the listener thread: {e}")))?;
        Ok(Listener { seen })
    }
}

impl Backend for Postgres {
    fn describe(&self) -> String {
        self.shown.clone()
    }

    fn with<T: Send + 'static>(&self, f: Work<T>) -> Result<T, DbError> {
        let (tx, rx) = mpsc::channel();
        let job: Job = Box::new(move |s: &mut Session| {
            let r = f(s);
            if r.as_ref().is_err_and(|e| e.lost) {
                s.client = None;
            }
            let _ = tx.send(r);
        });
        self.jobs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .send(job)
            .map_err(|_| DbError::new("the store's connection thread has stopped"))?;
        rx.recv()
            .map_err(|_| DbError::new("the store's connection thread stopped mid-call"))?
    }

    fn wait_notified(&self, timeout: Duration) -> Option<Result<bool, DbError>> {
        let mut slot = self.listener.lock().unwrap_or_else(|e| e.into_inner());
        if slot.is_none() {
            match Listener::start(self.connector.clone()) {
                Ok(l) => *slot = Some(l),
                Err(e) => return Some(Err(e)),
            }
        }
        let seen = std::sync::Arc::clone(&slot.as_ref().expect("set above").seen);
        drop(slot);
        let (n, cv) = &*seen;
        let guard = n.lock().unwrap_or_else(|e| e.into_inner());
        let start = *guard;
        let (guard, _) = cv
            .wait_timeout_while(guard, timeout, |now| *now == start)
            .unwrap_or_else(|e| e.into_inner());
        Some(Ok(*guard != start))
    }
}

fn tls_config(ca_file: Option<&Path>) -> Result<rustls::ClientConfig, String> {
    let mut roots = rustls::RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let pem = std::fs::read(path)
                .map_err(|e| format!("cannot read the CA file {}: {e}", path.display()))?;
            let mut found = 0;
            for cert in rustls::pki_types::pem::PemObject::pem_slice_iter(&pem) {
                let cert: rustls::pki_types::CertificateDer<'static> =
                    cert.map_err(|e| format!("{}: not a PEM certificate: {e:?}", path.display()))?;
                roots
                    .add(cert)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                found += 1;
            }
            if found == 0 {
                return Err(format!("{} holds no PEM certificate", path.display()));
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// Connects to `url`, migrates the schema and starts the connection thread.
pub(crate) fn open(url: &str, ca_file: Option<&Path>) -> Result<SqlStore<Postgres>, StoreError> {
    let shown = crate::url::redact(url);
    let fail = |message: String, hint: &str| StoreError::Open {
        store: shown.clone(),
        message,
        hint: hint.to_string(),
    };
    let mut config: postgres::Config = url.parse().map_err(|e: postgres::Error| {
        fail(
            e.to_string(),
            "write it as postgres://USER[:PASSWORD]@HOST[:PORT]/DB[?sslmode=require]",
        )
    })?;
    config.application_name("drydock");
    config.connect_timeout(Duration::from_secs(10));
    let tls = match config.get_ssl_mode() {
        postgres::config::SslMode::Disable => None,
        _ => Some(tokio_postgres_rustls::MakeRustlsConnect::new(
            tls_config(ca_file).map_err(|m| fail(m, "set [store] ca_file to the server's CA"))?,
        )),
    };
    let connector = Connector { config, tls };
    let mut session = Session {
        client: Some(connector.connect().map_err(|e| {
            fail(
                e.message,
                "check the server is up, the URL, and that the user may connect",
            )
        })?),
        connector: connector.clone(),
    };
    let migrated = tx(&mut session, |c| up(c, Dialect::Postgres)).map_err(|e| {
        fail(
            e.message,
            "check the user may create tables in the database",
        )
    })?;
    if let Migrated::Newer(found) = migrated {
        return Err(StoreError::Newer {
            store: shown,
            found,
            supported: SCHEMA_VERSION,
        });
    }
    let (jobs, rx) = mpsc::channel::<Job>();
    std::thread::Builder::new()
        .name("store-pg".into())
        .spawn(move || {
            while let Ok(job) = rx.recv() {
                job(&mut session);
            }
        })
        .map_err(|e| fail(e.to_string(), "the system is out of threads"))?;
    Ok(SqlStore {
        backend: Postgres {
            jobs: Mutex::new(jobs),
            shown,
            listener: Mutex::new(None),
            connector,
        },
    })
}
