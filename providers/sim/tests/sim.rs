//! The simulated cloud through the Provider API: the demo fleet, scans with progress, every
//! mutation, dry runs, idempotency, latency and faults.

use chrono::{Duration as Days, TimeZone, Utc};
use drydock_api::{
    Cloud, ImageState, Operation, OperationOutcome, Provider, ProviderErrorKind, Tags,
};
use drydock_sim::{demo_clouds, fleet, FleetSpec, SimCloud, SimSettings};
use std::sync::Mutex;
use std::time::{Duration, Instant};

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 0, 0, 0).unwrap()
}

fn demo() -> (SimCloud, SimCloud) {
    let mut clouds = demo_clouds(now(), SimSettings::default());
    let azure = clouds.pop().unwrap();
    (clouds.pop().unwrap(), azure)
}

#[test]
fn demo_fleet_is_large_varied_and_relative_to_now() {
    let inv = fleet::build(&FleetSpec::demo(), now()).unwrap();
    assert!(inv.vms.len() >= 300, "{} VMs", inv.vms.len());
    assert!(
        inv.vms.iter().any(|v| v.cloud == Cloud::Aws)
            && inv.vms.iter().any(|v| v.cloud == Cloud::Azure)
    );
    for state in [
        ImageState::Available,
        ImageState::Deprecated,
        ImageState::Disabled,
        ImageState::Deregistered,
    ] {
        assert!(inv.images.iter().any(|i| i.state == state), "{state:?}");
    }
    assert!(inv
        .images
        .iter()
        .any(|i| i.end_of_life.is_some_and(|t| t < now())));
    assert!(inv
        .images
        .iter()
        .any(|i| i.tags.contains_key("drydock:revoked")));
    assert!(inv.images.iter().any(|i| i.vendor));
    let ids: std::collections::HashSet<_> = inv.images.iter().map(|i| i.id.as_str()).collect();
    assert!(
        inv.vms.iter().any(|v| !ids.contains(v.image_id.as_str())),
        "some VMs' images cannot be resolved"
    );
    assert!(inv.scale_groups.len() >= 4 && !inv.launch_templates.is_empty());
    // Lineage: an application image whose parent's parent is a vendor image.
    let by_id = |id: &str| inv.images.iter().find(|i| i.id == id).unwrap();
    let app = inv
        .images
        .iter()
        .find(|i| i.name == "app-checkout-2026.11.5")
        .unwrap();
    let golden = by_id(&app.tags["drydock:parent"]);
    let base = by_id(&golden.tags["drydock:parent"]);
    assert!(golden.name.starts_with("web-base") && base.vendor);
    // Dates are relative: a week later, everything is a week older.
    let later = fleet::build(&FleetSpec::demo(), now() + Days::days(7)).unwrap();
    assert_eq!(
        later.images[0].created - inv.images[0].created,
        Days::days(7)
    );
}

#[test]
fn bad_specs_are_errors_not_panics() {
    let spec = FleetSpec::parse("accounts = []\nfamilies = []\n[[fleets]]\nname='x'\naccount='nope'\nimage='a@1'\ncount=1\nsize='t3'\nlaunched_days_ago=1\n").unwrap();
    let err = fleet::build(&spec, now()).unwrap_err();
    assert!(err.to_string().contains("unknown account `nope`"));
    let err = FleetSpec::parse("accounts = 3").unwrap_err();
    assert!(err.to_string().contains("line 1"), "{err}");
}

#[tokio::test]
async fn scan_reports_progress_per_scope() {
    let (aws, azure) = demo();
    let seen = Mutex::new(Vec::new());
    let sink = |p: drydock_api::ScanProgress| seen.lock().unwrap().push(p);
    let inv = aws.scan(&sink).await.unwrap();
    assert!(inv.vms.iter().all(|v| v.cloud == Cloud::Aws));
    let seen = seen.into_inner().unwrap();
    assert!(seen.len() >= 4);
    assert_eq!(seen.last().unwrap().done, seen.last().unwrap().total);
    assert!(seen.iter().any(|p| p.scope == "111122223333/eu-west-1"));
    let az = azure.scan(&|_| {}).await.unwrap();
    assert!(!az.vms.is_empty() && az.vms.iter().all(|v| v.cloud == Cloud::Azure));
}

