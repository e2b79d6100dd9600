//! The real binary against the fake Azure Resource Manager: `drydock report` over a seeded
//! subscription configured in `[[azure.subscriptions]]` with `credential = "token"`.

use crate::common;

use drydock_testkit::azure_seed as seed;
use drydock_testkit::fake_arm as server;

use common::{drydock, run};

/// The fake, seeded, and a home whose config names it as context `prod-az`.
struct Env {
    fake: server::FakeArm,
    home: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
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
        Env { fake, home }
    }

    /// `drydock ARGS` with the token; (exit code, stdout, stderr).
    fn cmd(&self, args: &[&str]) -> (i32, String, String) {
        run(drydock(self.home.path())
            .env("DRYDOCK_AZURE_TOKEN", "test-token")
            .args(args))
    }

    /// `plan new --family web-base EXTRA --waves 1,100% --grace 0s --undo-window 0s`;
    /// (stdout, the plan id).
    fn new_plan(&self, extra: &[&str]) -> (String, String) {
        let mut args = vec!["plan", "new", "--family", "web-base"];
        args.extend_from_slice(extra);
        args.extend(["--waves", "1,100%", "--grace", "0s", "--undo-window", "0s"]);
        let (code, out, err) = self.cmd(&args);
        assert_eq!(code, 0, "{err}");
        let id = err
            .lines()
            .find_map(|l| l.strip_prefix("wrote "))
            .and_then(|p| std::path::Path::new(p.trim()).file_stem())
            .map(|s| s.to_string_lossy().to_string())
            .expect("plan id");
        (out, id)
    }
}

#[test]
fn report_over_a_seeded_subscription_gives_the_expected_verdicts() {
    let env = Env::new();
    let home = &env.home;
    // Without the token the error says where it should come from.
    let (code, _, err) = run(drydock(home.path()).args(["report"]));
    assert_eq!(code, 2);
    assert!(err.contains("DRYDOCK_AZURE_TOKEN"), "{err}");
    // One gallery refuses its list: the scan is partial, so the report exits 3...
    let (code, _, err) = run(drydock(home.path())
        .env("DRYDOCK_AZURE_TOKEN", "test-token")
        .args(["report", "--format", "json"]));
    assert_eq!(code, 3, "{err}");
    // ...and 0 when the script accepts a partial scan.
    let (code, out, err) = run(drydock(home.path())
        .env("DRYDOCK_AZURE_TOKEN", "test-token")
        .args(["report", "--format", "json", "--allow-partial"]));
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
        doc["summary"]["vms"], 11,
        "web-007 is in eastus, out of scope"
    );
    assert_eq!(doc["vms"][0]["cloud"], "azure");
    // The refused gallery is a problem of the scan, reported and on stderr.
    let problems = doc["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(doc["complete"], false);
    let ctx = &doc["contexts"][0];
    assert_eq!(
        (ctx["context"].as_str(), ctx["state"].as_str()),
        (Some("prod-az"), Some("partial"))
    );
    let failed = ctx["scopes"][0]["failed_calls"].to_string();
    assert!(failed.contains("Gallery"), "{ctx}");
    assert_eq!(ctx["vms"], 11, "{ctx}");
    assert!(
        err.contains("incomplete scan: 1 of 1 contexts") && err.contains("prod-az partial"),
        "{err}"
    );
}

#[test]
fn a_migration_plan_runs_to_completion_on_the_fake() {
    let env = Env::new();
    let (out, id) = env.new_plan(&[]);
    assert!(
        out.contains("web-004") && out.contains("web-vmss_2"),
        "{out}"
    );
    // A loose VM (a replacement launched, health-checked, the old one deleted), a scale-set
    // instance (upgraded in place), then the retire ladder on 2026.9.1.
    let mut status = String::new();
    for _ in 0..4 {
        let (_, _, err) = env.cmd(&["plan", "run", &id, "--execute", "--yes"]);
        status = err;
        if status.contains(": complete") {
            break;
        }
    }
    assert!(
        status.contains(": complete"),
        "{status}\n{}",
        env.fake.log_text()
    );
    // The scale-set instance was upgraded in place: nothing of wave 2 was terminated.
    assert!(
        status.contains("wave 2 committed: 0 old VMs terminated"),
        "{status}"
    );
    let (code, out, err) = env.cmd(&["report", "--format", "json", "--allow-partial"]);
    assert_eq!(code, 0, "{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let vms = doc["vms"].as_array().unwrap();
    let named = |n: &str| {
        vms.iter()
            .find(|v| v["name"].as_str().unwrap_or("").starts_with(n))
    };
    assert!(named("web-004-r").is_some(), "the replacement of web-004");
    assert!(
        vms.iter().all(|v| v["name"] != "web-004"),
        "the old VM is gone"
    );
    let inst = named("web-vmss_2").unwrap();
    assert_eq!(inst["verdict"], "current", "upgraded in place: {inst}");
    assert!(
        vms.iter().all(|v| !v["image_id"]
            .as_str()
            .unwrap()
            .ends_with("/versions/2026.9.1")),
        "nothing runs on the retired version"
    );
    let images = doc["images"].as_array().unwrap();
    assert!(
        images
            .iter()
            .all(|i| !i["id"].as_str().unwrap().ends_with("/versions/2026.9.1")),
        "2026.9.1 deregistered"
    );
}

#[test]
fn the_retire_ladder_refuses_while_a_vm_still_uses_the_version() {
    let env = Env::new();
    let (_, id) = env.new_plan(&[]);
    // Someone launches a VM on the old version behind the plan's back (a PUT to Resource
    // Manager, as the portal would).
    let old = format!(
        "/subscriptions/{}/resourceGroups/rg-images/providers/Microsoft.Compute/galleries/golden/images/web-base/versions/2026.9.1",
        seed::SUB
    );
    let body = serde_json::json!({"location": "westeurope", "properties": {
        "hardwareProfile": {"vmSize": "Standard_B1s"},
        "storageProfile": {"imageReference": {"id": old}}}});
    let path = format!(
        "/subscriptions/{}/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachines/sneaky-001?api-version=2024-07-01",
        seed::SUB
    );
    put(&env.fake.url, &path, &body.to_string());
    let mut last = (0, String::new());
    for _ in 0..4 {
        let (code, _, err) = env.cmd(&["plan", "run", &id, "--execute", "--yes"]);
        last = (code, err);
        if last.1.contains("blocked") {
            break;
        }
    }
    assert_eq!(last.0, 1, "a blocked rung exits 1: {}", last.1);
    assert!(
        last.1.contains("refusing to deprecate") && last.1.contains("sneaky-001"),
        "{}",
        last.1
    );
    // Nothing was retired.
    let (_, out, _) = env.cmd(&["report", "--format", "json", "--images"]);
    assert!(
        out.contains("/versions/2026.9.1"),
        "the version is still there"
    );
}

/// A PUT with a bearer token, over a plain TCP connection (the fake speaks HTTP/1.1).
fn put(base: &str, path: &str, body: &str) {
    use std::io::{Read, Write};
    let addr = base.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "PUT {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer t\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 20"), "{answer}");
}

