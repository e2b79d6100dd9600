//! Mutations against moto: dry runs and errors, repointing a group, VM health.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutations_dry_run_and_errors() {
    let m = Moto::start();
    let s = seed(&m).await;
    let p = AwsProvider::new(m.account(&["eu-west-1"])).await;
    scan(&p).await;
    let image_state =
        |r: &ScanResult, id: &str| r.images.iter().find(|i| i.id == id).map(|i| i.state);

    // Dry run: AWS says it would succeed, nothing changes.
    let tags: Tags = [("drydock:retire".to_string(), "2026-12-23".to_string())].into();
    let tag = Operation::Tag {
        resource: s.golden.clone(),
        tags,
    };
    assert_eq!(
        p.apply(&tag, true).await.unwrap(),
        OperationOutcome::WouldSucceed
    );
    let (r, _) = scan(&p).await;
    assert!(!r
        .images
        .iter()
        .find(|i| i.id == s.golden)
        .unwrap()
        .tags
        .contains_key("drydock:retire"));
    p.apply(&tag, false).await.unwrap();
    let (r, _) = scan(&p).await;
    assert_eq!(
        &r.images.iter().find(|i| i.id == s.golden).unwrap().tags["drydock:retire"],
        "2026-12-23"
    );

    // Deprecation (moto extended by crates/testkit/servers/moto_server.py), then disable.
    let past = chrono::Utc::now() - chrono::Duration::hours(1);
    p.apply(
        &Operation::Deprecate {
            image: s.golden.clone(),
            at: past,
        },
        false,
    )
    .await
    .unwrap();
    let (r, _) = scan(&p).await;
    assert_eq!(image_state(&r, &s.golden), Some(ImageState::Deprecated));
    p.apply(
        &Operation::Disable {
            image: s.golden.clone(),
        },
        false,
    )
    .await
    .unwrap();
    let (r, _) = scan(&p).await;
    assert_eq!(image_state(&r, &s.golden), Some(ImageState::Disabled));

    // A replacement launch is idempotent on its client token and copies the old VM.
    let old = r
        .vms
        .iter()
        .find(|v| v.name == "base-002")
        .unwrap()
        .id
        .clone();
    let launch = Operation::LaunchReplacement {
        replaces: old.to_string(),
        image: s.vendor.clone(),
        client_token: "plan-1-wave-1-base-002".into(),
        tags: Tags::new(),
    };
    let first = p.apply(&launch, false).await.unwrap();
    assert_eq!(p.apply(&launch, false).await.unwrap(), first);
    let OperationOutcome::Done {
        created: Some(new_vm),
    } = first
    else {
        panic!("nothing launched")
    };
    let (r, _) = scan(&p).await;
    let new = r.vms.iter().find(|v| v.id == new_vm).unwrap();
    assert_eq!(&new.tags["drydock:replaces"], old);
    assert_eq!(
        (&new.tags["Name"], new.size.as_str()),
        ("base-002", "t3.micro")
    );

    // CreateImage tagged with provenance, idempotent on the token.
    let prov: Tags = [
        ("drydock:family".to_string(), "web-base".to_string()),
        ("drydock:version".to_string(), "2026.11.2".to_string()),
    ]
    .into();
    let create = Operation::CreateImage {
        source_vm: new_vm.clone(),
        name: "web-base-2026.11.2".into(),
        tags: prov,
        client_token: "bake-2026.11.2".into(),
    };
    let made = p.apply(&create, false).await.unwrap();
    assert_eq!(p.apply(&create, false).await.unwrap(), made);
    let OperationOutcome::Done {
        created: Some(image),
    } = made
    else {
        panic!("no image")
    };

    // Deregister deletes the image's snapshots too.
    let ec2 = m.ec2("eu-west-1").await;
    let snaps = |out: aws_sdk_ec2::operation::describe_snapshots::DescribeSnapshotsOutput| {
        out.snapshots().len()
    };
    let before = snaps(
        ec2.describe_snapshots()
            .owner_ids("self")
            .send()
            .await
            .unwrap(),
    );
    p.apply(
        &Operation::Deregister {
            image: image.clone(),
        },
        false,
    )
    .await
    .unwrap();
    let after = snaps(
        ec2.describe_snapshots()
            .owner_ids("self")
            .send()
            .await
            .unwrap(),
    );
    assert!(after < before, "snapshots {before} -> {after}");

    p.apply(&Operation::Terminate { vm: new_vm.clone() }, false)
        .await
        .unwrap();

    // Errors say which call, which resource, what to do.
    let err = p
        .apply(
            &Operation::Disable {
                image: "ami-0000000000000dead".into(),
            },
            false,
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind, ProviderErrorKind::NotFound);
    assert!(err.to_string().contains("rescan"), "{err}");
    let err = p
        .apply(
            &Operation::StartRollingUpgrade {
                scale_group: "web-asg".into(),
                image: s.vendor.clone(),
            },
            false,
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind, ProviderErrorKind::Unsupported);
}

/// What plans need beyond launches: repointing a group's launch template and status checks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repoint_a_group_and_read_vm_health() {
    let m = Moto::start();
    let s = seed(&m).await;
    let p = AwsProvider::new(m.account(&["eu-west-1"])).await;
    let (r, _) = scan(&p).await;
    let group = r.scale_groups.iter().find(|g| g.name == "web-asg").unwrap();
    let out = p
        .apply(
            &Operation::Repoint {
                resource: group.id.clone(),
                image: s.vendor.clone(),
            },
            false,
        )
        .await
        .unwrap();
    assert!(
        matches!(&out, OperationOutcome::Done { created: Some(v) } if v.starts_with(&s.template)),
        "{out:?}"
    );
    let (r, _) = scan(&p).await;
    let group = r.scale_groups.iter().find(|g| g.name == "web-asg").unwrap();
    assert_eq!(
        group.model_image_id, s.vendor,
        "the group launches from the new image"
    );
    let web = r.vms.iter().find(|v| v.name == "web-001").unwrap();
    assert_eq!(web.image_id, s.golden, "running VMs are left alone");
    assert_eq!(
        p.vm_health(&web.id).await.unwrap(),
        drydock_api::VmHealth::Healthy
    );
    p.apply(
        &Operation::Terminate {
            vm: web.id.to_string(),
        },
        false,
    )
    .await
    .unwrap();
    assert_eq!(
        p.vm_health(&web.id).await.unwrap(),
        drydock_api::VmHealth::Gone
    );
}
