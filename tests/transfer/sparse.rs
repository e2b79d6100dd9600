//! Sparse disks send only their data (counted at moto and Azurite), and a transfer killed
//! with SIGKILL leaves no registered image; the next transfer removes what it left.

use crate::env::Env;
use std::io::{Seek, SeekFrom, Write};
use std::path::Path;
use std::time::{Duration, Instant};

const MIB: u64 = 1 << 20;

/// A disk of `mibs` MiB where MiB `m` is full of data when `m % 5 < 2` (40 %).
fn forty_percent(path: &Path, mibs: u64) -> Vec<bool> {
    let f = std::fs::File::create(path).unwrap();
    f.set_len(mibs * MIB).unwrap();
    let mut w = std::io::BufWriter::with_capacity(4 << 20, f);
    let mut buf = vec![0u8; MIB as usize];
    let data: Vec<bool> = (0..mibs).map(|m| m % 5 < 2).collect();
    for (m, _) in data.iter().enumerate().filter(|(_, &d)| d) {
        for (i, b) in buf.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(31) ^ (m as u8) | 0x80;
        }
        w.seek(SeekFrom::Start(m as u64 * MIB)).unwrap();
        w.write_all(&buf).unwrap();
    }
    w.flush().unwrap();
    data
}

/// Put Page calls for data MiBs: maximal runs, cut at every 4 MiB.
fn page_runs(data: &[bool]) -> usize {
    let mut runs = 0;
    for (m, &d) in data.iter().enumerate() {
        let starts = d && (m % 4 == 0 || !data[m - 1]);
        runs += starts as usize;
    }
    runs
}

fn block_puts(moto_log: &str) -> usize {
    moto_log
        .lines()
        .filter(|l| l.contains("PUT /snapshots/") && l.contains("/blocks/"))
        .count()
}

#[test]
fn a_4gib_disk_with_40_percent_data_sends_only_its_data() {
    let env = Env::new();
    let disk = env.path("sparse.raw");
    let data = forty_percent(&disk, 4096);
    let data_mibs = data.iter().filter(|&&d| d).count();
    let up = env.transfer(&[
        "sparse.raw",
        "aws:lab/eu-west-1",
        "--family",
        "big",
        "--version",
        "1.0.0",
        "--execute",
        "--yes",
    ]);
    // Two 512 KiB EBS blocks per data MiB, none for the zeros.
    assert_eq!(up["puts"], (2 * data_mibs) as u64, "{up}");
    assert_eq!(block_puts(&env.moto.log_text()), 2 * data_mibs);
    assert_eq!(up["data_bytes"], data_mibs as u64 * MIB);
    let az = env.transfer(&[
        "sparse.raw",
        "azure:lab-az/westeurope/golden/web-base",
        "--version",
        "1.0.0",
        "--execute",
        "--yes",
    ]);
    let runs = page_runs(&data);
    assert_eq!(az["puts"], runs as u64, "{az}");
    // The data runs, plus the VHD footer.
    assert_eq!(env.azurite.put_pages(), runs + 1);
    assert!(runs < data_mibs, "runs of data go in one Put Page each");
}

fn images_named(env: &Env, name: &str) -> usize {
    env.images().iter().filter(|i| i["name"] == name).count()
}

/// Start a transfer, wait until `progressed` says it is under way, then SIGKILL it.
fn kill_midway(env: &Env, args: &[&str], progressed: impl Fn() -> bool) {
    let mut child = env
        .process(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !progressed() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the transfer ended before it could be killed"
        );
        assert!(start.elapsed() < Duration::from_secs(120), "no progress");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn a_killed_upload_registers_nothing_and_the_rerun_cleans_up_and_completes() {
    let env = Env::new();
    forty_percent(&env.path("k.raw"), 512);
    let aws = [
        "transfer",
        "k.raw",
        "aws:lab/eu-west-1",
        "--name",
        "killed-1",
        "--execute",
        "--yes",
        "--concurrency",
        "1",
    ];
    kill_midway(&env, &aws, || block_puts(&env.moto.log_text()) >= 8);
    assert_eq!(images_named(&env, "killed-1"), 0, "no image after a kill");
    let ledger = || {
        drydock_store::open(&drydock_store::Location::Sqlite(
            env.home.path().join("data/drydock/store.sqlite"),
        ))
        .unwrap()
        .documents(drydock::transfer::pending::KIND)
        .unwrap()
        .len()
    };
    assert_eq!(ledger(), 1, "the attempt is recorded");
    let done = env.transfer(&aws[1..aws.len() - 2]);
    let removed = done["removed"].as_array().unwrap();
    assert_eq!(removed.len(), 1, "{done}");
    assert!(
        removed[0].as_str().unwrap().starts_with("snapshot snap-"),
        "{done}"
    );
    assert_eq!(images_named(&env, "killed-1"), 1);
    assert_eq!(ledger(), 0);

    let az = [
        "transfer",
        "k.raw",
        "azure:lab-az/westeurope/golden/web-base",
        "--version",
        "9.0.0",
        "--execute",
        "--yes",
        "--concurrency",
        "1",
    ];
    kill_midway(&env, &az, || env.azurite.put_pages() >= 8);
    let done = env.transfer(&az[1..az.len() - 2]);
    let removed = done["removed"].as_array().unwrap();
    assert_eq!(removed.len(), 1, "{done}");
    assert!(
        removed[0]
            .as_str()
            .unwrap()
            .contains("/disks/drydock-upload-"),
        "{done}"
    );
    assert!(done["created"]
        .as_str()
        .unwrap()
        .ends_with("/versions/9.0.0"));
}
