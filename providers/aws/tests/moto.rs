//! The AWS provider against a real EC2 API server: moto, started per test on a free
//! loopback port (with tests/moto/server.py, which adds image deprecation). tests/run.sh
//! installs moto and points DRYDOCK_TEST_PYTHON at it.

use aws_sdk_ec2::types::{
    InstanceType, RequestLaunchTemplateData, ResourceType, Tag, TagSpecification,
};
use drydock_api::{
    ImageState, Operation, OperationOutcome, Provider, ProviderErrorKind, ScanResult, Tags,
};
use drydock_aws::{AwsAccount, AwsProvider, Regions};
use std::sync::Mutex;

#[path = "../../../tests/moto/server.rs"]
mod server;

/// moto for one test, with SDK clients pointed at it.
struct Moto {
    /// Stops the server when the test ends.
    _server: server::MotoServer,
    url: String,
}

impl Moto {
    fn start() -> Moto {
        let server = server::MotoServer::start(&[]);
        let url = server.url.clone();
        Moto {
            _server: server,
            url,
        }
    }

    fn account(&self, regions: &[&str]) -> AwsAccount {
        AwsAccount {
            name: "moto".into(),
            profile: None,
            role_arn: None,
            regions: Regions::List(regions.iter().map(|r| r.to_string()).collect()),
            endpoint_url: Some(self.url.clone()),
            readonly: false,
            production: false,
            concurrency: 4,
        }
    }

    async fn ec2(&self, region: &str) -> aws_sdk_ec2::Client {
        let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(region.to_string()))
            .endpoint_url(&self.url)
            .load()
            .await;
        aws_sdk_ec2::Client::new(&conf)
    }

    async fn autoscaling(&self, region: &str) -> aws_sdk_autoscaling::Client {
        let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(region.to_string()))
            .endpoint_url(&self.url)
            .load()
            .await;
        aws_sdk_autoscaling::Client::new(&conf)
    }
}

fn tag_spec(kind: ResourceType, pairs: &[(&str, &str)]) -> TagSpecification {
    TagSpecification::builder()
        .resource_type(kind)
        .set_tags(Some(
            pairs
                .iter()
                .map(|(k, v)| Tag::builder().key(*k).value(*v).build())
                .collect(),
        ))
        .build()
}

/// A vendor AMI moto ships (owned by `amazon`).
async fn vendor_ami(ec2: &aws_sdk_ec2::Client) -> String {
    let out = ec2.describe_images().owners("amazon").send().await.unwrap();
    out.images()[0].image_id().unwrap().to_string()
}

async fn run(ec2: &aws_sdk_ec2::Client, image: &str, name: &str) -> String {
    let out = ec2
        .run_instances()
        .image_id(image)
        .min_count(1)
        .max_count(1)
        .instance_type(InstanceType::T3Micro)
        .tag_specifications(tag_spec(
            ResourceType::Instance,
            &[("Name", name), ("app", "web")],
        ))
        .send()
        .await
        .unwrap();
    out.instances()[0].instance_id().unwrap().to_string()
}

struct Seeded {
    vendor: String,
    golden: String,
    gone: String,
    template: String,
}

