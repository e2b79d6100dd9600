//! A whole Azure tenant from one `[[azure.tenants]]` entry, on the fake Resource Manager:
//! its subscriptions listed (paged), the enabled one scanned as a context named after it,
//! one excluded by tag and one disabled reported as skipped, production by tag, the list
//! cached (a rerun makes no Subscriptions call).

use crate::common;
use drydock_testkit::azure_seed as seed;
use drydock_testkit::fake_arm as server;
use serde_json::{json, Value};
use std::collections::BTreeMap;

#[test]
fn one_tenant_entry_scans_every_enabled_subscription_it_selects() {
    let mut s = seed::seed();
    s["subscriptions"] = json!([
        {"subscriptionId": seed::SUB, "displayName": "Prod Web", "state": "Enabled",
         "tags": {"env": "prod"}},
        {"subscriptionId": "6b1f3c2e-0000-4000-8000-000000000002", "displayName": "lab",
         "state": "Enabled", "tags": {"drydock": "skip"}},
        {"subscriptionId": "6b1f3c2e-0000-4000-8000-000000000003", "displayName": "old",
         "state": "Disabled"},
    ]);
    s["page_size"] = json!(2);
    let fake = server::FakeArm::start(&s);
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[[azure.tenants]]\nname = \"contoso\"\ncredential = \"token\"\nlocations = [\"westeurope\"]\nendpoint = \"{}\"\nexclude = [\"tag:drydock=skip\"]\nproduction = [\"tag:env=prod\"]\n",
            fake.url
        ),
    )
    .unwrap();
    let drydock = |args: &[&str]| {
        let mut c = common::drydock(home.path());
        c.env("DRYDOCK_AZURE_TOKEN", "test-token")
            .arg("--config")
            .arg(&config)
            .args(args);
        common::run(&mut c)
    };
    let listed = || {
        fake.log_text()
            .lines()
            .filter(|l| l.starts_with("GET /subscriptions?"))
            .count()
    };
    // The fake's one refused gallery leaves the subscription partial: 3 without the flag.
    let (code, out, err) = drydock(&["report", "--format", "json", "--allow-partial"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(listed(), 2, "two pages of subscriptions");
    let doc: Value = serde_json::from_str(&out).unwrap();
    let states: BTreeMap<String, String> = doc["contexts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["context"].as_str().unwrap().into(),
                c["state"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(states["Prod-Web"], "partial", "{states:?}");
    assert_eq!(
        (states["lab"].as_str(), states["old"].as_str()),
        ("skipped", "skipped")
    );
    assert_eq!(
        doc["summary"]["vms"], 11,
        "the seeded subscription's VMs in westeurope"
    );
    let skipped: Vec<String> = doc["contexts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["state"] == "skipped")
        .map(|c| c["scopes"][0]["reason"].as_str().unwrap().to_string())
        .collect();
    assert!(
        skipped
            .iter()
            .any(|r| r.contains("excluded by tag:drydock=skip")),
        "{skipped:?}"
    );
    assert!(
        skipped.iter().any(|r| r.contains("status Disabled")),
        "{skipped:?}"
    );
    // Cached: the rerun and `org list` list no subscriptions again.
    let (code, _, err) = drydock(&["report", "--allow-partial"]);
    assert_eq!(code, 0, "{err}");
    let (code, out, _) = drydock(&["org", "list"]);
    assert_eq!(code, 0);
    assert_eq!(listed(), 2);
    let row = out.lines().find(|l| l.contains("Prod Web")).unwrap_or("");
    assert!(
        row.contains("Prod-Web") && row.contains("production"),
        "{out}"
    );
}
