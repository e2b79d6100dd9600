//! The PostgreSQL the tests share: `DRYDOCK_TEST_PG_URL` (tests/run.sh starts a throwaway
//! cluster and sets it). Each test gets a database of its own.

use std::sync::atomic::{AtomicU32, Ordering};

/// The server's URL, or `None` when no server was given (outside CI the PostgreSQL tests
/// then skip; under CI a missing server fails them).
pub fn server() -> Option<String> {
    match std::env::var("DRYDOCK_TEST_PG_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            assert!(
                std::env::var_os("CI").is_none(),
                "DRYDOCK_TEST_PG_URL is not set under CI: run the tests through tests/run.sh"
            );
            eprintln!("DRYDOCK_TEST_PG_URL is not set: skipping the PostgreSQL half of this test");
            None
        }
    }
}

/// A new, empty database on the test server, as a URL (`None`: no server).
pub fn database(tag: &str) -> Option<String> {
    static N: AtomicU32 = AtomicU32::new(0);
    let base = server()?;
    let name = format!(
        "t_{}_{}_{}",
        tag.chars()
            .map(|c| if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            })
            .take(30)
            .collect::<String>(),
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    let mut admin = postgres::Client::connect(&base, postgres::NoTls)
        .unwrap_or_else(|e| panic!("cannot reach the test PostgreSQL at {base}: {e}"));
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap_or_else(|e| panic!("cannot create database {name}: {e}"));
    let (head, _) = base.rsplit_once('/').expect("a URL with a database");
    Some(format!("{head}/{name}"))
}

/// Runs `pg_ctl ARGS` on the test cluster (`DRYDOCK_TEST_PG_CTL`); `false` when the tests
/// were pointed at a server they do not own.
pub fn ctl(args: &[&str]) -> bool {
    let Ok(cmd) = std::env::var("DRYDOCK_TEST_PG_CTL") else {
        return false;
    };
    let mut words = cmd.split_whitespace();
    let Some(first) = words.next() else {
        return false;
    };
    let status = std::process::Command::new(first)
        .args(words)
        .args(args)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("pg_ctl runs");
    assert!(status.success(), "pg_ctl {args:?} failed");
    true
}
