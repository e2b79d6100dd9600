//! The AWS provider against a real EC2 API server: moto, started per test on a free
//! loopback port (with crates/testkit/servers/moto_server.py, which adds image deprecation). tests/run.sh
//! installs moto and points DRYDOCK_TEST_PYTHON at it.

use aws_sdk_ec2::types::{
    InstanceType, RequestLaunchTemplateData, ResourceType, Tag, TagSpecification,
};
use drydock_api::{
    ImageState, Operation, OperationOutcome, Provider, ProviderErrorKind, ScanResult, Tags,
};
use drydock_aws::{AwsAccount, AwsProvider, Regions};
use std::sync::Mutex;

use drydock_testkit::moto as server;

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
            role_chain: Vec::new(),
            external_id: None,
            regions: Regions::List(regions.iter().map(|r| r.to_string()).collect()),
            endpoint_url: Some(self.url.clone()),
            readonly: false,
            production: false,
            concurrency: 4,
        }
    }

    async fn ec2(&self, region: &str) -> aws_sdk_ec2::Client {
        let conf = drydock_aws::sdk_loader()
            .region(aws_config::Region::new(region.to_string()))
            .endpoint_url(&self.url)
            .load()
            .await;
        aws_sdk_ec2::Client::new(&conf)
    }

    async fn autoscaling(&self, region: &str) -> aws_sdk_autoscaling::Client {
        let conf = drydock_aws::sdk_loader()
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

mod mutations;
mod scans;
