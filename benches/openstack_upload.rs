//! Benchmark: `drydock transfer` of a 1 GiB qcow2 with 40 % data (2 of every 5 MiB) into
//! Glance (the fake OpenStack), against `curl -T` of the same bytes (the qcow2 drydock sent,
//! fetched back from Glance) to the same endpoint (`PUT /v2/images/{id}/file` of a queued
//! image). Prints each run's wall time and the median ratio drydock / curl (target ≤ 1.2).
//!
//! The fake and the client (drydock or curl) are pinned to different CPUs (`taskset`), as a
//! cloud's image service and an operator's machine would be: on a 2-core machine they would
//! otherwise take turns on the same cores, and drydock's own hashing (the SHA-256 of the
//! virtual disk for its provenance, the SHA-512 that verifies Glance's `os_hash_value`),
//! which curl does not do, would be counted against it twice. `DRYDOCK_BENCH_PIN=0` runs
//! them unpinned.
//!
//! Run: `cargo bench --bench openstack_upload` (needs qemu-img, curl and taskset;
//! DRYDOCK_BENCH_DIR says where the disks go; the input is kept there between runs).

use drydock_testkit::fake_openstack::{FakeOpenStack, APP_CREDENTIAL};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const MIB: u64 = 1 << 20;
const SIZE: u64 = 1 << 30;

/// 2 of every 5 MiB hold pseudo-random data; the rest is holes; then qemu-img makes the
/// qcow2. Kept between runs.
fn make_input(dir: &Path) -> PathBuf {
    let qcow = dir.join("input-1g.qcow2");
    if qcow.is_file() {
        return qcow;
    }
    let raw = dir.join("input-1g.raw");
    drydock_testkit::disks::forty_percent(&raw, SIZE);
    let ok = Command::new("qemu-img")
        .args(["convert", "-O", "qcow2"])
        .arg(&raw)
        .arg(&qcow)
        .status()
        .unwrap()
        .success();
    assert!(ok, "qemu-img convert");
    std::fs::remove_file(&raw).unwrap();
    qcow
}

/// Glance on the fake, by its raw HTTP helpers.
struct Glance<'a> {
    fake: &'a FakeOpenStack,
    token: String,
}

impl Glance<'_> {
    fn base(&self) -> String {
        format!("{}/image/v2/images", self.fake.url)
    }

    fn create(&self, name: &str) -> String {
        let body =
            serde_json::json!({"name": name, "disk_format": "qcow2", "container_format": "bare"});
        let (status, body) =
            self.fake
                .authed("POST", "/image/v2/images", body.to_string().as_bytes());
        assert_eq!(status, 201);
        let r: serde_json::Value = serde_json::from_slice(&body).unwrap();
        r["id"].as_str().unwrap().to_string()
    }

    fn fetch(&self, id: &str, to: &Path) {
        let (status, bytes) = self
            .fake
            .authed("GET", &format!("/image/v2/images/{id}/file"), b"");
        assert_eq!(status, 200);
        std::fs::write(to, &bytes).unwrap();
    }

    fn status(&self, id: &str) -> String {
        let r = self.fake.get_json(&format!("/image/v2/images/{id}"));
        r["status"].as_str().unwrap_or("").to_string()
    }

    fn delete(&self, id: &str) {
        self.fake
            .authed("DELETE", &format!("/image/v2/images/{id}"), b"");
    }
}

/// `curl -T FILE` into queued image `target`; its wall time.
fn curl_put(mut curl: Command, glance: &Glance, target: &str, file: &Path) -> f64 {
    let t = Instant::now();
    let ok = curl
        .args(["-sS", "-f", "-X", "PUT", "-T"])
        .arg(file)
        .args(["-H", &format!("X-Auth-Token: {}", glance.token)])
        .args(["-H", "Content-Type: application/octet-stream"])
        .arg(format!("{}/{target}/file", glance.base()))
        .status()
        .unwrap()
        .success();
    assert!(ok, "curl -T");
    t.elapsed().as_secs_f64()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn main() {
    let dir = std::env::var_os("DRYDOCK_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("drydock-openstack-bench"));
    std::fs::create_dir_all(&dir).unwrap();
    let input = make_input(&dir);
    let fake = FakeOpenStack::demo();
    let pin = std::env::var("DRYDOCK_BENCH_PIN").map_or(true, |v| v != "0")
        && std::thread::available_parallelism().map_or(1, |n| n.get()) >= 2;
    if pin {
        let ok = Command::new("taskset")
            .args(["-p", "-c", "0", &fake.pid().to_string()])
            .stdout(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "taskset -p -c 0 (the fake)");
    }
    // The client's command: on CPU 1 when pinned.
    let client = |program: &str| {
        if pin {
            let mut c = Command::new("taskset");
            c.args(["-c", "1", program]);
            c
        } else {
            Command::new(program)
        }
    };
    let glance = Glance {
        fake: &fake,
        token: fake.token(),
    };
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[[openstack.clouds]]\nname = \"bench\"\nauth_url = \"{}\"\napplication_credential_id = \"{}\"\napplication_credential_secret = \"{}\"\nregions = [\"RegionOne\"]\n",
            fake.auth_url(),
            APP_CREDENTIAL.0,
            APP_CREDENTIAL.1
        ),
    )
    .unwrap();
    let drydock = env!("CARGO_BIN_EXE_drydock");
    let sent = dir.join("sent.qcow2");
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    // Seven runs, taking turns at going first (the machine's noise is large); the first is
    // drydock's, whose bytes curl sends.
    for run in 0..7 {
        let curl_first = run % 2 == 1;
        let target = glance.create(&format!("curl-{run}"));
        let curl_before = curl_first.then(|| curl_put(client("curl"), &glance, &target, &sent));
        let t = Instant::now();
        let out = client(drydock)
            .env("DRYDOCK_DATA_DIR", home.path().join("data"))
            .arg("--config")
            .arg(&config)
            .args(["transfer"])
            .arg(&input)
            .args(["openstack:bench/RegionOne", "--name"])
            .arg(format!("bench-{run}"))
            .args(["--execute", "--yes", "--events", "jsonl"])
            .output()
            .unwrap();
        let secs = t.elapsed().as_secs_f64();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        let done: serde_json::Value =
            serde_json::from_str(stdout.lines().last().unwrap_or("{}")).unwrap();
        let id = done["created"].as_str().unwrap().to_string();
        glance.fetch(&id, &sent);
        glance.delete(&id);
        let bytes = std::fs::metadata(&sent).unwrap().len();
        // The same bytes with curl, into a queued image of the same endpoint.
        let curl = match curl_before {
            Some(c) => c,
            None => curl_put(client("curl"), &glance, &target, &sent),
        };
        assert_eq!(glance.status(&target), "active");
        glance.delete(&target);
        println!(
            "run {run}: drydock transfer {secs:.2} s, curl -T {curl:.2} s ({:.0} MiB sent of a {} MiB disk); ratio {:.2}",
            bytes as f64 / MIB as f64,
            SIZE / MIB,
            secs / curl
        );
        ours.push(secs);
        theirs.push(curl);
    }
    let ratio = median(ours.clone()) / median(theirs.clone());
    println!(
        "median ({}): drydock {:.2} s, curl {:.2} s; ratio {ratio:.2} (target <= 1.2: {})",
        if pin {
            "fake on CPU 0, client on CPU 1"
        } else {
            "unpinned"
        },
        median(ours),
        median(theirs),
        if ratio <= 1.2 { "met" } else { "NOT met" }
    );
}
