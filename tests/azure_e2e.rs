//! The real binary against the fake Azure Resource Manager: `drydock report` over a seeded
//! subscription configured in `[[azure.subscriptions]]` with `credential = "token"`.

mod common;

#[path = "azure/seed.rs"]
mod seed;
#[path = "azure/server.rs"]
mod server;

use common::{drydock, run};

#[test]
fn report_over_a_seeded_subscription_gives_the_expected_verdicts() {
    let fake = server::FakeArm::start(&seed::seed());
    let home = tempfile::tempdir().unwrap();
    let cfg = home.path().join("config/drydock");
    std::fs::create_dir_all(&cfg).unwrap();
    std::fs::write(
        cfg.join("config.toml"),
        format!(
            "[[azure.subscriptions]]\nid = \"{}\"\nname = \"prod-az\"\nlocations = [\"westeurope\"]\nendpoint = \"{}\"\ncredential = \"token\"\n",
            seed::SUB,
            fake.url
        ),
    )
    .unwrap();
    // Without the token the error says where it should come from.
    let (code, _, err) = run(drydock(home.path()).args(["report"]));
    assert_eq!(code, 2);
    assert!(err.contains("DRYDOCK_AZURE_TOKEN"), "{err}");
    let (code, out, err) = run(drydock(home.path())
        .env("DRYDOCK_AZURE_TOKEN", "test-token")
        .args(["report", "--format", "json"]));
    assert_eq!(code, 0, "{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let verdict = |name: &str| {
        doc["vms"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"] == name)
            .unwrap_or_else(|| panic!("{name} not reported: {out}"))["verdict"]
            .as_str()
            .unwrap()
            .to_string()
    };
    for (name, expected) in [
        ("web-001", "current"),
        ("web-002", "current"),
        ("web-003", "current"),
        ("web-004", "eol"),
        ("web-005", "unmanaged"),
        ("web-006", "behind"),
        ("web-008", "current"),
        ("web-vmss_0", "current"),
        ("web-vmss_2", "eol"),
    ] {
        assert_eq!(verdict(name), expected, "{name}");
    }
    assert_eq!(
        doc["summary"]["vms"], 10,
        "web-007 is in eastus, out of scope"
    );
    assert_eq!(doc["vms"][0]["cloud"], "azure");
    // The refused gallery is a problem of the scan, reported and on stderr.
    let problems = doc["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(err.contains("warning: prod-az"), "{err}");
}
