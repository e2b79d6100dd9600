//! The real binary against the fake OpenStack's demo site, configured the OpenStack way: a
//! `[[openstack.clouds]]` entry naming a cloud of `~/.config/openstack/clouds.yaml`, with
//! its password in `secure.yaml`. Verdicts for every seeded server (an image-list entry
//! matched by its `dc:identifier`), and plans end to end.

use crate::common;

use common::{drydock, run, NOW};
use drydock_testkit::fake_openstack::{self as fake, FakeOpenStack};
use serde_json::Value;

/// The fake and a home whose config names it as context `site`.
pub struct Env {
    pub fake: FakeOpenStack,
    pub home: tempfile::TempDir,
}

impl Env {
    pub fn new() -> Env {
        let fake = FakeOpenStack::demo();
        let home = tempfile::tempdir().unwrap();
        let os = home.path().join(".config/openstack");
        std::fs::create_dir_all(&os).unwrap();
        std::fs::write(
            os.join("clouds.yaml"),
            format!(
                "clouds:\n  site:\n    auth:\n      auth_url: {}/identity\n      username: {}\n      project_id: {}\n      user_domain_name: Default\n    region_name: RegionOne\n",
                fake.url,
                fake::USER,
                fake::PROJECT_ID
            ),
        )
        .unwrap();
        std::fs::write(
            os.join("secure.yaml"),
            format!(
                "clouds:\n  site:\n    auth:\n      password: {}\n",
                fake::PASSWORD
            ),
        )
        .unwrap();
        let list = home.path().join("egi.list");
        let expires =
            chrono::DateTime::parse_from_rfc3339(NOW).unwrap() + chrono::Duration::days(30);
        std::fs::write(
            &list,
            serde_json::json!({"hv:imagelist": {
                "dc:title": "EGI", "hv:version": "42", "dc:date:created": NOW,
                "dc:date:expires": expires.to_rfc3339(), "dc:identifier": "list-uuid",
                "hv:images": [{"hv:image": {"dc:identifier": "centos-9-1", "dc:title": "CentOS 9",
                    "hv:version": "1", "ad:mpuri": "https://appdb.egi.eu/store/vm/image/centos-9:1/"}}]}})
            .to_string(),
        )
        .unwrap();
        let cfg = home.path().join("config/drydock");
        std::fs::create_dir_all(&cfg).unwrap();
        std::fs::write(
            cfg.join("config.toml"),
            format!(
                "[[openstack.clouds]]\ncloud = \"site\"\n\n[[policy.image_lists]]\nname = \"egi\"\nsource = {:?}\n",
                list.display().to_string()
            ),
        )
        .unwrap();
        Env { fake, home }
    }

    pub fn cmd(&self, args: &[&str]) -> (i32, String, String) {
        run(drydock(self.home.path()).args(args))
    }

    fn report(&self) -> Value {
        let (code, out, err) = self.cmd(&["report", "--format", "json"]);
        assert_eq!(code, 0, "{err}");
        serde_json::from_str(&out).unwrap()
    }

    fn new_plan(&self, extra: &[&str]) -> String {
        let mut args = vec!["plan", "new", "--family", "web-base"];
        args.extend_from_slice(extra);
        args.extend(["--waves", "1,100%", "--grace", "0s", "--undo-window", "0s"]);
        let (code, _, err) = self.cmd(&args);
        assert_eq!(code, 0, "{err}");
        err.lines()
            .find_map(|l| l.strip_prefix("wrote "))
            .and_then(|p| std::path::Path::new(p.trim()).file_stem())
            .map(|s| s.to_string_lossy().to_string())
            .expect("plan id")
    }
}

fn vm<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["vms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == name)
        .unwrap_or_else(|| panic!("no VM {name}"))
}

#[test]
fn report_gives_every_seeded_server_its_verdict() {
    let env = Env::new();
    let doc = env.report();
    let want = [
        ("web-1", "current", "golden"),
        ("web-2", "revoked", "golden"),
        ("web-3", "behind", "golden"),
        ("batch-1", "unmanaged", "dynamic"),
        ("grid-1", "current", "base"),
    ];
    assert_eq!(doc["vms"].as_array().unwrap().len(), want.len());
    for (name, verdict, class) in want {
        let v = vm(&doc, name);
        assert_eq!(v["verdict"], verdict, "{name}: {v}");
        assert_eq!(v["class"], class, "{name}: {v}");
        assert_eq!(v["cloud"], "openstack", "{name}");
    }
    // The boot-from-volume server is judged by its volume's image.
    assert_eq!(
        vm(&doc, "web-3")["image_id"],
        "11111111-0000-4000-8000-000000000002"
    );
    assert!(vm(&doc, "web-2")["reason"]
        .as_str()
        .unwrap()
        .contains("disabled"));
    assert!(vm(&doc, "grid-1")["reason"]
        .as_str()
        .unwrap()
        .contains("image list egi"));
    // Password auth from secure.yaml, found under ~/.config/openstack; one token for all.
    let log = env.fake.log_text();
    assert_eq!(
        log.lines()
            .filter(|l| l.starts_with("POST /identity/v3/auth/tokens 201"))
            .count(),
        1,
        "{log}"
    );
}

