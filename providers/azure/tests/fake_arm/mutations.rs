//! Changes through the provider: tags, deprecate, disable, deregister (with its disks and
//! snapshots), delete, locks, dry runs and their permission checks.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutations_round_trip_through_the_fake() {
    use drydock_api::{Operation, OperationOutcome, ProviderErrorKind};
    let fake = FakeArm::start(&seed());
    let p = provider(&fake.url, Locations::All);
    let r = scan(&p).await.unwrap();
    let img =
        |r: &ScanResult, suffix: &str| r.images.iter().find(|i| i.id.ends_with(suffix)).cloned();
    let web1 = vm_id(&r, "web-001");
    let old = image_id(&r, "/versions/2026.9.1");
    let mid = image_id(&r, "/versions/2026.10.1");
    let new = image_id(&r, "/versions/2026.11.1");
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
    assert_eq!(&w1.tags["drydock:retire"], "2026-12-31");
    assert_eq!(&w1.tags["app"], "web", "existing tags kept");
    let n = img(&after, "/versions/2026.11.1").unwrap();
    assert_eq!(n.end_of_life, Some(at));
    assert_eq!(&n.tags["drydock:retire"], "2026-12-31");
    assert_eq!(&n.tags["drydock:family"], "web-base");
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
        image: image_id(&r, "/images/legacy-img"),
        at,
    };
    let e = p.apply(&launch, false).await.unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::Unsupported, "{e}");
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
