//! Benchmark: a 10,000-VM plan on the simulated cloud with 50 ms per API call and
//! concurrency 32. Prints the wall time against the ideal (calls × latency / concurrency,
//! plus the scans the executor makes one at a time), and the journal's cost per step.
//!
//! Run: `cargo bench --bench plan` (DRYDOCK_BENCH_VMS, DRYDOCK_BENCH_LATENCY_MS,
//! DRYDOCK_BENCH_CONCURRENCY change the figures).

use async_trait::async_trait;
use chrono::Utc;
use drydock::gate::{Confirmation, Gate};
use drydock::plan::{self, Executor, ExecutorOptions, Journal, PlanRequest, PlanStatus, StepState};
use drydock_api::{
    Cloud, Operation, OperationOutcome, ProgressSink, Provider, ProviderError, ScanResult, VmHealth,
};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Counts the calls that reach the simulated cloud.
struct Counting {
    inner: drydock_sim::SimCloud,
    calls: AtomicUsize,
    scans: AtomicUsize,
}

#[async_trait]
impl Provider for Counting {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn cloud(&self) -> Cloud {
        self.inner.cloud()
    }
    async fn scan(&self, p: ProgressSink<'_>) -> Result<ScanResult, ProviderError> {
        self.scans.fetch_add(1, Ordering::Relaxed);
        self.inner.scan(p).await
    }
    async fn apply(&self, op: &Operation, dry: bool) -> Result<OperationOutcome, ProviderError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.inner.apply(op, dry).await
    }
    async fn vm_health(&self, vm: &str) -> Result<VmHealth, ProviderError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.inner.vm_health(vm).await
    }
}

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn fleet(vms: usize) -> String {
    format!(
        r#"
[[accounts]]
name = "prod"
cloud = "aws"
id = "111122223333"
regions = ["eu-west-1"]

[[families]]
name = "svc"
account = "prod"
name_pattern = "svc-{{version}}"
versions = [{{ version = "1.0", created_days_ago = 100 }}, {{ version = "1.1", created_days_ago = 5 }}]

[[fleets]]
name = "svc"
account = "prod"
image = "svc@1.0"
count = {vms}
size = "t3.small"
launched_days_ago = 90
tags = {{ app = "svc" }}
"#
    )
}

fn main() {
    let n = env_or("DRYDOCK_BENCH_VMS", 10_000);
    let latency = Duration::from_millis(env_or("DRYDOCK_BENCH_LATENCY_MS", 50) as u64);
    let concurrency = env_or("DRYDOCK_BENCH_CONCURRENCY", 32);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let now = Utc::now();
    let spec = drydock_sim::FleetSpec::parse(&fleet(n)).unwrap();
    let settings = drydock_sim::SimSettings {
        latency,
        ..Default::default()
    };
    let cloud = drydock_sim::clouds_of(&spec, now, settings)
        .unwrap()
        .remove(0);
    let counting = Arc::new(Counting {
        inner: cloud,
        calls: AtomicUsize::new(0),
        scans: AtomicUsize::new(0),
    });
    let provider: Arc<dyn Provider> = counting.clone();
    let inv = rt.block_on(drydock::scan::scan_all(
        std::slice::from_ref(&provider),
        Arc::new(|_| {}),
        Utc::now,
    ));
    let policy = drydock::config::Config::default().policy;
    let a = drydock::drift::evaluate(&inv, &policy, now);
    let mut req = PlanRequest::new("svc");
    req.settings.concurrency = concurrency;
    req.settings.max_unavailable = "100%".parse().unwrap();
    req.settings.grace = "0s".parse().unwrap();
    req.settings.undo_window = "0s".parse().unwrap();
    let plan = plan::build(&inv, &a, &req, now).expect("plan");
    assert_eq!(plan.vm_count(), n);
    let dir = tempfile::tempdir().unwrap();
    let journal = Arc::new(Journal::open(&dir.path().join("journal.sqlite")).unwrap());
    journal
        .register(&plan, &dir.path().join("plan.toml"))
        .unwrap();
    let name = provider.name().to_string();
    let opts = ExecutorOptions {
        providers: HashMap::from([(name.clone(), Arc::clone(&provider))]),
        gate: Gate::default(),
        confirmations: HashMap::from([(name, Confirmation::Yes)]),
        approve: Arc::new(|_, _| true),
        events: Arc::new(|_| {}),
        poll: Duration::from_millis(10),
        retry_base: Duration::from_millis(10),
        clock: Arc::new(chrono::Utc::now),
        data: None,
        take_over: false,
    };
    let id = plan.id.clone();
    let waves = plan.waves.len();
    let exec = Executor::new(plan, Arc::clone(&journal), opts);
    counting.calls.store(0, Ordering::Relaxed);
    counting.scans.store(0, Ordering::Relaxed);
    let start = Instant::now();
    let status = rt.block_on(exec.run()).expect("plan runs");
    let wall = start.elapsed().as_secs_f64();
    assert_eq!(status, PlanStatus::Complete);
    let calls = counting.calls.load(Ordering::Relaxed);
    let scans = counting.scans.load(Ordering::Relaxed);
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
