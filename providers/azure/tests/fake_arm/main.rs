//! The Azure provider against the fake Resource Manager (crates/testkit/servers/fake_arm.py): its scan
//! here (paging over nextLink, power states, gallery versions with end of life and exclusion
//! from latest, managed images, marketplace references, locations, a refused list becoming a
//! scan problem, throttling, malformed answers, an unreachable endpoint); its changes in
//! `mutations`, and what plans need (replacements, scale sets, capture) in `plans`.

use drydock_testkit::fake_arm as server;

use drydock_api::{ImageState, Provider, ScanResult, VmState};
use drydock_azure::credential::StaticToken;
use drydock_azure::{AzureProvider, AzureSubscription, CredentialSource, Locations};
use server::FakeArm;
use std::sync::Arc;

use drydock_testkit::azure_seed as seed;

use seed::{seed, SUB};
use serde_json::json;

fn provider(url: &str, locations: Locations) -> AzureProvider {
    let sub = AzureSubscription {
        id: SUB.into(),
        name: "prod-az".into(),
        locations,
        endpoint: Some(url.into()),
        readonly: false,
        production: false,
        concurrency: 4,
        credential: CredentialSource::Token,
        tenant: None,
    };
    AzureProvider::with_credential(sub, Arc::new(StaticToken::new("test-token"))).unwrap()
}

async fn scan(p: &AzureProvider) -> Result<ScanResult, drydock_api::ProviderError> {
    p.scan(&|_| {}).await
}

/// The id of the scanned VM named `name`.
fn vm_id(r: &ScanResult, name: &str) -> String {
    r.vms
        .iter()
        .find(|v| v.name == name)
        .unwrap_or_else(|| panic!("no VM {name}"))
        .id
        .to_string()
}

/// The id of the scanned image whose id ends with `suffix`.
fn image_id(r: &ScanResult, suffix: &str) -> String {
    r.images
        .iter()
        .find(|i| i.id.ends_with(suffix))
        .unwrap_or_else(|| panic!("no image …{suffix}"))
        .id
        .clone()
}

