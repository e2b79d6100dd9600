//! Benchmark: a 10,000-VM plan on the simulated cloud with 50 ms per API call and
//! concurrency 32. Prints the wall time against the ideal (calls × latency / concurrency,
//! plus the scans the executor makes one at a time), and the journal's cost per step.
//!
//! Run: `cargo bench --bench plan` (DRYDOCK_BENCH_VMS, DRYDOCK_BENCH_LATENCY_MS,
//! DRYDOCK_BENCH_CONCURRENCY change the figures).

mod fixture;

use drydock::plan::{Journal, StepState};
use fixture::{env_or, run_plan, Run};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn main() {
    let n = env_or("DRYDOCK_BENCH_VMS", 10_000);
    let latency = Duration::from_millis(env_or("DRYDOCK_BENCH_LATENCY_MS", 50) as u64);
    let concurrency = env_or("DRYDOCK_BENCH_CONCURRENCY", 32);
    let dir = tempfile::tempdir().unwrap();
    let journal = Arc::new(Journal::open(&dir.path().join("store.sqlite")).unwrap());
    let Run {
        id,
        waves,
        wall,
        calls,
        scans,
    } = run_plan(&journal, n, latency, concurrency);
    let lat = latency.as_secs_f64();
    let ideal = calls as f64 * lat / concurrency as f64;
    let ideal_with_scans = ideal + scans as f64 * lat;
    println!("plan: {n} VMs in {waves} waves, {lat:.3}s per call, concurrency {concurrency}");
    println!("  cloud calls {calls} (launch, health, terminate, rungs), scans {scans}");
    println!("  wall {wall:.2}s; ideal calls×latency/concurrency {ideal:.2}s → ratio {:.3} (target ≤ 1.2)", wall / ideal);
    println!(
        "  ideal including the {scans} one-at-a-time scans {ideal_with_scans:.2}s → ratio {:.3}",
        wall / ideal_with_scans
    );

    // The journal's own cost: the step updates of a whole plan, with no cloud in the way.
    let steps = journal.steps(&id).unwrap();
    let keys: Vec<String> = steps
        .iter()
        .filter(|s| s.key.starts_with("vm:"))
        .map(|s| s.key.clone())
        .collect();
    let t = Instant::now();
    let mut writes = 0;
    for k in &keys {
        for st in [
            StepState::Started,
            StepState::Launched,
            StepState::Healthy,
            StepState::Terminating,
            StepState::Done,
        ] {
            journal
                .update(&id, k, st, Some("tok"), Some("i-0"), None)
                .unwrap();
            writes += 1;
        }
    }
    let per = t.elapsed().as_secs_f64() / writes as f64;
    println!(
        "  journal: {writes} step writes in {:.2}s = {:.1} µs per write, {:.1} µs per VM step (5 writes); {:.2}% of the wall time",
        t.elapsed().as_secs_f64(),
        per * 1e6,
        per * 5e6,
        100.0 * t.elapsed().as_secs_f64() / wall
    );
}
