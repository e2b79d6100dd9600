//! Glance as a transfer side: a local disk streamed into a new image (qcow2, the site's
//! format, checked by qemu-img), then OpenStack → Azure → local with the bytes unchanged and
//! one build across the clouds; a killed upload leaves no active image and the rerun
//! removes what it left.

use crate::env::{raw_disk, same_disk, Env};
use std::time::{Duration, Instant};

/// A GET of Glance on the fake, with a token: the JSON answer.
fn glance_get(env: &Env, path: &str) -> serde_json::Value {
    env.openstack
        .as_ref()
        .unwrap()
        .get_json(&format!("/image{path}"))
}

fn named(env: &Env, name: &str) -> Vec<serde_json::Value> {
    let all = glance_get(env, &format!("/v2/images?limit=1000&name={name}"));
    all["images"].as_array().cloned().unwrap_or_default()
}

#[test]
fn local_to_openstack_to_azure_to_local_is_one_build_byte_for_byte() {
    let env = Env::with_openstack();
    let raw = env.path("web.raw");
    raw_disk(&raw, 40 << 20, 3, 300);
    // A dry run says what it would create and creates nothing.
    let (code, out, err) = env.cmd(&[
        "transfer",
        "web.raw",
        "openstack:lab-os/RegionOne",
        "--family",
        "web-base",
        "--version",
        "2026.12.5",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("disk_format qcow2"), "{out}");
    assert!(named(&env, "web-base-2026.12.5").is_empty());
    let up = env.transfer(&[
        "web.raw",
        "openstack:lab-os/RegionOne",
        "--family",
        "web-base",
        "--version",
        "2026.12.5",
        "--execute",
        "--yes",
    ]);
    let id = up["created"].as_str().unwrap().to_string();
    let img = glance_get(&env, &format!("/v2/images/{id}"));
    assert_eq!(img["status"], "active");
    assert_eq!(img["disk_format"], "qcow2");
    assert_eq!(img["drydock:family"], "web-base");
    assert!(img["drydock:source"]
        .as_str()
        .unwrap()
        .starts_with("file:web.raw sha256:"));
    // What Glance holds is a valid qcow2 of the disk (qemu-img's word).
    let os = env.openstack.as_ref().unwrap();
    let file = env.path("glance.qcow2");
    let (status, bytes) = os.authed("GET", &format!("/image/v2/images/{id}/file"), b"");
    assert_eq!(status, 200);
    std::fs::write(&file, &bytes).unwrap();
    let check = std::process::Command::new("qemu-img")
        .args(["check", "-f", "qcow2"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(check.status.success(), "{check:?}");
    let cmp = std::process::Command::new("qemu-img")
        .args(["compare", "-f", "raw", "-F", "qcow2"])
        .arg(&raw)
        .arg(&file)
        .status()
        .unwrap();
    assert!(cmp.success(), "qemu-img compare");
    // Only the data went: far less than the virtual size.
    assert!((bytes.len() as u64) < 20 << 20, "{} bytes", bytes.len());

    // OpenStack → Azure: the gallery version is the same build.
    let to_az = env.transfer(&[
        &format!("openstack:lab-os/RegionOne/{id}"),
        "azure:lab-az/westeurope/golden/web-base",
        "--execute",
        "--yes",
    ]);
    assert!(
        to_az["created"]
            .as_str()
            .unwrap()
            .ends_with("/versions/2026.12.5"),
        "{to_az}"
    );
    // Azure → local: the same bytes.
    env.transfer(&[
        "azure:lab-az/westeurope/golden/web-base/2026.12.5",
        "back.raw",
    ]);
    assert!(same_disk(&raw, &env.path("back.raw")), "bytes differ");
    // OpenStack → local too.
    env.transfer(&[&format!("openstack:lab-os/RegionOne/{id}"), "os.raw"]);
    assert!(same_disk(&raw, &env.path("os.raw")), "bytes differ");
    // One build in the report, on both clouds.
    let build = env.build("web-base", "2026.12.5");
    assert_eq!(
        build["clouds"],
        serde_json::json!(["azure", "openstack"]),
        "{build}"
    );
    assert_eq!(build["consistent"], true, "{build}");
}

#[test]
fn a_killed_upload_leaves_no_active_image_and_the_rerun_removes_it() {
    let env = Env::with_openstack();
    raw_disk(&env.path("k.raw"), 256 << 20, 1, 900);
    let args = [
        "transfer",
        "k.raw",
        "openstack:lab-os/RegionOne",
        "--name",
        "killed-os",
        "--execute",
        "--yes",
    ];
    let mut child = env
        .process(&args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !env.openstack_log().contains("BEGIN PUT") {
        assert!(child.try_wait().unwrap().is_none(), "ended before the kill");
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no upload began"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let start = Instant::now();
    while !env.openstack_log().contains("ABORTED PUT") {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{}",
            env.openstack_log()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let left = named(&env, "killed-os");
    assert_eq!(left.len(), 1, "{left:?}");
    assert_ne!(left[0]["status"], "active", "no active image after a kill");
    // The rerun removes the queued image first, then completes.
    let done = env.transfer(&args[1..]);
    let removed = done["removed"].as_array().unwrap();
    assert_eq!(removed.len(), 1, "{done}");
    assert!(removed[0]
        .as_str()
        .unwrap()
        .contains(left[0]["id"].as_str().unwrap()));
    let now = named(&env, "killed-os");
    assert_eq!(now.len(), 1, "{now:?}");
    assert_eq!(now[0]["status"], "active");
}

#[test]
fn a_plan_rebuilds_by_transferring_into_glance_and_rolls_the_servers_onto_it() {
    let env = Env::with_openstack();
    raw_disk(&env.path("golden.raw"), 24 << 20, 2, 128);
    let (code, out, err) = env.cmd(&[
        "plan",
        "new",
        "--family",
        "web-base",
        "--to",
        "2026.12.1",
        "--from",
        "golden.raw",
        "--builder-context",
        "lab-os",
        "--builder-region",
        "RegionOne",
        "--waves",
        "1,100%",
        "--grace",
        "0s",
        "--undo-window",
        "0s",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("by transfer from golden.raw"), "{out}");
    let id = err
        .lines()
        .find_map(|l| l.strip_prefix("wrote "))
        .and_then(|p| std::path::Path::new(p.trim()).file_stem())
        .map(|s| s.to_string_lossy().to_string())
        .expect("plan id");
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
        env.openstack_log()
    );
    let (_, out, _) = env.cmd(&["report", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let web: Vec<&serde_json::Value> = doc["vms"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["family"] == "web-base")
        .collect();
    assert_eq!(web.len(), 3, "{out}");
    for v in web {
        assert_eq!(v["version"], "2026.12.1", "{v}");
        assert_eq!(v["verdict"], "current", "{v}");
    }
}

#[test]
fn a_site_that_takes_only_raw_gets_raw_and_the_same_bytes_back() {
    let env = Env::with_openstack_site(Some(site(
        serde_json::json!({"disk_formats": ["raw", "iso"]}),
    )));
    let raw = env.path("r.raw");
    raw_disk(&raw, 12 << 20, 4, 100);
    let up = env.transfer(&[
        "r.raw",
        "openstack:lab-os/RegionOne",
        "--name",
        "raw-only",
        "--execute",
        "--yes",
    ]);
    let id = up["created"].as_str().unwrap().to_string();
    let img = glance_get(&env, &format!("/v2/images/{id}"));
    assert_eq!(img["disk_format"], "raw");
    assert_eq!(img["size"], 12u64 << 20, "a raw upload is the whole disk");
    env.transfer(&[&format!("openstack:lab-os/RegionOne/{id}"), "back.raw"]);
    assert!(same_disk(&raw, &env.path("back.raw")), "bytes differ");
}

/// A minimal site: the demo's project and application credential, and `extra` keys.
fn site(extra: serde_json::Value) -> serde_json::Value {
    use drydock_testkit::fake_openstack::{APP_CREDENTIAL, PROJECT_ID};
    let mut seed = serde_json::json!({
        "project": {"id": PROJECT_ID, "name": "site"},
        "users": [{"name": "u", "password": "p", "id": "u"}],
        "application_credentials": [{"id": APP_CREDENTIAL.0, "secret": APP_CREDENTIAL.1}],
    });
    for (k, v) in extra.as_object().unwrap() {
        seed[k] = v.clone();
    }
    seed
}

#[test]
fn an_upload_the_store_refuses_leaves_no_image_and_says_which_call_failed() {
    let env = Env::with_openstack_site(Some(site(serde_json::json!({"failing_store": true}))));
    raw_disk(&env.path("f.raw"), 8 << 20, 2, 100);
    let (code, _, err) = env.cmd(&[
        "transfer",
        "f.raw",
        "openstack:lab-os/RegionOne",
        "--name",
        "refused",
        "--execute",
        "--yes",
    ]);
    assert_ne!(code, 0);
    assert!(
        err.contains("PUT /v2/images/{id}/file") && err.contains("503"),
        "{err}"
    );
    assert!(
        named(&env, "refused").is_empty(),
        "the queued image was deleted"
    );
    assert!(env.openstack_log().contains("DELETE /image/v2/images/"));
}

#[test]
fn a_glance_without_virtual_size_is_sized_from_the_qcow2_header() {
    let env = Env::with_openstack_site(Some(site(serde_json::json!({"no_virtual_size": true}))));
    let raw = env.path("v.raw");
    raw_disk(&raw, 10 << 20, 3, 100);
    let up = env.transfer(&[
        "v.raw",
        "openstack:lab-os/RegionOne",
        "--name",
        "unsized",
        "--execute",
        "--yes",
    ]);
    let id = up["created"].as_str().unwrap().to_string();
    assert!(glance_get(&env, &format!("/v2/images/{id}"))["virtual_size"].is_null());
    let down = env.transfer(&[&format!("openstack:lab-os/RegionOne/{id}"), "v-back.raw"]);
    assert_eq!(down["virtual_size"], 10u64 << 20);
    assert!(same_disk(&raw, &env.path("v-back.raw")));
    assert!(
        env.openstack_log().contains("file 206"),
        "a ranged GET read the header"
    );
}
