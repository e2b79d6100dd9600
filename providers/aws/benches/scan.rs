//! Benchmark: drydock's AWS scan against moto versus a bare paginated DescribeInstances +
//! DescribeImages loop over the same data, in one run. 1,000 instances and 200 images across
//! 3 regions. Prints both times and the ratio (target ≤ 1.2).
//!
//! Run: `cargo bench -p drydock-aws --bench scan` (moto from DRYDOCK_TEST_PYTHON, else the
//! venv tests/run.sh installs).

use drydock_testkit::moto as server;

use drydock_api::Provider;
use drydock_aws::{AwsAccount, AwsProvider, Regions};
use std::time::Instant;

const REGIONS: [&str; 3] = ["eu-west-1", "us-east-1", "ap-southeast-2"];

async fn client(url: &str, region: &str) -> aws_sdk_ec2::Client {
    let conf = drydock_aws::sdk_loader()
        .region(aws_config::Region::new(region.to_string()))
        .endpoint_url(url)
        .load()
        .await;
    aws_sdk_ec2::Client::new(&conf)
}

/// What a script would do: page through instances and the account's images, per region, concurrently.
async fn bare(url: &str) -> (usize, usize) {
    let tasks = REGIONS.iter().map(|r| async move {
        let ec2 = client(url, r).await;
        let mut vms = 0;
        let mut pages = ec2.describe_instances().into_paginator().send();
        while let Some(p) = pages.next().await {
            vms += p
                .unwrap()
                .reservations()
                .iter()
                .map(|r| r.instances().len())
                .sum::<usize>();
        }
        let mut images = 0;
        let mut pages = ec2.describe_images().owners("self").into_paginator().send();
        while let Some(p) = pages.next().await {
            images += p.unwrap().images().len();
        }
        (vms, images)
    });
    futures_util::future::join_all(tasks)
        .await
        .into_iter()
        .fold((0, 0), |(a, b), (c, d)| (a + c, b + d))
}

fn main() {
    let moto = server::MotoServer::start(&[]);
    let url = moto.url.clone();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        // Seed: 1,000 instances (334 + 333 + 333) and 200 images (67 + 67 + 66).
        for (k, region) in REGIONS.iter().enumerate() {
            let ec2 = client(&url, region).await;
            let vendor = ec2.describe_images().owners("amazon").send().await.unwrap().images()[0].image_id().unwrap().to_string();
            let count = if k == 0 { 334 } else { 333 };
            let mut ids = Vec::new();
            let mut left = count;
            while left > 0 {
                let n = left.min(50);
                let out = ec2.run_instances().image_id(&vendor).min_count(n).max_count(n).send().await.unwrap();
                ids.extend(out.instances().iter().filter_map(|i| i.instance_id().map(String::from)));
                left -= n;
            }
            let images = if k == 2 { 66 } else { 67 };
            for (n, id) in ids.iter().take(images).enumerate() {
                ec2.create_image()
                    .instance_id(id)
                    .name(format!("golden-{region}-{n}"))
                    .send()
                    .await
                    .unwrap();
            }
        }
        let account = AwsAccount {
            name: "bench".into(),
            profile: None,
            role_arn: None,
            role_chain: Vec::new(),
            external_id: None,
            regions: Regions::List(REGIONS.iter().map(|r| r.to_string()).collect()),
            endpoint_url: Some(url.clone()),
            readonly: false,
            production: false,
            concurrency: 3,
        };
        let provider = AwsProvider::new(account).await;
        // Warm both paths once, then alternate five timed runs of each.
        let _ = bare(&url).await;
        let _ = provider.scan(&|_| {}).await.unwrap();
        let (mut t_bare, mut t_scan) = (Vec::new(), Vec::new());
        let mut counts = (0, 0, 0, 0);
        for _ in 0..5 {
            let t = Instant::now();
            let (v, i) = bare(&url).await;
            t_bare.push(t.elapsed().as_secs_f64());
            let t = Instant::now();
            let r = provider.scan(&|_| {}).await.unwrap();
            t_scan.push(t.elapsed().as_secs_f64());
            counts = (v, i, r.vms.len(), r.images.len());
        }
        let median = |v: &mut Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let (b, s) = (median(&mut t_bare), median(&mut t_scan));
        println!("bare DescribeInstances+DescribeImages loop: {} VMs, {} images, median {:.3} s", counts.0, counts.1, b);
        println!("drydock scan (+ referenced and vendor images, templates, groups): {} VMs, {} images, median {:.3} s", counts.2, counts.3, s);
        println!("ratio scan / bare: {:.2} (target <= 1.2: {})", s / b, if s / b <= 1.2 { "met" } else { "MISSED" });
    });
    drop(moto);
}
