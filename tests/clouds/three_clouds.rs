//! One report over three clouds side by side: AWS (moto, seeded by demo/moto_fleet.py), Azure
//! (the fake Resource Manager's seeded subscription) and OpenStack (the fake's demo site),
//! each its own context, every VM judged by the same policy in one document.

use crate::common;

use drydock_testkit::fake_openstack::{FakeOpenStack, APP_CREDENTIAL};
use drydock_testkit::{azure_seed, fake_arm, moto};
use std::process::Command;

fn fleet(args: &[&str]) {
    let status = Command::new(moto::python())
        .arg(moto::workspace_root().join("demo/moto_fleet.py"))
        .args(args)
        .status()
        .unwrap();
    assert!(status.success(), "moto_fleet.py {args:?} failed");
}

#[test]
fn a_report_judges_aws_azure_and_openstack_side_by_side() {
    let home = tempfile::tempdir().unwrap();
    let amis = home.path().join("amis.json");
    fleet(&["amis", amis.to_str().unwrap()]);
    let aws = moto::MotoServer::start(&[("MOTO_AMIS_PATH", amis.as_os_str())]);
    fleet(&["seed", &aws.url]);
    let arm = fake_arm::FakeArm::start(&azure_seed::seed());
    let os = FakeOpenStack::demo();
    let config = home.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[[aws.accounts]]\nname = \"moto\"\nregions = [\"eu-west-1\", \"us-east-1\"]\nendpoint_url = \"{}\"\n\n\
             [[azure.subscriptions]]\nid = \"{}\"\nname = \"prod-az\"\nlocations = [\"westeurope\"]\nendpoint = \"{}\"\ncredential = \"token\"\n\n\
             [[openstack.clouds]]\nname = \"site\"\nauth_url = \"{}\"\napplication_credential_id = \"{}\"\napplication_credential_secret_env = \"SITE_SECRET\"\n",
            aws.url,
            azure_seed::SUB,
            arm.url,
            os.auth_url(),
            APP_CREDENTIAL.0
        ),
    )
    .unwrap();
    let report = |format: &str| {
        let mut cmd = common::drydock(home.path());
        cmd.env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("DRYDOCK_AZURE_TOKEN", "test-token")
            .env("SITE_SECRET", APP_CREDENTIAL.1)
            .env_remove("DRYDOCK_NOW")
            .arg("--config")
            .arg(&config)
            .args(["report", "--format", format, "--allow-partial"]);
        common::run(&mut cmd)
    };
    let (code, out, err) = report("json");
    assert_eq!(code, 0, "{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let vms = doc["vms"].as_array().unwrap();
    let on = |cloud: &str| vms.iter().filter(|v| v["cloud"] == cloud).count();
    assert_eq!(on("aws"), 23);
    assert!(on("azure") >= 6, "{}", on("azure"));
    assert_eq!(on("openstack"), 5);
    let verdict = |name: &str| {
        vms.iter()
            .find(|v| v["cloud"] == "openstack" && v["name"] == name)
            .map(|v| v["verdict"].as_str().unwrap().to_string())
    };
    assert_eq!(verdict("web-1").as_deref(), Some("current"));
    assert_eq!(verdict("web-2").as_deref(), Some("revoked"));
    assert_eq!(verdict("web-3").as_deref(), Some("behind"));
    // Every context read, each in its own outcome.
    let (_, table, err) = report("table");
    for cloud in ["aws", "azure", "openstack"] {
        assert!(
            table.contains(&format!(" {cloud} ")),
            "{cloud}: {table}\n{err}"
        );
    }
}
