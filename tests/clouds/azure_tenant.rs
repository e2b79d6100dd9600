//! A whole Azure tenant from one `[[azure.tenants]]` entry, on the fake Resource Manager:
//! its subscriptions listed (paged), the enabled one scanned as a context named after it,
//! one excluded by tag and one disabled reported as skipped, production by tag, the list
//! cached (a rerun makes no Subscriptions call).

use crate::common;
use drydock_testkit::azure_seed as seed;
use drydock_testkit::fake_arm as server;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// A config of one `[[azure.tenants]]` entry, `contoso` on the fake at `url`, with `more`
/// lines, written into `home`.
fn tenant_config(home: &std::path::Path, url: &str, more: &str) -> std::path::PathBuf {
    let config = home.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[[azure.tenants]]\nname = \"contoso\"\ncredential = \"token\"\nlocations = [\"westeurope\"]\nendpoint = \"{url}\"\n{more}"
        ),
    )
    .unwrap();
    config
}

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
    let config = tenant_config(
        home.path(),
        &fake.url,
        "exclude = [\"tag:drydock=skip\"]\nproduction = [\"tag:env=prod\"]\n",
    );
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

#[test]
fn a_tenant_of_twelve_subscriptions_is_read_through_resource_graph() {
    let mut s = seed::seed();
    // Eleven more subscriptions, each with copies of the seeded subscription's VMs.
    let subs: Vec<String> = (1..=12)
        .map(|n| format!("6b1f3c2e-0000-4000-8000-{n:012}"))
        .collect();
    let vms: Vec<Value> = s["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["type"] == "Microsoft.Compute/virtualMachines")
        .cloned()
        .collect();
    for sub in &subs[1..] {
        for v in &vms {
            let text = v.to_string().replace(
                &format!("/subscriptions/{}/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachines", seed::SUB),
                &format!("/subscriptions/{sub}/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachines"),
            );
            s["resources"]
                .as_array_mut()
                .unwrap()
                .push(serde_json::from_str(&text).unwrap());
        }
    }
    s["subscriptions"] = Value::Array(
        subs.iter()
            .enumerate()
            .map(|(n, id)| json!({"subscriptionId": id, "displayName": format!("sub-{n:02}"), "state": "Enabled"}))
            .collect(),
    );
    // Pages of 30 rows; sub-06 refused by Resource Graph; two queries a second.
    s["rg_page_size"] = json!(30);
    s["rg_refuse"] = json!([subs[6]]);
    s["rg_quota"] = json!(2);
    let fake = server::FakeArm::start(&s);
    let home = tempfile::tempdir().unwrap();
    let config = tenant_config(home.path(), &fake.url, "");
    let mut c = common::drydock(home.path());
    c.env("DRYDOCK_AZURE_TOKEN", "test-token")
        .arg("--config")
        .arg(&config)
        .args(["report", "--format", "json", "--allow-partial"]);
    let (code, out, err) = common::run(&mut c);
    assert_eq!(code, 0, "{err}");
    let doc: Value = serde_json::from_str(&out).unwrap();
    let log = fake.log_text();
    let queries = log
        .lines()
        .filter(|l| l.starts_with("POST /providers/Microsoft.ResourceGraph/resources"))
        .count();
    // 12 × the seeded VMs in westeurope: every one, whichever way it was read.
    let per_sub = doc["vms"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["account"] == seed::SUB && v["scale_group"].is_null())
        .count();
    let all_loose = doc["vms"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["scale_group"].is_null())
        .count();
    assert!(per_sub > 0);
    assert_eq!(all_loose, 12 * per_sub, "{err}");
    // ≥ 3 pages, plus the query the refusal interrupted; the quota was waited for, not hit.
    assert!(queries >= 4, "{queries} queries\n{log}");
    assert!(!log.contains("RG 429"), "{log}");
    // Only the refused subscription listed its own VMs.
    let listed: Vec<&str> = log
        .lines()
        .filter(|l| {
            l.starts_with("GET /subscriptions/")
                && l.contains("/providers/Microsoft.Compute/virtualMachines?")
        })
        .collect();
    assert!(!listed.is_empty());
    assert!(listed.iter().all(|l| l.contains(&subs[6])), "{listed:?}");
    // Scale-set instances came from Resource Graph too: no list per scale set.
    let in_sets = doc["vms"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| !v["scale_group"].is_null())
        .count();
    assert_eq!(in_sets, 3, "the seeded scale set's instances");
    assert!(
        !log.contains("/virtualMachineScaleSets/web-vmss/virtualMachines?"),
        "{log}"
    );
}
