//! The provider against the fake OpenStack's demo site: auth by each method, the scan's
//! records, and every mutation round-tripped (applied, then seen by a new scan or GET);
//! dry runs change nothing.

use drydock_api::{ImageState, Operation, OperationOutcome, Provider, ScanResult, Tags, VmHealth};
use drydock_openstack::{OpenStackCloud, OpenStackProvider};
use drydock_testkit::fake_openstack::{self as fake, FakeOpenStack};

const WEB_1: &str = "33333333-0000-4000-8000-000000000001";
const WEB_2: &str = "33333333-0000-4000-8000-000000000002";
const WEB_3: &str = "33333333-0000-4000-8000-000000000003";
const V_0801: &str = "11111111-0000-4000-8000-000000000004";
const V_1001: &str = "11111111-0000-4000-8000-000000000002";
const V_1101: &str = "11111111-0000-4000-8000-000000000003";

fn inline(site: &FakeOpenStack) -> OpenStackCloud {
    toml::from_str(&format!(
        "name = \"site\"\nauth_url = \"{}\"\napplication_credential_id = \"{}\"\napplication_credential_secret_env = \"SITE_SECRET\"\nregions = [\"RegionOne\"]\n",
        site.auth_url(),
        fake::APP_CREDENTIAL.0
    ))
    .unwrap()
}

fn provider(site: &FakeOpenStack) -> OpenStackProvider {
    let env = |k: &str| (k == "SITE_SECRET").then(|| fake::APP_CREDENTIAL.1.to_string());
    OpenStackProvider::new(&inline(site), &env).unwrap()
}

async fn scan(p: &OpenStackProvider) -> ScanResult {
    let r = p.scan(&|_| {}).await.unwrap();
    assert!(r.problems.is_empty(), "{:?}", r.problems);
    r
}

