//! Benchmark of team mode: the store's backends side by side.
//!
//! 1. A 10,000-VM plan with 50 ms per cloud call (concurrency 32), its journal on SQLite
//!    and on PostgreSQL: wall times and their ratio (target ≤ 1.3).
//! 2. Journal appends per second on each backend (one writer, then four at once).
//! 3. The time from another operator's change (a plan's status set by another handle, as
//!    another process would) to the Plans view's data showing it (the watcher wakes and
//!    the view's plans are reloaded): median and p99 on each backend.
//!
//! Run: `cargo bench --bench store` (PostgreSQL: `DRYDOCK_TEST_PG_URL`, else a throwaway
//! cluster is started; DRYDOCK_BENCH_VMS, DRYDOCK_BENCH_LATENCY_MS change part 1).

mod fixture;

use chrono::Utc;
use drydock::plan::Journal;
use drydock_store::{Location, NewEvent, Store};
use fixture::{env_or, run_plan};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn open(loc: &Location) -> Arc<dyn Store> {
    Arc::from(drydock_store::open(loc).unwrap())
}

/// A fresh PostgreSQL database for one part of the bench.
fn pg_database(base: &str, name: &str) -> String {
    let mut admin = postgres::Client::connect(base, postgres::NoTls).unwrap();
    // Two statements: DROP DATABASE may not share a (implicit) transaction.
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
        .unwrap();
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap();
    let (head, _) = base.rsplit_once('/').unwrap();
    format!("{head}/{name}")
}

fn appends(store: &Arc<dyn Store>, writers: usize, each: usize) -> f64 {
    let start = Instant::now();
    let handles: Vec<_> = (0..writers)
        .map(|w| {
            let store = Arc::clone(store);
            std::thread::spawn(move || {
                for i in 0..each {
                    store
                        .append_event(&NewEvent {
                            plan: format!("bench-{w}"),
                            at: Utc::now(),
                            operator: "bench".into(),
                            event: format!("{{\"event\":\"step\",\"n\":{i}}}"),
                        })
                        .unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    (writers * each) as f64 / start.elapsed().as_secs_f64()
}

/// Change → view: `samples` status changes by `writer`, each timed until the watcher's
/// handle has woken and reloaded the Plans view's data with the new status.
fn change_to_view(writer: &Arc<dyn Store>, watcher: Arc<dyn Store>, samples: usize) -> Vec<f64> {
    let journal = Journal::new(Arc::clone(&watcher), "viewer");
    let plan = drydock_store::NewPlan {
        id: "watched".into(),
        family: "svc".into(),
        path: "/dev/null".into(),
        body: "{}".into(),
        contexts: vec![],
        operator: "bench".into(),
        steps: vec![],
        claims: vec![],
        replace: true,
        at: Utc::now(),
    };
    writer.put_plan(&plan).unwrap();
    let mut out = Vec::with_capacity(samples);
    for i in 0..samples {
        let mark = watcher.change_mark().unwrap();
        let status = if i % 2 == 0 { "paused" } else { "running" };
        let (tx, rx) = std::sync::mpsc::channel();
        let w = Arc::clone(&watcher);
        let view = std::thread::spawn(move || {
            let _ = tx.send(());
            while !w.wait_change(mark, Duration::from_secs(5)).unwrap() {}
        });
        rx.recv().unwrap();
        std::thread::sleep(Duration::from_millis(20));
        let wrote = Instant::now();
        writer
            .set_status("watched", status, "", Utc::now())
            .unwrap();
        view.join().unwrap();
        // The view reloads what it shows (the plan list with holders).
        let rows = journal.list().unwrap();
        assert_eq!(rows[0].status.as_str(), status);
        let shown = Instant::now();
        out.push(shown.duration_since(wrote).as_secs_f64() * 1e3);
    }
    out.sort_by(f64::total_cmp);
    out
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let n = env_or("DRYDOCK_BENCH_VMS", 10_000);
    let latency = Duration::from_millis(env_or("DRYDOCK_BENCH_LATENCY_MS", 50) as u64);
    let concurrency = 32;
    let cluster;
    let base = match std::env::var("DRYDOCK_TEST_PG_URL") {
        Ok(u) if !u.is_empty() => u,
        _ => {
            cluster = drydock_testkit::pg::Cluster::start().expect(
                "PostgreSQL server binaries (apt-get install postgresql) or DRYDOCK_TEST_PG_URL",
            );
            cluster.url.clone()
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Location::Sqlite(dir.path().join("store.sqlite"));
    let pg = |name: &str| Location::Postgres {
        url: pg_database(&base, name),
        ca_file: None,
    };

    println!(
        "store bench: {n}-VM plan, {:.0} ms per call, concurrency {concurrency}",
        latency.as_secs_f64() * 1e3
    );
    let mut walls = Vec::new();
    for (label, loc) in [("sqlite", sqlite.clone()), ("postgres", pg("bench_plan"))] {
        let journal = Arc::new(Journal::new(open(&loc), "bench"));
        let run = run_plan(&journal, n, latency, concurrency);
        println!(
            "  {label:<9} plan wall {:.2}s ({} calls, {} waves)",
            run.wall, run.calls, run.waves
        );
        walls.push(run.wall);
    }
    println!(
        "  ratio postgres / sqlite {:.3} (target ≤ 1.3)",
        walls[1] / walls[0]
    );

    println!("journal appends per second:");
    for (label, loc) in [
        ("sqlite", sqlite.clone()),
        ("postgres", pg("bench_appends")),
    ] {
        let store = open(&loc);
        let one = appends(&store, 1, 3000);
        let four = appends(&store, 4, 1000);
        println!("  {label:<9} 1 writer {one:.0}/s, 4 writers {four:.0}/s");
    }

    println!("another operator's change → the Plans view showing it (ms):");
    for (label, loc) in [("sqlite", sqlite), ("postgres", pg("bench_watch"))] {
        let lat = change_to_view(&open(&loc), open(&loc), 200);
        println!(
            "  {label:<9} median {:.1}, p99 {:.1}, max {:.1} (200 changes)",
            pct(&lat, 0.5),
            pct(&lat, 0.99),
            lat[lat.len() - 1]
        );
    }
}
