//! Benchmark: a tenant of 20 subscriptions holding 10,000 VMs (500 each) on the fake
//! Resource Manager, scanned by 20 subscription providers reading their VMs through the
//! tenant's Resource Graph query (1,000 rows a page) against the same providers listing
//! their own (VirtualMachines_ListAll, 100 a page). Prints wall time and requests of each.
//!
//! Run: `cargo bench -p drydock-azure --bench graph`.

use drydock_api::Provider;
use drydock_azure::credential::StaticToken;
use drydock_azure::{AzureProvider, AzureSubscription, CredentialSource, Locations};
use drydock_testkit::fake_arm as server;
use futures_util::StreamExt;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Instant;

const SUBS: usize = 20;
const PER_SUB: usize = 500;

fn sub(n: usize) -> String {
    format!("6b1f3c2e-0000-4000-8000-{n:012}")
}

fn seed() -> Value {
    let mut res = Vec::new();
    for s in 0..SUBS {
        for v in 0..PER_SUB {
            res.push(json!({
                "id": format!("/subscriptions/{}/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachines/vm-{v}", sub(s)),
                "name": format!("vm-{v}"), "type": "Microsoft.Compute/virtualMachines",
                "location": "westeurope", "tags": {"app": "web"},
                "properties": {"hardwareProfile": {"vmSize": "Standard_D2s_v3"},
                    "storageProfile": {"imageReference": {"publisher": "Canonical",
                        "offer": "0001-com-ubuntu-server-jammy", "sku": "22_04-lts", "version": "22.04.202611200"}},
                    "instanceView": {"statuses": [{"code": "PowerState/running"}]}}
            }));
        }
    }
    json!({"page_size": 100, "resources": res})
}

fn providers(url: &str, graph: bool) -> Vec<Arc<AzureProvider>> {
    let cred = Arc::new(StaticToken::new("bench"));
    let mut shared = None;
    (0..SUBS)
        .map(|s| {
            let p = AzureProvider::with_credential(
                AzureSubscription {
                    id: sub(s),
                    name: format!("sub-{s}"),
                    locations: Locations::All,
                    endpoint: Some(url.to_string()),
                    readonly: true,
                    production: false,
                    concurrency: 4,
                    credential: CredentialSource::Token,
                    tenant: graph.then(|| "bench".to_string()),
                },
                cred.clone(),
            )
            .unwrap();
            if !graph {
                return Arc::new(p);
            }
            let g = shared
                .get_or_insert_with(|| Arc::new(p.new_graph()))
                .clone();
            Arc::new(p.with_graph(g))
        })
        .collect()
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    for graph in [false, true] {
        let fake = server::FakeArm::start(&seed());
        let ps = providers(&fake.url, graph);
        let t = Instant::now();
        let vms: usize = rt.block_on(
            futures_util::stream::iter(ps)
                .map(|p| async move { p.scan(&|_| {}).await.map(|r| r.vms.len()).unwrap_or(0) })
                .buffer_unordered(16)
                .fold(0, |a, n| async move { a + n }),
        );
        let wall = t.elapsed().as_secs_f64();
        let log = fake.log_text();
        let requests = log
            .lines()
            .filter(|l| l.starts_with("GET ") || l.starts_with("POST "))
            .count();
        let vm_requests = log
            .lines()
            .filter(|l| l.contains("/virtualMachines?") || l.contains("ResourceGraph"))
            .count();
        assert_eq!(vms, SUBS * PER_SUB);
        println!(
            "{}: {vms} VMs in {SUBS} subscriptions, {wall:.2} s, {requests} requests ({vm_requests} for VMs)",
            if graph { "Resource Graph" } else { "per-subscription lists" }
        );
    }
}
