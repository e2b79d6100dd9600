//! End to end against a local EC2 endpoint: moto with backdated vendor AMIs, the fleet of
//! demo/moto_fleet.py seeded through the EC2 API, then the real binary scans it through
//! `[[aws.accounts]]` and every VM must get the verdict its `expect` tag names.

use crate::common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use drydock_testkit::moto as server;

fn start_moto(amis: &Path) -> (server::MotoServer, String) {
    let moto = server::MotoServer::start(&[("MOTO_AMIS_PATH", amis.as_os_str())]);
    let url = moto.url.clone();
    (moto, url)
}

fn fleet(args: &[&str]) {
    let status = Command::new(server::python())
        .arg(server::workspace_root().join("demo/moto_fleet.py"))
        .args(args)
        .status()
        .unwrap();
    assert!(status.success(), "moto_fleet.py {args:?} failed");
}

#[test]
fn seeded_aws_fleet_gets_the_expected_verdicts() {
    let home = tempfile::tempdir().unwrap();
    let amis = home.path().join("amis.json");
    fleet(&["amis", amis.to_str().unwrap()]);
    let (_moto, url) = start_moto(&amis);
    fleet(&["seed", &url]);
    let config = home.path().join("config.toml");
    std::fs::write(
        &config,
        format!("[[aws.accounts]]\nname = \"moto\"\nregions = [\"eu-west-1\", \"us-east-1\"]\nendpoint_url = \"{url}\"\n"),
    )
    .unwrap();
    let drydock = |args: &[&str]| {
        let mut cmd = common::drydock(home.path());
        cmd.env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env_remove("DRYDOCK_NOW")
            .arg("--config")
            .arg(&config)
            .args(args);
        common::run(&mut cmd)
    };
    let (code, out, err) = drydock(&["report", "--format", "json", "--fail-on", "revoked"]);
    assert_eq!(code, 1, "revoked VMs fail the report: {err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let vms = doc["vms"].as_array().unwrap();
    assert_eq!(
        vms.len(),
        23,
        "{}",
        serde_json::to_string_pretty(&doc["summary"]).unwrap()
    );
    for vm in vms {
        assert_eq!(
            vm["verdict"], vm["tags"]["expect"],
            "{}: {}",
            vm["name"], vm["reason"]
        );
    }
    for verdict in [
        "current",
        "behind",
        "outdated",
        "eol",
        "revoked",
        "unknown",
        "unmanaged",
    ] {
        assert!(
            doc["summary"]["verdicts"][verdict].as_u64().unwrap() > 0,
            "{verdict}"
        );
    }
    assert_eq!(doc["sources"], serde_json::json!(["moto"]));
    // Vendor freshness: the newest Debian image, which no VM runs, was found by name pattern.
    let debian = vms.iter().find(|v| v["name"] == "debian-001").unwrap();
    let reason = debian["reason"].as_str().unwrap();
    assert!(
        reason.contains("newer base available: debian-12-amd64-20261110-2000"),
        "{reason}"
    );
    // The same account through `scan`: a snapshot that reports the same.
    let snap = home.path().join("aws.json");
    let (code, _, err) = drydock(&["scan", "-o", snap.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("scanned moto eu-west-1"), "{err}");
    let (_, out, _) = drydock(&[
        "report",
        "--snapshot",
        snap.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let again: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(again["summary"]["verdicts"], doc["summary"]["verdicts"]);
}

#[test]
fn unreachable_endpoint_is_a_clear_error() {
    let home = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = home.path().join("config.toml");
    std::fs::write(
        &config,
        format!("[[aws.accounts]]\nname = \"nowhere\"\nregions = [\"eu-west-1\"]\nendpoint_url = \"http://127.0.0.1:{port}\"\n"),
    )
    .unwrap();
    let mut cmd = common::drydock(home.path());
    cmd.env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .arg("--config")
        .arg(&config)
        .args(["report", "--format", "json"]);
    let start = Instant::now();
    let (code, out, err) = common::run(&mut cmd);
    assert_eq!(code, 2, "{out}");
    assert!(start.elapsed() < Duration::from_secs(90), "no hang");
    assert!(
        err.contains("DescribeInstances") && err.contains("nowhere"),
        "{err}"
    );
    assert!(err.contains("cannot reach the endpoint"), "{err}");
}

#[test]
fn bad_aws_config_names_line_and_key() {
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("config.toml");
    std::fs::write(
        &config,
        "[[aws.accounts]]\nname = \"prod\"\nregions = \"eu-west-1\"\n",
    )
    .unwrap();
    let (code, _, err) = common::run(
        common::drydock(home.path())
            .arg("--config")
            .arg(&config)
            .args(["report", "--demo"]),
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("line 3") && err.contains("aws.accounts[0].regions"),
        "{err}"
    );
    assert!(
        err.contains(r#"give a list such as ["eu-west-1"]"#),
        "{err}"
    );
}

use drydock_testkit::azure_seed;
use drydock_testkit::fake_arm as azure_server;

#[test]
fn one_report_over_aws_and_azure_contexts_side_by_side() {
    let home = tempfile::tempdir().unwrap();
    let amis = home.path().join("amis.json");
    fleet(&["amis", amis.to_str().unwrap()]);
    let (_moto, url) = start_moto(&amis);
    fleet(&["seed", &url]);
    let arm = azure_server::FakeArm::start(&azure_seed::seed());
    let config = home.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[[aws.accounts]]\nname = \"moto\"\nregions = [\"eu-west-1\", \"us-east-1\"]\nendpoint_url = \"{url}\"\n\n\
             [[azure.subscriptions]]\nid = \"{}\"\nname = \"prod-az\"\nlocations = [\"westeurope\"]\nendpoint = \"{}\"\ncredential = \"token\"\n",
            azure_seed::SUB,
            arm.url
        ),
    )
    .unwrap();
    let mut cmd = common::drydock(home.path());
    cmd.env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("DRYDOCK_AZURE_TOKEN", "test-token")
        .env_remove("DRYDOCK_NOW")
        .arg("--config")
        .arg(&config)
        .args(["report", "--format", "json", "--allow-partial"]);
    let (code, out, err) = common::run(&mut cmd);
    // The fake's refused gallery makes the scan partial: 0 only with --allow-partial.
    assert_eq!(code, 0, "{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let states: Vec<(&str, &str)> = doc["contexts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["context"].as_str().unwrap(), c["state"].as_str().unwrap()))
        .collect();
    assert!(states.contains(&("prod-az", "partial")), "{states:?}");
    assert!(states.iter().any(|(_, s)| *s == "ok"), "{states:?}");
    let sources: Vec<&str> = doc["sources"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s.as_str())
        .collect();
    assert!(
        sources.contains(&"moto") && sources.contains(&"prod-az"),
        "{sources:?}"
    );
    let clouds = |c: &str| {
        doc["vms"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|v| v["cloud"] == c)
            .count()
    };
    assert_eq!(clouds("aws"), 23);
    assert_eq!(clouds("azure"), 11);
}
