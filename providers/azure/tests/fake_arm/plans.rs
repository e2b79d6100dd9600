//! What plans need: replacements launched like the old VM, health, scale sets repointed
//! and rolled, versions captured from a builder VM.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replacement_is_launched_like_the_old_vm_once_per_token_and_its_health_read() {
    use drydock_api::{Operation, OperationOutcome, VmHealth};
    let fake = FakeArm::start(&seed());
    let p = provider(&fake.url, Locations::All);
    let r = scan(&p).await.unwrap();
    let old = r.vms.iter().find(|v| v.name == "web-001").unwrap().clone();
    let new_image = image_id(&r, "/versions/2026.11.1");
    let launch = Operation::LaunchReplacement {
        replaces: old.id.to_string(),
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
    assert_eq!(&new.tags["drydock:replaces"], old.id);
    assert_eq!(&new.tags["drydock:plan"], "plan-1");
    assert_eq!(&new.tags["app"], "web", "the old VM's tags");
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
    let old = image_id(&r, "/versions/2026.9.1");
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
    let new = image_id(&r, "/versions/2026.11.1");
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
        .all(|v| v.image_id == new && &v.tags["azure:latestModelApplied"] == "true"));
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
    let builder = vm_id(&r, "web-001");
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
    assert_eq!(&v.tags["drydock:parent"], &tags["drydock:parent"]);
    assert_eq!(v.name, "web-base-2026.12.1");
    // No definition for the family: a clear refusal before anything is made.
    let mut other = tags.clone();
    other.insert("drydock:family", "no-such-family");
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