/// eu-west-1: VMs on a vendor AMI (two reservations), a golden image built from one with
/// provenance tags, a VM on it, a VM whose image was deregistered, a launch template and an
/// auto scaling group on the golden image. us-east-1: one VM on a vendor AMI.
async fn seed(m: &Moto) -> Seeded {
    let ec2 = m.ec2("eu-west-1").await;
    let vendor = vendor_ami(&ec2).await;
    let base_vm = run(&ec2, &vendor, "base-001").await;
    run(&ec2, &vendor, "base-002").await;
    let golden = ec2
        .create_image()
        .instance_id(&base_vm)
        .name("web-base-2026.11.1")
        .tag_specifications(tag_spec(
            ResourceType::Image,
            &[
                ("drydock:family", "web-base"),
                ("drydock:version", "2026.11.1"),
                ("drydock:parent", &vendor),
            ],
        ))
        .send()
        .await
        .unwrap()
        .image_id()
        .unwrap()
        .to_string();
    run(&ec2, &golden, "web-001").await;
    let doomed = ec2
        .create_image()
        .instance_id(&base_vm)
        .name("web-base-old")
        .send()
        .await
        .unwrap();
    let gone = doomed.image_id().unwrap().to_string();
    run(&ec2, &gone, "orphan-001").await;
    ec2.deregister_image().image_id(&gone).send().await.unwrap();
    let template = ec2
        .create_launch_template()
        .launch_template_name("web-lt")
        .launch_template_data(
            RequestLaunchTemplateData::builder()
                .image_id(&golden)
                .instance_type(InstanceType::T3Micro)
                .build(),
        )
        .send()
        .await
        .unwrap()
        .launch_template()
        .unwrap()
        .launch_template_id()
        .unwrap()
        .to_string();
    m.autoscaling("eu-west-1")
        .await
        .create_auto_scaling_group()
        .auto_scaling_group_name("web-asg")
        .launch_template(
            aws_sdk_autoscaling::types::LaunchTemplateSpecification::builder()
                .launch_template_id(&template)
                .version("$Default")
                .build(),
        )
        .min_size(1)
        .max_size(2)
        .desired_capacity(1)
        .availability_zones("eu-west-1a")
        .send()
        .await
        .unwrap();
    let us = m.ec2("us-east-1").await;
    let us_vendor = vendor_ami(&us).await;
    run(&us, &us_vendor, "us-001").await;
    Seeded {
        vendor,
        golden,
        gone,
        template,
    }
}

