//! The Azure provider's scan against the fake Resource Manager (tests/azure/fake_arm.py):
//! paging over nextLink across pages, power states, gallery versions with end of life and
//! exclusion from latest, managed images, marketplace references, locations, a list the
//! endpoint refuses becoming a scan problem, and an unreachable endpoint naming the call.

#[path = "../../../tests/azure/server.rs"]
mod server;

use drydock_api::{ImageState, Provider, ScanResult, VmState};
use drydock_azure::credential::StaticToken;
use drydock_azure::{AzureProvider, AzureSubscription, CredentialSource, Locations};
use server::FakeArm;
use std::sync::Arc;

#[path = "../../../tests/azure/seed.rs"]
mod seed;

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
    };
    AzureProvider::with_credential(sub, Arc::new(StaticToken::new("test-token"))).unwrap()
}

async fn scan(p: &AzureProvider) -> Result<ScanResult, drydock_api::ProviderError> {
    p.scan(&|_| {}).await
}

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
    assert_eq!(old.tags["azure:latestModelApplied"], "false");
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
    assert_eq!(old.tags["drydock:family"], "web-base");
    assert_eq!(old.tags["drydock:version"], "2026.9.1");
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
    let e = scan(&provider(
        &format!("http://127.0.0.1:{port}"),
        Locations::All,
    ))
    .await
    .unwrap_err();
    assert!(e.to_string().contains("VirtualMachines_ListAll"), "{e}");
    assert!(e.to_string().contains("endpoint"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutations_round_trip_through_the_fake() {
    use drydock_api::{Operation, OperationOutcome, ProviderErrorKind};
    let fake = FakeArm::start(&seed());
    let p = provider(&fake.url, Locations::All);
    let r = scan(&p).await.unwrap();
    let vm_id = |r: &ScanResult, n: &str| r.vms.iter().find(|v| v.name == n).unwrap().id.clone();
    let img =
        |r: &ScanResult, suffix: &str| r.images.iter().find(|i| i.id.ends_with(suffix)).cloned();
    let web1 = vm_id(&r, "web-001");
    let old = img(&r, "/versions/2026.9.1").unwrap().id;
    let mid = img(&r, "/versions/2026.10.1").unwrap().id;
    let new = img(&r, "/versions/2026.11.1").unwrap().id;
    let tags: drydock_api::Tags = [("drydock:retire".to_string(), "2026-12-31".to_string())].into();

    // Dry runs GET the target and change nothing; a missing one is named.
    let tag = Operation::Tag {
        resource: web1.clone(),
        tags: tags.clone(),
    };
    assert_eq!(
        p.apply(&tag, true).await.unwrap(),
        OperationOutcome::WouldSucceed
    );
    let gone = Operation::Terminate {
        vm: web1.replace("web-001", "nope"),
    };
    let e = p.apply(&gone, true).await.unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::NotFound, "{e}");
    assert!(e.to_string().contains("virtualMachines/nope"), "{e}");

    // Tags merge with the VM's own.
    p.apply(&tag, false).await.unwrap();
    let at = chrono::DateTime::parse_from_rfc3339("2027-01-31T00:00:00Z")
        .unwrap()
        .to_utc();
    p.apply(
        &Operation::Tag {
            resource: new.clone(),
            tags: tags.clone(),
        },
        false,
    )
    .await
    .unwrap();
    p.apply(
        &Operation::Deprecate {
            image: new.clone(),
            at,
        },
        false,
    )
    .await
    .unwrap();
    p.apply(&Operation::Disable { image: mid.clone() }, false)
        .await
        .unwrap();
    p.apply(&Operation::Deregister { image: old.clone() }, false)
        .await
        .unwrap();
    p.apply(
        &Operation::Terminate {
            vm: vm_id(&r, "web-002"),
        },
        false,
    )
    .await
    .unwrap();
    let after = scan(&p).await.unwrap();
    let w1 = after.vms.iter().find(|v| v.name == "web-001").unwrap();
    assert_eq!(w1.tags["drydock:retire"], "2026-12-31");
    assert_eq!(w1.tags["app"], "web", "existing tags kept");
    let n = img(&after, "/versions/2026.11.1").unwrap();
    assert_eq!(n.end_of_life, Some(at));
    assert_eq!(n.tags["drydock:retire"], "2026-12-31");
    assert_eq!(n.tags["drydock:family"], "web-base");
    let m = img(&after, "/versions/2026.10.1").unwrap();
    assert_eq!(m.state, ImageState::Deprecated);
    assert!(m.end_of_life.is_some());
    assert!(img(&after, "/versions/2026.9.1").is_none(), "deregistered");
    assert!(after.vms.iter().all(|v| v.name != "web-002"), "terminated");
    // The DELETEs answered 202 and their operations were polled.
    let log = fake.log_text();
    assert!(log.contains("GET /operations/"), "{log}");
    // A change Azure has no such thing for is refused, named: deprecating a managed image.
    let launch = Operation::Deprecate {
        image: img(&r, "/images/legacy-img").unwrap().id,
        at,
    };
    let e = p.apply(&launch, false).await.unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::Unsupported, "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replacement_is_launched_like_the_old_vm_once_per_token_and_its_health_read() {
    use drydock_api::{Operation, OperationOutcome, VmHealth};
    let fake = FakeArm::start(&seed());
    let p = provider(&fake.url, Locations::All);
    let r = scan(&p).await.unwrap();
    let old = r.vms.iter().find(|v| v.name == "web-001").unwrap().clone();
    let new_image = r
        .images
        .iter()
        .find(|i| i.id.ends_with("/versions/2026.11.1"))
        .unwrap()
        .id
        .clone();
    let launch = Operation::LaunchReplacement {
        replaces: old.id.clone(),
        image: new_image.clone(),
        client_token: "plan-1/vm:web-001".into(),
        tags: [("drydock:plan".to_string(), "plan-1".to_string())].into(),
    };
    assert_eq!(
        p.apply(&launch, true).await.unwrap(),
        OperationOutcome::WouldSucceed
    );
    let OperationOutcome::Done { created: Some(id) } = p.apply(&launch, false).await.unwrap()
    else {
        panic!("no id")
    };
    // The same token again: the same name, a PUT that changes nothing new.
    let OperationOutcome::Done {
        created: Some(again),
    } = p.apply(&launch, false).await.unwrap()
    else {
        panic!("no id")
    };
    assert_eq!(id, again);
    let after = scan(&p).await.unwrap();
    let new: Vec<_> = after
        .vms
        .iter()
        .filter(|v| v.tags.contains_key("drydock:replaces"))
        .collect();
    assert_eq!(new.len(), 1, "one replacement");
    let new = new[0];
    assert_eq!(new.id, id);
    assert_eq!(new.tags["drydock:replaces"], old.id);
    assert_eq!(new.tags["drydock:plan"], "plan-1");
    assert_eq!(new.tags["app"], "web", "the old VM's tags");
    assert_eq!(new.size, old.size);
    assert_eq!(new.image_id, new_image);
    assert_eq!(new.region, old.region);
    // The PUT carried the subnet of the old VM's NIC (read from the Network provider) and
    // its SSH keys; the first PUT got 201 and was re-sent.
    let log = fake.log_text();
    assert!(
        log.contains("GET /subscriptions/") && log.contains("networkInterfaces/web-001-nic"),
        "{log}"
    );
    assert!(log.matches(&format!("PUT {}", id)).count() >= 3, "{log}");
    // Health from the instance view.
    assert_eq!(p.vm_health(&id).await.unwrap(), VmHealth::Healthy);
    let stopped = after.vms.iter().find(|v| v.name == "web-005").unwrap();
    assert!(matches!(
        p.vm_health(&stopped.id).await.unwrap(),
        VmHealth::Unhealthy(_)
    ));
    p.apply(&Operation::Terminate { vm: id.clone() }, false)
        .await
        .unwrap();
    assert_eq!(p.vm_health(&id).await.unwrap(), VmHealth::Gone);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scale_set_is_repointed_and_rolled_onto_the_new_image() {
    use drydock_api::Operation;
    let fake = FakeArm::start(&seed());
    let p = provider(&fake.url, Locations::All);
    let r = scan(&p).await.unwrap();
    let set = r.scale_groups[0].clone();
    let old = r
        .images
        .iter()
        .find(|i| i.id.ends_with("/versions/2026.9.1"))
        .unwrap()
        .id
        .clone();
    // Repoint the model (instances keep their images), then roll every instance onto it.
    p.apply(
        &Operation::Repoint {
            resource: set.id.clone(),
            image: old.clone(),
        },
        false,
    )
    .await
    .unwrap();
    let after = scan(&p).await.unwrap();
    assert_eq!(after.scale_groups[0].model_image_id, old);
    let on_old = |r: &ScanResult| {
        r.vms
            .iter()
            .filter(|v| v.scale_group.is_some() && v.image_id == old)
            .count()
    };
    assert_eq!(
        on_old(&after),
        1,
        "only the instance that was already on it"
    );
    let new = r
        .images
        .iter()
        .find(|i| i.id.ends_with("/versions/2026.11.1"))
        .unwrap()
        .id
        .clone();
    p.apply(
        &Operation::StartRollingUpgrade {
            scale_group: set.id.clone(),
            image: new.clone(),
        },
        false,
    )
    .await
    .unwrap();
    let rolled = scan(&p).await.unwrap();
    assert!(rolled
        .vms
        .iter()
        .filter(|v| v.scale_group.is_some())
        .all(|v| v.image_id == new && v.tags["azure:latestModelApplied"] == "true"));
    assert!(
        fake.log_text().contains("POST /subscriptions/"),
        "manualUpgrade posted"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_is_captured_from_a_builder_vm_with_its_provenance() {
    use drydock_api::{Operation, OperationOutcome};
    let fake = FakeArm::start(&seed());
    let p = provider(&fake.url, Locations::All);
    let r = scan(&p).await.unwrap();
    let builder = r
        .vms
        .iter()
        .find(|v| v.name == "web-001")
        .unwrap()
        .id
        .clone();
    let tags: drydock_api::Tags = [
        ("drydock:family", "web-base"),
        ("drydock:version", "2026.12.1"),
        (
            "drydock:parent",
            "Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2:22.04.202610150",
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let op = Operation::CreateImage {
        source_vm: builder.clone(),
        name: "web-base-2026.12.1".into(),
        tags: tags.clone(),
        client_token: "plan-1/rebuild".into(),
    };
    assert_eq!(
        p.apply(&op, true).await.unwrap(),
        OperationOutcome::WouldSucceed
    );
    let OperationOutcome::Done { created: Some(id) } = p.apply(&op, false).await.unwrap() else {
        panic!("no id")
    };
    assert!(
        id.ends_with("/galleries/golden/images/web-base/versions/2026.12.1"),
        "{id}"
    );
    let after = scan(&p).await.unwrap();
    let v = after.images.iter().find(|i| i.id == id).unwrap();
    assert_eq!(v.tags["drydock:parent"], tags["drydock:parent"]);
    assert_eq!(v.name, "web-base-2026.12.1");
    // No definition for the family: a clear refusal before anything is made.
    let mut other = tags.clone();
    other.insert("drydock:family".into(), "no-such-family".into());
    let e = p
        .apply(
            &Operation::CreateImage {
                source_vm: builder,
                name: "x".into(),
                tags: other,
                client_token: "t".into(),
            },
            false,
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("no-such-family"), "{e}");
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
    let e = scan(&provider(&fake.url, Locations::All))
        .await
        .unwrap_err();
    let text = e.to_string();
    assert!(text.contains("VirtualMachines_ListAll"), "{text}");
    assert!(text.contains("not what the API specifies"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deregistering_a_managed_image_removes_its_unused_disks_and_snapshots() {
    use drydock_api::Operation;
    let fake = FakeArm::start(&seed());
    let p = provider(&fake.url, Locations::All);
    let image = format!(
        "/subscriptions/{SUB}/resourceGroups/rg-images/providers/Microsoft.Compute/images/legacy-img"
    );
    p.apply(&Operation::Deregister { image }, false)
        .await
        .unwrap();
    let log = fake.log_text();
    assert!(
        log.contains("DELETE") && log.contains("snapshots/legacy-snap"),
        "{log}"
    );
    assert!(
        log.lines()
            .any(|l| l.starts_with("DELETE") && l.contains("disks/legacy-disk")),
        "{log}"
    );
    assert!(
        !log.lines()
            .any(|l| l.starts_with("DELETE") && l.contains("disks/attached-disk")),
        "a disk attached to a VM is kept: {log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_resource_answers_409_and_the_error_says_what_to_do() {
    use drydock_api::{Operation, ProviderErrorKind};
    let fake = FakeArm::start(&seed());
    let p = provider(&fake.url, Locations::All);
    let vm = format!(
        "/subscriptions/{SUB}/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachines/web-009"
    );
    let e = p
        .apply(&Operation::Terminate { vm: vm.clone() }, false)
        .await
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::Rejected);
    let text = e.to_string();
    assert!(
        text.contains("VirtualMachines_Delete") && text.contains("web-009"),
        "{text}"
    );
    assert!(
        text.contains("409")
            && text.contains("ScopeLocked")
            && text.contains("remove the resource lock"),
        "{text}"
    );
    let after = scan(&p).await.unwrap();
    assert!(after.vms.iter().any(|v| v.id == vm), "nothing was deleted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_checks_the_credentials_permissions() {
    use drydock_api::{Operation, OperationOutcome, ProviderErrorKind};
    let mut s = seed();
    s["permissions"] = json!([{"actions": ["*/read", "Microsoft.Compute/virtualMachines/write"], "notActions": []}]);
    let fake = FakeArm::start(&s);
    let p = provider(&fake.url, Locations::All);
    let vm = format!(
        "/subscriptions/{SUB}/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachines/web-001"
    );
    let tag = Operation::Tag {
        resource: vm.clone(),
        tags: Default::default(),
    };
    assert_eq!(
        p.apply(&tag, true).await.unwrap(),
        OperationOutcome::WouldSucceed
    );
    let e = p
        .apply(&Operation::Terminate { vm }, true)
        .await
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::Auth);
    assert!(e.to_string().contains("virtualMachines/delete"), "{e}");
    assert!(
        e.to_string().contains("DRYDOCK_AZURE_TOKEN"),
        "names the credential source: {e}"
    );
}