#[test]
fn a_plan_rebuilds_from_a_builder_server_rolls_out_and_retires_the_old_versions() {
    let env = Env::new();
    let builder = "33333333-0000-4000-8000-000000000001";
    let id = env.new_plan(&["--to", "2026.12.1", "--builder-vm", builder]);
    // A dry run changes nothing.
    let before = env.fake.log_text();
    let (code, _, err) = env.cmd(&["plan", "run", &id]);
    assert_eq!(code, 0, "{err}");
    let during = env.fake.log_text();
    assert!(
        during[before.len()..]
            .lines()
            .all(|l| l.starts_with("GET ") || l.starts_with("POST /identity")),
        "{}",
        &during[before.len()..]
    );
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
    let doc = env.report();
    let images = doc["images"].as_array().unwrap();
    let new = images
        .iter()
        .find(|i| i["tags"]["drydock:version"] == "2026.12.1")
        .expect("the captured version");
    assert_eq!(new["tags"]["drydock:family"], "web-base");
    let new_id = new["id"].as_str().unwrap();
    // Every web server now runs the new version; the old ones are replaced, not kept.
    let web: Vec<&Value> = doc["vms"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["family"] == "web-base")
        .collect();
    assert_eq!(web.len(), 3, "{web:?}");
    for v in &web {
        assert_eq!(v["image_id"], new_id, "{v}");
        assert_eq!(v["verdict"], "current", "{v}");
    }
    for old in ["web-2", "web-3"] {
        assert!(doc["vms"]
            .as_array()
            .unwrap()
            .iter()
            .all(|v| v["name"] != old));
    }
    // The retire ladder deleted the versions nothing runs any more.
    for gone in [
        "11111111-0000-4000-8000-000000000002",
        "11111111-0000-4000-8000-000000000004",
    ] {
        assert!(images.iter().all(|i| i["id"] != gone), "{gone} retired");
    }
}

/// The demo site as production context `site`, scanned now (the fake kept running).
fn scanned_site() -> (FakeOpenStack, common::dash::Scanned) {
    let fake = FakeOpenStack::demo();
    let config: drydock::config::Config = toml::from_str(&format!(
        "[[openstack.clouds]]\nname = \"site\"\nauth_url = \"{}\"\napplication_credential_id = \"{}\"\napplication_credential_secret = \"{}\"\nproduction = true\n",
        fake.auth_url(),
        fake::APP_CREDENTIAL.0,
        fake::APP_CREDENTIAL.1
    ))
    .unwrap();
    let provider =
        drydock_openstack::OpenStackProvider::new(&config.openstack.clouds[0], &|_| None).unwrap();
    let scanned = common::dash::Scanned::new(config, std::sync::Arc::new(provider));
    (fake, scanned)
}

#[test]
fn the_dashboard_shows_an_openstack_context_like_the_others() {
    use drydock::tui::Action;
    let (_fake, scanned) = scanned_site();
    let mut app = scanned.app();
    let s = common::dash::screen(&mut app, 160, 40);
    assert!(s.contains("[PRODUCTION]") && !s.contains("DEMO"), "{s}");
    assert!(s.contains("Fleet 5 / 5"), "{s}");
    assert!(s.contains("web-3") && s.contains("openstack"), "{s}");
    // The gate knows the context is production: deprecating asks for its name.
    common::dash::press(&mut app, "\u{1b}2/web-base-2026.10\n");
    app.update(Action::Key(crossterm::event::KeyEvent::new(
        crossterm::event::KeyCode::Char('D'),
        crossterm::event::KeyModifiers::NONE,
    )));
    match &app.mode {
        drydock::tui::app::Mode::Confirm(c) => assert_eq!(c.expected.as_deref(), Some("site")),
        m => panic!("no typed confirmation: {m:?} {:?}", app.status),
    }
}

#[test]
fn every_view_and_dialog_fits_the_sites_fleet_at_every_size() {
    let (_fake, scanned) = scanned_site();
    common::dash::check_every_view(&|| scanned.app());
}
