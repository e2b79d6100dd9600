//! Scans against moto: VMs, images, templates and groups; pagination; every region; an assumed role.

use super::*;

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
    assert_eq!(&web.tags["app"], "web");
    let golden = r
        .images
        .iter()
        .find(|i| i.id == s.golden)
        .expect("owned image");
    assert!(!golden.vendor);
    assert_eq!(&golden.tags["drydock:family"], "web-base");
    assert_eq!(&golden.tags["drydock:parent"], s.vendor);
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
async fn user_data_on_a_vendor_image_is_boot_config() {
    let m = Moto::start();
    let ec2 = m.ec2("eu-west-1").await;
    let vendor = vendor_ami(&ec2).await;
    let plain = run(&ec2, &vendor, "plain-001").await;
    let booted = ec2
        .run_instances()
        .image_id(&vendor)
        .min_count(1)
        .max_count(1)
        .user_data("IyEvYmluL3NoCmFwdCBpbnN0YWxsIC15IG5naW54Cg==")
        .send()
        .await
        .unwrap();
    let booted = booted.instances()[0].instance_id().unwrap().to_string();
    let p = AwsProvider::new(m.account(&["eu-west-1"])).await;
    let (r, _) = scan(&p).await;
    let vm = |id: &str| r.vms.iter().find(|v| v.id == id).unwrap();
    assert_eq!(vm(&booted).boot_config, vec!["user data"]);
    assert!(vm(&plain).boot_config.is_empty());
    assert!(r.problems.is_empty(), "{:?}", r.problems);
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
    // User data is read for a bounded number of VMs, and the scan says so.
    assert!(
        r.problems
            .iter()
            .any(|p| p.message.contains("user data read for 256 of 1100")),
        "{:?}",
        r.problems
    );
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
    let base = drydock_aws::sdk_loader()
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