mod mutations;
mod plans;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seeded_subscription_scans_into_records() {
    let fake = FakeArm::start(&seed());
    let p = provider(&fake.url, Locations::List(vec!["westeurope".into()]));
    let r = scan(&p).await.unwrap();
    // Nine VMs in scope (the one in eastus is not), then the scale
    // set's three instances.
    let names: Vec<&str> = r.vms.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "web-001",
            "web-002",
            "web-003",
            "web-004",
            "web-005",
            "web-006",
            "web-008",
            "web-009",
            "web-vmss_0",
            "web-vmss_1",
            "web-vmss_2"
        ]
    );
    let log = fake.log_text();
    // Ten VMs in pages of two: five pages, each following the absolute nextLink.
    let pages = log
        .lines()
        .filter(|l| l.contains("Compute/virtualMachines?") && l.contains("statusOnly"))
        .count();
    assert_eq!(pages, 5, "paged: {log}");
    let by = |n: &str| r.vms.iter().find(|v| v.name == n).unwrap();
    assert_eq!(by("web-001").state, VmState::Running);
    assert_eq!(by("web-003").state, VmState::Stopped);
    assert_eq!(by("web-001").size, "Standard_D2s_v3");
    assert_eq!(by("web-003").region, "westeurope");
    assert!(by("web-004").image_id.ends_with("/versions/2026.9.1"));
    assert!(by("web-005").image_id.ends_with("/images/legacy-img"));
    assert_eq!(
        by("web-006").image_id,
        "Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2:22.04.202610150"
    );
    // A definition means its latest version (2026.10.1 is excluded from latest).
    assert!(by("web-008").image_id.ends_with("/versions/2026.11.1"));
    // The scale set: its model resolved the same way, its members, each instance's own image.
    assert_eq!(r.scale_groups.len(), 1);
    let g = &r.scale_groups[0];
    assert!(g.model_image_id.ends_with("/versions/2026.11.1"), "{g:?}");
    assert_eq!(g.members.len(), 3);
    let old = by("web-vmss_2");
    assert!(old.image_id.ends_with("/versions/2026.9.1"));
    assert_eq!(&old.tags["azure:latestModelApplied"], "false");
    assert_eq!(old.scale_group.as_deref(), Some(g.id.as_str()));
    assert_eq!(old.size, "Standard_D2s_v3");
    assert_eq!(old.state, VmState::Running);
    // Three gallery versions and the managed image.
    let img = |suffix: &str| r.images.iter().find(|i| i.id.ends_with(suffix)).unwrap();
    assert_eq!(r.images.len(), 6, "{:?}", r.images);
    // Marketplace freshness: the version in use and the newer one, vendor images by URN.
    let urn = "Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2";
    let used = img(&format!("{urn}:22.04.202610150"));
    assert!(used.vendor && used.owner == "Canonical");
    assert_eq!(
        used.newer_base.as_deref(),
        Some(format!("{urn}:22.04.202611200").as_str())
    );
    assert_eq!(used.created.to_rfc3339(), "2026-10-15T00:00:00+00:00");
    assert!(img(&format!("{urn}:22.04.202611200")).newer_base.is_none());
    let old = img("/versions/2026.9.1");
    assert_eq!(old.name, "web-base-2026.9.1");
    assert_eq!(
        old.end_of_life.unwrap().to_rfc3339(),
        "2026-11-01T00:00:00+00:00"
    );
    assert_eq!(&old.tags["drydock:family"], "web-base");
    assert_eq!(&old.tags["drydock:version"], "2026.9.1");
    assert_eq!(
        img("/versions/2026.10.1").state,
        ImageState::Deprecated,
        "excluded from latest"
    );
    assert_eq!(img("/versions/2026.11.1").state, ImageState::Available);
    assert_eq!(
        img("/images/legacy-img").created.to_rfc3339(),
        "2026-01-01T00:00:00+00:00"
    );
    // The refused list is a problem naming the call and the scope, not a failed scan.
    assert_eq!(r.problems.len(), 1, "{:?}", r.problems);
    let pr = &r.problems[0];
    assert!(
        pr.scope.ends_with("galleries/secret/images/hidden"),
        "{pr:?}"
    );
    assert!(
        pr.message
            .contains("GalleryImageVersions_ListByGalleryImage"),
        "{pr:?}"
    );
    assert!(pr.message.contains("role assignment"), "{pr:?}");
    // Every request carried the static token.
    assert!(!log.contains("401"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_locations_and_an_unreachable_endpoint() {
    let fake = FakeArm::start(&seed());
    let r = scan(&provider(&fake.url, Locations::All)).await.unwrap();
    assert_eq!(r.vms.len(), 12);
    drop(fake);
    // Nothing listens there any more: the scan fails naming the call and what to do.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let r = scan(&provider(
        &format!("http://127.0.0.1:{port}"),
        Locations::All,
    ))
    .await
    .unwrap();
    // The subscription's outcome: unreachable, naming the call and what to do.
    let o = &r.outcomes[0];
    assert_eq!(o.state, drydock_api::ScopeState::Unreachable, "{o:?}");
    let e = o.reason.clone().unwrap_or_default();
    assert!(e.contains("VirtualMachines_ListAll"), "{e}");
    assert!(e.contains("endpoint"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_is_retried_and_a_malformed_answer_names_the_call() {
    let mut s = seed();
    s["throttle_every"] = json!(3);
    let fake = FakeArm::start(&s);
    let r = scan(&provider(&fake.url, Locations::All)).await.unwrap();
    assert_eq!(r.vms.len(), 12, "every page arrived despite the 429s");
    let log = fake.log_text();
    assert!(log.lines().count() > 20, "{log}");
    drop(fake);
    let mut s = seed();
    s["malformed"] = json!([format!(
        "/subscriptions/{SUB}/providers/Microsoft.Compute/virtualMachines"
    )]);
    let fake = FakeArm::start(&s);
    let r = scan(&provider(&fake.url, Locations::All)).await.unwrap();
    let o = &r.outcomes[0];
    assert_eq!(o.state, drydock_api::ScopeState::Partial, "{o:?}");
    let text = o.reason.clone().unwrap_or_default();
    assert!(text.contains("VirtualMachines_ListAll"), "{text}");
    assert!(text.contains("not what the API specifies"), "{text}");
}