#[test]
fn a_plan_rebuilds_from_a_builder_vm_rolls_out_repoints_and_stops_at_a_used_version() {
    let env = Env::new();
    let builder = format!(
        "/subscriptions/{}/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachines/web-001",
        seed::SUB
    );
    let (_, id) = env.new_plan(&["--to", "2026.12.1", "--builder-vm", &builder]);
    let (code, _, err) = env.cmd(&["plan", "run", &id, "--execute", "--yes"]);
    // web-003 is deallocated, so no wave replaced it: the ladder refuses to retire the
    // version it still uses, and says so.
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("refusing to deprecate") && err.contains("web-003"),
        "{err}"
    );
    let (_, out, _) = env.cmd(&["report", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let images = doc["images"].as_array().unwrap();
    let new = images
        .iter()
        .find(|i| {
            i["id"]
                .as_str()
                .unwrap()
                .ends_with("/web-base/versions/2026.12.1")
        })
        .expect("the captured version");
    assert_eq!(new["tags"]["drydock:family"], "web-base");
    assert_eq!(new["tags"]["drydock:version"], "2026.12.1");
    let on_new = seed::vms_on(&doc, "/versions/2026.12.1");
    assert!(
        on_new >= 6,
        "loose VMs and scale-set instances rolled onto it: {on_new}"
    );
    // The scale set's model was repointed.
    let snap = env.home.path().join("snap.json");
    let (code, _, err) = env.cmd(&["scan", "-o", snap.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let snap: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&snap).unwrap()).unwrap();
    let model = snap["scale_groups"][0]["model_image_id"].as_str().unwrap();
    assert!(model.ends_with("/versions/2026.12.1"), "{model}");
}

#[test]
fn the_dashboard_shows_an_azure_context_like_an_aws_one() {
    use drydock::tui::Action;
    let (_fake, scanned) = scanned_production_subscription();
    let mut app = scanned.app();
    let s = common::dash::screen(&mut app, 120, 40);
    assert!(s.contains("[PRODUCTION]") && !s.contains("DEMO"), "{s}");
    assert!(s.contains("Fleet 11 / 11"), "{s}");
    // Ids keep their distinguishing rg/name tail, never the subscription's shared prefix.
    let s = common::dash::screen(&mut app, 200, 40);
    assert!(s.contains("rg-web/web-001"), "{s}");
    assert!(!s.contains("/subscriptions/6b1f"), "{s}");
    // The gate knows the Azure context is production: deprecating asks for its name.
    common::dash::press(&mut app, "\u{1b}2/web-base-2026.11\n");
    app.update(Action::Key(crossterm::event::KeyEvent::new(
        crossterm::event::KeyCode::Char('D'),
        crossterm::event::KeyModifiers::NONE,
    )));
    match &app.mode {
        drydock::tui::app::Mode::Confirm(c) => assert_eq!(c.expected.as_deref(), Some("prod-az")),
        m => panic!("no typed confirmation: {m:?} {:?}", app.status),
    }
}

#[test]
fn every_view_and_dialog_fits_the_resource_managers_fleet_at_every_size() {
    let (_fake, scanned) = scanned_production_subscription();
    common::dash::check_every_view(&|| scanned.app());
}

/// The seeded subscription as a production context `prod-az` on a fake Resource Manager,
/// scanned now (the fake kept running).
fn scanned_production_subscription() -> (server::FakeArm, common::dash::Scanned) {
    let fake = server::FakeArm::start(&seed::seed());
    let config: drydock::config::Config = toml::from_str(&format!(
        "[[azure.subscriptions]]\nid = \"{}\"\nname = \"prod-az\"\nlocations = [\"westeurope\"]\nendpoint = \"{}\"\ncredential = \"token\"\nproduction = true\n",
        seed::SUB,
        fake.url
    ))
    .unwrap();
    let provider = drydock_azure::AzureProvider::with_credential(
        config.azure.subscriptions[0].clone(),
        std::sync::Arc::new(drydock_azure::credential::StaticToken::new("t")),
    )
    .unwrap();
    let scanned = common::dash::Scanned::new(config, std::sync::Arc::new(provider));
    (fake, scanned)
}
