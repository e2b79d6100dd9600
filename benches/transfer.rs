//! Benchmark: `drydock transfer` of a 4 GiB raw disk with 40 % data (2 of every 5 MiB) up
//! to and down from moto's EBS direct APIs and Azurite's page blobs (behind the fake
//! Resource Manager), printing wall time, MiB/s of data and the peak RSS of each drydock
//! process; and, side by side, awslabs' `coldsnap` uploading and downloading the same raw
//! file to the same moto, with the ratio drydock / coldsnap. coldsnap is not installed by
//! the test suite: `cargo install coldsnap` once (or point DRYDOCK_BENCH_COLDSNAP at it);
//! without it the comparison is skipped.
//!
//! Run: `cargo bench --bench transfer` (DRYDOCK_BENCH_GIB sets the size, DRYDOCK_BENCH_DIR
//! where the disks go; the input is kept there between runs).

use drydock_testkit::azurite;
use drydock_testkit::fake_arm as server;
use drydock_testkit::measure;
use drydock_testkit::moto;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const MIB: u64 = 1 << 20;
const SUB: &str = "6b1f3c2e-0000-4000-8000-0000000000be";

struct Run {
    secs: f64,
    rss_mb: f64,
    stdout: String,
}

/// Run a command with `env`; wall time, peak RSS and stdout.
fn run(program: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
    let m = measure::measure(
        Command::new(program)
            .args(args)
            .envs(env.iter().copied())
            .stdout(Stdio::piped()),
    );
    assert!(
        m.status == 0,
        "{program} {args:?} failed (status {}): {}",
        m.status,
        m.stdout
    );
    Run {
        secs: m.secs,
        rss_mb: m.maxrss_kib as f64 / 1024.0,
        stdout: m.stdout,
    }
}

/// 2 of every 5 MiB hold pseudo-random data; the rest is holes. Kept between runs.
fn make_input(path: &Path, size: u64) -> u64 {
    let data = (0..size / MIB).filter(|m| m % 5 < 2).count() as u64 * MIB;
    if std::fs::metadata(path).is_ok_and(|m| m.len() == size) {
        return data;
    }
    eprintln!("making {} ...", path.display());
    drydock_testkit::disks::forty_percent(path, size)
}

fn coldsnap() -> Option<String> {
    if let Ok(p) = std::env::var("DRYDOCK_BENCH_COLDSNAP") {
        return Some(p);
    }
    let home = std::env::var("HOME").unwrap_or_default();
    [
        format!("{home}/.cache/coldsnap/bin/coldsnap"),
        format!("{home}/.cargo/bin/coldsnap"),
    ]
    .into_iter()
    .find(|p| Path::new(p).is_file())
}

fn done_event(stdout: &str) -> serde_json::Value {
    serde_json::from_str(stdout.lines().last().unwrap_or("{}")).unwrap_or_default()
}

fn row(what: &str, r: &Run, data: u64) {
    println!(
        "{what:<34} {:>8.2} s {:>8.0} MiB/s {:>8.0} MB",
        r.secs,
        data as f64 / MIB as f64 / r.secs,
        r.rss_mb
    );
}

fn main() {
    let gib: u64 = std::env::var("DRYDOCK_BENCH_GIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4);
    let dir = std::env::var_os("DRYDOCK_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("drydock-transfer-bench"));
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join(format!("input-{gib}g.raw"));
    let data = make_input(&input, gib << 30);
    let moto = moto::MotoServer::start(&[]);
    let azurite = azurite::Azurite::start();
    let rid = |rest: &str| {
        format!("/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/{rest}")
    };
    let arm = server::FakeArm::start(&serde_json::json!({
        "azurite": azurite.seed(),
        "resources": [
            {"id": rid("galleries/g"), "name": "g", "type": "Microsoft.Compute/galleries",
             "location": "westeurope", "properties": {}},
            {"id": rid("galleries/g/images/bench"), "name": "bench",
             "type": "Microsoft.Compute/galleries/images", "location": "westeurope",
             "properties": {"osType": "Linux", "osState": "Generalized", "hyperVGeneration": "V2",
                            "identifier": {"publisher": "p", "offer": "o", "sku": "s"}}}
        ]
    }));
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("config.toml");
    let mut f = std::fs::File::create(&config).unwrap();
    write!(
        f,
        "[[aws.accounts]]\nname = \"bench\"\nregions = [\"eu-west-1\"]\nendpoint_url = \"{}\"\n\n\
         [[azure.subscriptions]]\nid = \"{SUB}\"\nname = \"bench-az\"\nlocations = [\"westeurope\"]\nendpoint = \"{}\"\ncredential = \"token\"\n",
        moto.url, arm.url
    )
    .unwrap();
    let data_dir = home.path().join("data");
    let env = [
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("AWS_REGION", "eu-west-1"),
        ("DRYDOCK_AZURE_TOKEN", "bench"),
        ("DRYDOCK_DATA_DIR", data_dir.to_str().unwrap()),
    ];
    let drydock = env!("CARGO_BIN_EXE_drydock");
    let cfg = config.to_str().unwrap();
    let inp = input.to_str().unwrap();
    let out = dir.join("out.raw");
    let outp = out.to_str().unwrap();
    println!(
        "transfer of a {gib} GiB raw disk with {} MiB of data (40 %)\n{:<34} {:>10} {:>14} {:>11}",
        data / MIB,
        "",
        "wall",
        "data rate",
        "peak RSS"
    );
    let d = |args: &[&str]| {
        let mut all = vec!["--config", cfg, "transfer"];
        all.extend_from_slice(args);
        all.extend(["--events", "jsonl", "--quiet", "--force"]);
        run(drydock, &all, &env)
    };
    let up = d(&[
        inp,
        "aws:bench/eu-west-1",
        "--name",
        "bench-up",
        "--execute",
        "--yes",
    ]);
    row("drydock upload → moto (EBS)", &up, data);
    let ami = done_event(&up.stdout)["created"]
        .as_str()
        .unwrap()
        .to_string();
    let down = d(&[&format!("aws:bench/eu-west-1/{ami}"), outp]);
    row("drydock download ← moto (EBS)", &down, data);
    let az_up = d(&[
        inp,
        "azure:bench-az/westeurope/g/bench",
        "--version",
        "1.0.0",
        "--execute",
        "--yes",
    ]);
    row("drydock upload → Azurite (page blob)", &az_up, data);
    let az_down = d(&["azure:bench-az/westeurope/g/bench/1.0.0", outp]);
    row("drydock download ← Azurite", &az_down, data);
    let _ = std::fs::remove_file(&out);
    let Some(cs) = coldsnap() else {
        println!("coldsnap not found (cargo install coldsnap, or DRYDOCK_BENCH_COLDSNAP): comparison skipped");
        return;
    };
    let mut cs_env = env.to_vec();
    cs_env.push(("AWS_ENDPOINT_URL", moto.url.as_str()));
    let c_up = run(&cs, &["upload", inp], &cs_env);
    row("coldsnap upload → moto", &c_up, data);
    let snap = c_up
        .stdout
        .split_whitespace()
        .last()
        .unwrap_or_default()
        .to_string();
    let c_down = run(&cs, &["download", &snap, outp, "--force"], &cs_env);
    row("coldsnap download ← moto", &c_down, data);
    let _ = std::fs::remove_file(&out);
    println!(
        "drydock / coldsnap wall time: upload {:.2}, download {:.2} (target ≤ 0.8)",
        up.secs / c_up.secs,
        down.secs / c_down.secs
    );
}
