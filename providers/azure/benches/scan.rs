//! The Azure scan against the fake Resource Manager at size: 2,000 VMs, 50 scale sets (4
//! instances each) and 500 gallery versions (10 definitions × 50), pages of 100. Prints the
//! wall time and request count of drydock's scan and of a bare paginated listing of the same
//! resources with the same client, and their ratio (target ≤ 1.2).
//!
//! Run: `cargo bench -p drydock-azure --bench scan` (python3 serves the fake).

use drydock_testkit::fake_arm as server;

use azure_mgmt_compute::package_2024_07_01::Client;
use drydock_api::Provider;
use drydock_azure::credential::{StaticToken, SCOPE};
use drydock_azure::{AzureProvider, AzureSubscription, CredentialSource, Locations};
use futures_util::StreamExt;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Instant;

const SUB: &str = "6b1f3c2e-0000-4000-8000-00000000beef";

fn rid(rg: &str, rest: &str) -> String {
    format!("/subscriptions/{SUB}/resourceGroups/{rg}/providers/Microsoft.Compute/{rest}")
}

fn seed() -> Value {
    let gallery = rid("rg-images", "galleries/golden");
    let mut res = vec![
        json!({"id": gallery, "name": "golden", "type": "Microsoft.Compute/galleries",
        "location": "westeurope", "properties": {}}),
    ];
    let mut versions = Vec::new();
    for d in 0..10 {
        let def = format!("{gallery}/images/fam-{d}");
        res.push(json!({"id": def, "name": format!("fam-{d}"), "type": "Microsoft.Compute/galleries/images",
            "location": "westeurope", "properties": {"osType": "Linux", "osState": "Generalized",
            "identifier": {"publisher": "p", "offer": "o", "sku": format!("s{d}")}}}));
        for v in 0..50 {
            let id = format!("{def}/versions/1.{v}.0");
            res.push(
                json!({"id": id, "name": format!("1.{v}.0"), "location": "westeurope",
                "type": "Microsoft.Compute/galleries/images/versions",
                "tags": {"drydock:family": format!("fam-{d}")},
                "properties": {"publishingProfile": {"publishedDate": "2026-10-01T00:00:00Z"},
                    "storageProfile": {}}}),
            );
            versions.push(id);
        }
    }
    for i in 0..2000 {
        let name = format!("vm-{i:04}");
        res.push(
            json!({"id": rid("rg-app", &format!("virtualMachines/{name}")), "name": name,
            "type": "Microsoft.Compute/virtualMachines", "location": "westeurope",
            "properties": {"hardwareProfile": {"vmSize": "Standard_D2s_v3"},
                "storageProfile": {"imageReference": {"id": versions[i % versions.len()]}},
                "instanceView": {"statuses": [{"code": "PowerState/running"}]}}}),
        );
    }
    for (s, model) in versions.iter().take(50).enumerate() {
        let set = rid("rg-app", &format!("virtualMachineScaleSets/set-{s:02}"));
        res.push(json!({"id": set, "name": format!("set-{s:02}"), "location": "westeurope",
            "type": "Microsoft.Compute/virtualMachineScaleSets", "sku": {"name": "Standard_D2s_v3"},
            "properties": {"virtualMachineProfile": {"storageProfile": {"imageReference": {"id": model}}}}}));
        for n in 0..4 {
            res.push(json!({"id": format!("{set}/virtualMachines/{n}"), "name": format!("set-{s:02}_{n}"),
                "instanceId": n.to_string(), "location": "westeurope",
                "type": "Microsoft.Compute/virtualMachineScaleSets/virtualMachines",
                "properties": {"latestModelApplied": true,
                    "storageProfile": {"imageReference": {"id": model}}}}));
        }
    }
    json!({"page_size": 100, "resources": res})
}

fn requests(fake: &server::FakeArm) -> usize {
    fake.log_text()
        .lines()
        .filter(|l| l.starts_with("GET "))
        .count()
}

/// The same resources listed plainly with the same client: every page of VMs, scale sets
/// and their instances, galleries, definitions and versions, one list after another.
async fn bare(client: &Client) -> usize {
    let mut items = 0;
    macro_rules! drain {
        ($stream:expr) => {{
            let mut s = $stream;
            let mut names = Vec::new();
            while let Some(page) = s.next().await {
                for v in page.expect("a page").value {
                    items += 1;
                    names.push(v.resource.name.clone().unwrap_or_default());
                }
            }
            names
        }};
    }
    drain!(client.virtual_machines_client().list_all(SUB).into_stream());
    for set in drain!(client
        .virtual_machine_scale_sets_client()
        .list_all(SUB)
        .into_stream())
    {
        drain!(client
            .virtual_machine_scale_set_v_ms_client()
            .list("rg-app", set, SUB)
            .into_stream());
    }
    for g in drain!(client.galleries_client().list(SUB).into_stream()) {
        for d in drain!(client
            .gallery_images_client()
            .list_by_gallery(SUB, "rg-images", &g)
            .into_stream())
        {
            drain!(client
                .gallery_image_versions_client()
                .list_by_gallery_image(SUB, "rg-images", &g, d)
                .into_stream());
        }
    }
    items
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let cred = Arc::new(StaticToken::new("bench"));
    let mut rows = Vec::new();
    for run in 0..3 {
        // drydock's scan on a fresh fake (its log counts the requests).
        let fake = server::FakeArm::start(&seed());
        let sub = AzureSubscription {
            id: SUB.into(),
            name: "bench".into(),
            locations: Locations::All,
            endpoint: Some(fake.url.clone()),
            readonly: false,
            production: false,
            concurrency: 4,
            credential: CredentialSource::Token,
            tenant: None,
        };
        let p = AzureProvider::with_credential(sub, cred.clone()).unwrap();
        let t = Instant::now();
        let r = rt.block_on(p.scan(&|_| {})).unwrap();
        let ours = t.elapsed().as_secs_f64();
        let ours_req = requests(&fake);
        assert_eq!(r.vms.len(), 2200);
        assert_eq!(r.images.len(), 500);
        drop(fake);
        let fake = server::FakeArm::start(&seed());
        let client = Client::builder(cred.clone())
            .endpoint(azure_core::Url::parse(&fake.url).unwrap())
            .scopes(&[SCOPE])
            .build()
            .unwrap();
        let t = Instant::now();
        let items = rt.block_on(bare(&client));
        let plain = t.elapsed().as_secs_f64();
        let plain_req = requests(&fake);
        println!(
            "run {run}: drydock scan {ours:.2} s, {ours_req} requests; bare listing {plain:.2} s, {plain_req} requests ({items} items); ratio {:.2}",
            ours / plain
        );
        rows.push(ours / plain);
    }
    rows.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let median = rows[rows.len() / 2];
    println!(
        "median ratio {median:.2} (target <= 1.2: {})",
        if median <= 1.2 { "met" } else { "NOT met" }
    );
}