fn image<'a>(r: &'a ScanResult, id: &str) -> &'a drydock_api::Image {
    r.images.iter().find(|i| i.id == id).expect(id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clouds_yaml_password_auth_scans_the_demo_site() {
    let site = FakeOpenStack::demo();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("clouds.yaml");
    std::fs::write(
        &file,
        format!(
            "clouds:\n  site:\n    auth:\n      auth_url: {}\n      username: {}\n      password: {}\n      project_id: {}\n      user_domain_name: Default\n    region_name: RegionOne\n",
            site.url.clone() + "/identity",
            fake::USER,
            fake::PASSWORD,
            fake::PROJECT_ID
        ),
    )
    .unwrap();
    let cfg: OpenStackCloud = toml::from_str("cloud = \"site\"").unwrap();
    let path = file.display().to_string();
    let env = move |k: &str| (k == "OS_CLIENT_CONFIG_FILE").then(|| path.clone());
    let p = OpenStackProvider::new(&cfg, &env).unwrap();
    let r = scan(&p).await;
    assert_eq!(r.vms.len(), 5);
    assert_eq!(r.images.len(), 6, "hidden images are listed too");
    let vm = |name: &str| r.vms.iter().find(|v| v.name == name).unwrap();
    // The server booted from a volume names the volume's image.
    assert_eq!(vm("web-3").image_id.as_str(), V_1001);
    assert_eq!(vm("web-3").size.as_str(), "m1.large");
    assert_eq!(vm("batch-1").boot_config, vec!["user data".to_string()]);
    assert_eq!(vm("web-1").tags.get("tag:prod"), Some("true"));
    assert_eq!(image(&r, V_0801).state, ImageState::Disabled);
    assert_eq!(
        image(&r, "11111111-0000-4000-8000-000000000005").state,
        ImageState::Deprecated
    );
    let vendor = image(&r, "11111111-0000-4000-8000-000000000001");
    assert!(vendor.vendor);
    let grid = image(&r, "11111111-0000-4000-8000-000000000006");
    assert!(grid.vendor);
    assert_eq!(grid.tags.get("dc:identifier"), Some("centos-9-1"));
    assert_eq!(
        image(&r, V_1101).tags.get("drydock:family"),
        Some("web-base")
    );
    assert!(image(&r, V_1101).tags.get("os_hash_value").is_some());
    assert_eq!(r.outcomes.len(), 1);
    // A wrong password is an auth error naming Keystone, never the password.
    std::fs::write(
        &file,
        std::fs::read_to_string(&file)
            .unwrap()
            .replace("password: secret", "password: wrong"),
    )
    .unwrap();
    let path = file.display().to_string();
    let env = move |k: &str| (k == "OS_CLIENT_CONFIG_FILE").then(|| path.clone());
    let r = OpenStackProvider::new(&cfg, &env)
        .unwrap()
        .scan(&|_| {})
        .await
        .unwrap();
    let msg = &r.problems[0].message;
    assert!(
        msg.contains("POST /v3/auth/tokens") && msg.contains("401"),
        "{msg}"
    );
    assert!(msg.contains("password") && !msg.contains("wrong"), "{msg}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_mutation_round_trips_and_dry_runs_change_nothing() {
    let site = FakeOpenStack::demo();
    let p = provider(&site);
    let before = site.log_text().lines().count();
    // Dry runs read only.
    for op in [
        Operation::Tag {
            resource: V_1101.into(),
            tags: Tags::from([("drydock:owner", "team-a")]),
        },
        Operation::Disable {
            image: V_1101.into(),
        },
        Operation::Terminate { vm: WEB_1.into() },
        Operation::LaunchReplacement {
            replaces: WEB_2.into(),
            image: V_1101.into(),
            client_token: "t1".into(),
            tags: Tags::new(),
        },
    ] {
        assert_eq!(
            p.apply(&op, true).await.unwrap(),
            OperationOutcome::WouldSucceed,
            "{op}"
        );
    }
    let log = site.log_text();
    let calls: Vec<&str> = log.lines().skip(before).collect();
    assert!(
        calls
            .iter()
            .all(|l| l.starts_with("GET ") || l.starts_with("POST /identity")),
        "{calls:?}"
    );

    // Properties and tags on an image and a server.
    let tags = Tags::from([("drydock:owner", "team-a"), ("tag:reviewed", "true")]);
    p.apply(
        &Operation::Tag {
            resource: V_1101.into(),
            tags: tags.clone(),
        },
        false,
    )
    .await
    .unwrap();
    p.apply(
        &Operation::Tag {
            resource: WEB_1.into(),
            tags,
        },
        false,
    )
    .await
    .unwrap();
    let r = scan(&p).await;
    let img = image(&r, V_1101);
    assert_eq!(img.tags.get("drydock:owner"), Some("team-a"));
    assert_eq!(img.tags.get("tag:reviewed"), Some("true"));
    let web1 = r.vms.iter().find(|v| v.id == WEB_1).unwrap();
    assert_eq!(web1.tags.get("drydock:owner"), Some("team-a"));
    assert_eq!(web1.tags.get("tag:reviewed"), Some("true"));

    // Capture from a builder server: active, with provenance, and idempotent by token.
    let capture = Operation::CreateImage {
        source_vm: WEB_1.into(),
        name: "web-base-2026.12.1".into(),
        tags: Tags::from([
            ("drydock:family", "web-base"),
            ("drydock:version", "2026.12.1"),
        ]),
        client_token: "cap-1".into(),
    };
    let OperationOutcome::Done { created: Some(new) } = p.apply(&capture, false).await.unwrap()
    else {
        panic!("a capture names its image")
    };
    assert_eq!(
        p.apply(&capture, false).await.unwrap(),
        OperationOutcome::Done {
            created: Some(new.clone())
        },
        "the same token makes no second image"
    );
    let r = scan(&p).await;
    let made = image(&r, &new);
    assert_eq!(made.state, ImageState::Available);
    assert_eq!(made.tags.get("drydock:version"), Some("2026.12.1"));

    // Launch a replacement like the old server, idempotent by its token.
    let launch = Operation::LaunchReplacement {
        replaces: WEB_3.into(),
        image: new.clone(),
        client_token: "wave-1".into(),
        tags: Tags::from([("drydock:plan", "p1")]),
    };
    let OperationOutcome::Done {
        created: Some(repl),
    } = p.apply(&launch, false).await.unwrap()
    else {
        panic!("a launch names its server")
    };
    assert_eq!(
        p.apply(&launch, false).await.unwrap(),
        OperationOutcome::Done {
            created: Some(repl.clone())
        }
    );
    let r = scan(&p).await;
    let vm = r.vms.iter().find(|v| v.id == repl.as_str()).unwrap();
    assert_eq!(vm.tags.get("drydock:replaces"), Some(WEB_3));
    assert_eq!(vm.tags.get("drydock:plan"), Some("p1"));
    assert_eq!(
        vm.image_id.as_str(),
        new,
        "booted from a volume made from the image"
    );
    assert_eq!(vm.size.as_str(), "m1.large");
    assert_eq!(p.vm_health(&repl).await.unwrap(), VmHealth::Healthy);

    // Deprecate hides; disable deactivates; deregister refuses while servers run it.
    p.apply(
        &Operation::Deprecate {
            image: V_1001.into(),
            at: chrono::Utc::now(),
        },
        false,
    )
    .await
    .unwrap();
    p.apply(
        &Operation::Disable {
            image: V_1001.into(),
        },
        false,
    )
    .await
    .unwrap();
    let err = p
        .apply(
            &Operation::Deregister {
                image: V_1001.into(),
            },
            false,
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("web-3"), "{err}");
    let r = scan(&p).await;
    assert_eq!(image(&r, V_1001).state, ImageState::Disabled);
    assert!(image(&r, V_1001).deprecation_time.is_some());

    // The old server goes; then the image can.
    p.apply(&Operation::Terminate { vm: WEB_3.into() }, false)
        .await
        .unwrap();
    assert_eq!(p.vm_health(WEB_3).await.unwrap(), VmHealth::Gone);
    p.apply(
        &Operation::Deregister {
            image: V_1001.into(),
        },
        false,
    )
    .await
    .unwrap();
    let r = scan(&p).await;
    assert!(r.images.iter().all(|i| i.id != V_1001));
    assert!(r.vms.iter().all(|v| v.id != WEB_3));
    // Scale-group operations are not OpenStack's.
    let err = p
        .apply(
            &Operation::Repoint {
                resource: "x".into(),
                image: new,
            },
            true,
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind, drydock_api::ProviderErrorKind::Unsupported);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_auth_from_clouds_yaml_scans_too() {
    let site = FakeOpenStack::demo();
    let token = site.token();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("clouds.yml");
    std::fs::write(
        &file,
        format!(
            "clouds:\n  site:\n    auth_type: v3token\n    auth:\n      auth_url: {}\n      token: {token}\n      project_id: {}\n    regions: [RegionOne]\n    interface: internal\n",
            site.auth_url(),
            fake::PROJECT_ID
        ),
    )
    .unwrap();
    let path = file.display().to_string();
    let env = move |k: &str| (k == "OS_CLIENT_CONFIG_FILE").then(|| path.clone());
    let cfg: OpenStackCloud = toml::from_str("cloud = \"site\"").unwrap();
    let p = OpenStackProvider::new(&cfg, &env).unwrap();
    assert!(!format!("{:?}", cfg).contains(&token));
    let r = scan(&p).await;
    assert_eq!(r.vms.len(), 5);
    // A region the catalog lacks is that region's failure, named.
    let cfg: OpenStackCloud = toml::from_str("cloud = \"site\"\nregions = [\"Nowhere\"]").unwrap();
    let path = file.display().to_string();
    let env = move |k: &str| (k == "OS_CLIENT_CONFIG_FILE").then(|| path.clone());
    let r = OpenStackProvider::new(&cfg, &env)
        .unwrap()
        .scan(&|_| {})
        .await
        .unwrap();
    assert!(
        r.problems[0].message.contains("no compute endpoint")
            && r.problems[0].message.contains("Nowhere"),
        "{:?}",
        r.problems
    );
}
