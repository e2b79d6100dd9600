//! The OpenStack scan against the fake at size: 5,000 servers (250 booted from volumes) and
//! 2,000 images (100 hidden, 50 deactivated), pages of 1,000. Prints the wall time and
//! request count of drydock's scan and of a bare paginated loop of the same calls with the
//! same client (the session's HTTP client and token; JSON not turned into records), and
//! their ratio (target ≤ 1.2).
//!
//! Run: `cargo bench -p drydock-openstack --bench scan` (python3 serves the fake).

use drydock_api::Provider;
use drydock_openstack::scan::{follow, glance_root};
use drydock_openstack::session::{Request, Session};
use drydock_openstack::{OpenStackCloud, OpenStackProvider};
use drydock_testkit::fake_openstack::{FakeOpenStack, APP_CREDENTIAL, PROJECT_ID};
use serde_json::{json, Value};
use std::time::Instant;

const SERVERS: usize = 5000;
const IMAGES: usize = 2000;
const VOLUME_BOOTED: usize = 250;

fn seed() -> Value {
    let images: Vec<Value> = (0..IMAGES)
        .map(|i| {
            json!({"id": format!("11111111-0000-4000-8000-{i:012}"), "name": format!("fam-{}-{i}", i % 20),
                   "drydock:family": format!("fam-{}", i % 20), "drydock:version": format!("1.{i}"),
                   "os_distro": "ubuntu", "hw_disk_bus": "virtio", "tags": ["golden"],
                   "os_hidden": i % 20 == 1, "status": if i % 40 == 2 { "deactivated" } else { "active" },
                   "created_at": "2026-10-01T00:00:00Z"})
        })
        .collect();
    let volumes: Vec<Value> = (0..VOLUME_BOOTED)
        .map(|v| {
            json!({"id": format!("22222222-0000-4000-8000-{v:012}"), "bootable": "true", "size": 20,
                   "volume_image_metadata": {"image_id": format!("11111111-0000-4000-8000-{:012}", v % IMAGES)}})
        })
        .collect();
    let servers: Vec<Value> = (0..SERVERS)
        .map(|s| {
            let mut v = json!({"id": format!("33333333-0000-4000-8000-{s:012}"), "name": format!("vm-{s:05}"),
                "image": format!("11111111-0000-4000-8000-{:012}", s % IMAGES), "flavor": "m1.small",
                "metadata": {"app": "web", "drydock:plan": "p"}, "tags": ["prod"],
                "networks": {"private": ["10.0.0.1"]}});
            if s < VOLUME_BOOTED {
                v["image"] = json!("");
                v["boot_volume"] = json!(format!("22222222-0000-4000-8000-{s:012}"));
            }
            v
        })
        .collect();
    json!({"project": {"id": PROJECT_ID, "name": "bench"},
           "users": [{"name": "u", "password": "p", "id": "u"}],
           "application_credentials": [{"id": APP_CREDENTIAL.0, "secret": APP_CREDENTIAL.1}],
           "flavors": [{"id": "m1.small", "name": "m1.small"}],
           "images": images, "volumes": volumes, "servers": servers})
}

fn requests(fake: &FakeOpenStack) -> usize {
    fake.log_text()
        .lines()
        .filter(|l| l.starts_with("GET ") || l.starts_with("POST "))
        .count()
}

fn cloud(fake: &FakeOpenStack) -> OpenStackCloud {
    toml::from_str(&format!(
        "name = \"bench\"\nauth_url = \"{}\"\napplication_credential_id = \"{}\"\napplication_credential_secret = \"{}\"\nregions = [\"RegionOne\"]\n",
        fake.auth_url(),
        APP_CREDENTIAL.0,
        APP_CREDENTIAL.1
    ))
    .unwrap()
}

/// The same calls as a plain loop: every page of servers, of images and of hidden images,
/// then each boot volume, one after another.
async fn bare(s: &Session) -> usize {
    let mut items = 0;
    let compute = s.endpoint("compute", "RegionOne").await.unwrap();
    let image = s.endpoint("image", "RegionOne").await.unwrap();
    let volume = s.endpoint("volume", "RegionOne").await.unwrap();
    let root = glance_root(&image).to_string();
    let mut url = format!("{compute}/servers/detail?limit=1000");
    let mut volumes = Vec::new();
    loop {
        let page: Value = s
            .json(Request::get(&url, "servers", "bench"))
            .await
            .unwrap();
        for srv in page["servers"].as_array().unwrap() {
            items += 1;
            if srv["image"] == "" {
                volumes.push(
                    srv["os-extended-volumes:volumes_attached"][0]["id"]
                        .as_str()
                        .unwrap()
                        .to_string(),
                );
            }
        }
        match page["servers_links"]
            .as_array()
            .and_then(|l| l.iter().find(|l| l["rel"] == "next"))
        {
            Some(n) => url = n["href"].as_str().unwrap().to_string(),
            None => break,
        }
    }
    for extra in ["", "&os_hidden=true"] {
        let mut url = format!("{root}/v2/images?limit=1000{extra}");
        loop {
            let page: Value = s.json(Request::get(&url, "images", "bench")).await.unwrap();
            items += page["images"].as_array().unwrap().len();
            match page["next"].as_str() {
                Some(n) => url = follow(&root, n),
                None => break,
            }
        }
    }
    for v in volumes {
        let url = format!("{volume}/volumes/{v}");
        let _: Value = s.json(Request::get(&url, "volume", &v)).await.unwrap();
        items += 1;
    }
    items
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut rows = Vec::new();
    for run in 0..3 {
        let fake = FakeOpenStack::start(&seed());
        let p = OpenStackProvider::new(&cloud(&fake), &|_| None).unwrap();
        let t = Instant::now();
        let r = rt.block_on(p.scan(&|_| {})).unwrap();
        let ours = t.elapsed().as_secs_f64();
        let ours_req = requests(&fake);
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        assert_eq!(r.vms.len(), SERVERS);
        assert_eq!(r.images.len(), IMAGES);
        assert!(r.vms.iter().all(|v| !v.image_id.is_empty()));
        drop(fake);
        let fake = FakeOpenStack::start(&seed());
        let q = OpenStackProvider::new(&cloud(&fake), &|_| None).unwrap();
        let t = Instant::now();
        let items = rt.block_on(bare(q.session()));
        let plain = t.elapsed().as_secs_f64();
        let plain_req = requests(&fake);
        println!(
            "run {run}: drydock scan {ours:.2} s, {ours_req} requests; bare loop {plain:.2} s, {plain_req} requests ({items} items); ratio {:.2}",
            ours / plain
        );
        rows.push(ours / plain);
    }
    rows.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let median = rows[rows.len() / 2];
    println!(
        "median ratio {median:.2} (target <= 1.2: {})",
        if median <= 1.2 { "met" } else { "NOT met" }
    );
}