#[tokio::test]
async fn mutations_change_the_next_scan() {
    let (aws, _) = demo();
    let inv = aws.inventory();
    let image = inv
        .images
        .iter()
        .find(|i| i.name == "web-base-ubuntu22-2026.11.2")
        .unwrap()
        .id
        .clone();
    let unused = inv
        .images
        .iter()
        .find(|i| i.name == "web-base-ubuntu22-2026.10.1")
        .unwrap()
        .id
        .clone();
    let vm = inv.vms[0].id.to_string();

    let op = Operation::Deprecate {
        image: image.clone(),
        at: now() - Days::hours(1),
    };
    assert_eq!(
        aws.apply(&op, true).await.unwrap(),
        OperationOutcome::WouldSucceed
    );
    assert_eq!(
        aws.inventory()
            .images
            .iter()
            .find(|i| i.id == image)
            .unwrap()
            .state,
        ImageState::Available,
        "dry run changes nothing"
    );
    aws.apply(&op, false).await.unwrap();
    let after = aws.scan(&|_| {}).await.unwrap();
    assert_eq!(
        after.images.iter().find(|i| i.id == image).unwrap().state,
        ImageState::Deprecated
    );

    let mut tags = Tags::new();
    tags.insert("drydock:retire", "2026-12-01");
    aws.apply(
        &Operation::Tag {
            resource: unused.clone(),
            tags,
        },
        false,
    )
    .await
    .unwrap();
    aws.apply(
        &Operation::Disable {
            image: unused.clone(),
        },
        false,
    )
    .await
    .unwrap();
    let img = aws
        .inventory()
        .images
        .into_iter()
        .find(|i| i.id == unused)
        .unwrap();
    assert_eq!(img.state, ImageState::Disabled);
    assert_eq!(&img.tags["drydock:retire"], "2026-12-01");

    // An image still in use is never deregistered.
    let in_use = aws.inventory().vms[0].image_id.to_string();
    let err = aws
        .apply(
            &Operation::Deregister {
                image: in_use.clone(),
            },
            false,
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind, ProviderErrorKind::Rejected);
    assert!(err.to_string().contains(&in_use) && err.to_string().contains("still in use"));
    aws.apply(
        &Operation::Deregister {
            image: unused.clone(),
        },
        false,
    )
    .await
    .unwrap();

    // Replacement launches are idempotent on their client token.
    let current = inv
        .images
        .iter()
        .find(|i| i.name == "app-checkout-2026.11.5")
        .unwrap()
        .id
        .clone();
    let launch = Operation::LaunchReplacement {
        replaces: vm.clone(),
        image: current.clone(),
        client_token: "plan-1/wave-1/vm-1".into(),
        tags: Tags::new(),
    };
    let first = aws.apply(&launch, false).await.unwrap();
    let again = aws.apply(&launch, false).await.unwrap();
    assert_eq!(first, again);
    let OperationOutcome::Done {
        created: Some(new_vm),
    } = first
    else {
        panic!("no VM created")
    };
    let vms = aws.inventory().vms;
    assert_eq!(
        vms.iter()
            .filter(|v| v.tags.get("drydock:replaces") == Some(&vm))
            .count(),
        1
    );
    assert_eq!(
        vms.iter().find(|v| v.id == new_vm).unwrap().image_id,
        current
    );

    aws.apply(&Operation::Terminate { vm: vm.clone() }, false)
        .await
        .unwrap();
    assert!(
        aws.scan(&|_| {})
            .await
            .unwrap()
            .vms
            .iter()
            .all(|v| v.id != vm),
        "terminated VMs leave the scan"
    );

    let sg = aws.inventory().scale_groups[0].clone();
    aws.apply(
        &Operation::StartRollingUpgrade {
            scale_group: sg.id.clone(),
            image: current.clone(),
        },
        false,
    )
    .await
    .unwrap();
    let inv = aws.inventory();
    assert_eq!(inv.scale_groups[0].model_image_id, current);
    assert!(sg
        .members
        .iter()
        .all(|m| inv.vms.iter().find(|v| v.id == m).unwrap().image_id == current));

    let created = aws
        .apply(
            &Operation::CreateImage {
                source_vm: new_vm,
                name: "web-2026.11.3".into(),
                tags: Tags::new(),
                client_token: "t".into(),
            },
            false,
        )
        .await
        .unwrap();
    assert!(matches!(
        created,
        OperationOutcome::Done { created: Some(_) }
    ));

    let err = aws
        .apply(
            &Operation::Disable {
                image: "ami-nope".into(),
            },
            false,
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind, ProviderErrorKind::NotFound);
    assert!(err.to_string().contains("ami-nope"));
}

#[tokio::test]
async fn latency_and_fault_rate_are_applied() {
    let inv = fleet::build(&FleetSpec::demo(), now()).unwrap();
    let slow = SimCloud::new(
        "slow",
        Cloud::Aws,
        inv.clone(),
        now(),
        SimSettings {
            latency: Duration::from_millis(30),
            fault_rate: 0.0,
            seed: 1,
        },
    );
    let image = inv
        .images
        .iter()
        .find(|i| i.cloud == Cloud::Aws)
        .unwrap()
        .id
        .clone();
    let t = Instant::now();
    slow.apply(
        &Operation::Disable {
            image: image.clone(),
        },
        true,
    )
    .await
    .unwrap();
    assert!(t.elapsed() >= Duration::from_millis(30));

    let flaky = SimCloud::new(
        "flaky",
        Cloud::Aws,
        inv,
        now(),
        SimSettings {
            latency: Duration::ZERO,
            fault_rate: 0.5,
            seed: 42,
        },
    );
    let mut failures = 0;
    for _ in 0..200 {
        if let Err(e) = flaky
            .apply(
                &Operation::Disable {
                    image: image.clone(),
                },
                true,
            )
            .await
        {
            assert!(e.is_transient());
            failures += 1;
        }
    }
    assert!(
        (60..=140).contains(&failures),
        "{failures} of 200 failed at rate 0.5"
    );
}