async fn scan(p: &AwsProvider) -> (ScanResult, Vec<String>) {
    let seen = Mutex::new(Vec::new());
    let sink = |pr: drydock_api::ScanProgress| {
        seen.lock()
            .unwrap()
            .push(format!("{}/{}:{}", pr.done, pr.total, pr.scope))
    };
    let r = p.scan(&sink).await.unwrap();
    (r, seen.into_inner().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_reads_vms_images_templates_and_groups() {
    let m = Moto::start();
    let s = seed(&m).await;
    let p = AwsProvider::new(m.account(&["eu-west-1", "us-east-1"])).await;
    let (r, progress) = scan(&p).await;
    assert_eq!(progress.len(), 2, "{progress:?}");
    assert!(
        progress.iter().any(|p| p.ends_with("eu-west-1"))
            && progress.iter().any(|p| p.ends_with("us-east-1"))
    );
    let names: Vec<&str> = r.vms.iter().map(|v| v.name.as_str()).collect();
    for n in ["base-001", "base-002", "web-001", "orphan-001", "us-001"] {
        assert!(names.contains(&n), "{n} missing from {names:?}");
    }
    let asg_member = r
        .vms
        .iter()
        .find(|v| v.scale_group.as_deref() == Some("web-asg"))
        .expect("the group's VM");
    assert_eq!(asg_member.image_id, s.golden);
    let web = r.vms.iter().find(|v| v.name == "web-001").unwrap();
    assert_eq!(
        (web.region.as_str(), web.size.as_str(), web.account.as_str()),
        ("eu-west-1", "t3.micro", "123456789012")
    );
    assert_eq!(web.tags["app"], "web");
    let golden = r
        .images
        .iter()
        .find(|i| i.id == s.golden)
        .expect("owned image");
    assert!(!golden.vendor);
    assert_eq!(golden.tags["drydock:family"], "web-base");
    assert_eq!(golden.tags["drydock:parent"], s.vendor);
    let vendor = r
        .images
        .iter()
        .find(|i| i.id == s.vendor)
        .expect("referenced vendor image");
    assert!(vendor.vendor, "{vendor:?}");
    assert!(
        r.images.iter().all(|i| i.id != s.gone),
        "a deregistered image cannot be resolved"
    );
    assert!(r.vms.iter().any(|v| v.image_id == s.gone));
    let lt = r
        .launch_templates
        .iter()
        .find(|t| t.id == s.template)
        .expect("launch template");
    assert_eq!(lt.image_id, s.golden);
    let sg = r
        .scale_groups
        .iter()
        .find(|g| g.name == "web-asg")
        .expect("scale group");
    assert_eq!(sg.model_image_id, s.golden);
    assert_eq!(sg.members.len(), 1);
    assert!(r.problems.is_empty(), "{:?}", r.problems);
}

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
        r.images.iter().find(|i| i.id == s.golden).unwrap().tags["drydock:retire"],
        "2026-12-23"
    );

    // Deprecation (moto extended by tests/moto/server.py), then disable.
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
        replaces: old.clone(),
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
    assert_eq!(new.tags["drydock:replaces"], old);
    assert_eq!(
        (new.tags["Name"].as_str(), new.size.as_str()),
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_instances_paginate() {
    let m = Moto::start();
    let ec2 = m.ec2("eu-west-1").await;
    let vendor = vendor_ami(&ec2).await;
    // moto pages DescribeInstances by reservation; 1100 instances in 11 reservations.
    for _ in 0..11 {
        ec2.run_instances()
            .image_id(&vendor)
            .min_count(100)
            .max_count(100)
            .send()
            .await
            .unwrap();
    }
    let p = AwsProvider::new(m.account(&["eu-west-1"])).await;
    let (r, _) = scan(&p).await;
    assert_eq!(r.vms.len(), 1100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn regions_all_scans_every_region_describe_regions_returns() {
    let m = Moto::start();
    for (region, name) in [("eu-west-1", "eu-001"), ("ap-southeast-2", "ap-001")] {
        let ec2 = m.ec2(region).await;
        let vendor = vendor_ami(&ec2).await;
        run(&ec2, &vendor, name).await;
    }
    let regions = m
        .ec2("us-east-1")
        .await
        .describe_regions()
        .send()
        .await
        .unwrap()
        .regions()
        .len();
    assert!(regions >= 10, "DescribeRegions gave {regions}");
    let mut account = m.account(&[]);
    account.regions = Regions::All;
    account.concurrency = 8;
    let p = AwsProvider::new(account).await;
    let (r, progress) = scan(&p).await;
    assert_eq!(progress.len(), regions, "one progress report per region");
    assert!(progress.iter().all(|p| p.contains(&format!("/{regions}:"))));
    let mut found: Vec<(&str, &str)> = r
        .vms
        .iter()
        .map(|v| (v.name.as_str(), v.region.as_str()))
        .collect();
    found.sort();
    assert_eq!(
        found,
        [("ap-001", "ap-southeast-2"), ("eu-001", "eu-west-1")]
    );
    assert!(r.problems.is_empty(), "{:?}", r.problems);
}

/// A `role_arn` is assumed through STS (moto's, at the same endpoint) on top of the base
/// credentials; moto keeps each account apart, so the scan sees only the role's account.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn role_arn_is_assumed_and_scans_that_account() {
    let m = Moto::start();
    let home = m.ec2("eu-west-1").await;
    let vendor = vendor_ami(&home).await;
    run(&home, &vendor, "home-001").await;
    let role = "arn:aws:iam::111111111111:role/drydock-scan";
    // Seed the role's account with credentials from the same assumption.
    let base = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("eu-west-1"))
        .endpoint_url(&m.url)
        .load()
        .await;
    let assumed = aws_config::sts::AssumeRoleProvider::builder(role)
        .session_name("seed")
        .configure(&base)
        .build()
        .await;
    let conf = base
        .into_builder()
        .credentials_provider(aws_sdk_ec2::config::SharedCredentialsProvider::new(assumed))
        .build();
    let other = aws_sdk_ec2::Client::new(&conf);
    let other_vendor = vendor_ami(&other).await;
    run(&other, &other_vendor, "role-001").await;

    let mut account = m.account(&["eu-west-1"]);
    account.role_arn = Some(role.into());
    let p = AwsProvider::new(account).await;
    let (r, _) = scan(&p).await;
    let vms: Vec<(&str, &str)> = r
        .vms
        .iter()
        .map(|v| (v.name.as_str(), v.account.as_str()))
        .collect();
    assert_eq!(vms, [("role-001", "111111111111")]);
    // Without the role, the base account's VM.
    let p = AwsProvider::new(m.account(&["eu-west-1"])).await;
    let (r, _) = scan(&p).await;
    let names: Vec<&str> = r.vms.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["home-001"]);
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
    p.apply(&Operation::Terminate { vm: web.id.clone() }, false)
        .await
        .unwrap();
    assert_eq!(
        p.vm_health(&web.id).await.unwrap(),
        drydock_api::VmHealth::Gone
    );
}
