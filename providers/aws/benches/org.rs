//! Benchmark: an organisation of 100 member accounts × 2 regions on moto, each account read
//! through its assumed role. drydock's scan (a provider per account, 16 accounts at once as
//! `[scan] contexts_at_once` says, each with its regions concurrently) against a bare loop
//! making the same calls with the same SDK client stack and the same concurrency: per account
//! AssumeRole; per region DescribeInstances, DescribeImages (own, referenced, newer vendor
//! builds), DescribeInstanceAttribute (user data) per VM, DescribeLaunchTemplates and
//! DescribeAutoScalingGroups. Prints wall times, requests (moto's log) and the ratio
//! (target ≤ 1.2).
//!
//! Run: `cargo bench -p drydock-aws --bench org` (moto from DRYDOCK_TEST_PYTHON, else the
//! venv tests/run.sh installs).

use drydock_api::accounts::aws::AwsOrganization;
use drydock_api::Provider;
use drydock_aws::AwsProvider;
use drydock_testkit::moto as server;
use futures_util::StreamExt;
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

const ACCOUNTS: usize = 100;
const REGIONS: [&str; 2] = ["eu-west-1", "us-east-1"];
const AT_ONCE: usize = 16;

fn org(url: &str) -> AwsOrganization {
    toml::from_str(&format!(
        "name = \"bench\"\nregions = [\"eu-west-1\", \"us-east-1\"]\nendpoint_url = \"{url}\"\n"
    ))
    .unwrap()
}

async fn drydock_scan(url: &str, ids: &[String]) -> usize {
    let o = org(url);
    let providers = futures_util::stream::iter(ids)
        .then(|id| AwsProvider::new(o.account(id.clone(), id, false, false)))
        .collect::<Vec<_>>()
        .await;
    let providers: Vec<Arc<AwsProvider>> = providers.into_iter().map(Arc::new).collect();
    futures_util::stream::iter(providers)
        .map(|p| async move { p.scan(&|_| {}).await.map(|r| r.vms.len()).unwrap_or(0) })
        .buffer_unordered(AT_ONCE)
        .fold(0, |a, n| async move { a + n })
        .await
}

/// The same calls, written as a script would: assume the role, then each region's lists.
async fn bare(url: &str, ids: &[String]) -> usize {
    futures_util::stream::iter(ids)
        .map(|id| async move {
            let base = drydock_aws::sdk_loader()
                .region(aws_config::Region::new("eu-west-1"))
                .endpoint_url(url)
                .load()
                .await;
            let role = format!("arn:aws:iam::{id}:role/OrganizationAccountAccessRole");
            let assumed = aws_config::sts::AssumeRoleProvider::builder(role)
                .session_name("bare")
                .configure(&base)
                .build()
                .await;
            let conf = base
                .into_builder()
                .credentials_provider(aws_sdk_ec2::config::SharedCredentialsProvider::new(assumed))
                .build();
            let regions = REGIONS.iter().map(|r| {
                let conf = conf.clone();
                async move {
                    let ec2 = aws_sdk_ec2::Client::from_conf(
                        aws_sdk_ec2::config::Builder::from(&conf)
                            .region(aws_config::Region::new(*r))
                            .build(),
                    );
                    let asg = aws_sdk_autoscaling::Client::from_conf(
                        aws_sdk_autoscaling::config::Builder::from(&conf)
                            .region(aws_config::Region::new(*r))
                            .build(),
                    );
                    let mut vms = Vec::new();
                    let mut amis = Vec::new();
                    let mut pages = ec2.describe_instances().into_paginator().send();
                    while let Some(p) = pages.next().await {
                        for r in p.unwrap().reservations() {
                            for i in r.instances() {
                                vms.push(i.instance_id().unwrap_or("").to_string());
                                amis.push(i.image_id().unwrap_or("").to_string());
                            }
                        }
                    }
                    let _ = ec2.describe_images().owners("self").send().await;
                    let _ = ec2.describe_images().set_image_ids(Some(amis)).send().await;
                    let _ = ec2.describe_images().owners("amazon").send().await;
                    for v in &vms {
                        let _ = ec2
                            .describe_instance_attribute()
                            .instance_id(v)
                            .attribute(aws_sdk_ec2::types::InstanceAttributeName::UserData)
                            .send()
                            .await;
                    }
                    let _ = ec2.describe_launch_templates().send().await;
                    let _ = asg.describe_auto_scaling_groups().send().await;
                    vms.len()
                }
            });
            futures_util::future::join_all(regions)
                .await
                .into_iter()
                .sum::<usize>()
        })
        .buffer_unordered(AT_ONCE)
        .fold(0, |a, n| async move { a + n })
        .await
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let (amis, calls) = (dir.path().join("amis.json"), dir.path().join("calls.log"));
    let root = server::workspace_root();
    let ok = Command::new(server::python())
        .arg(root.join("demo/moto_fleet.py"))
        .arg("amis")
        .arg(&amis)
        .status()
        .unwrap();
    assert!(ok.success());
    let moto = server::MotoServer::start(&[
        ("MOTO_AMIS_PATH", amis.as_os_str()),
        ("DRYDOCK_MOTO_CALLS", calls.as_os_str()),
    ]);
    let seeded = Command::new(server::python())
        .arg(root.join("crates/testkit/servers/moto_org.py"))
        .args([&moto.url, &ACCOUNTS.to_string(), "eu-west-1,us-east-1", "1"])
        .args(["ami-0a100000000000003", "ami-0a100000000000001"])
        .output()
        .unwrap();
    assert!(
        seeded.status.success(),
        "{}",
        String::from_utf8_lossy(&seeded.stderr)
    );
    let seed: serde_json::Value = serde_json::from_slice(&seeded.stdout).unwrap();
    let ids: Vec<String> = seed["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_string())
        .collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let requests = || {
        std::fs::read_to_string(&calls)
            .unwrap_or_default()
            .lines()
            .count()
    };
    let (mut d, mut b) = (Vec::new(), Vec::new());
    let (mut dn, mut bn) = (0, 0);
    for _ in 0..3 {
        std::fs::write(&calls, "").unwrap();
        let t = Instant::now();
        let vms = rt.block_on(drydock_scan(&moto.url, &ids));
        d.push(t.elapsed().as_secs_f64());
        dn = requests();
        assert_eq!(vms, ACCOUNTS * REGIONS.len());
        std::fs::write(&calls, "").unwrap();
        let t = Instant::now();
        let vms = rt.block_on(bare(&moto.url, &ids));
        b.push(t.elapsed().as_secs_f64());
        bn = requests();
        assert_eq!(vms, ACCOUNTS * REGIONS.len());
    }
    d.sort_by(f64::total_cmp);
    b.sort_by(f64::total_cmp);
    let (d, b) = (d[1], b[1]);
    println!(
        "{ACCOUNTS} accounts × {} regions, {AT_ONCE} accounts at once",
        REGIONS.len()
    );
    println!("drydock scan: median {d:.2} s, {dn} requests");
    println!("bare loop of the same calls: median {b:.2} s, {bn} requests");
    println!(
        "ratio drydock / bare: {:.2} (target <= 1.2: {})",
        d / b,
        if d / b <= 1.2 { "met" } else { "MISSED" }
    );
}
